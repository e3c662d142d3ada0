'use client';

import type { SnapshotPanelView } from '@/lib/data/runs';
import { requestSnapshotAction } from '@/lib/actions/run-actions';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';
import { CancelRunButton } from './cancel-run-button';
import { usePollWhile } from './use-poll';

/** "1 index", "2 indexes": counts agree in number. */
const count = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

const runTone: Record<string, Tone> = { queued: 'slate', running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'red', cancelled: 'amber', timed_out: 'red' };

/** The target's schema as the Analysis step sees it: take a snapshot, watch it run, read it. */
export function SnapshotPanel({ requestId, run, canTake, takers = [] }: { requestId: string; run: SnapshotPanelView | null; canTake: boolean; takers?: readonly string[] }) {
  const { pending, error, call } = useActionCall();
  const active = run?.status === 'queued' || run?.status === 'running';
  // While the worker is at it, look again every second (the run's progress is in the store).
  usePollWhile(active);

  return (
    <section aria-labelledby="snapshot-title" data-testid="snapshot-panel" data-status={run?.status ?? 'none'} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="snapshot-title" className="text-sm font-semibold">Current schema of the target</h2>
        {run && <Badge tone={runTone[run.status] ?? 'slate'}>{run.status.replace('_', ' ')}</Badge>}
        {/* The badge says the status; the text adds only what it is doing, when that says more. */}
        {run && active && run.phase && run.phase !== run.status && <span className="text-xs text-slate-500">{run.phase}</span>}
        {canTake && (
          <Button variant="secondary" className="ml-auto" disabled={pending || active} onClick={() => call(() => requestSnapshotAction({ requestId }))}>
            {run ? 'Take a new snapshot' : 'Take schema snapshot'}
          </Button>
        )}
        {canTake && <CancelRunButton runId={run?.id} active={active} what="snapshot" />}
      </header>
      <div className="space-y-3 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {/* No button without a reason: say who may take one, as the task cards do. */}
        {!canTake && takers.length > 0 && (
          <p className="text-xs text-slate-500" data-testid="snapshot-who">Only holders of {takers.join(' or ')} (or admins) can take snapshots.</p>
        )}
        {!run && <p className="text-slate-600">No snapshot yet. A snapshot reads the target&apos;s catalog (every kind pg_dump knows: tables, columns, indexes, constraints, views, sequences, types, functions, triggers, policies, privileges, comments, ...) and keeps it, so later snapshots can be compared.</p>}
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
            {run.snapshot.tables.length === 0 ? (
              <p className="text-slate-600" data-testid="snapshot-empty">This database has no tables{run.snapshot.views.length ? '' : ' and no views'}: it is empty.</p>
            ) : (
              <table className="min-w-full text-left text-xs">
                <caption className="sr-only">Tables of the target</caption>
                <thead className="text-slate-500"><tr><th className="py-1 pr-3">Table</th><th className="py-1 pr-3 text-right">Rows (est.)</th><th className="py-1 pr-3 text-right">Size</th><th className="py-1">Columns · indexes · constraints</th></tr></thead>
                <tbody className="divide-y divide-slate-100 align-top">
                  {run.snapshot.tables.map((t) => (
                    <tr key={t.name} data-testid="snapshot-table">
                      <td className="py-1.5 pr-3 font-mono font-medium">{t.name}</td>
                      <td className="py-1.5 pr-3 text-right tabular-nums">{t.estimatedRows === null ? <span title="never analyzed">—</span> : t.estimatedRows.toLocaleString('en')}</td>
                      <td className="py-1.5 pr-3 text-right tabular-nums">{Math.max(1, Math.round(t.totalBytes / 1024)).toLocaleString('en')} kB</td>
                      <td className="py-1.5">
                        <details>
                          <summary className="cursor-pointer text-slate-700">
                            {count(t.columns.length, 'column')} · {count(t.indexes.length, 'index', 'indexes')} · {count(t.checks, 'check constraint')} · {count(t.foreignKeys, 'foreign key')}
                          </summary>
                          <ul className="mt-1 font-mono text-slate-600" aria-label={`Columns of ${t.name}`}>{t.columns.map((c) => <li key={c}>{c}</li>)}</ul>
                          {t.indexes.length > 0 && <ul className="mt-1 font-mono text-slate-500" aria-label={`Indexes of ${t.name}`}>{t.indexes.map((i) => <li key={i}>index {i}</li>)}</ul>}
                          {t.constraints.length > 0 && (
                            <ul className="mt-1 font-mono text-slate-500" aria-label={`Constraints of ${t.name}`}>{t.constraints.map((c) => <li key={c}>constraint {c}</li>)}</ul>
                          )}
                        </details>
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            {run.snapshot.inventory.length > 0 && (
              <div data-testid="snapshot-inventory">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Beyond tables</h3>
                <ul className="mt-1 space-y-0.5 text-xs">
                  {run.snapshot.inventory.map((k) => (
                    <li key={k.kind} data-testid="snapshot-kind" data-kind={k.kind}>
                      <details>
                        <summary className="cursor-pointer text-slate-700">{k.kind}: {k.names.length.toLocaleString('en')}</summary>
                        <ul className="ml-4 font-mono text-slate-600" aria-label={k.kind}>{k.names.map((n) => <li key={n}>{n}</li>)}</ul>
                      </details>
                    </li>
                  ))}
                </ul>
              </div>
            )}
            {!run.snapshot.fullShape && (
              <p className="text-xs text-amber-800">Taken by an earlier Cutover: this snapshot records tables, views, sequences and enums only. Take a new one to see functions, triggers, policies, privileges and comments too.</p>
            )}
            {(run.snapshot.views.length > 0 || run.snapshot.enums.length > 0) && (
              <p className="text-xs text-slate-600">
                {run.snapshot.views.length > 0 && <>Views: <span className="font-mono">{run.snapshot.views.join(', ')}</span>. </>}
                {run.snapshot.enums.length > 0 && <>Enums: <span className="font-mono">{run.snapshot.enums.join('; ')}</span>. </>}
                {count(run.snapshot.sequences, 'sequence')}.
              </p>
            )}
          </>
        )}
      </div>
    </section>
  );
}
