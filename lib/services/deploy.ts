import { getDb, readTogether, type Tx } from '../db/client';
import { loadActor, partiesOf, revisionAuthorsOf } from '../auth/actor';
import {
  approvalRefusal, promotionRefusal, readDeployPhases, recoveryRefusal, type DeployEvidence, type DeployPhaseRecord, type RecoveryFacts, type RecoveryKind,
} from '../domain/deploy';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { RUN_STEP_POSITION, isRunFinished, runRoleRefusal } from '../domain/run-rules';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import type { ApproveDeployInput, RecoverDeployInput, RequestDeployInput } from '../validation/deploy';
import { recordAudit } from './audit';
import { recordEvidence } from './evidence';
import { assertGatePassed } from './gate';
import { scheduleVerification } from './post-deploy';
import { environmentsOf, productionEnvironment } from './projects';
import { completeEvidenceRun, queueRunInTransaction } from './runs';
import { passingRehearsal } from './step-evidence';

const ACTIVE = ['queued', 'running'] as ('queued' | 'running')[];

async function deployStep(tx: Tx, requestId: string) {
  return tx.task.findUnique({
    where: { requestId_position: { requestId, position: RUN_STEP_POSITION.deploy! } },
    select: { subject: true, eligibleRoles: true, isGate: true },
  });
}

/** The request with its project, refused in words when it has none (requests filed before projects). */
async function requestWithProject(tx: Tx, requestId: string) {
  const request = await tx.migrationRequest.findUnique({ where: { id: requestId }, include: { project: true } });
  if (!request) throw notFound('Migration request');
  if (!request.project) {
    throw conflict('This request has no project, so Cutover does not know where to deploy it: choose the project (and its app branch) on the request first.');
  }
  return { ...request, project: request.project };
}

async function currentRevision(tx: Tx, requestId: string) {
  return tx.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' } });
}

/**
 * Deployments left queued or running by a run that already ended (its job died before a worker
 * took it, or the run was refused when claimed) are closed with the run's reason, so "one deploy
 * at a time" never waits on a ghost.
 */
async function settleOrphanedDeployments(tx: Tx, requestId: string) {
  const open = await tx.deployment.findMany({ where: { requestId, status: { in: ACTIVE } }, include: { runs: { where: { kind: 'deploy' }, orderBy: { queuedAt: 'desc' }, take: 1 } } });
  for (const d of open) {
    const run = d.runs[0];
    if (run && !isRunFinished(run.status)) continue;
    const error = run?.error ?? 'Its deploy run is gone.';
    await tx.deployment.update({ where: { id: d.id }, data: { status: 'failed', error: `The deploy run ended (${run?.status ?? 'missing'}) without finishing the deploy: ${error}`, finishedAt: new Date() } });
    await recordAudit(tx, { actorId: null, requestId, action: 'deployment.failed', entityType: 'Deployment', entityId: d.id, after: { status: 'failed', runStatus: run?.status ?? null, error } });
  }
}

/**
 * Who may not be the second pair of eyes on a revision: the authors of the request's revisions
 * and the signers of that revision's gate, with the owners agents answer to (approvalRefusal).
 */
export async function twoPersonFacts(tx: Tx, requestId: string, revisionId: string) {
  const [revisions, signatures] = await readTogether(tx, [
    () => tx.migrationRevision.findMany({ where: { requestId }, select: { createdById: true, authorOwnerId: true } }),
    () => tx.gateSignature.findMany({ where: { requestId, revisionId }, select: { signedById: true } }),
  ]);
  const [revisionAuthors, signers] = await readTogether(tx, [() => revisionAuthorsOf(tx, revisions), () => partiesOf(tx, signatures.map((s) => s.signedById))]);
  const signer = new Map(signers.map((p) => [p.id, p]));
  return { revisionAuthors, gateSigners: signatures.map((s) => signer.get(s.signedById) ?? { id: s.signedById }) };
}

