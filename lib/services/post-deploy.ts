import { randomUUID } from 'node:crypto';
import { getDb, type Tx } from '../db/client';
import { conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask, hasRole, holdsAnyRole, isAdmin } from '../domain/permissions';
import { RUN_STEP_POSITION, runRoleRefusal } from '../domain/run-rules';
import { verificationSchedule } from '../domain/verification';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { loadActor, type LoadedActor } from '../auth/actor';
import { enqueueInTransaction } from '../jobs/queue';
import { recordAudit } from './audit';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';
import { RUN_QUEUE, currentRunSettings } from './runs';

/**
 * Post-deployment checks (the procedure's step 9): `verify` runs against a deployment's target,
 * right after the deploy and then on the project's schedule, plus the checks a person asks for,
 * and "Document any issues". The queries themselves are lib/services/verification-queries.ts.
 */

const POST_DEPLOY_POSITION = RUN_STEP_POSITION.verify!;

async function postDeployStep(tx: Tx, requestId: string) {
  return tx.task.findUnique({ where: { requestId_position: { requestId, position: POST_DEPLOY_POSITION } }, select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS } });
}

type DeploymentForChecks = NonNullable<Awaited<ReturnType<typeof loadDeployment>>>;

async function loadDeployment(tx: Tx, deploymentId: string) {
  return tx.deployment.findUnique({
    where: { id: deploymentId },
    include: { target: true, revision: { select: { id: true, checksum: true, revision: true } }, environment: { include: { project: true } } },
  });
}

/**
 * One verify run of a deployment, queued to start at `startAt` (a scheduled check waits in the
 * job queue until then). Its `queuedAt` is that time, so lists read "scheduled for" in order and
 * its deadline counts from when it may start, not from when the deploy scheduled it.
 */
async function queueVerifyRun(tx: Tx, actor: Pick<LoadedActor, 'id' | 'roles' | 'agentRoles'>, deployment: DeploymentForChecks, startAt: Date, checkNumber: number): Promise<string> {
  const jobId = randomUUID();
  const run = await tx.run.create({
    data: {
      kind: 'verify', targetId: deployment.targetId, requestId: deployment.requestId, revisionId: deployment.revisionId, deploymentId: deployment.id,
      requestedById: actor.id, phase: 'queued', queuedAt: startAt, deadlineAt: new Date(startAt.getTime() + deployment.target.runDeadlineMs), jobId,
      frozenSettings: currentRunSettings(deployment.target, deployment.revision.checksum, actor) as unknown as InputJsonValue,
    },
  });
  await enqueueInTransaction(tx, RUN_QUEUE.verify, { runId: run.id, checkNumber }, jobId, { startAfter: startAt });
  return run.id;
}

/**
 * Withdraws the checks of a deployment that have not started yet (recorded cancelled with the
 * reason; a worker that already took the job finds the run no longer queued and leaves it).
 * For a deployment that was recovered or superseded; DEPLOY may call it when it recovers one.
 */
export async function cancelScheduledVerification(tx: Tx, deploymentId: string, reason: string, actorId: string | null = null): Promise<number> {
  const pending = await tx.run.findMany({ where: { deploymentId, kind: 'verify', status: 'queued' }, select: { id: true, requestId: true } });
  if (pending.length === 0) return 0;
  const now = new Date();
  await tx.run.updateMany({ where: { id: { in: pending.map((r) => r.id) }, status: 'queued' }, data: { status: 'cancelled', finishedAt: now, error: reason } });
  await recordAudit(tx, {
    actorId, requestId: pending[0].requestId, action: 'verification.cancelled', entityType: 'Deployment', entityId: deploymentId,
    after: { cancelledChecks: pending.length, reason },
  });
  return pending.length;
}

/**
 * Schedules a succeeded deployment's post-deployment checks, inside the deploy's own transaction
 * (area DEPLOY calls it when the deploy succeeds): the first check at once, then one every
 * project.verificationIntervalSeconds until deployment.verifyUntil (now + the project's window).
 * The checks of an earlier deployment of the same request to the same environment are withdrawn:
 * only the newest deployment is watched. The checks run as the person who deployed (a step 8
 * holder; the worker re-checks that they may still run step 9's checks when each one starts).
 */
