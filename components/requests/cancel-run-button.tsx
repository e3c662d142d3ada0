'use client';

import { useState } from 'react';
import { cancelRunAction } from '@/lib/actions/run-actions';
import { Button } from '@/components/ui/button';
import { useActionCall } from './use-action-call';

/**
 * Cancel for a queued or running run. Stopping is the safe direction, so it asks nothing: a
 * queued run ends at once; a running one is stopped by its worker (statement cancelled, changes
 * rolled back, children killed) and the panel shows it end as cancelled.
 */
export function CancelRunButton({ runId, active, what }: { runId: string | null | undefined; active: boolean; what: string }) {
  const { pending, error, call } = useActionCall();
  const [requested, setRequested] = useState<string | null>(null);
  if (!runId || !active) return null;
  const asked = requested === runId;
  return (
    <span className="inline-flex items-center gap-2">
      <Button
        variant="danger"
        data-testid="cancel-run"
        disabled={pending || asked}
        onClick={() => call(() => cancelRunAction({ runId }), () => setRequested(runId))}
      >
        {asked ? 'Cancelling…' : `Cancel ${what}`}
      </Button>
      <span role="alert" aria-live="assertive" className="text-xs text-red-800">{error}</span>
    </span>
  );
}
