'use client';

import { useState } from 'react';
import Link from 'next/link';
import type { PostDeployAlert } from '@/lib/data/post-deploy';
import { recoverDeploymentAction } from '@/lib/actions/deploy-actions';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';

const KIND_WORDS = { verification: 'Verification queries', health_check: 'Health check' } as const;

/**
 * Failing post-deployment checks (open until a check passes again, the deploy is rolled back or a
 * newer deploy replaces it). Deploy step holders can open a rollback from here: the revision's
 * down path or a restore of the pre-deploy backup, each confirmed (area DEPLOY's recovery).
 */
export function AlertsList({ alerts, canRollback, showRequest = false }: { alerts: readonly PostDeployAlert[]; canRollback: boolean; showRequest?: boolean }) {
  const { pending, error, call } = useActionCall();
  const [rollback, setRollback] = useState<{ alert: PostDeployAlert; recovery: 'down' | 'restore' } | null>(null);
  if (alerts.length === 0) return null;
  return (
    <div role="alert" aria-label="Post-deployment alerts" data-testid="post-deploy-alerts" className="space-y-2 rounded-md border border-red-300 bg-red-50 p-3 text-sm">
      <p className="font-semibold text-red-900">{alerts.length === 1 ? 'A post-deployment check is failing' : `${alerts.length} post-deployment checks are failing`}</p>
      <ul className="space-y-2">
        {alerts.map((a) => (
          <li key={a.id} data-testid="post-deploy-alert" data-kind={a.kind} className="rounded border border-red-200 bg-white p-2">
            <div className="flex flex-wrap items-center gap-2">
              <Badge tone="red">{KIND_WORDS[a.kind]}</Badge>
              <Badge tone="violet">{a.environment}</Badge>
              {showRequest && <Link className="text-indigo-700 underline" href={`/requests/${a.requestId}/steps/post-deployment`}>#{a.requestNumber} {a.requestTitle}</Link>}
              <span className="text-xs text-slate-600">{formatTime(a.checkedAt)}{a.failingChecks > 1 ? ` · failing ${a.failingChecks} checks in a row` : ''}</span>
            </div>
            <p className="mt-1 text-slate-800">{a.summary}</p>
            {canRollback && (
              <div className="mt-2 flex flex-wrap gap-2">
                <Button variant="danger" disabled={pending} onClick={() => setRollback({ alert: a, recovery: 'down' })}>Roll back (down path)…</Button>
                <Button variant="danger" disabled={pending} onClick={() => setRollback({ alert: a, recovery: 'restore' })}>Restore pre-deploy backup…</Button>
              </div>
            )}
          </li>
        ))}
      </ul>
      {error && <p role="status" className="text-red-700">{error}</p>}
      <ConfirmDialog
        open={rollback !== null}
        danger
        title={rollback?.recovery === 'down' ? `Roll back the deploy to ${rollback?.alert.environment}?` : `Restore ${rollback?.alert.environment} from the pre-deploy backup?`}
        confirmLabel={rollback?.recovery === 'down' ? 'Run the down path' : 'Restore the backup'}
        onClose={() => setRollback(null)}
        onConfirm={() => {
          if (!rollback) return;
          const { alert, recovery } = rollback;
          call(() => recoverDeploymentAction({ deploymentId: alert.deploymentId, recovery, confirm: true }));
        }}
      >
        <p>
          {rollback?.recovery === 'down'
            ? "This runs the revision's down.sql on the environment's database. Changes the migration made are undone; data written into new columns since the deploy is lost."
            : 'This restores the backup taken just before the deploy. Everything written to the database since then is lost.'}
        </p>
        <p className="text-slate-600">It runs as a recorded, audited run; the Deploy step shows its progress.</p>
      </ConfirmDialog>
    </div>
  );
}
