'use client';

import { useState } from 'react';
import type { AnalysisPanelView } from '@/lib/data/analysis';
import { acknowledgeDestructiveAction, requestAnalysisAction, saveAnalysisFieldsAction } from '@/lib/actions/analysis-actions';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';
import { CancelRunButton } from './cancel-run-button';
import { usePollWhile } from './use-poll';
import { formatBytes } from '@/lib/domain/format-bytes';

const runTone: Record<string, Tone> = { queued: 'slate', running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'red', cancelled: 'amber', timed_out: 'red' };
const riskTone: Record<string, Tone> = { low: 'green', medium: 'amber', high: 'red' };
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/** Locks that block reads or writes are shown in warmer colours. */
function lockTone(lock: string): Tone {
  if (lock === 'ACCESS EXCLUSIVE') return 'red';
  if (lock === 'EXCLUSIVE' || lock === 'SHARE ROW EXCLUSIVE' || lock === 'SHARE') return 'amber';
  if (lock === 'unknown') return 'violet';
  return 'slate';
}

const bytes = (n: number | null) => (n === null ? '—' : formatBytes(n));

type RunView = NonNullable<AnalysisPanelView['run']>;
type Destructive = RunView['destructive'][number];

/** One destructive operation: who acknowledged it, or a note field and the Acknowledge button. */
function DestructiveItem({ requestId, op, canAcknowledge, current }: { requestId: string; op: Destructive; canAcknowledge: boolean; current: boolean }) {
  const { pending, error, call } = useActionCall();
  const [note, setNote] = useState('');
  const id = `ack-${op.operationKey.replace(/[^a-zA-Z0-9_-]/g, '_')}`;
  return (
    <li className="rounded-md border border-red-200 bg-red-50/40 p-2" data-testid="destructive-op" data-key={op.operationKey} data-acknowledged={op.acknowledged ? 'yes' : 'no'}>
      <p className="text-red-900">
        <span className="text-xs text-slate-500">line {op.line} · </span>
        {op.description}
      </p>
      <p className="font-mono text-xs text-slate-500">{op.operationKey}</p>
      {op.acknowledged ? (
        <p className="mt-1 text-xs text-emerald-800" data-testid="destructive-ack">
          Acknowledged by {op.acknowledged.by}, {formatTime(op.acknowledged.at)}: “{op.acknowledged.note}”
        </p>
      ) : canAcknowledge && current ? (
        <div className="mt-1 flex flex-wrap items-end gap-2">
          <div className="grow">
            <label htmlFor={id} className="block text-xs text-slate-600">Why this is acceptable</label>
            <input id={id} value={note} onChange={(e) => setNote(e.target.value)} className="mt-0.5 block w-full rounded-md border border-slate-300 px-2 py-1 text-xs" maxLength={5000} />
          </div>
          <Button variant="danger" disabled={pending || note.trim().length < 3} onClick={() => call(() => acknowledgeDestructiveAction({ requestId, operationKey: op.operationKey, note }))}>
            Acknowledge
          </Button>
          <div role="alert" aria-live="assertive" className="w-full">{error && <p className="text-xs text-red-800">{error}</p>}</div>
        </div>
      ) : (
        <p className="mt-1 text-xs text-amber-800">
          {current ? 'Not acknowledged yet (database-administrator, lead, reviewer or admin).' : 'Analyse the latest revision to acknowledge it.'}
        </p>
      )}
    </li>
  );
}