export async function scheduleVerification(tx: Tx, deploymentId: string): Promise<{ runIds: string[]; verifyUntil: Date }> {
  const deployment = await loadDeployment(tx, deploymentId);
  if (!deployment) throw notFound('Deployment');
  if (deployment.status !== 'succeeded') throw conflict(`Only a succeeded deployment is verified; this one is ${deployment.status}.`);
  // Read as stored, not through loadActor: a deployer deactivated meanwhile must not undo the deploy's
  // own record (this runs in its transaction); each check then fails at its start, saying why.
  const actor = await tx.user.findUniqueOrThrow({ where: { id: deployment.requestedById }, select: { id: true, roles: true, agentRoles: true } });
  const earlier = await tx.deployment.findMany({
    where: { requestId: deployment.requestId, environmentId: deployment.environmentId, id: { not: deployment.id } },
    select: { id: true },
  });
  for (const e of earlier) await cancelScheduledVerification(tx, e.id, `A newer deployment to ${deployment.environment.name} replaced this one; its checks were withdrawn.`);

  const project = deployment.environment.project;
  const { times, until } = verificationSchedule(new Date(), project.verificationIntervalSeconds, project.verificationWindowMinutes);
  const runIds: string[] = [];
  for (const [i, at] of times.entries()) runIds.push(await queueVerifyRun(tx, actor, deployment, at, i + 1));
  await tx.deployment.update({ where: { id: deployment.id }, data: { verifyUntil: until } });
  await recordAudit(tx, {
    actorId: null, requestId: deployment.requestId, action: 'verification.scheduled', entityType: 'Deployment', entityId: deployment.id,
    after: {
      environment: deployment.environment.name, checks: runIds.length, intervalSeconds: project.verificationIntervalSeconds,
      verifyUntil: until.toISOString(),
    },
  });
  return { runIds, verifyUntil: until };
}

/** The deployment a person's "Run checks now" is for: the one named, or the request's newest succeeded one. */
async function deploymentToCheck(tx: Tx, requestId: string, deploymentId?: string) {
  const chosen = deploymentId
    ? await tx.deployment.findFirst({ where: { id: deploymentId, requestId }, select: { id: true } })
    : await tx.deployment.findFirst({ where: { requestId, status: 'succeeded' }, orderBy: { createdAt: 'desc' }, select: { id: true } });
  if (!chosen) throw conflict(deploymentId ? 'That deployment is not one of this request.' : 'Nothing is deployed yet: post-deployment checks run against a succeeded deployment (Deploy).');
  const deployment = await loadDeployment(tx, chosen.id);
  if (!deployment) throw notFound('Deployment');
  if (deployment.status !== 'succeeded') throw conflict(`The deployment to ${deployment.environment.name} is ${deployment.status}; checks run against a succeeded deployment.`);
  return deployment;
}

/**
 * A step 9 holder (or an admin) runs the post-deployment checks now, outside the schedule. Refused
 * while a check of that deployment is running or due.
 */
export async function runVerificationNow(actorId: string, input: { requestId: string; deploymentId?: string }): Promise<{ runId: string }> {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const request = await tx.migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true } });
    if (!request) throw notFound('Migration request');
    const refusal = runRoleRefusal(actor, 'verify', await postDeployStep(tx, request.id));
    if (refusal) throw forbidden(refusal);
    // Serialises two clicks at once: the second sees the first's run.
    await tx.$queryRaw`SELECT id FROM migration_requests WHERE id = ${request.id}::uuid FOR UPDATE`;
    const deployment = await deploymentToCheck(tx, request.id, input.deploymentId);
    const now = new Date();
    const busy = await tx.run.findFirst({
      where: { deploymentId: deployment.id, kind: 'verify', OR: [{ status: 'running' }, { status: 'queued', queuedAt: { lte: now } }] },
    });
    if (busy) throw conflict(`A check of the deployment to ${deployment.environment.name} is already ${busy.status}; wait for it to finish.`);
    const runId = await queueVerifyRun(tx, actor, deployment, now, 0);
    await recordAudit(tx, {
      actorId: actor.id, requestId: request.id, action: 'run.queued', entityType: 'Run', entityId: runId,
      after: { kind: 'verify', environment: deployment.environment.name, target: deployment.target.name, deploymentId: deployment.id },
    });
    return { runId };
  });
}

