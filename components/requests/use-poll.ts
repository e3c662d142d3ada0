'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/**
 * While `active` (a run is queued or running), reload the page's data. Every 750 ms: with the
 * worker's writes at most 250 ms apart, the page is at most a second behind the run.
 */
export function usePollWhile(active: boolean, intervalMs = 750) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => router.refresh(), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs, router]);
}