/** "Document desired changes" and "Plan migration strategy", prefilled from the analysis, saved together. */
function AnalysisFields({ requestId, panel }: { requestId: string; panel: AnalysisPanelView }) {
  const { pending, error, call } = useActionCall();
  const [desiredChanges, setDesired] = useState(panel.fields.desiredChanges);
  const [migrationStrategy, setStrategy] = useState(panel.fields.migrationStrategy);
  const [saved, setSaved] = useState<string | null>(null);
  const disabled = !panel.canEditFields;
  return (
    <div className="space-y-2" data-testid="analysis-fields">
      <div>
        <label htmlFor="desired-changes" className="block text-xs font-semibold uppercase tracking-wide text-slate-500">Desired changes</label>
        {panel.fields.prefilled.desiredChanges && <p className="text-xs text-slate-500">Prefilled from the analysis; edit and save to keep your own words.</p>}
        <textarea id="desired-changes" value={desiredChanges} onChange={(e) => setDesired(e.target.value)} disabled={disabled} rows={5} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-xs" />
      </div>
      <div>
        <label htmlFor="migration-strategy" className="block text-xs font-semibold uppercase tracking-wide text-slate-500">Migration strategy</label>
        {panel.fields.prefilled.migrationStrategy && <p className="text-xs text-slate-500">Prefilled from the analysis and its safer strategies.</p>}
        <textarea id="migration-strategy" value={migrationStrategy} onChange={(e) => setStrategy(e.target.value)} disabled={disabled} rows={8} className="mt-1 block w-full rounded-md border border-slate-300 px-2 py-1 font-mono text-xs" />
      </div>
      {panel.canEditFields ? (
        <div className="flex items-center gap-2">
          <Button variant="secondary" disabled={pending} onClick={() => call(() => saveAnalysisFieldsAction({ requestId, desiredChanges, migrationStrategy }), () => setSaved('Saved.'))}>
            Save analysis
          </Button>
          <span aria-live="polite" className="text-xs text-emerald-800" data-testid="analysis-fields-saved">{saved}</span>
        </div>
      ) : (
        <p className="text-xs text-slate-500">Only the Analysis step&apos;s holders (or admins) can edit these.</p>
      )}
      <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-xs text-red-800">{error}</p>}</div>
    </div>
  );
}

/**
 * Impact analysis (Analysis step): what each statement of the latest revision locks, rewrites and
 * scans on the target, how big those tables are, what it destroys (each to acknowledge), the
 * overall risk and why, safer ways with their SQL, and squawk's findings with links to its rules.
 */