/** A lead's approval of this revision to this environment that still holds (not voided, by a lead who may approve it: see approvalRefusal). */
async function validApproval(tx: Tx, request: { id: string; authorId: string }, environmentId: string, revisionId: string) {
  const approvals = await tx.deploymentApproval.findMany({
    where: { requestId: request.id, environmentId, revisionId, voidedAt: null },
    orderBy: { createdAt: 'desc' },
    include: { approvedBy: { select: { id: true, name: true, roles: true, active: true, kind: true } } },
  });
  const facts = { authorId: request.authorId, ...(await twoPersonFacts(tx, request.id, revisionId)) };
  return approvals.find((a) => a.approvedBy.active && !approvalRefusal(a.approvedBy, facts)) ?? null;
}

/**
 * A new revision voids the lead's approvals of earlier ones, inside the caller's transaction (the
 * one that saves the revision): each keeps its row with voidedAt and the reason, like a voided gate
 * signature, so the page and the audit log show what was approved and why it no longer holds. An
 * approval is of one revision only (validApproval reads revisionId too); this makes it visible.
 * Returns how many were voided.
 */
export async function voidEarlierApprovals(tx: Tx, requestId: string, revision: { id: string; revision: number }): Promise<number> {
  const standing = await tx.deploymentApproval.findMany({
    where: { requestId, voidedAt: null, revisionId: { not: revision.id } },
    select: { id: true, environment: { select: { name: true } }, revision: { select: { revision: true } } },
  });
  if (standing.length === 0) return 0;
  const reason = `Revision ${revision.revision} of the migration was saved after this approval.`;
  await tx.deploymentApproval.updateMany({ where: { id: { in: standing.map((a) => a.id) } }, data: { voidedAt: new Date(), voidReason: reason } });
  await recordAudit(tx, {
    actorId: null, requestId, action: 'deployment.approvals_voided', entityType: 'MigrationRequest', entityId: requestId,
    after: { reason, approvals: standing.map((a) => ({ environment: a.environment.name, revision: a.revision.revision })) },
  });
  return standing.length;
}

/**
 * A lead (not the request's author) approves deploying the current revision to an environment
 * that requires approval. The gate must have passed: a lead approves what reviewers signed.
 * Approving twice is harmless (the standing approval is returned).
 */
export async function approveDeployment(actorId: string, input: Omit<ApproveDeployInput, 'note'> & { note?: string }): Promise<{ approvalId: string }> {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    // Who may is said before anything about the request: leads only, then never its author.
    const notLead = approvalRefusal(actor, { authorId: '' });
    if (notLead) throw forbidden(notLead);
    const exists = await tx.migrationRequest.findUnique({ where: { id: input.requestId }, select: { authorId: true } });
    if (!exists) throw notFound('Migration request');
    const refusal = approvalRefusal(actor, exists);
    if (refusal) throw forbidden(refusal);
    const request = await requestWithProject(tx, input.requestId);
    const env = await tx.projectEnvironment.findUnique({ where: { id: input.environmentId } });
    if (!env || env.projectId !== request.projectId) throw notFound('Environment');
    if (!env.requiresApproval) throw conflict(`${env.name} does not require approval: deploy to it directly.`);
    const revision = await currentRevision(tx, request.id);
    if (!revision) throw conflict('Save the migration (Create migration) before approving its deploy.');
    const twoPerson = approvalRefusal(actor, { authorId: request.authorId, ...(await twoPersonFacts(tx, request.id, revision.id)) });
    if (twoPerson) throw forbidden(twoPerson);
    await assertGatePassed(tx, request.id);
    const standing = await validApproval(tx, request, env.id, revision.id);
    if (standing) return { approvalId: standing.id };
    const approval = await tx.deploymentApproval.create({
      data: { requestId: request.id, environmentId: env.id, revisionId: revision.id, revisionSha256: revision.checksum, approvedById: actor.id, note: input.note ?? null },
    });
    await recordAudit(tx, {
      actorId: actor.id, requestId: request.id, action: 'deployment.approved', entityType: 'DeploymentApproval', entityId: approval.id,
      after: { environment: env.name, revision: revision.revision, revisionSha256: revision.checksum, note: input.note ?? null },
    });
    return { approvalId: approval.id };
  });
}

/**
 * A Deploy step holder deploys the current revision to one environment. Everything the rules
 * need is checked here, on the server, in the transaction that records the deployment and queues
 * its run: who asks, one deploy at a time (the request row locked), a passing rehearsal of the
 * revision, every earlier environment succeeded with it, and for an environment that requires
 * approval the gate passed and a lead's approval of this very revision.
 */
