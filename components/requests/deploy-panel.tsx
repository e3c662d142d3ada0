'use client';

import { useState } from 'react';
import type { DeployPanelView } from '@/lib/data/deploy';
import { approveDeploymentAction, recoverDeploymentAction, requestDeployAction } from '@/lib/actions/deploy-actions';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { useActionCall } from './use-action-call';
import { usePollWhile } from './use-poll';

const statusTone: Record<string, Tone> = { queued: 'slate', running: 'blue', succeeded: 'green', failed: 'red', recovered: 'amber', cancelled: 'amber', interrupted: 'red', timed_out: 'red' };
const phaseMark: Record<string, string> = { ok: '✓', failed: '✗', running: '…', skipped: '–', pending: '·' };
const phaseTone: Record<string, string> = { ok: 'text-emerald-700', failed: 'text-red-700', running: 'text-blue-700', skipped: 'text-slate-500', pending: 'text-slate-400' };

type Env = DeployPanelView['environments'][number];
type Pending = { env: Env; kind: 'deploy' } | { env: Env; kind: 'down' | 'restore'; deploymentId: string } | null;

const RECOVERY_WORDS = {
  down: {
    button: 'Roll back (down path)',
    title: 'Run the down path on this target?',
    body: "Runs the revision's down.sql on the target and marks the migration rolled back in _prisma_migrations, in one transaction where the SQL allows. Data written into what the migration added goes with it.",
  },
  restore: {
    button: 'Restore the pre-deploy backup',
    title: 'Restore the backup taken just before this deploy?',
    body: "Replaces every schema of the target with the backup taken just before the deploy, in one transaction, then compares every table with the backup's checksums. Anything written to the target since that backup is lost.",
  },
} as const;

/**
 * The Deploy step: the project's environments in promotion order, each deployable only when the
 * server says so (the button shows what it waits for), the lead's approval where one is needed,
 * each deploy's phases, the live log of the one in progress, and the recovery a failed deploy
 * offers, each confirmed.
 */
