'use client';

import { useRouter } from 'next/navigation';
import { useEffect } from 'react';

/** While `active` (a run is queued or running), reload the page's data every second. */
export function usePollWhile(active: boolean, intervalMs = 1000) {
  const router = useRouter();
  useEffect(() => {
    if (!active) return;
    const timer = setInterval(() => router.refresh(), intervalMs);
    return () => clearInterval(timer);
  }, [active, intervalMs, router]);
}