export async function requestDeploy(actorId: string, input: RequestDeployInput): Promise<{ deploymentId: string; runId: string }> {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const exists = await tx.migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true } });
    if (!exists) throw notFound('Migration request');
    const roleRefusal = runRoleRefusal(actor, 'deploy', await deployStep(tx, input.requestId));
    if (roleRefusal) throw forbidden(roleRefusal);
    // Two deploys of one request at once: the second waits here, then sees the first.
    await tx.$queryRaw`SELECT id FROM migration_requests WHERE id = ${input.requestId}::uuid FOR UPDATE`;
    const request = await requestWithProject(tx, input.requestId);
    await settleOrphanedDeployments(tx, request.id);

    const environments = await environmentsOf(tx, request.project.id);
    const env = environments.find((e) => e.id === input.environmentId);
    if (!env) throw notFound('Environment');
    const revision = await currentRevision(tx, request.id);
    const active = await tx.deployment.findFirst({ where: { requestId: request.id, status: { in: ACTIVE } }, include: { environment: { select: { name: true } } } });
    const succeeded = revision
      ? await tx.deployment.findMany({ where: { requestId: request.id, revisionId: revision.id, status: 'succeeded' }, select: { environmentId: true } })
      : [];
    let gate: { passed: boolean; missing: string } | null = null;
    let approval: Awaited<ReturnType<typeof validApproval>> = null;
    if (env.requiresApproval && revision) {
      gate = await assertGatePassed(tx, request.id).then(
        () => ({ passed: true, missing: '' }),
        (err) => {
          if (err instanceof DomainError) return { passed: false, missing: err.message };
          throw err;
        },
      );
      approval = await validApproval(tx, request, env.id, revision.id);
    }
    const refusal = promotionRefusal({
      environments, environmentId: env.id, revision,
      rehearsalPassed: revision ? !!(await passingRehearsal(tx, request.id, revision.id)) : false,
      succeededEnvironmentIds: new Set(succeeded.map((d) => d.environmentId)),
      activeDeployment: active && { environmentName: active.environment.name },
      gate, approval: approval && { approvedByName: approval.approvedBy.name },
    });
    if (refusal) throw new DomainError(refusal.code, refusal.message);

    const deployment = await tx.deployment.create({
      data: {
        requestId: request.id, environmentId: env.id, targetId: env.targetId, revisionId: revision!.id, revisionSha256: revision!.checksum,
        status: 'queued', phase: 'queued', approvalId: approval?.id ?? null, requestedById: actor.id,
      },
    });
    const { runId } = await queueRunInTransaction(tx, actor, { kind: 'deploy', requestId: request.id, deploymentId: deployment.id });
    await recordAudit(tx, {
      actorId: actor.id, requestId: request.id, action: 'deployment.requested', entityType: 'Deployment', entityId: deployment.id,
      after: {
        environment: env.name, target: env.target.name, revision: revision!.revision, revisionSha256: revision!.checksum, runId,
        ...(approval ? { approvedBy: approval.approvedBy.name } : {}),
      },
    });
    return { deploymentId: deployment.id, runId };
  });
}

/**
 * Whether the deployment has an open alert: the latest check of a kind (verification with queries,
 * health check) of its verify runs failed, as lib/data/post-deploy.ts openAlerts reads it (that
 * module is server-only, and the worker imports this one).
 */
