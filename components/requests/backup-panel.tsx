'use client';

import type { BackupPanelView } from '@/lib/data/backups';
import { requestBackupAction, requestDrillAction } from '@/lib/actions/backup-actions';
import { formatBytes } from '@/lib/domain/format-bytes';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';
import { CancelRunButton } from './cancel-run-button';
import { usePollWhile } from './use-poll';

const runTone: Record<string, Tone> = { queued: 'slate', running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'red', cancelled: 'amber', timed_out: 'red' };
const seconds = (ms: number | null | undefined) => (ms === null || ms === undefined ? '—' : `${(ms / 1000).toFixed(1)} s`);
const isActive = (status: string | undefined) => status === 'queued' || status === 'running';

type RunView = NonNullable<BackupPanelView['backupRun']>;

function RunProgress({ run, label }: { run: RunView; label: string }) {
  return (
    <div className="space-y-1">
      <p className="text-xs text-slate-600" aria-live="polite" data-testid={`${label}-phase`}>{run.phase}</p>
      <div role="progressbar" aria-valuenow={run.progress} aria-valuemin={0} aria-valuemax={100} aria-label={`${label} progress`} className="h-2 overflow-hidden rounded-full bg-slate-200">
        <div className="h-full bg-blue-600 transition-all" style={{ width: `${run.progress}%` }} />
      </div>
    </div>
  );
}

function RunLog({ lines, label }: { lines: string[]; label: string }) {
  if (!lines.length) return null;
  return (
    <details>
      <summary className="cursor-pointer text-xs text-slate-600">{label} log ({lines.length} lines)</summary>
      <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-50 p-2 text-xs">{lines.join('\n')}</pre>
    </details>
  );
}

/**
 * "Create backup": a consistent backup of the target with per-table checksums taken in the
 * dump's own snapshot, a restore drill that proves the file restores and holds exactly that,
 * and the restore script and written procedure for this backup.
 */