export function DeployPanel({ requestId, panel }: { requestId: string; panel: DeployPanelView }) {
  const { pending, error, call } = useActionCall();
  const [confirming, setConfirming] = useState<Pending>(null);
  const running = panel.active && (panel.active.status === 'queued' || panel.active.status === 'running');
  const recovering = panel.environments.some((e) => e.latest?.recoveryRun && (e.latest.recoveryRun.status === 'queued' || e.latest.recoveryRun.status === 'running'));
  usePollWhile(!!running || recovering);
  /** The revision this environment already runs, when it is the current one and its deploy succeeded (not rolled back). */
  const deployedRevision = (env: Env): number | null =>
    env.latest && env.latest.status === 'succeeded' && !env.latest.recovery && panel.revision && env.latest.revision === panel.revision.revision ? env.latest.revision : null;

  if (!panel.project) {
    return (
      <section aria-labelledby="deploy-title" data-testid="deploy-panel" className="rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
        <h2 id="deploy-title" className="text-sm font-semibold">Deploy</h2>
        <p className="mt-2 text-slate-600">This request has no project, so Cutover does not know where to deploy it. Choose the project (and its app branch) on the request first.</p>
      </section>
    );
  }

  return (
    <section aria-labelledby="deploy-title" data-testid="deploy-panel" className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="deploy-title" className="text-sm font-semibold">Deploy {panel.revision ? `revision ${panel.revision.revision}` : ''}</h2>
        <span className="text-xs text-slate-500">{panel.project.name}: pushed to <code>{panel.project.deployBranch}</code></span>
      </header>
      <div className="space-y-4 p-4 text-sm">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">{error}</p>}</div>
        {!panel.canDeploy && <p className="text-xs text-slate-500">Only holders of {panel.deployers.join(' or ')} (or admins) can deploy and recover.</p>}
        <ol className="space-y-3">
          {panel.environments.map((env) => (
            <li key={env.id} data-testid={`deploy-env-${env.name}`} data-status={env.latest?.status ?? 'none'} className="rounded-md border border-slate-200 p-3">
              <div className="flex flex-wrap items-center gap-2">
                <span className="font-medium">{env.position}. {env.name}</span>
                <span className="text-xs text-slate-500">{env.target}</span>
                {env.requiresApproval && <Badge tone="violet">needs gate + lead approval</Badge>}
                {env.latest && <Badge tone={statusTone[env.latest.status] ?? 'slate'}>{env.latest.status}{env.latest.recovery ? ` (${env.latest.recovery})` : ''}</Badge>}
                <span className="ml-auto flex flex-wrap gap-2">
                  {env.requiresApproval && !env.approval && panel.canApprove && (
                    <Button variant="secondary" disabled={pending} onClick={() => call(() => approveDeploymentAction({ requestId, environmentId: env.id }))}>Approve for {env.name}</Button>
                  )}
                  {panel.canDeploy && (deployedRevision(env) !== null ? (
                    // Done here: the server would accept a second deploy (backup, checks, "already applied"), so it stays possible, but not as the next thing to do.
                    <Button variant="secondary" disabled={pending || !!env.waitingFor} title={`Deploys revision ${deployedRevision(env)} to ${env.name} again: a new backup and checks; the migration is already applied there.`} onClick={() => setConfirming({ env, kind: 'deploy' })} data-testid="deploy-again">
                      Deploy again
                    </Button>
                  ) : (
                    <Button disabled={pending || !!env.waitingFor} title={env.waitingFor ?? undefined} onClick={() => setConfirming({ env, kind: 'deploy' })}>Deploy to {env.name}</Button>
                  ))}
                </span>
              </div>
              {deployedRevision(env) !== null && <p className="mt-1 text-xs font-medium text-emerald-800" data-testid="deployed-with">✓ Deployed with revision {deployedRevision(env)}</p>}
              {env.approval && <p className="mt-1 text-xs text-emerald-800">Approved by {env.approval.by}{env.approval.note ? `: “${env.approval.note}”` : ''}</p>}
              {env.voidedApprovals.map((a) => (
                <p key={`${a.by}-${a.revision}-${String(a.at)}`} className="mt-1 text-xs text-amber-800" data-testid="voided-approval">
                  Approval by {a.by} for revision {a.revision} voided: {a.reason}
                </p>
              ))}
              {env.waitingFor && <p className="mt-1 text-xs text-slate-600" data-testid="deploy-waiting">Waiting: {env.waitingFor}</p>}
              {env.latest && (
                <div className="mt-2 space-y-1">
                  <p className="text-xs text-slate-600">
                    Revision {env.latest.revision}, by {env.latest.requestedBy}
                    {env.latest.commitSha && <> · commit <code>{env.latest.commitSha.slice(0, 12)}</code></>}
                    {env.latest.appVersion && <> · version {env.latest.appVersion}</>}
                  </p>
                  <ul className="grid gap-0.5 text-xs sm:grid-cols-2">
                    {env.latest.phases.map((p) => (
                      <li key={p.phase} className={phaseTone[p.status]} title={p.detail ?? undefined}>{phaseMark[p.status]} {p.label}{p.detail && p.status === 'failed' ? `: ${p.detail}` : ''}</li>
                    ))}
                  </ul>
                  {env.latest.error && <p className="rounded bg-red-50 px-2 py-1 text-xs text-red-800" data-testid="deploy-error">{env.latest.error}</p>}
                  {env.latest.recoveryRun && (
                    <p className="text-xs text-slate-600">Recovery ({env.latest.recoveryRun.kind}) by {env.latest.recoveryRun.requestedBy}: {env.latest.recoveryRun.status}{env.latest.recoveryRun.error ? `: ${env.latest.recoveryRun.error}` : ''}</p>
                  )}
                  {panel.canDeploy && env.latest.recoveryOptions.length > 0 && (
                    <div className="flex flex-wrap gap-2 pt-1">
                      {env.latest.recoveryOptions.map((kind) => (
                        <Button key={kind} variant="danger" disabled={pending} onClick={() => setConfirming({ env, kind, deploymentId: env.latest!.id })}>{RECOVERY_WORDS[kind].button}</Button>
                      ))}
                    </div>
                  )}
                </div>
              )}
            </li>
          ))}
        </ol>
        {panel.active && (
          <div className="space-y-1" data-testid="deploy-log" data-status={panel.active.status}>
            <p className="text-xs text-slate-600" aria-live="polite">{panel.active.kind} to {panel.active.environment}: {panel.active.phase}</p>
            {/* Long lines (paths, hashes, SQL) wrap inside the box instead of being clipped; tall logs scroll. */}
            <pre className="max-h-64 overflow-y-auto rounded bg-slate-900 p-2 text-xs break-all whitespace-pre-wrap text-slate-100" tabIndex={0}>{panel.active.log.join('\n') || 'waiting for the worker…'}</pre>
          </div>
        )}
      </div>
      <ConfirmDialog
        open={!!confirming}
        title={confirming?.kind === 'deploy' ? `Deploy to ${confirming.env.name}?` : confirming ? RECOVERY_WORDS[confirming.kind].title : ''}
        confirmLabel={confirming?.kind === 'deploy' ? `Deploy to ${confirming.env.name}` : confirming ? RECOVERY_WORDS[confirming.kind].button : 'OK'}
        danger={confirming?.kind !== 'deploy'}
        onClose={() => setConfirming(null)}
        onConfirm={() => {
          const c = confirming;
          if (!c) return;
          if (c.kind === 'deploy') call(() => requestDeployAction({ requestId, environmentId: c.env.id }));
          else call(() => recoverDeploymentAction({ deploymentId: c.deploymentId, recovery: c.kind, confirm: true }));
        }}
      >
        {confirming?.kind === 'deploy' ? (
          <p>Commits the migration to <code>{panel.project.deployBranch}</code> (with a patch version bump) and pushes it, backs up {confirming.env.target} and verifies the backup, applies the migration, checks it is recorded, that no data was lost{confirming.env.healthCheckUrl ? ' and that the application answers its health check' : ''}. It stops at the first failure.</p>
        ) : confirming ? (
          <p>{RECOVERY_WORDS[confirming.kind].body} Target: {confirming.env.target}.</p>
        ) : null}
      </ConfirmDialog>
    </section>
  );
}