async function hasFailingCheck(tx: Tx, deploymentId: string): Promise<boolean> {
  const rows = await tx.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM (
      SELECT DISTINCT ON (e.kind) e.kind::text AS kind, e.passed, e.detail FROM evidence e JOIN runs r ON r.id = e.run_id
      WHERE r.deployment_id = ${deploymentId}::uuid AND r.kind = 'verify' AND e.kind IN ('verification', 'health_check')
      ORDER BY e.kind, e.created_at DESC
    ) latest
    WHERE NOT latest.passed AND (latest.kind <> 'verification' OR jsonb_array_length(coalesce(latest.detail->'queries', '[]'::jsonb)) > 0)`;
  return rows[0]!.n > 0;
}

/** What decides a deployment's recovery (lib/domain/deploy.ts recoveryOptions), loaded in the caller's transaction. */
export async function recoveryFactsOf(
  tx: Tx,
  deployment: {
    id: string; targetId: string; status: string; phase: string | null; backupArtifactId: string | null; phases: unknown;
    verifyUntil: Date | null; createdAt: Date; revision: { downSql: string };
  },
  now = new Date(),
): Promise<RecoveryFacts> {
  const recovering = await tx.run.findFirst({ where: { deploymentId: deployment.id, kind: { in: ['down', 'restore'] }, status: { in: ACTIVE } }, select: { id: true } });
  // A succeeded deploy is rolled back only while its checks still watch it and one of them fails.
  const watched = deployment.status === 'succeeded' && !!deployment.verifyUntil && now < deployment.verifyUntil;
  const alerting = watched && (await hasFailingCheck(tx, deployment.id));
  // Any change of the target since (queued, running or started; runs of this deployment aside) would be undone by a recovery.
  const later = await tx.run.findFirst({
    where: {
      targetId: deployment.targetId, kind: { in: ['apply', 'down', 'deploy', 'restore'] }, queuedAt: { gt: deployment.createdAt },
      AND: [{ OR: [{ deploymentId: null }, { deploymentId: { not: deployment.id } }] }, { OR: [{ startedAt: { not: null } }, { status: { in: ACTIVE } }] }],
    },
    orderBy: { queuedAt: 'asc' },
    select: { kind: true, queuedAt: true, requestedBy: { select: { name: true } }, request: { select: { number: true } } },
  });
  const laterChange = later
    ? `${later.kind === 'apply' ? 'an' : 'a'} ${later.kind} run queued ${later.queuedAt.toISOString().slice(0, 16).replace('T', ' ')} UTC by ${later.requestedBy.name}${later.request ? ` for request #${later.request.number}` : ''}`
    : null;
  return {
    status: deployment.status, phase: deployment.phase, backupArtifactId: deployment.backupArtifactId,
    hasDown: deployment.revision.downSql.trim().length > 0, applied: appliedOf(readDeployPhases(deployment.phases), deployment.status), recovering: !!recovering,
    alerting, laterChange,
  };
}

/** Whether the migration is on the target as the phases tell: recorded as applied, not reached, or not known. */
export function appliedOf(phases: readonly DeployPhaseRecord[], status: string): boolean | null {
  if (status === 'succeeded') return true;
  const verify = phases.find((p) => p.phase === 'verify');
  if (verify?.status === 'ok') return true;
  if (verify?.status === 'failed') return /not recorded as applied|is not applied|rolled back/i.test(verify.detail ?? '') ? false : null;
  const apply = phases.find((p) => p.phase === 'apply');
  if (!apply) return false;
  if (apply.status === 'failed' && /was rolled back|nothing was applied|the migration was rolled back/i.test(apply.detail ?? '')) return false;
  return null;
}

/**
 * A Deploy step holder recovers a failed deploy (or rolls back a succeeded one whose checks
 * failed), confirmed: the revision's down path on the deployment's target, or a restore of the
 * backup taken just before it. Queued as a run of its own (recorded, audited); the run marks the
 * deployment recovered when it succeeds.
 */
export async function requestRecovery(actorId: string, input: RecoverDeployInput): Promise<{ runId: string }> {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const found = await tx.deployment.findUnique({ where: { id: input.deploymentId }, select: { requestId: true } });
    if (!found) throw notFound('Deployment');
    const roleRefusal = runRoleRefusal(actor, 'restore', await deployStep(tx, found.requestId));
    if (roleRefusal) throw forbidden(roleRefusal);
    await tx.$queryRaw`SELECT id FROM deployments WHERE id = ${input.deploymentId}::uuid FOR UPDATE`;
    await settleOrphanedDeployments(tx, found.requestId);
    const deployment = await tx.deployment.findUniqueOrThrow({ where: { id: input.deploymentId }, include: { revision: true, environment: true, target: true } });
    const refusal = recoveryRefusal(input.recovery, await recoveryFactsOf(tx, deployment));
    if (refusal) throw conflict(refusal);
    const { runId } = await queueRunInTransaction(tx, actor, { kind: input.recovery, requestId: deployment.requestId, deploymentId: deployment.id });
    await recordAudit(tx, {
      actorId: actor.id, requestId: deployment.requestId, action: 'deployment.recovery_requested', entityType: 'Deployment', entityId: deployment.id,
      after: { recovery: input.recovery, environment: deployment.environment.name, target: deployment.target.name, status: deployment.status, runId },
    });
    return { runId };
  });
}

/** A recovery run succeeded: the deployment is recorded recovered (by which path), in the run's own transaction. */
export async function markDeploymentRecovered(tx: Tx, deploymentId: string, recovery: RecoveryKind, runId: string) {
  const before = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId }, include: { environment: { select: { name: true } } } });
  await tx.deployment.update({ where: { id: deploymentId }, data: { status: 'recovered', recovery, finishedAt: before.finishedAt ?? new Date() } });
  // Checks of a deploy that was rolled back would only raise alarms about a schema that is gone.
  const pending = await tx.run.findMany({ where: { deploymentId, kind: 'verify', status: 'queued' }, select: { id: true } });
  if (pending.length) {
    await tx.run.updateMany({ where: { id: { in: pending.map((r) => r.id) }, status: 'queued' }, data: { status: 'cancelled', finishedAt: new Date(), error: `The deploy was rolled back (${recovery}).` } });
  }
  await recordAudit(tx, {
    actorId: null, requestId: before.requestId, action: 'deployment.recovered', entityType: 'Deployment', entityId: deploymentId,
    before: { status: before.status }, after: { status: 'recovered', recovery, runId, environment: before.environment.name, withdrawnChecks: pending.length },
  });
}

// ---- the deploy run's records (lib/jobs/handlers/deploy.ts) ----------------------------------

/**
 * What the deploy run checks again when it starts (the gate may have been voided and the approval
 * withdrawn since it was queued): null when it may go ahead, else why not, in words.
 */
export async function deployPreflight(deploymentId: string): Promise<string | null> {
  return getDb().$transaction(async (tx) => {
    const d = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId }, include: { environment: true, request: { select: { id: true, authorId: true } }, revision: { select: { revision: true } } } });
    const latest = await currentRevision(tx, d.requestId);
    if (latest?.id !== d.revisionId) return `Revision ${d.revision.revision} is no longer the request's current one (revision ${latest?.revision ?? '?'} was saved since): deploy again.`;
    if (!d.environment.requiresApproval) return null;
    const gate = await assertGatePassed(tx, d.requestId).then(() => null, (err) => (err instanceof DomainError ? err.message : Promise.reject(err)));
    if (gate) return `${d.environment.name} needs the quality gate passed, and it no longer is: ${gate}`;
    const approval = await validApproval(tx, d.request, d.environmentId, d.revisionId);
    if (!approval) return `The lead's approval of this revision for ${d.environment.name} no longer holds: ask a lead to approve again.`;
    return null;
  });
}

