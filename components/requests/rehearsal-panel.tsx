'use client';

import { useState } from 'react';
import type { MigrationPanelView } from '@/lib/data/runs';
import { requestRehearsalAction } from '@/lib/actions/run-actions';
import { Button } from '@/components/ui/button';
import { useActionCall } from './use-action-call';
import { CancelRunButton } from './cancel-run-button';
import { usePollWhile } from './use-poll';
import { LockTimeline } from './lock-timeline';
import { DataLossResult } from './data-loss-result';
import { describeBlockingStatement, lockImpactVerdict } from '@/lib/domain/lock-impact';
import { DEFAULT_SAMPLE_ROWS, NO_SAMPLE_WORDS } from '@/lib/validation/rehearsal';

/** "Test migration locally": rehearse the latest revision and read the evidence, phase by phase. */
export function RehearsalPanel({ requestId, panel, canRun }: { requestId: string; panel: MigrationPanelView; canRun: boolean }) {
  const { pending, error, call } = useActionCall();
  // A sample by default: without one the no-data-loss check does not run and the gate's "No data loss" refuses the rehearsal.
  const [sampleRows, setSampleRows] = useState(String(DEFAULT_SAMPLE_ROWS));
  const run = panel.rehearsal;
  const active = run?.status === 'queued' || run?.status === 'running';
  usePollWhile(active);

  const rollback = run?.phases.find((p) => p.phase === 'verify-rollback');
  // Phase timings as bars on one scale: where the rehearsal spends its time, at a glance.
  const longest = Math.max(1, ...(run?.phases.map((p) => p.durationMs) ?? []));
  const changes = run?.phases.find((p) => p.phase === 'verify-schema')?.changes;
  const impact = run?.lockImpact;
  const verdict = impact && !impact.error && impact.statements.length ? lockImpactVerdict(impact) : null;
  // The sample phase records the cap and the target's estimated rows (reltuples) of each table.
  const sample = (run?.phases.find((p) => p.phase === 'sample') as { result?: { sampleRows?: number; targetEstimatedRows?: Record<string, number> } } | undefined)?.result;
  const bigger = Object.entries(sample?.targetEstimatedRows ?? {})
    .filter(([table, n]) => n > (sample?.sampleRows ?? Infinity) && (impact?.tables ?? []).some((t) => t === table || `public.${t}` === table));

  return (
    <section aria-labelledby="rehearsal-title" data-testid="rehearsal-panel" data-status={run?.status ?? 'none'} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="rehearsal-title" className="text-sm font-semibold">Rehearsal</h2>
        {run && <span className="text-xs text-slate-500">revision {run.revision} · {run.status.replace('_', ' ')}</span>}
        {canRun && (
          <span className="ml-auto flex items-center gap-2">
            <label className="text-xs text-slate-600" htmlFor="sample-rows">Data sample (rows a table, 0 = schema only)</label>
            <input id="sample-rows" inputMode="numeric" value={sampleRows} onChange={(e) => setSampleRows(e.target.value)} className="w-20 rounded-md border border-slate-300 px-2 py-1 text-xs" />
            <Button variant="secondary" disabled={pending || active || !panel.latest} onClick={() => call(() => requestRehearsalAction({ requestId, sampleRows }))}>
              {panel.latest ? `Rehearse revision ${panel.latest.revision}` : 'Save a migration first'}
            </Button>
          </span>
        )}
        {canRun && <CancelRunButton runId={run?.id} active={active} what="rehearsal" />}
      </header>
      <div className="space-y-3 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {!run && <p className="text-slate-600">A rehearsal clones the target&apos;s schema into a scratch database, applies up, shows what changed, applies down, proves the schema is the original again, applies up once more and drops the copy. The target is only read. With a data sample it also measures how long each statement blocks readers and writers of the tables it touches.</p>}
        {run && (
          <>
            {active && (
              <div role="progressbar" aria-valuenow={run.progress} aria-valuemin={0} aria-valuemax={100} aria-label="Rehearsal progress" className="h-2 overflow-hidden rounded-full bg-slate-200">
                <div className="h-full bg-blue-600 transition-all" style={{ width: `${run.progress}%` }} />
              </div>
            )}
            <ol className="space-y-1" data-testid="rehearsal-phases" aria-live="polite">
              {run.phases.map((p) => (
                <li key={p.phase} data-phase={p.phase} data-status={p.status} className="grid grid-cols-[1rem_16rem_8rem_1fr] items-baseline gap-2">
                  <span aria-hidden className={p.status === 'ok' ? 'text-emerald-600' : 'text-red-600'}>{p.status === 'ok' ? '✓' : '✗'}</span>
                  <span className="font-medium">{p.label}</span>
                  <span className="flex items-center gap-1.5" title={`${p.durationMs} ms`}>
                    <span aria-hidden className={`inline-block h-2 rounded-sm ${p.status === 'ok' ? 'bg-emerald-400' : 'bg-red-400'}`} style={{ width: `${Math.max(2, (p.durationMs / longest) * 64)}px` }} />
                    <span className="text-xs tabular-nums text-slate-500">{p.durationMs} ms</span>
                  </span>
                  <span className="text-xs text-slate-600 [overflow-wrap:anywhere]">{p.detail}</span>
                </li>
              ))}
              {active && (
                <li className="text-xs text-blue-800" data-testid="rehearsal-current">
                  now: {run.phase ?? 'starting'}
                </li>
              )}
            </ol>
            {run.log.length > 0 && (
              <details open={active} data-testid="rehearsal-log">
                <summary className="cursor-pointer text-xs font-semibold uppercase tracking-wide text-slate-500">Log</summary>
                <pre className="mt-1 max-h-48 overflow-y-auto rounded bg-slate-900 p-2 text-[11px] leading-4 text-slate-100">{run.log.join('\n')}</pre>
              </details>
            )}
            {run.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="rehearsal-error">{run.error}</p>}
            {run.phases.filter((p) => p.statements?.some((s) => s.error)).map((p) =>
              p.statements!.filter((s) => s.error).map((s) => (
                <p key={`${p.phase}-${s.line}`} className="font-mono text-xs text-red-800">
                  {p.label}: line {s.error!.line ?? s.line}{s.error!.column ? `, column ${s.error!.column}` : ''}: {s.error!.message}
                </p>
              )),
            )}
            {changes && (
              <div data-testid="rehearsal-diff">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Schema changes made by the migration</h3>
                <ul className="mt-1 font-mono text-xs">
                  {changes.length === 0 && <li className="text-slate-600">none</li>}
                  {changes.map((c) => (
                    <li key={c} className={c.startsWith('+') ? 'text-emerald-700' : c.startsWith('-') ? 'text-red-700' : 'text-amber-800'}>{c}</li>
                  ))}
                </ul>
              </div>
            )}
            {impact && (
              <div data-testid="lock-impact" data-passed={verdict ? String(verdict.passed) : 'unknown'} className="space-y-2">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Lock impact under a probe workload</h3>
                <p className="text-xs text-slate-600">
                  While each statement of up and down ran on the data sample, {impact.sessions?.readers ?? 2} reader and {impact.sessions?.writers ?? 2} writer
                  sessions queried {impact.tables?.length ? impact.tables.join(', ') : 'the touched tables'} in a loop (a write takes the locks of a one-row UPDATE and changes nothing),
                  and a monitor read pg_locks every {impact.monitorIntervalMs ?? 25} ms. Threshold for this target: {impact.thresholdMs} ms.
                </p>
                <p data-testid="lock-impact-sample" className="text-xs text-amber-900">
                  Measured on the data sample ({sample?.sampleRows !== undefined ? `at most ${sample.sampleRows.toLocaleString('en-US')}` : 'a capped number of'} rows a table, never more than 100,000), not on the target
                  {bigger.length
                    ? `: the target holds about ${bigger.map(([t, n]) => `${n.toLocaleString('en-US')} rows in ${t}`).join(', ')}, so statements that scan or rewrite ${bigger.length === 1 ? 'it' : 'them'} block there for longer.`
                    : ', where statements that scan or rewrite a bigger table block for longer.'}
                </p>
                {impact.error && <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">{impact.error}</p>}
                {verdict && !verdict.passed && (
                  <div role="status" data-testid="lock-impact-risk" className="rounded-md bg-red-50 px-3 py-2 text-red-900">
                    <p className="font-medium">Risk raised: {impact.exceeded.length} statement{impact.exceeded.length === 1 ? '' : 's'} blocked the probes longer than {impact.thresholdMs} ms</p>
                    <ul className="mt-1 list-disc pl-5 text-xs">
                      {impact.statements.filter((s) => impact.exceeded.some((e) => e.phase === s.phase && e.index === s.index)).map((s) => (
                        <li key={`${s.phase}:${s.index}`}>{describeBlockingStatement(s)}</li>
                      ))}
                    </ul>
                  </div>
                )}
                {verdict && verdict.passed && <p data-testid="lock-impact-ok" className="rounded-md bg-emerald-50 px-3 py-2 text-xs text-emerald-900">{verdict.summary}</p>}
                {impact.statements.length > 0 && <LockTimeline impact={impact} />}
              </div>
            )}
            {run.dataLoss && <DataLossResult dataLoss={run.dataLoss} />}
            {!active && run.status === 'succeeded' && !sample && (
              <p role="status" data-testid="rehearsal-no-sample" className="rounded-md bg-amber-50 px-3 py-2 text-amber-900">
                Revision {run.revision} was {NO_SAMPLE_WORDS}. The quality gate&apos;s &quot;No data loss&quot; waits for a rehearsal with a data sample.
              </p>
            )}
            {rollback && (
              <div data-testid="rollback-evidence" data-status={rollback.status}
                className={`rounded-md px-3 py-2 ${rollback.status === 'ok' ? 'bg-emerald-50 text-emerald-900' : 'bg-red-50 text-red-900'}`}>
                <p className="font-medium">{rollback.status === 'ok' ? 'Rollback verified' : 'Rollback does not restore the schema'}</p>
                <p className="text-xs">{rollback.detail}</p>
                {run.hashes.before && (
                  <p className="font-mono text-[11px]">original {run.hashes.before.slice(0, 16)} · after down {run.hashes.afterDown?.slice(0, 16) ?? '—'}</p>
                )}
                {rollback.changes && rollback.changes.length > 0 && (
                  <ul className="mt-1 font-mono text-xs">{rollback.changes.map((c) => <li key={c}>{c}</li>)}</ul>
                )}
              </div>
            )}
          </>
        )}
      </div>
    </section>
  );
}