export function AnalysisPanel({ requestId, panel }: { requestId: string; panel: AnalysisPanelView }) {
  const { pending, error, call } = useActionCall();
  const { run } = panel;
  const active = run?.status === 'queued' || run?.status === 'running';
  usePollWhile(active);
  const impact = run?.impact ?? null;
  const current = Boolean(run && !run.outdated);

  return (
    <section aria-labelledby="analysis-title" data-testid="analysis-panel" data-status={run?.status ?? 'none'} data-risk={impact?.risk.level ?? 'none'} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="analysis-title" className="text-sm font-semibold">Impact analysis</h2>
        {run && <Badge tone={runTone[run.status] ?? 'slate'}>{run.status.replace('_', ' ')}</Badge>}
        {impact && <span data-testid="analysis-risk"><Badge tone={riskTone[impact.risk.level]}>risk {impact.risk.level}</Badge></span>}
        {panel.canRun && (
          <Button variant="secondary" className="ml-auto" disabled={pending || active || panel.latestRevision === null} onClick={() => call(() => requestAnalysisAction({ requestId }))}>
            {run ? 'Analyse again' : 'Analyse the migration'}
          </Button>
        )}
        {panel.canRun && <CancelRunButton runId={run?.id} active={active} what="analysis" />}
      </header>
      <div className="space-y-4 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {!panel.canRun && panel.runRefusal && <p className="text-xs text-slate-500" data-testid="analysis-who">{panel.runRefusal}</p>}
        {panel.latestRevision === null && <p className="text-slate-600">No migration saved yet: write it under Create migration, then analyse it here.</p>}
        {!run && panel.latestRevision !== null && (
          <p className="text-slate-600">
            Not analysed yet. The analysis reads the migration with PostgreSQL&apos;s parser and the target&apos;s catalog (read-only; nothing runs): the lock each
            statement takes, whether it rewrites or scans a table and how big it is, what it destroys, safer ways to do the same, and squawk&apos;s findings.
          </p>
        )}
        {run && (
          <p className="text-xs text-slate-500">
            Revision {run.revision ?? '?'} · asked by {run.requestedBy}, {formatTime(run.queuedAt)}
            {impact?.serverVersion ? <> · PostgreSQL {impact.serverVersion.split(' ')[0]}</> : null}
            {run.durationMs !== null ? <> · {run.durationMs} ms</> : null}
          </p>
        )}
        {active && (
          <div role="progressbar" aria-valuenow={run.progress} aria-valuemin={0} aria-valuemax={100} aria-label="Analysis progress" className="h-2 overflow-hidden rounded-full bg-slate-200">
            <div className="h-full bg-blue-600 transition-all" style={{ width: `${run.progress}%` }} />
          </div>
        )}
        {run?.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="analysis-error">{run.error}</p>}
        {run?.outdated && impact && <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">This analysis is of revision {run.revision}; revision {panel.latestRevision} was saved since. Analyse again.</p>}
        {run?.staleBecause && !run.outdated && <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">{run.staleBecause}</p>}

        {impact && run && (
          <>
            <div data-testid="analysis-risk-reasons">
              <p className="font-medium">
                Risk {impact.risk.level}
                {impact.risk.reasons.length === 0 ? ': no statement holds a lock that blocks reads or writes for long, and nothing is destroyed.' : ', because:'}
              </p>
              {impact.risk.reasons.length > 0 && (
                <ul className="mt-1 list-disc space-y-0.5 pl-5 text-xs text-slate-700">
                  {impact.risk.reasons.slice(0, 50).map((r) => <li key={r}>{r}</li>)}
                </ul>
              )}
              <p className="mt-1 text-xs text-slate-500">
                {impact.atomic ? 'Runs in one transaction: each lock is held until the migration commits.' : 'Runs in parts: some statements cannot run in a transaction.'}{' '}
                Large table: {impact.thresholds.largeRows.toLocaleString('en')} rows or {bytes(impact.thresholds.largeBytes)}; medium: {impact.thresholds.mediumRows.toLocaleString('en')} rows or {bytes(impact.thresholds.mediumBytes)}.
              </p>
            </div>

            <div>
              <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Statements ({plural(impact.statementCount, 'statement')}{impact.unknownStatements ? `, ${impact.unknownStatements} not classified` : ''})</h3>
              <div className="mt-1 max-h-96 overflow-auto">
                <table className="min-w-full text-left text-xs">
                  <caption className="sr-only">What each statement locks, rewrites and scans</caption>
                  <thead className="sticky top-0 bg-white text-slate-500"><tr><th className="py-1 pr-2">Line</th><th className="py-1 pr-2">Statement</th><th className="py-1 pr-2">Lock</th><th className="py-1">Effect</th></tr></thead>
                  <tbody className="divide-y divide-slate-100 align-top">
                    {impact.statements.map((s) => (
                      <tr key={s.index} data-testid="analysis-statement" data-lock={s.lock}>
                        <td className="py-1.5 pr-2 tabular-nums text-slate-500">{s.line}</td>
                        <td className="py-1.5 pr-2">
                          <p>{s.summary}</p>
                          <p className="max-w-md truncate font-mono text-slate-500" title={s.sql}>{s.sql}</p>
                          {s.notes.map((n) => <p key={n} className="text-slate-500">{n}</p>)}
                        </td>
                        <td className="py-1.5 pr-2" title={s.locks.join('\n')}>
                          <Badge tone={lockTone(s.lock)}>{s.lock}</Badge>
                          <p className="mt-0.5 text-slate-500">{s.lockEffect}</p>
                        </td>
                        <td className="space-y-0.5 py-1.5">
                          {s.rewrites.map((r) => <p key={`r${r.table}`}><Badge tone="red">rewrite</Badge> <span className="font-mono">{r.table}</span>: {r.reason}</p>)}
                          {s.scans.map((r) => <p key={`s${r.table}`}><Badge tone="amber">scan</Badge> <span className="font-mono">{r.table}</span>: {r.reason}</p>)}
                          {!s.transactional && <p><Badge tone="violet">outside a transaction</Badge></p>}
                          {s.risk !== 'low' && <p><Badge tone={riskTone[s.risk]}>{s.risk}</Badge></p>}
                        </td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              {impact.statementCount > impact.statements.length && <p className="text-xs text-slate-500">The first {impact.statements.length.toLocaleString('en')} are shown; the risk covers all of them.</p>}
            </div>

            {impact.tables.length > 0 && (
              <div>
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Tables it touches</h3>
                <table className="mt-1 text-left text-xs" data-testid="analysis-tables">
                  <caption className="sr-only">Row counts and sizes of the tables the migration touches</caption>
                  <thead className="text-slate-500"><tr><th className="py-1 pr-3">Table</th><th className="py-1 pr-3 text-right">Rows</th><th className="py-1 text-right">Size</th></tr></thead>
                  <tbody>
                    {impact.tables.map((t) => (
                      <tr key={t.name}>
                        <td className="py-0.5 pr-3 font-mono">{t.name}</td>
                        <td className="py-0.5 pr-3 text-right tabular-nums">{t.rows === null ? <span title="never analysed">unknown</span> : <span title={t.rowsNote}>{`${t.rowsExact ? '' : '~'}${t.rows.toLocaleString('en')}`}</span>}</td>
                        <td className="py-0.5 text-right tabular-nums">{bytes(t.bytes)}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}

            {run.destructive.length > 0 && (
              <div>
                <h3 className="text-xs font-semibold uppercase tracking-wide text-red-700">
                  Destructive operations ({run.unacknowledged === 0 ? 'all acknowledged' : `${run.unacknowledged} to acknowledge before the gate`})
                </h3>
                <ul className="mt-1 space-y-2" data-testid="destructive-ops">
                  {run.destructive.map((op) => <DestructiveItem key={op.operationKey} requestId={requestId} op={op} canAcknowledge={panel.canAcknowledge} current={current} />)}
                </ul>
              </div>
            )}

            {impact.strategies.length > 0 && (
              <div data-testid="analysis-strategies">
                <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Safer strategies</h3>
                <ul className="mt-1 space-y-1">
                  {impact.strategies.map((s) => (
                    <li key={`${s.statementIndex}-${s.kind}`}>
                      <details>
                        <summary className="cursor-pointer">line {s.line}: {s.title}</summary>
                        <p className="mt-1 text-xs text-slate-600">{s.why}</p>
                        <pre className="mt-1 max-h-72 overflow-auto rounded bg-slate-50 p-2 text-xs">{s.sql}</pre>
                      </details>
                    </li>
                  ))}
                </ul>
              </div>
            )}
          </>
        )}

        {run?.squawk && (
          <div data-testid="squawk-findings">
            <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">squawk {run.squawk.version} ({plural(run.squawk.findings.length, 'finding')})</h3>
            {run.squawk.error && <p className="text-xs text-amber-800">squawk did not run: {run.squawk.error}</p>}
            <ul className="mt-1 max-h-72 space-y-1 overflow-auto text-xs">
              {run.squawk.findings.slice(0, 500).map((f, i) => (
                <li key={i} data-testid="squawk-finding" data-rule={f.rule}>
                  <span className="text-slate-500">line {f.line}:</span>{' '}
                  <a href={f.docsUrl} target="_blank" rel="noreferrer" className="font-mono text-indigo-700 hover:underline">{f.rule}</a> {f.message}
                  {f.help && <span className="text-slate-500"> — {f.help}</span>}
                </li>
              ))}
            </ul>
          </div>
        )}

        {(impact || panel.canEditFields) && panel.latestRevision !== null && <AnalysisFields key={run?.id ?? 'none'} requestId={requestId} panel={panel} />}

        {run && run.log.length > 0 && (
          <details>
            <summary className="cursor-pointer text-xs text-slate-600">Analysis log ({plural(run.log.length, 'line')})</summary>
            <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-50 p-2 text-xs">{run.log.join('\n')}</pre>
          </details>
        )}
      </div>
    </section>
  );
}