/** Everything the deploy run needs, loaded once. */
export async function loadDeployRun(runId: string) {
  const run = await getDb().run.findUniqueOrThrow({
    where: { id: runId },
    include: {
      target: true,
      requestedBy: { select: { name: true, email: true } },
      deployment: { include: { environment: { include: { project: { include: { environments: true } } } }, revision: true, request: true } },
    },
  });
  if (!run.deployment) throw new Error('This deploy run has no deployment.');
  return { ...run, deployment: run.deployment };
}

/** Writes the deployment's progress (phase, phases, commit, backup) as the run goes. */
export async function updateDeployment(
  deploymentId: string,
  data: { status?: 'running'; phase?: string; phases?: DeployPhaseRecord[]; commitSha?: string; appVersion?: string; backupArtifactId?: string },
) {
  const { phases, ...rest } = data;
  await getDb().deployment.update({ where: { id: deploymentId }, data: { ...rest, ...(phases ? { phases: phases as unknown as InputJsonValue } : {}) } });
}

export interface DeployOutcome {
  ok: boolean;
  /** cancelled: stopped on purpose before it changed the target. */
  status: 'succeeded' | 'failed' | 'cancelled';
  phase: string;
  phases: DeployPhaseRecord[];
  error?: string;
  evidence: DeployEvidence;
  summary: string;
  log: string[];
}