/**
 * Why a verify run should not go ahead, or null: its deployment is no longer the one to watch
 * (recovered, failed, or a newer deployment to the same environment replaced it).
 */
export async function verifyRunObsolete(tx: Tx, deployment: { id: string; requestId: string; environmentId: string; status: string; createdAt: Date }): Promise<string | null> {
  if (deployment.status !== 'succeeded') return `Skipped: the deployment is ${deployment.status} now, so there is nothing to verify.`;
  const newer = await tx.deployment.findFirst({
    // A newer deploy that failed or was cancelled replaced nothing: this one is still what runs there.
    where: { requestId: deployment.requestId, environmentId: deployment.environmentId, createdAt: { gt: deployment.createdAt }, status: { in: ['queued', 'running', 'succeeded'] } },
    select: { id: true },
  });
  return newer ? 'Skipped: a newer deployment to the same environment replaced this one.' : null;
}

/** Ends a verify run that should not go ahead (verifyRunObsolete) as cancelled, with the reason and its audit row. */
export async function skipVerifyRun(runId: string, reason: string): Promise<void> {
  await getDb().$transaction(async (tx) => {
    const changed = await tx.run.updateMany({ where: { id: runId, status: { in: ['queued', 'running'] } }, data: { status: 'cancelled', finishedAt: new Date(), phase: 'skipped', error: reason } });
    if (!changed.count) return;
    const run = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { requestId: true } });
    await recordAudit(tx, { actorId: null, requestId: run.requestId, action: 'run.cancelled', entityType: 'Run', entityId: runId, after: { kind: 'verify', reason } });
  });
}

// ---- "Document any issues" -------------------------------------------------------------------

/** Who may write on Post-deployment (issues, verification queries): its holders, the author, leads and admins. */
export async function assertCanDocumentPostDeploy(tx: Tx, actor: LoadedActor, requestId: string): Promise<{ authorId: string }> {
  const request = await tx.migrationRequest.findUnique({ where: { id: requestId }, select: { id: true, authorId: true } });
  if (!request) throw notFound('Migration request');
  const step = await postDeployStep(tx, requestId);
  const may = isAdmin(actor) || hasRole(actor, 'lead') || (actor.id === request.authorId && holdsAnyRole(actor)) || (step !== null && canWorkTask(actor, step));
  if (!may) {
    throw forbidden(`Only holders of ${step?.eligibleRoles.join(' or ') ?? 'the Post-deployment roles'}, the request's author, leads and admins can write on Post-deployment.`);
  }
  await assertStepClaimAllows(tx, actor, step);
  return { authorId: request.authorId };
}

/**
 * Who may add or remove verification queries: the Post-deployment step's holders and admins. A
 * query runs on production with the deployer's session, so writing one is the step's own work.
 */
export async function assertCanWriteVerificationQueries(tx: Tx, actor: LoadedActor, requestId: string): Promise<void> {
  const request = await tx.migrationRequest.findUnique({ where: { id: requestId }, select: { id: true } });
  if (!request) throw notFound('Migration request');
  const step = await postDeployStep(tx, requestId);
  if (!isAdmin(actor) && !(step !== null && canWorkTask(actor, step))) {
    throw forbidden(`Only holders of ${step?.eligibleRoles.join(' or ') ?? 'the Post-deployment roles'} and admins can write verification queries.`);
  }
  await assertStepClaimAllows(tx, actor, step);
}

/**
 * "Document any issues": a new version of the request's issue notes. Nothing is edited: each save
 * is a row, the newest is the current text, and the history shows who wrote what when.
 */
export async function documentIssues(actorId: string, input: { requestId: string; body: string }): Promise<{ id: string }> {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    await assertCanDocumentPostDeploy(tx, actor, input.requestId);
    const previous = await tx.issueNote.findFirst({ where: { requestId: input.requestId }, orderBy: { createdAt: 'desc' }, select: { id: true, body: true } });
    if (previous && previous.body === input.body) throw conflict('Nothing changed: the issues already read exactly so.');
    const note = await tx.issueNote.create({ data: { requestId: input.requestId, body: input.body, authorId: actor.id } });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'issues.documented', entityType: 'IssueNote', entityId: note.id,
      before: previous ? { noteId: previous.id, length: previous.body.length } : null, after: { length: input.body.length },
    });
    return { id: note.id };
  });
}