export function BackupPanel({ requestId, panel, canRun, runners = [] }: { requestId: string; panel: BackupPanelView; canRun: boolean; runners?: readonly string[] }) {
  const { pending, error, call } = useActionCall();
  const { backupRun, drillRun, backup } = panel;
  const backupActive = isActive(backupRun?.status);
  const drillActive = isActive(drillRun?.status);
  usePollWhile(backupActive || drillActive);
  const drillOfLatest = drillRun && backup && drillRun.artifactId === backup.id ? drillRun : null;
  const scriptUrl = backup ? `/api/v1/backups/${backup.id}/restore-script` : null;

  return (
    <section aria-labelledby="backup-title" data-testid="backup-panel" data-backup-status={backupRun?.status ?? 'none'} data-drill-status={drillRun?.status ?? 'none'} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="backup-title" className="text-sm font-semibold">Backup and restore drill</h2>
        {canRun && (
          <span className="ml-auto flex items-center gap-2">
            <Button variant="secondary" disabled={pending || backupActive} onClick={() => call(() => requestBackupAction({ requestId }))}>Back up</Button>
            <Button variant="secondary" disabled={pending || drillActive || backupActive || !backup} onClick={() => call(() => requestDrillAction({ requestId }))}>
              {backup ? 'Drill' : 'Drill (back up first)'}
            </Button>
          </span>
        )}
        {canRun && <CancelRunButton runId={backupRun?.id} active={backupActive} what="backup" />}
        {canRun && <CancelRunButton runId={drillRun?.id} active={drillActive} what="drill" />}
      </header>
      <div className="space-y-4 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        <p className="text-slate-700" data-testid="backup-target">
          Backs up <strong>{panel.backupTarget.name}</strong>
          {panel.backupTarget.environment
            ? <>, the target of the project&apos;s production environment ({panel.backupTarget.environment}){panel.backupTarget.ownTarget ? '' : ", not this request's own target"}: the gate&apos;s &ldquo;Backup procedure ready&rdquo; needs a verified drill of its backup.</>
            : <>, this request&apos;s target (the request has no project).</>}
        </p>
        {!canRun && runners.length > 0 && <p className="text-xs text-slate-500">Only holders of {runners.join(' or ')} (or admins) can take backups and run drills.</p>}
        {!backupRun && !backup && (
          <p className="text-slate-600">
            No backup yet. A backup runs <code>pg_dump -Fc</code> on a snapshot of the target and, in that same snapshot, counts and checksums every table inside the database, so the
            checksums describe exactly what the file holds even while the application writes. A drill restores the file into the sandbox and proves every table equal.
          </p>
        )}

        {backupRun && (
          <div className="space-y-2" data-testid="backup-run" data-status={backupRun.status}>
            <h3 className="flex items-center gap-2 text-xs font-semibold uppercase tracking-wide text-slate-500">
              Latest backup run <Badge tone={runTone[backupRun.status] ?? 'slate'}>{backupRun.status.replace('_', ' ')}</Badge>
              <span className="font-normal normal-case text-slate-500">asked by {backupRun.requestedBy}, {formatTime(backupRun.queuedAt)}</span>
            </h3>
            {backupActive && <RunProgress run={backupRun} label="Backup" />}
            {backupRun.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="backup-error">{backupRun.error}</p>}
            <RunLog lines={backupRun.log} label="Backup" />
          </div>
        )}

        {backup && (
          <div className="space-y-2" data-testid="backup-result">
            <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Backup of {formatTime(backup.createdAt)}</h3>
            <dl className="grid grid-cols-[9rem_1fr] gap-x-3 gap-y-1 text-xs">
              <dt className="text-slate-500">Size</dt><dd data-testid="backup-size">{formatBytes(backup.sizeBytes)} ({backup.sizeBytes.toLocaleString('en')} bytes)</dd>
              <dt className="text-slate-500">sha256</dt><dd className="break-all font-mono" data-testid="backup-sha256">{backup.sha256}</dd>
              <dt className="text-slate-500">Duration</dt><dd>{seconds(backup.durationMs)} (pg_dump {seconds(backup.dumpMs)}, then checksums {seconds(backup.checksumMs)})</dd>
              <dt className="text-slate-500">Versions</dt><dd data-testid="backup-versions">server PostgreSQL {backup.serverVersion} · pg_dump {backup.pgDumpVersion}</dd>
              <dt className="text-slate-500">Database</dt><dd className="font-mono">{backup.database}</dd>
            </dl>
          </div>
        )}

        {drillRun && (
          <div className="space-y-2" data-testid="drill-run" data-status={drillRun.status} data-ok={drillRun.ok === null ? 'unknown' : String(drillRun.ok)}>
            <h3 className="flex items-center gap-2 text-xs font-semibold uppercase tracking-wide text-slate-500">
              Latest restore drill <Badge tone={runTone[drillRun.status] ?? 'slate'}>{drillRun.status.replace('_', ' ')}</Badge>
              {!drillOfLatest && backup && <span className="font-normal normal-case text-amber-700">of an earlier backup</span>}
            </h3>
            {drillActive && <RunProgress run={drillRun} label="Drill" />}
            {drillRun.staleBecause && <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">{drillRun.staleBecause}</p>}
            {drillRun.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="drill-error">{drillRun.error}</p>}
            {!drillActive && drillRun.ok !== null && (
              <>
                <p className={drillRun.ok ? 'text-emerald-800' : 'text-red-800'} data-testid="drill-verdict">
                  {drillRun.ok
                    ? `Verified: every table of the restored copy equals the backup's checksums (${drillRun.tables.length} tables).`
                    : `Not verified${drillRun.failedStep ? ` (failed at ${drillRun.failedStep})` : ''}.`}
                  {' '}Restore {seconds(drillRun.restoreMs)}, file check {seconds(drillRun.integrityMs)}, checksums {seconds(drillRun.verifyMs)}.
                </p>
                {(drillRun.server || drillRun.pgRestoreVersion) && (
                  <p className="text-xs text-slate-500">Restored in {drillRun.server ?? 'the sandbox'} with pg_restore {drillRun.pgRestoreVersion ?? '?'}{drillRun.dumpedBy ? ` (archive of pg_dump ${drillRun.dumpedBy})` : ''}.</p>
                )}
              </>
            )}
            {drillRun.tables.length > 0 && (
              <table className="min-w-full text-left text-xs" data-testid="drill-tables">
                <caption className="sr-only">Per-table parity of the restored copy against the backup</caption>
                <thead className="text-slate-500"><tr><th className="py-1 pr-3">Table</th><th className="py-1 pr-3 text-right">Rows (backup)</th><th className="py-1 pr-3 text-right">Rows (restored)</th><th className="py-1 pr-3">Checksum</th><th className="py-1">Parity</th></tr></thead>
                <tbody className="divide-y divide-slate-100">
                  {drillRun.tables.map((t) => (
                    <tr key={t.table} data-testid="drill-table" data-equal={String(t.equal)}>
                      <td className="py-1 pr-3 font-mono">{t.table}</td>
                      <td className="py-1 pr-3 text-right tabular-nums">{t.rows.toLocaleString('en')}</td>
                      <td className="py-1 pr-3 text-right tabular-nums">{t.actualRows === null ? 'missing' : t.actualRows.toLocaleString('en')}</td>
                      <td className="py-1 pr-3 font-mono">{t.expected}{t.equal ? '' : ` ≠ ${t.actual ?? '—'}`}</td>
                      <td className={`py-1 ${t.equal ? 'text-emerald-700' : 'text-red-700'}`}>{t.equal ? '✓ equal' : '✗ differs'}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            )}
            <RunLog lines={drillRun.log} label="Drill" />
          </div>
        )}

        {backup && !drillRun && backup.tables.length > 0 && (
          <p className="text-xs text-slate-600">{backup.tables.length} tables checksummed ({backup.tables.reduce((n, t) => n + t.rows, 0).toLocaleString('en')} rows). Run a drill to prove the file restores to exactly these.</p>
        )}

        {backup && scriptUrl && (
          <div className="space-y-2" data-testid="restore-script">
            <h3 className="flex flex-wrap items-center gap-3 text-xs font-semibold uppercase tracking-wide text-slate-500">
              Restore script and procedure
              {backup.canDownload && (
                <a className="font-normal normal-case text-indigo-700 hover:underline" href={`/api/v1/backups/${backup.id}/file`} download={backup.fileName} data-testid="download-backup">Download backup ({backup.fileName})</a>
              )}
              <a className="font-normal normal-case text-indigo-700 hover:underline" href={scriptUrl} download data-testid="download-restore-script">Download restore script</a>
              <a className="font-normal normal-case text-indigo-700 hover:underline" href={`${scriptUrl}?format=procedure`} download data-testid="download-restore-procedure">Download procedure</a>
            </h3>
            <details>
              <summary className="cursor-pointer text-xs text-slate-700">The procedure: what to do, step by step</summary>
              <pre className="mt-1 max-h-96 overflow-auto whitespace-pre-wrap rounded bg-slate-50 p-2 text-xs" data-testid="restore-procedure-text">{backup.procedure}</pre>
            </details>
            <details>
              <summary className="cursor-pointer text-xs text-slate-700">The script (bash): checks the file, restores section by section, verifies every table</summary>
              <pre className="mt-1 max-h-96 overflow-auto rounded bg-slate-50 p-2 text-xs" data-testid="restore-script-text">{backup.script}</pre>
            </details>
          </div>
        )}
      </div>
    </section>
  );
}