/**
 * Ends a deploy run in one transaction: the run's outcome, the deployment's status and phases,
 * the `deploy` evidence (passed only when every phase passed), the audit row, and for a deploy that
 * succeeded its post-deployment checks scheduled.
 */
export async function finishDeploy(runId: string, deploymentId: string, outcome: DeployOutcome) {
  await completeEvidenceRun(
    runId,
    { ok: outcome.ok, ...(outcome.error ? { error: outcome.error } : {}), deploymentId, phases: outcome.phases, evidence: outcome.evidence, log: outcome.log },
    async (tx, run) => {
      const deployment = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId }, include: { revision: true } });
      const status = outcome.ok ? 'succeeded' : outcome.status === 'cancelled' ? 'cancelled' : 'failed';
      await tx.deployment.update({
        where: { id: deploymentId },
        data: { status, phase: outcome.phase, phases: outcome.phases as unknown as InputJsonValue, error: outcome.error ?? null, finishedAt: new Date() },
      });
      await recordEvidence(tx, {
        kind: 'deploy', targetId: run.targetId, requestId: run.requestId, runId: run.id, revision: { id: deployment.revision.id, checksum: deployment.revision.checksum },
        passed: outcome.ok, summary: outcome.summary, detail: outcome.evidence,
        hashes: { ...(outcome.evidence.commit ? { commit: outcome.evidence.commit } : {}), revisionSha256: deployment.revision.checksum },
      });
      await recordAudit(tx, {
        actorId: null, requestId: run.requestId, action: `deployment.${status}`, entityType: 'Deployment', entityId: deploymentId,
        after: { status, phase: outcome.phase, environment: outcome.evidence.environment.name, commit: outcome.evidence.commit, version: outcome.evidence.version, ...(outcome.error ? { error: outcome.error } : {}) },
      });
      if (outcome.ok) await scheduleVerification(tx, deploymentId);
    },
  );
  // A deploy stopped on purpose (Cancel, its deadline) leaves the run recorded cancelled/timed out
  // by completeEvidenceRun; the deployment says the same.
  const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, select: { status: true, error: true } });
  if (run.status === 'cancelled' || run.status === 'timed_out') await recordStoppedDeployment(deploymentId, outcome, run.error ?? run.status);
}

async function recordStoppedDeployment(deploymentId: string, outcome: Pick<DeployOutcome, 'phase' | 'phases'>, why: string) {
  await getDb().$transaction(async (tx) => {
    const d = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (!['queued', 'running'].includes(d.status)) return;
    // Stopped during apply: the runner rolled the migration back unless the file could not run in one transaction.
    const changed = appliedOf(outcome.phases, 'failed') !== false;
    const status = changed ? 'failed' : 'cancelled';
    await tx.deployment.update({ where: { id: deploymentId }, data: { status, phase: outcome.phase, phases: outcome.phases as unknown as InputJsonValue, error: why, finishedAt: new Date() } });
    await recordAudit(tx, { actorId: null, requestId: d.requestId, action: `deployment.${status}`, entityType: 'Deployment', entityId: deploymentId, after: { status, phase: outcome.phase, error: why } });
  });
}

/**
 * A deploy whose worker died: the deployment is recorded failed in the phase it was in, with what
 * is known of the repository and the target (the caller looked: `state` in words).
 */
export async function recordInterruptedDeployment(deploymentId: string, phases: DeployPhaseRecord[], state: string) {
  await getDb().$transaction(async (tx) => {
    const d = await tx.deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (!['queued', 'running'].includes(d.status)) return;
    const error = `The worker stopped during ${d.phase ?? 'start-up'}. ${state}`;
    await tx.deployment.update({ where: { id: deploymentId }, data: { status: 'failed', error, phases: phases as unknown as InputJsonValue, finishedAt: new Date() } });
    await recordAudit(tx, { actorId: null, requestId: d.requestId, action: 'deployment.failed', entityType: 'Deployment', entityId: deploymentId, after: { status: 'failed', phase: d.phase, error } });
  });
}

/** The production environment of a request's project (for the page and the step's checklist), or null. */
export async function productionEnvironmentOf(tx: Tx, projectId: string) {
  return productionEnvironment({ environments: await environmentsOf(tx, projectId) });
}
