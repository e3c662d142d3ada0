'use client';

import type { SnapshotPanelView } from '@/lib/data/runs';
import { requestSnapshotAction } from '@/lib/actions/run-actions';
import { StatusBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';
import { usePollWhile } from './use-poll';

const runTone: Record<string, string> = { queued: 'pending', running: 'in_progress', succeeded: 'completed', failed: 'blocked', interrupted: 'blocked' };

/** The target's schema as the Analysis step sees it: take a snapshot, watch it run, read it. */
export function SnapshotPanel({ requestId, run, canTake }: { requestId: string; run: SnapshotPanelView | null; canTake: boolean }) {
  const { pending, error, call } = useActionCall();
  const active = run?.status === 'queued' || run?.status === 'running';
  // While the worker is at it, look again every second (the run's progress is in the store).
  usePollWhile(active);

  return (
    <section aria-labelledby="snapshot-title" data-testid="snapshot-panel" data-status={run?.status ?? 'none'} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="snapshot-title" className="text-sm font-semibold">Current schema of the target</h2>
        {run && <StatusBadge status={runTone[run.status] ?? run.status} />}
        {run && <span className="text-xs text-slate-500">{run.status}{active && run.phase ? `: ${run.phase}` : ''}</span>}
        {canTake && (
          <Button variant="secondary" className="ml-auto" disabled={pending || active} onClick={() => call(() => requestSnapshotAction({ requestId }))}>
            {run ? 'Take a new snapshot' : 'Take schema snapshot'}
          </Button>
        )}
      </header>
      <div className="space-y-3 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {!run && <p className="text-slate-600">No snapshot yet. A snapshot reads the target&apos;s catalog (tables, columns, indexes, constraints, views, sequences, enums) and keeps it, so later snapshots can be compared.</p>}
        {active && (
          <div role="progressbar" aria-valuenow={run.progress} aria-valuemin={0} aria-valuemax={100} aria-label="Snapshot progress" className="h-2 overflow-hidden rounded-full bg-slate-200">
            <div className="h-full bg-blue-600 transition-all" style={{ width: `${run.progress}%` }} />
          </div>
        )}
        {run?.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="snapshot-error">{run.error}</p>}
        {run?.snapshot && (
          <>
            <p className="text-xs text-slate-500">
              PostgreSQL {run.snapshot.serverVersion} · taken {formatTime(run.snapshot.takenAt)} by {run.requestedBy}&apos;s request · hash <span className="font-mono">{run.snapshot.hash.slice(0, 12)}</span>
            </p>
            {run.snapshot.changesSincePrevious && (
              <div data-testid="snapshot-changes">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Changes since the previous snapshot</h3>
                {run.snapshot.changesSincePrevious.length === 0 ? (
                  <p className="text-slate-600">None.</p>
                ) : (
                  <ul className="mt-1 font-mono text-xs">
                    {run.snapshot.changesSincePrevious.map((line) => (
                      <li key={line} className={line.startsWith('+') ? 'text-emerald-700' : line.startsWith('-') ? 'text-red-700' : 'text-amber-800'}>{line}</li>
                    ))}
                  </ul>
                )}
              </div>
            )}
            <table className="min-w-full text-left text-xs">
              <thead className="text-slate-500"><tr><th className="py-1 pr-3">Table</th><th className="py-1 pr-3 text-right">Rows (est.)</th><th className="py-1 pr-3 text-right">Size</th><th className="py-1">Columns · indexes</th></tr></thead>
              <tbody className="divide-y divide-slate-100 align-top">
                {run.snapshot.tables.map((t) => (
                  <tr key={t.name} data-testid="snapshot-table">
                    <td className="py-1.5 pr-3 font-mono font-medium">{t.name}</td>
                    <td className="py-1.5 pr-3 text-right tabular-nums">{t.estimatedRows === null ? <span title="never analyzed">—</span> : t.estimatedRows.toLocaleString('en')}</td>
                    <td className="py-1.5 pr-3 text-right tabular-nums">{Math.max(1, Math.round(t.totalBytes / 1024)).toLocaleString('en')} kB</td>
                    <td className="py-1.5">
                      <details>
                        <summary className="cursor-pointer text-slate-700">{t.columns.length} columns · {t.indexes.length} indexes · {t.foreignKeys} foreign keys</summary>
                        <ul className="mt-1 font-mono text-slate-600">{t.columns.map((c) => <li key={c}>{c}</li>)}</ul>
                        <ul className="mt-1 font-mono text-slate-500">{t.indexes.map((i) => <li key={i}>index {i}</li>)}</ul>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            {(run.snapshot.views.length > 0 || run.snapshot.enums.length > 0) && (
              <p className="text-xs text-slate-600">
                {run.snapshot.views.length > 0 && <>Views: <span className="font-mono">{run.snapshot.views.join(', ')}</span>. </>}
                {run.snapshot.enums.length > 0 && <>Enums: <span className="font-mono">{run.snapshot.enums.join('; ')}</span>. </>}
                {run.snapshot.sequences} sequences.
              </p>
            )}
          </>
        )}
      </div>
    </section>
  );
}
