'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition } from 'react';

type Result = { ok: boolean; message?: string; fieldErrors?: Record<string, string[]> };

/** Calls a server action, keeps its refusal message for display, and refreshes the page on success. */
export function useActionCall() {
  const router = useRouter();
  const [pending, startTransition] = useTransition();
  const [error, setError] = useState<string | null>(null);
  function call(action: () => Promise<Result>, onSuccess?: () => void) {
    setError(null);
    startTransition(async () => {
      const result = await action();
      if (!result.ok) {
        const fields = result.fieldErrors ? Object.values(result.fieldErrors).flat() : [];
        setError(fields.length ? fields.join(' ') : (result.message ?? 'Refused.'));
      } else {
        onSuccess?.();
        router.refresh();
      }
    });
  }
  return { pending, error, call };
}
