'use client';

import type { MigrationPanelView } from '@/lib/data/runs';
import { requestApplyAction } from '@/lib/actions/run-actions';
import { useState } from 'react';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { formatTime } from '@/components/ui/progress';
import { PlanSummary } from './plan-summary';
import { useActionCall } from './use-action-call';
import { CancelRunButton } from './cancel-run-button';
import { usePollWhile } from './use-poll';

/** The confirmation's body: where it runs, and exactly what runs there. */
function WhatWillRun({ direction, panel, target }: { direction: 'up' | 'down'; panel: MigrationPanelView; target: { name: string; environment: string } }) {
  const latest = panel.latest!;
  const plan = direction === 'up' ? panel.plan?.up : panel.plan?.down;
  const sql = direction === 'up' ? latest.upSql + (latest.dataSql.trim() ? `\n\n-- Data transformation\n${latest.dataSql.trim()}\n` : '') : latest.downSql;
  return (
    <div className="space-y-2" data-testid="confirm-what-runs">
      <p>
        Target: <strong>{target.name}</strong>, environment <strong>{target.environment}</strong>. This changes that database now; Cutover cannot take it
        back {direction === 'up' ? 'except by running down.sql' : '(data removed by down.sql is gone)'}.
      </p>
      {plan && <p className="text-xs"><PlanSummary file={direction === 'up' ? 'migration.sql' : 'down.sql'} plan={plan} /></p>}
      <pre className="max-h-64 overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 font-mono text-xs leading-5 [overflow-wrap:anywhere]" aria-label={direction === 'up' ? 'migration.sql' : 'down.sql'}>{sql}</pre>
    </div>
  );
}

/** Apply or roll back the latest revision on a non-production target, with per-statement evidence. */
export function ApplyPanel({ requestId, panel, target, canApply }: {
  requestId: string;
  panel: MigrationPanelView;
  target: { name: string; environment: string };
  canApply: boolean;
}) {
  const { pending, error, call } = useActionCall();
  // Which change waits for confirmation: nothing is sent to the server before it is confirmed.
  const [confirming, setConfirming] = useState<'up' | 'down' | null>(null);
  const run = panel.lastChange;
  const active = run?.status === 'queued' || run?.status === 'running';
  usePollWhile(active);
  const production = target.environment === 'production';
  // Roll back runs down.sql of the latest revision: only sensible once that revision's apply went
  // through on this target (and was not rolled back since).
  const noRollback = !panel.latest
    ? null
    : !panel.latest.downSql.trim()
      ? 'down.sql is still to write (Create migration).'
      : panel.appliedRevision !== panel.latest.revision
        ? `Nothing to roll back: revision ${panel.latest.revision} has not been applied to ${target.name}${panel.appliedRevision ? ` (revision ${panel.appliedRevision} was)` : ''}.`
        : null;

  return (
    <section aria-labelledby="apply-title" data-testid="apply-panel" data-kind={run?.kind ?? 'none'} data-status={run?.status ?? 'none'} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="apply-title" className="text-sm font-semibold">Apply to {target.name} ({target.environment})</h2>
        {canApply && !production && panel.latest && (
          <span className="ml-auto flex gap-2">
            <Button variant="secondary" disabled={pending || active} onClick={() => setConfirming('up')}>
              Apply revision {panel.latest.revision}
            </Button>
            <Button variant="danger" disabled={pending || active || noRollback !== null} onClick={() => setConfirming('down')}
              title={noRollback ?? undefined} aria-describedby={noRollback && !active ? 'rollback-reason' : undefined}>
              Roll back
            </Button>
          </span>
        )}
        {canApply && <CancelRunButton runId={run?.id} active={active} what={run?.kind === 'down' ? 'roll back' : 'apply'} />}
      </header>
      {panel.latest && (
        <ConfirmDialog
          open={confirming !== null}
          title={confirming === 'down'
            ? `Roll back ${panel.latest.name} on ${target.name} (${target.environment})?`
            : `Apply revision ${panel.latest.revision} of ${panel.latest.name} to ${target.name} (${target.environment})?`}
          confirmLabel={confirming === 'down' ? `Roll back on ${target.name}` : `Apply to ${target.name}`}
          danger={confirming === 'down'}
          onClose={() => setConfirming(null)}
          onConfirm={() => { const direction = confirming; if (direction) call(() => requestApplyAction({ requestId, direction })); }}
        >
          <WhatWillRun direction={confirming ?? 'up'} panel={panel} target={target} />
        </ConfirmDialog>
      )}
      <div className="space-y-2 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {production && <p className="text-slate-600">Production changes go through the Deploy step, after the quality gate.</p>}
        {!production && !canApply && <p className="text-xs text-slate-500">Database-administrators (and admins) apply migrations to non-production targets.</p>}
        {canApply && !production && noRollback && !active && <p id="rollback-reason" className="text-xs text-slate-500" data-testid="rollback-reason">Roll back: {noRollback}</p>}
        {run && (
          <>
            <p className="text-xs text-slate-600">
              {run.kind === 'apply' ? 'Apply' : 'Roll back'} {run.migration ? <span className="font-mono">{run.migration}</span> : ''} · {run.status.replace('_', ' ')}
              {active && run.phase && run.phase !== run.status ? `: ${run.phase}` : ''} · asked by {run.requestedBy}, {formatTime(run.queuedAt)}
              {run.durationMs !== null && <> · {run.durationMs} ms</>}
            </p>
            {run.note && <p className="text-slate-600">{run.note}</p>}
            {run.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="apply-error">{run.error}</p>}
            {run.statements.length > 0 && (
              <table className="text-xs">
                <thead className="text-slate-500"><tr><th className="pr-3 text-left">Line</th><th className="pr-3 text-left">Statement</th><th className="pr-3 text-left">Status</th><th className="text-right">ms</th></tr></thead>
                <tbody>
                  {run.statements.map((s) => (
                    <tr key={s.line} className={s.status === 'failed' ? 'text-red-800' : ''}>
                      <td className="pr-3 tabular-nums">{s.line}</td>
                      <td className="pr-3 font-mono">{s.kind}{s.transactional ? '' : ' (outside the transaction)'}</td>
                      <td className="pr-3">{s.status.replace('_', ' ')}{s.error ? `: ${s.error.message}` : ''}</td>
                      <td className="text-right tabular-nums">{s.durationMs ?? '—'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
          </>
        )}
      </div>
    </section>
  );
}
