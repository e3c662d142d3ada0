'use client';

import { useState } from 'react';
import type { DriftPanelView } from '@/lib/data/drift';
import { requestDriftCheckAction } from '@/lib/actions/drift-actions';
import { DRIFT_ADVICE, whatMigrationsBuild } from '@/lib/domain/drift';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';
import { CancelRunButton } from './cancel-run-button';
import { usePollWhile } from './use-poll';

const runTone: Record<string, Tone> = { queued: 'slate', running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'red', cancelled: 'amber', timed_out: 'red' };
const lineTone = (line: string) => (line.startsWith('+') ? 'text-emerald-800' : line.startsWith('-') ? 'text-red-700' : 'text-amber-800');
const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en')} ${n === 1 ? one : many}`;

/**
 * Drift (Analysis step): is the target what its applied migrations say? Its applied migrations are
 * replayed in the sandbox and the two schemas compared; each difference is listed in words ("+"
 * on the target only, "-" in the migrations only, "~" different). A drifted target raises the risk.
 */
export function DriftPanel({ requestId, panel }: { requestId: string; panel: DriftPanelView }) {
  const { pending, error, call } = useActionCall();
  const { run, folders } = panel;
  const [folderId, setFolderId] = useState(panel.defaultFolderId ?? '');
  const active = run?.status === 'queued' || run?.status === 'running';
  usePollWhile(active);
  const verdict = !active && run?.drifted !== null && run?.drifted !== undefined ? (run.drifted ? 'drifted' : 'clean') : 'none';

  return (
    <section aria-labelledby="drift-title" data-testid="drift-panel" data-status={run?.status ?? 'none'} data-verdict={verdict} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="drift-title" className="text-sm font-semibold">Drift: the target against its applied migrations</h2>
        {/* A finished check shows its verdict, not "succeeded" (a green badge beside a red drift). */}
        {run?.status === 'succeeded' && verdict !== 'none' ? (
          <span data-testid="drift-badge"><Badge tone={run.drifted ? 'red' : 'green'}>{run.drifted ? 'drifted' : 'no drift'}</Badge></span>
        ) : (
          run && <Badge tone={runTone[run.status] ?? 'slate'}>{run.status.replace('_', ' ')}</Badge>
        )}
        {panel.canRun && folders.length > 0 && (
          <span className="ml-auto flex items-center gap-2">
            <label htmlFor="drift-folder" className="text-xs text-slate-600">Migrations</label>
            <select id="drift-folder" value={folderId} onChange={(e) => setFolderId(e.target.value)} className="rounded-md border border-slate-300 px-2 py-1 text-xs">
              {folders.map((f) => <option key={f.id} value={f.id}>{f.name} ({plural(f.migrations, 'migration')})</option>)}
            </select>
            <Button variant="secondary" disabled={pending || active || !folderId} onClick={() => call(() => requestDriftCheckAction({ requestId, folderId }))}>
              Check drift
            </Button>
          </span>
        )}
        {panel.canRun && <CancelRunButton runId={run?.id} active={active} what="drift check" />}
      </header>
      <div className="space-y-3 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {!panel.canRun && panel.refusal && <p className="text-xs text-slate-500" data-testid="drift-who">{panel.refusal}</p>}
        {folders.length === 0 && (
          <p className="text-slate-600">No migrations folder is imported yet. Import the project&apos;s Prisma migrations folder (Migrations) to check this target for drift.</p>
        )}
        {!run && folders.length > 0 && (
          <p className="text-slate-600">
            No drift check yet. A check reads which migrations the target&apos;s history marks applied, replays them in the sandbox, and compares that schema with the
            target&apos;s own (read-only): functions, triggers, policies, privileges, comments and every other kind included.
          </p>
        )}
        {run && (
          <p className="text-xs text-slate-500">
            Asked by {run.requestedBy}, {formatTime(run.queuedAt)}{run.folder ? <> · against <span className="font-mono">{run.folder.name}</span></> : null}
            {run.server ? <> · replayed in {run.server}</> : null}
          </p>
        )}
        {active && (
          <div className="space-y-1">
            <p className="text-xs text-slate-600" aria-live="polite" data-testid="drift-phase">{run.phase}</p>
            <div role="progressbar" aria-valuenow={run.progress} aria-valuemin={0} aria-valuemax={100} aria-label="Drift check progress" className="h-2 overflow-hidden rounded-full bg-slate-200">
              <div className="h-full bg-blue-600 transition-all" style={{ width: `${run.progress}%` }} />
            </div>
          </div>
        )}
        {run?.error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="drift-error">{run.error}</p>}
        {run?.staleBecause && <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">{run.staleBecause}</p>}
        {verdict !== 'none' && run && (
          <div data-testid="drift-result">
            <p className={run.drifted ? 'font-medium text-red-800' : 'text-emerald-800'} data-testid="drift-verdict">
              {run.drifted
                ? `Drift: the target differs from what ${whatMigrationsBuild(run.replayed.length)}, in ${plural(run.differences.length, 'place')}. This raises the request's risk.`
                : `No drift: the target's schema is exactly what ${whatMigrationsBuild(run.replayed.length)}.`}
            </p>
            {run.drifted && <p className="mt-1 text-xs text-slate-700" data-testid="drift-advice">{DRIFT_ADVICE}</p>}
            {run.differences.length > 0 && (
              <ul className="mt-2 max-h-80 overflow-auto font-mono text-xs" aria-label="Differences" data-testid="drift-differences">
                {run.differences.map((line) => <li key={line} className={lineTone(line)}>{line}</li>)}
              </ul>
            )}
            {run.differences.length > 0 && <p className="mt-1 text-xs text-slate-500">+ only on the target · - only in the migrations · ~ different</p>}
            {run.pending.length > 0 && <p className="mt-2 text-xs text-slate-600">Not applied yet (not drift): <span className="font-mono">{run.pending.join(', ')}</span></p>}
            {run.note && <p className="mt-1 text-xs text-amber-800">{run.note}</p>}
            {run.expectedHash && run.actualHash && (
              <p className="mt-1 text-xs text-slate-500">
                Schema hashes: migrations <span className="font-mono">{run.expectedHash.slice(0, 12)}</span>, target <span className="font-mono">{run.actualHash.slice(0, 12)}</span>
              </p>
            )}
          </div>
        )}
        {run && run.log.length > 0 && (
          <details>
            <summary className="cursor-pointer text-xs text-slate-600">Drift check log ({plural(run.log.length, 'line')})</summary>
            <pre className="mt-1 max-h-48 overflow-auto rounded bg-slate-50 p-2 text-xs">{run.log.join('\n')}</pre>
          </details>
        )}
      </div>
    </section>
  );
}
