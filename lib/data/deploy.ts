import 'server-only';
import { getDb, type Tx } from '../db/client';
import { DEPLOY_PHASES, DEPLOY_PHASE_LABELS, approvalRefusal, promotionRefusal, readDeployPhases, recoveryOptions, type RecoveryKind } from '../domain/deploy';
import { DomainError, notFound } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import { RUN_STEP_POSITION, runRoleRefusal } from '../domain/run-rules';
import { readRunResult } from '../domain/run-results';
import { recoveryFactsOf, twoPersonFacts } from '../services/deploy';
import { assertGatePassed } from '../services/gate';
import { environmentsOf } from '../services/projects';
import { passingRehearsal } from '../services/step-evidence';
import { assertCanRead } from './access';
import { runTextRedactor } from './runs';
import { LABELLED_ACCOUNT, labelOf } from './account-label';

/**
 * The Deploy step's panel for one viewer: the project's environments in promotion order, each with
 * its latest deployment (phases, commit, version, error, recovery), what it waits for before this
 * request's current revision may go there, the lead's approval where one is needed, the live log
 * of the deploy or recovery in progress, and what this viewer may do. Target addresses are
 * redacted for people who do not manage targets; health-check URLs are the app's, not secrets.
 */
export async function getDeployPanel(viewer: Actor & { id: string }, requestId: string) {
  assertCanRead(viewer);
  const db = getDb();
  // Both at once: under load each await waits behind every other page's work.
  const [request, step] = await Promise.all([
    db.migrationRequest.findUnique({ where: { id: requestId }, select: { id: true, authorId: true, projectId: true, project: { select: { name: true, deployBranch: true, repositoryUrl: true } } } }),
    db.task.findUnique({ where: { requestId_position: { requestId, position: RUN_STEP_POSITION.deploy! } }, select: { subject: true, eligibleRoles: true, isGate: true } }),
  ]);
  if (!request) throw notFound('Migration request');
  const canDeploy = runRoleRefusal(viewer, 'deploy', step) === null;
  const deployers = step?.eligibleRoles ?? [];
  if (!request.projectId || !request.project) {
    return { project: null, environments: [], active: null, canDeploy, canApprove: false, deployers, revision: null };
  }
  const redact = runTextRedactor(viewer);
  const tx = db as unknown as Tx;
  const [environments, revision, deployments] = await Promise.all([
    environmentsOf(db, request.projectId),
    db.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true } }),
    db.deployment.findMany({
      where: { requestId }, orderBy: { createdAt: 'desc' }, take: 50,
      include: { revision: { select: { revision: true, downSql: true } }, requestedBy: LABELLED_ACCOUNT, runs: { where: { kind: { in: ['deploy', 'down', 'restore'] } }, orderBy: { queuedAt: 'desc' }, include: { requestedBy: LABELLED_ACCOUNT } } },
    }),
  ]);
  const rehearsalPassed = revision ? !!(await passingRehearsal(db, requestId, revision.id)) : false;
  const active = deployments.find((d) => d.status === 'queued' || d.status === 'running') ?? null;
  const succeeded = new Set(deployments.filter((d) => d.status === 'succeeded' && d.revisionId === revision?.id).map((d) => d.environmentId));
  const needsGate = environments.some((e) => e.requiresApproval);
  const gate = needsGate && revision
    ? await assertGatePassed(db, requestId).then(() => ({ passed: true, missing: '' }), (err) => {
        if (err instanceof DomainError) return { passed: false, missing: err.message };
        throw err;
      })
    : null;
  const [approvals, voidedApprovals] = await Promise.all([
    revision
      ? db.deploymentApproval.findMany({ where: { requestId, revisionId: revision.id, voidedAt: null }, orderBy: { createdAt: 'desc' }, include: { approvedBy: { select: { id: true, name: true, roles: true, active: true, kind: true } } } })
      : [],
    // Shown beside the environment, so a lead sees why their approval is asked for again (the audit has them too).
    db.deploymentApproval.findMany({
      where: { requestId, voidedAt: { not: null } }, orderBy: { voidedAt: 'desc' }, take: 20,
      select: { environmentId: true, voidedAt: true, voidReason: true, approvedBy: { select: { name: true } }, revision: { select: { revision: true } } },
    }),
  ]);
  const approvalFacts = { authorId: request.authorId, ...(revision ? await twoPersonFacts(tx, requestId, revision.id) : {}) };
  const canApprove = approvalRefusal(viewer, approvalFacts) === null;

  const envViews = await Promise.all(environments.map(async (env) => {
    const approval = approvals.find((a) => a.environmentId === env.id && a.approvedBy.active && !approvalRefusal(a.approvedBy, approvalFacts)) ?? null;
    const refusal = promotionRefusal({
      environments, environmentId: env.id, revision, rehearsalPassed, succeededEnvironmentIds: succeeded,
      activeDeployment: active && { environmentName: environments.find((e) => e.id === active.environmentId)?.name ?? 'another environment' },
      gate: env.requiresApproval ? gate : null, approval: approval && { approvedByName: approval.approvedBy.name },
    });
    const latest = deployments.find((d) => d.environmentId === env.id) ?? null;
    const recovery: RecoveryKind[] = latest ? recoveryOptions(await recoveryFactsOf(tx, latest)) : [];
    const recoveryRun = latest?.runs.find((r) => r.kind === 'down' || r.kind === 'restore') ?? null;
    return {
      id: env.id, name: env.name, position: env.position, requiresApproval: env.requiresApproval, healthCheckUrl: env.healthCheckUrl,
      target: env.target.name,
      waitingFor: refusal?.message ?? null,
      approval: approval && { by: approval.approvedBy.name, at: approval.createdAt, note: approval.note },
      voidedApprovals: voidedApprovals.filter((a) => a.environmentId === env.id).slice(0, 3).map((a) => ({
        by: a.approvedBy.name, revision: a.revision.revision, at: a.voidedAt!, reason: a.voidReason ?? 'voided',
      })),
      latest: latest && {
        id: latest.id, status: latest.status, phase: latest.phase, revision: latest.revision.revision, commitSha: latest.commitSha, appVersion: latest.appVersion,
        error: redact(latest.error, env.target), recovery: latest.recovery, createdAt: latest.createdAt, finishedAt: latest.finishedAt, requestedBy: labelOf(latest.requestedBy),
        backupArtifactId: latest.backupArtifactId,
        phases: DEPLOY_PHASES.map((phase) => {
          const p = readDeployPhases(latest.phases).find((x) => x.phase === phase);
          return { phase, label: DEPLOY_PHASE_LABELS[phase], status: p?.status ?? 'pending', detail: redact(p?.detail ?? null, env.target) };
        }),
        recoveryOptions: recovery,
        recoveryRun: recoveryRun && { id: recoveryRun.id, kind: recoveryRun.kind, status: recoveryRun.status, error: redact(recoveryRun.error, env.target), requestedBy: labelOf(recoveryRun.requestedBy) },
      },
    };
  }));

  // The live log: the deploy in progress, else the latest deploy's newest run (its recovery, if any).
  const logDeployment = active ?? deployments[0] ?? null;
  const logRun = logDeployment?.runs[0] ?? null;
  const logTarget = logDeployment ? environments.find((e) => e.id === logDeployment.environmentId)?.target ?? null : null;
  const result = logRun ? (readRunResult(logRun.kind, logRun.result, logRun.id) ?? {}) : null;
  return {
    project: { name: request.project.name, deployBranch: request.project.deployBranch },
    revision,
    environments: envViews,
    active: logRun && {
      runId: logRun.id, kind: logRun.kind, status: logRun.status, phase: redact(logRun.phase, logTarget), progress: logRun.progress,
      deploymentId: logDeployment!.id, environment: environments.find((e) => e.id === logDeployment!.environmentId)?.name ?? '',
      log: ((result as { log?: string[] } | null)?.log ?? []).slice(-300).map((l) => redact(l, logTarget)),
    },
    canDeploy, canApprove, deployers,
  };
}

export type DeployPanelView = Awaited<ReturnType<typeof getDeployPanel>>;
