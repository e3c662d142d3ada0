import { createHash, createHmac, randomUUID } from 'node:crypto';
import { getDb, getPool, type Tx } from '../db/client';
import { secretKey } from '../db/settings';
import { decryptSecret, describeChange, diffSnapshots, type SchemaShape, type SchemaSnapshot } from '../engine';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { isAdmin, type Actor } from '../domain/permissions';
import {
  RUN_STEP_POSITION, frozenSettingsChange, isRunFinished, runRoleRefusal, runTargetRefusal,
  type FrozenRunSettings, type RunKindName,
} from '../domain/run-rules';
import { parseRunResult, RUN_RESULT_SCHEMAS } from '../domain/run-results';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import type { TargetDatabase } from '../generated/prisma/client';
import { loadActor, ownerlessAgentMessage, type LoadedActor } from '../auth/actor';
import { QUEUES, cancelJob, enqueueInTransaction, type QueueName } from '../jobs/queue';
import { recordAudit } from './audit';
import { backupTargetOf } from './projects';
import { passingRehearsal } from './step-evidence';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

/**
 * Which queue carries each kind of run (apply and down share one: both change a target). The
 * worker's handler for a queue is in lib/jobs/handlers/index.ts (a unit test keeps the two in step).
 */
export const RUN_QUEUE: Record<RunKindName, QueueName> = {
  snapshot: QUEUES.snapshot, rehearsal: QUEUES.rehearsal, apply: QUEUES.apply, down: QUEUES.apply, status: QUEUES.status,
  analysis: QUEUES.analysis, backup: QUEUES.backup, drill: QUEUES.drill, drift: QUEUES.drift,
  deploy: QUEUES.deploy, verify: QUEUES.verify, restore: QUEUES.restore,
};

/** A keyed fingerprint of a secret: equal secrets compare equal, and the secret cannot be read back from it. */
function fingerprint(encrypted: string | null): string | null {
  if (!encrypted) return null;
  const key = secretKey();
  return createHmac('sha256', key).update('cutover-frozen-secret\0').update(decryptSecret(encrypted, key)).digest('hex').slice(0, 32);
}

/** The settings a run depends on, as they are now (see FrozenRunSettings). */
export function currentRunSettings(
  target: TargetDatabase,
  revisionChecksum: string | null,
  requester: Pick<Actor, 'id' | 'roles' | 'agentRoles'>,
): FrozenRunSettings {
  return {
    target: {
      environment: target.environment, host: target.host, port: target.port, filePath: target.filePath, database: target.database, username: target.username,
      passwordFingerprint: fingerprint(target.passwordEncrypted), sslMode: target.sslMode,
      connectTimeoutMs: target.connectTimeoutMs, lockTimeoutMs: target.lockTimeoutMs, statementTimeoutMs: target.statementTimeoutMs,
      runDeadlineMs: target.runDeadlineMs, allowedStatementKinds: [...(target.allowedStatementKinds ?? [])].sort(),
      rehearsalServerFingerprint: fingerprint(target.rehearsalServerEncrypted),
      lockImpactThresholdMs: target.lockImpactThresholdMs,
    },
    revisionChecksum,
    requester: { id: requester.id, roles: [...requester.roles], agentRoles: [...requester.agentRoles] },
  };
}

/**
 * The version of a target's settings that evidence rests on: sha256 of the target part of
 * currentRunSettings (secrets only as keyed fingerprints), its keys in a fixed order. Any change
 * of a setting (host, password, timeouts, fence allowances, rehearsal server, ...) changes it.
 */
export function targetSettingsVersion(target: TargetDatabase): string {
  const settings = currentRunSettings(target, null, { id: '', roles: [], agentRoles: [] }).target;
  const ordered = Object.fromEntries(Object.entries(settings).sort(([a], [b]) => a.localeCompare(b)));
  return createHash('sha256').update(JSON.stringify(ordered)).digest('hex');
}

async function stepOf(tx: Tx, kind: RunKindName, requestId: string | null) {
  const position = RUN_STEP_POSITION[kind];
  if (!position || !requestId) return null;
  return tx.task.findUnique({ where: { requestId_position: { requestId, position } }, select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS } });
}

/**
 * Runs whose result is their step's evidence (drift: the Analysis step's drift panel and risk):
 * queued, and started, only by whoever may work the step under its claim.
 */
const CLAIMED_STEP_EVIDENCE: readonly RunKindName[] = ['snapshot', 'analysis', 'drift', 'rehearsal', 'backup', 'drill'];

/**
 * What to queue. Every kind but status belongs to a request (and runs on its target, backups and
 * drills on its backup target, deploy runs on their deployment's); extras
 * beside kind and requestId travel in the job's payload (the handler's ctx.job).
 */
export type QueueRunSpec =
  | { kind: 'snapshot'; requestId: string }
  | { kind: 'rehearsal'; requestId: string; sampleRows?: number }
  | { kind: 'apply' | 'down'; requestId: string }
  /**
   * The Deploy step's runs (lib/services/deploy.ts): the deploy itself, and the recovery of a failed
   * one (its down path, or a restore of its pre-deploy backup). They run on the deployment's target
   * with the deployment's revision, whatever the request's latest is.
   */
  | { kind: 'deploy' | 'restore' | 'down'; requestId: string; deploymentId: string }
  | { kind: 'status'; folderId: string; targetId: string }
  /** Impact analysis of the latest saved revision against the target's live catalog. */
  | { kind: 'analysis'; requestId: string }
  /** A consistent backup into the artifact store, of the request's backup target (projects.ts backupTargetOf: production's when it has a project). */
  | { kind: 'backup'; requestId: string }
  /** Restores a backup (an artifact of a backup run of the same backup target) into the sandbox and proves parity. */
  | { kind: 'drill'; requestId: string; artifactId: string }
  /** Replays the target's applied migrations (the request's, or an imported folder's) in the sandbox and compares. */
  | { kind: 'drift'; requestId: string; folderId?: string };

/** Kinds that run a saved revision of the request's migration (the latest one). */
const NEEDS_REVISION: readonly RunKindName[] = ['rehearsal', 'apply', 'down', 'analysis'];
const VERB: Partial<Record<RunKindName, string>> = { rehearsal: 'rehearsing', apply: 'applying', down: 'rolling it back', analysis: 'analysing' };
const ALREADY_ACTIVE: Partial<Record<RunKindName, string>> = {
  snapshot: 'A snapshot of this target is already queued or running.',
  rehearsal: 'A rehearsal of this request is already queued or running.',
  analysis: 'An analysis of this request is already queued or running.',
  backup: 'A backup for this request is already queued or running.',
  drill: 'A restore drill for this request is already queued or running.',
  drift: 'A drift check for this request is already queued or running.',
};

/**
 * Queues a run of any kind, inside the caller's transaction: who may start it, the target row
 * locked (so two requests at once cannot both pass the busy check), the busy check, the run row
 * with its deadline and frozen settings, its job and its audit row. Every kind goes through here.
 */
export async function queueRunInTransaction(tx: Tx, actor: LoadedActor, spec: QueueRunSpec): Promise<{ runId: string }> {
  const kind = spec.kind;
  let targetId: string;
  let requestId: string | null = null;
  if (spec.kind === 'status') {
    targetId = spec.targetId;
  } else {
    const request = await tx.migrationRequest.findUnique({ where: { id: spec.requestId }, select: { id: true, targetId: true, projectId: true } });
    if (!request) throw notFound('Migration request');
    // Backups and drills are of the target "Backup procedure ready" rests on: production's, when the request has a project.
    targetId = spec.kind === 'backup' || spec.kind === 'drill' ? (await backupTargetOf(tx, request)).targetId : request.targetId;
    requestId = request.id;
  }
  const deployment = 'deploymentId' in spec
    ? await tx.deployment.findUnique({ where: { id: spec.deploymentId }, include: { revision: { select: { id: true, revision: true, checksum: true } } } })
    : null;
  if ('deploymentId' in spec) {
    if (!deployment || deployment.requestId !== requestId) throw notFound('Deployment');
    targetId = deployment.targetId;
  }
  const step = await stepOf(tx, kind, requestId);
  const roleRefusal = runRoleRefusal(actor, kind, step);
  if (roleRefusal) throw forbidden(roleRefusal);
  if (CLAIMED_STEP_EVIDENCE.includes(kind)) await assertStepClaimAllows(tx, actor, step);

  // The lock that makes the busy check below hold under concurrency: a second request for this
  // target waits here until the first commits, then sees its run.
  const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM target_databases WHERE id = ${targetId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound('Target database');
  const target = await tx.targetDatabase.findUniqueOrThrow({ where: { id: targetId } });
  const targetRefusal = runTargetRefusal(kind, { ...target, approvalEnvironment: await approvalEnvironmentOf(tx, kind, targetId) }, { deploymentId: deployment?.id });
  if (targetRefusal) throw forbidden(targetRefusal);

  let revision: { id: string; revision: number; checksum: string } | null = deployment?.revision ?? null;
  if (NEEDS_REVISION.includes(kind) && !deployment) {
    const latest = await tx.migrationRevision.findFirst({ where: { requestId: requestId! }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, checksum: true, downSql: true } });
    if (!latest) throw conflict(`Save the migration (Create migration) before ${VERB[kind] ?? 'running'} it.`);
    // An imported migration may have no way back yet: what runs it says so instead of failing later.
    if ((kind === 'rehearsal' || kind === 'down') && !latest.downSql.trim()) {
      throw conflict(kind === 'rehearsal'
        ? `down.sql is still to write: a rehearsal proves the way back, so revision ${latest.revision} needs one first (Create migration).`
        : `down.sql is still to write: revision ${latest.revision} has no way back to run.`);
    }
    revision = { id: latest.id, revision: latest.revision, checksum: latest.checksum };
    // Beyond a local database, only a revision whose rehearsal passed (up, down, rollback proof, redo) is applied.
    if (kind === 'apply' && target.environment !== 'local' && !(await passingRehearsal(tx, requestId!, latest.id))) {
      throw conflict(`Revision ${latest.revision} has no passing rehearsal: rehearse it (Test migration locally) before applying it to ${target.name} (${target.environment}).`);
    }
  }
  let folderId: string | null = null;
  if ((spec.kind === 'status' || spec.kind === 'drift') && spec.folderId) {
    const folder = await tx.migrationFolder.findUnique({ where: { id: spec.folderId }, select: { id: true } });
    if (!folder) throw notFound('Migrations folder');
    folderId = folder.id;
  }
  let artifactId: string | null = null;
  if (spec.kind === 'drill') {
    // Only a backup of this very target (the request's backup target) can be drilled for its request.
    const artifact = await tx.artifact.findUnique({ where: { id: spec.artifactId }, select: { id: true, kind: true, targetId: true } });
    if (!artifact || artifact.kind !== 'backup') throw notFound('Backup');
    if (artifact.targetId !== targetId) throw conflict(`That backup is not of ${target.name}; this request's restore drills are of backups of ${target.name}: back it up and drill that.`);
    artifactId = artifact.id;
  }
  if (spec.kind === 'restore') {
    // A deploy's recovery restores exactly the backup taken just before it.
    if (!deployment?.backupArtifactId) throw conflict('This deploy has no pre-deploy backup to restore.');
    artifactId = deployment.backupArtifactId;
  }

  const active = { in: ['queued', 'running'] as ('queued' | 'running')[] };
  if (kind === 'apply' || kind === 'down' || kind === 'deploy' || kind === 'restore') {
    // One change at a time per target, whichever request asked for it.
    const busy = await tx.run.findFirst({ where: { targetId, kind: { in: ['apply', 'down', 'deploy', 'restore'] }, status: active } });
    if (busy) throw conflict(`Another run (${busy.kind}, queued ${busy.queuedAt.toISOString()}) is changing ${target.name}; wait for it to finish.`);
  } else if (requestId) {
    // One run of each kind at a time per request.
    const busy = await tx.run.findFirst({ where: { requestId, kind, status: active } });
    if (busy) throw conflict(ALREADY_ACTIVE[kind] ?? `A ${kind} run of this request is already queued or running.`);
  } else {
    const busy = await tx.run.findFirst({ where: { targetId, folderId, kind, status: active } });
    if (busy) return { runId: busy.id }; // the same check is already on its way
  }

  const queuedAt = new Date();
  const jobId = randomUUID();
  const frozen = currentRunSettings(target, revision?.checksum ?? null, actor);
  const run = await tx.run.create({
    data: {
      kind, targetId, requestId, revisionId: revision?.id ?? null, folderId, artifactId, requestedById: actor.id, phase: 'queued',
      deploymentId: deployment?.id ?? null,
      queuedAt, deadlineAt: new Date(queuedAt.getTime() + target.runDeadlineMs), jobId,
      frozenSettings: frozen as unknown as InputJsonValue,
    },
  });
  const sampleRows = spec.kind === 'rehearsal' ? (spec.sampleRows ?? 0) : undefined;
  await enqueueInTransaction(tx, RUN_QUEUE[kind], { runId: run.id, ...(sampleRows !== undefined ? { sampleRows } : {}) }, jobId);
  await recordAudit(tx, {
    actorId: actor.id, requestId, action: 'run.queued', entityType: 'Run', entityId: run.id,
    after: {
      kind, target: target.name, deadlineAt: run.deadlineAt?.toISOString(),
      ...(revision ? { revision: revision.revision } : {}), ...(sampleRows !== undefined ? { sampleRows } : {}),
      ...(artifactId ? { artifactId } : {}), ...(folderId && kind !== 'status' ? { folderId } : {}),
      ...(deployment ? { deploymentId: deployment.id } : {}),
    },
  });
  return { runId: run.id };
}

/** Queues a run in a transaction of its own (see queueRunInTransaction). */
export async function queueRun(actorId: string, spec: QueueRunSpec): Promise<{ runId: string }> {
  return getDb().$transaction(async (tx) => queueRunInTransaction(tx, await loadActor(tx, actorId), spec));
}

/** An Analysis-step holder asks for a schema snapshot of the request's target. */
export async function requestSnapshot(actorId: string, input: { requestId: string }) {
  return queueRun(actorId, { kind: 'snapshot', requestId: input.requestId });
}

/**
 * Cancel: the people who may start this kind of run, and admins. A queued run ends at once; a
 * running one is marked, and its worker cancels the work and records it cancelled.
 */
export async function cancelRun(actorId: string, input: { runId: string }) {
  const result = await getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM runs WHERE id = ${input.runId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound('Run');
    const run = await tx.run.findUniqueOrThrow({ where: { id: input.runId }, include: { target: { select: { name: true } } } });
    if (!isAdmin(actor)) {
      const refusal = runRoleRefusal(actor, run.kind, await stepOf(tx, run.kind, run.requestId));
      if (refusal) throw forbidden(`Only the people who may start this run, and admins, can cancel it. ${refusal}`);
    }
    if (isRunFinished(run.status)) {
      throw conflict(`This run already ended (${run.status.replace('_', ' ')}); there is nothing to cancel.`);
    }
    if (run.cancelRequestedAt) return { status: run.status, job: null };
    const now = new Date();
    if (run.status === 'queued') {
      await tx.run.update({
        where: { id: run.id },
        data: { status: 'cancelled', cancelRequestedAt: now, cancelRequestedById: actor.id, finishedAt: now, error: `Cancelled by ${actor.name} before it started.` },
      });
      await recordAudit(tx, {
        actorId: actor.id, requestId: run.requestId, action: 'run.cancelled', entityType: 'Run', entityId: run.id,
        before: { status: 'queued' }, after: { kind: run.kind, status: 'cancelled', target: run.target.name },
      });
      return { status: 'cancelled' as const, job: run.jobId ? { queue: RUN_QUEUE[run.kind], id: run.jobId } : null };
    }
    await tx.run.update({ where: { id: run.id }, data: { cancelRequestedAt: now, cancelRequestedById: actor.id } });
    await recordAudit(tx, {
      actorId: actor.id, requestId: run.requestId, action: 'run.cancel_requested', entityType: 'Run', entityId: run.id,
      after: { kind: run.kind, phase: run.phase, target: run.target.name },
    });
    return { status: run.status, job: null };
  });
  // The job of a cancelled queued run is withdrawn too (a worker that already took it finds the run cancelled).
  if (result.job) await cancelJob(result.job.queue, result.job.id).catch(() => undefined);
  return { status: result.status };
}

// Advisory-lock namespace for runs in progress ("CU"): a worker holds (21845, hashtext(run id))
// on its own connection while it works, so a run whose worker died is recognisable.
const RUN_LOCK_CLASS = 21845;

/** Moves a queued run to running and returns a release function, or null if it is not queued. */
export async function claimRun(runId: string): Promise<{ targetId: string; deadlineAt: Date | null; release: () => Promise<void> } | null> {
  const client = await getPool().connect();
  // Held for the whole run: an error on it while idle must not crash the worker. Removed on
  // release, since the pool hands the same client out again.
  const onError = (err: Error) => console.error('[cutover] run lock connection ended:', err.message);
  client.on('error', onError);
  const giveBack = () => {
    client.off('error', onError);
    client.release();
  };
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [RUN_LOCK_CLASS, runId]);
    const { rows } = await client.query<{ target_id: string; deadline_at: Date | null }>(
      `UPDATE runs SET status = 'running', started_at = now(), phase = 'starting', progress = 5
       WHERE id = $1::uuid AND status = 'queued' RETURNING target_id, deadline_at`,
      [runId],
    );
    if (rows.length === 0) {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RUN_LOCK_CLASS, runId]);
      giveBack();
      return null;
    }
    return {
      targetId: rows[0].target_id,
      deadlineAt: rows[0].deadline_at,
      release: async () => {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RUN_LOCK_CLASS, runId]).catch(() => undefined);
        giveBack();
      },
    };
  } catch (err) {
    giveBack();
    throw err;
  }
}

export async function reportProgress(runId: string, phase: string, progress: number): Promise<void> {
  await getDb().run.update({ where: { id: runId }, data: { phase, progress } });
}

/**
 * A target behind an approval (production, whatever its label) is changed only by the Deploy step:
 * for an apply or down, the environment (and its project) that guards the target, in words; else null.
 * Checked when a run is queued and again when the worker claims it (the environment may have been
 * put behind an approval in between).
 */
async function approvalEnvironmentOf(tx: Tx, kind: RunKindName, targetId: string): Promise<string | null> {
  if (kind !== 'apply' && kind !== 'down') return null;
  const guarded = await tx.projectEnvironment.findFirst({ where: { targetId, requiresApproval: true }, select: { name: true, project: { select: { name: true } } } });
  return guarded && `${guarded.name} (${guarded.project.name})`;
}

/**
 * What the worker re-checks when it claims a run: everything that was checked when it was
 * queued. Returns why the run may not go ahead (the run's error), or null when it may.
 */
export async function checkClaimedRun(runId: string): Promise<string | null> {
  return getDb().$transaction(async (tx) => {
    const run = await tx.run.findUniqueOrThrow({
      where: { id: runId },
      include: {
        target: true, revision: { select: { checksum: true } },
        requestedBy: { select: { id: true, name: true, email: true, roles: true, agentRoles: true, active: true, kind: true, pausedAt: true, ownerId: true } },
      },
    });
    const requester = run.requestedBy;
    if (!requester.active) return `${requester.name}, who queued this run, is no longer active; queue it again.`;
    // A paused agent is stopped, runs it queued before the pause included.
    if (requester.pausedAt) return `${requester.name} was paused; queue it again once it is resumed.`;
    if (requester.kind === 'agent') {
      const owner = requester.ownerId ? await tx.user.findUnique({ where: { id: requester.ownerId }, select: { name: true, active: true } }) : null;
      const ownerless = ownerlessAgentMessage({ ...requester, ownerName: owner?.name ?? null, ownerActive: owner?.active ?? null });
      if (ownerless) return `${ownerless} Queue it again then.`;
    }
    const step = await stepOf(tx, run.kind, run.requestId);
    const refusal = runRoleRefusal(requester, run.kind, step)
      ?? runTargetRefusal(run.kind, { ...run.target, approvalEnvironment: await approvalEnvironmentOf(tx, run.kind, run.targetId) }, run);
    if (refusal) return `${requester.name}, who queued this run, may no longer start it: ${refusal} Queue it again.`;
    // The step may have been released and claimed by another since: its evidence is the new holder's.
    if (CLAIMED_STEP_EVIDENCE.includes(run.kind)) {
      const claimRefusal = await assertStepClaimAllows(tx, requester, step).then(() => null, (e: unknown) => {
        if (e instanceof DomainError) return e.message;
        throw e;
      });
      if (claimRefusal) return `${requester.name}, who queued this run, may no longer start it: ${claimRefusal} Queue it again.`;
    }
    if (!run.frozenSettings) return null; // queued before settings were frozen on runs
    const frozen = run.frozenSettings as unknown as FrozenRunSettings;
    return frozenSettingsChange(frozen, currentRunSettings(run.target, run.revision?.checksum ?? (frozen.revisionChecksum === null ? null : ''), requester));
  });
}

type RunRow = NonNullable<Awaited<ReturnType<Tx['run']['findUnique']>>>;

/** Cancelled when someone pressed Cancel, timed out when its deadline has passed; otherwise null. */
export function abortStatusOf(run: Pick<RunRow, 'cancelRequestedAt' | 'deadlineAt'>, now = new Date()): 'cancelled' | 'timed_out' | null {
  if (run.cancelRequestedAt) return 'cancelled';
  if (run.deadlineAt && run.deadlineAt.getTime() <= now.getTime()) return 'timed_out';
  return null;
}

function minutes(ms: number) {
  return ms % 60_000 === 0 ? `${ms / 60_000} min` : `${Math.round(ms / 1000)} s`;
}

// What each run this process is stopping was doing when it was stopped (the worker notes it
// before aborting; the handler's clean-up may write later phases to the row).
const abortPhases = new Map<string, string | null>();
export function rememberAbortPhase(runId: string, phase: string | null) {
  abortPhases.set(runId, phase);
}

/** Records a run that was ended on purpose (Cancel, or its deadline) with what it was doing, and its audit row. */
async function recordAbortedInTx(tx: Tx, run: RunRow, status: 'cancelled' | 'timed_out', outcome: object | null) {
  const phase = abortPhases.has(run.id) ? (abortPhases.get(run.id) ?? run.phase) : run.phase;
  abortPhases.delete(run.id);
  run = { ...run, phase };
  const during = run.status === 'queued' ? 'before it started' : `during ${run.phase ?? 'start-up'}`;
  let error: string;
  if (status === 'cancelled') {
    const by = run.cancelRequestedById ? await tx.user.findUnique({ where: { id: run.cancelRequestedById }, select: { name: true } }) : null;
    error = `Cancelled by ${by?.name ?? 'someone'} ${during}.`;
  } else {
    const target = await tx.targetDatabase.findUnique({ where: { id: run.targetId }, select: { runDeadlineMs: true } });
    const allowed = run.deadlineAt ? run.deadlineAt.getTime() - run.queuedAt.getTime() : (target?.runDeadlineMs ?? 0);
    error = `Timed out: the run's deadline (${minutes(allowed)} after it was queued) passed ${during}.`;
  }
  const stopped = { ok: false, aborted: status, abortedDuring: run.status === 'queued' ? null : run.phase };
  // What the run had when it stopped, if its kind's schema reads it; else only how it ended.
  const kept = outcome ? RUN_RESULT_SCHEMAS[run.kind].safeParse({ ...outcome, ...stopped }) : null;
  const changed = await tx.run.updateMany({
    where: { id: run.id, status: { in: ['queued', 'running'] } },
    data: {
      status, error, finishedAt: new Date(), phase: run.phase,
      ...(kept ? { result: (kept.success ? kept.data : { ...stopped, error: (outcome as { error?: unknown }).error }) as InputJsonValue } : {}),
    },
  });
  if (changed.count === 0) return;
  await recordAudit(tx, {
    actorId: status === 'cancelled' ? run.cancelRequestedById : null, requestId: run.requestId, action: `run.${status}`, entityType: 'Run', entityId: run.id,
    before: { status: run.status }, after: { kind: run.kind, status, during: run.status === 'queued' ? null : run.phase },
  });
}

/** The worker ends a run it stopped on purpose: recorded cancelled or timed out (never failed). */
export async function recordAbortedRun(runId: string, outcome: object | null = null): Promise<void> {
  await getDb().$transaction(async (tx) => {
    const run = await tx.run.findUniqueOrThrow({ where: { id: runId } });
    if (isRunFinished(run.status)) return;
    await recordAbortedInTx(tx, run, abortStatusOf(run) ?? 'timed_out', outcome);
  });
}

/** Stores the snapshot and finishes the run, with its audit row, in one transaction. */
export async function completeSnapshotRun(runId: string, snapshot: SchemaSnapshot) {
  return getDb().$transaction(async (tx) => {
    const run = await tx.run.findUniqueOrThrow({ where: { id: runId } });
    const previous = await tx.schemaSnapshot.findFirst({ where: { targetId: run.targetId }, orderBy: { takenAt: 'desc' } });
    const stored = await tx.schemaSnapshot.create({
      data: {
        targetId: run.targetId, runId, hash: snapshot.hash, serverVersion: snapshot.serverVersion,
        shape: snapshot.shape as unknown as InputJsonValue, stats: snapshot.stats as unknown as InputJsonValue,
      },
    });
    // What changed on the target since its last snapshot, as the diff view lists it.
    const changes = previous ? diffSnapshots(previous.shape as unknown as SchemaShape, snapshot.shape).map(describeChange) : null;
    const result = parseRunResult('snapshot', {
      ok: true,
      snapshotId: stored.id,
      hash: snapshot.hash,
      tables: Object.keys(snapshot.shape.tables).length,
      previousSnapshotId: previous?.id ?? null,
      changesSincePrevious: changes,
    });
    await tx.run.update({ where: { id: runId }, data: { status: 'succeeded', phase: 'done', progress: 100, finishedAt: new Date(), result: result as InputJsonValue } });
    await recordAudit(tx, {
      actorId: null, requestId: run.requestId, action: 'run.succeeded', entityType: 'Run', entityId: runId,
      after: { kind: run.kind, hash: snapshot.hash, tables: result.tables, changes: changes?.length ?? null },
    });
    return stored.id;
  });
}

/** Records a run's failure; a run someone cancelled (or whose deadline passed) is recorded as that instead. */
export async function failRun(runId: string, error: string) {
  await getDb().$transaction(async (tx) => {
    const run = await tx.run.findUniqueOrThrow({ where: { id: runId } });
    if (isRunFinished(run.status)) return;
    const aborted = abortStatusOf(run);
    if (aborted) return recordAbortedInTx(tx, run, aborted, { error });
    await tx.run.update({ where: { id: runId }, data: { status: 'failed', error, finishedAt: new Date() } });
    await recordAudit(tx, { actorId: null, requestId: run.requestId, action: 'run.failed', entityType: 'Run', entityId: runId, after: { kind: run.kind, error } });
  });
}

/**
 * Runs marked running whose worker is gone (its advisory lock is free) become interrupted,
 * never "running" forever. Safe with several workers: a live worker still holds its lock.
 */
export async function markInterruptedRuns(): Promise<string[]> {
  const client = await getPool().connect();
  const interrupted: string[] = [];
  try {
    const { rows } = await client.query<{ id: string; request_id: string | null }>(`SELECT id, request_id FROM runs WHERE status = 'running'`);
    for (const run of rows) {
      const { rows: got } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [RUN_LOCK_CLASS, run.id]);
      if (!got[0].ok) continue;
      try {
        await getDb().$transaction(async (tx) => {
          const changed = await tx.run.updateMany({
            where: { id: run.id, status: 'running' },
            data: { status: 'interrupted', finishedAt: new Date(), error: 'The worker stopped while this run was in progress; run it again.' },
          });
          if (changed.count) {
            await recordAudit(tx, { actorId: null, requestId: run.request_id, action: 'run.interrupted', entityType: 'Run', entityId: run.id, after: { status: 'interrupted' } });
            interrupted.push(run.id);
          }
        });
      } finally {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RUN_LOCK_CLASS, run.id]);
      }
    }
    return interrupted;
  } finally {
    client.release();
  }
}

interface QueuedRunJob {
  id: string;
  job_id: string | null;
  state: string | null;
  started_on: Date | null;
  output: { message?: string; value?: { message?: string } } | null;
  found: boolean;
}

/** Why a queued run's job will never start it, or null while it may still be delivered. */
function deadJobReason(r: QueuedRunJob, claimGraceMs: number, now: number): string | null {
  if (!r.job_id) return null; // queued before job ids were kept: only its deadline can end it
  if (!r.found) return 'Its job was never delivered: the job queue has no record of it. Queue it again.';
  const why = r.output?.message ?? r.output?.value?.message;
  switch (r.state) {
    case 'failed':
      return `The job queue gave up on its job before a worker started the run${why ? ` (${why})` : ' (it expired)'}. Queue it again.`;
    case 'cancelled':
      return 'Its job was cancelled in the job queue before a worker started the run. Queue it again.';
    case 'completed':
      return 'Its job ended without a worker starting the run. Queue it again.';
    case 'active':
      // A live worker claims a run within moments of taking its job; a job taken long ago by a
      // worker that never claimed the run belongs to a worker that died in between.
      if (r.started_on && now - r.started_on.getTime() > claimGraceMs) {
        return `A worker took its job at ${r.started_on.toISOString()} and stopped before starting the run. Queue it again.`;
      }
      return null;
    default:
      return null;
  }
}

/**
 * Queued runs that can never start end here: past their deadline (timed out), or their job
 * died, expired, was cancelled or never reached the queue (failed, with the reason).
 */
export async function failStrandedQueuedRuns(options: { claimGraceMs?: number } = {}): Promise<{ failed: string[]; timedOut: string[] }> {
  const claimGraceMs = options.claimGraceMs ?? 60_000;
  const failed: string[] = [];
  const timedOut: string[] = [];
  const pool = getPool();
  const { rows: hasBoss } = await pool.query<{ t: string | null }>(`SELECT to_regclass('pgboss.job')::text AS t`);
  const jobs = hasBoss[0].t
    ? `LEFT JOIN LATERAL (
         SELECT state::text AS state, started_on, output, true AS found FROM pgboss.job WHERE id = r.job_id::uuid
         UNION ALL SELECT state::text, started_on, output, true FROM pgboss.archive WHERE id = r.job_id::uuid
         LIMIT 1) j ON r.job_id IS NOT NULL`
    : 'LEFT JOIN LATERAL (SELECT NULL::text AS state, NULL::timestamptz AS started_on, NULL::jsonb AS output, false AS found) j ON true';
  const { rows } = await pool.query<QueuedRunJob & { overdue: boolean }>(
    `SELECT r.id, r.job_id, j.state, j.started_on, j.output, coalesce(j.found, false) AS found,
            coalesce(r.deadline_at <= now(), false) AS overdue
     FROM runs r ${jobs} WHERE r.status = 'queued'`,
  );
  const now = Date.now();
  for (const r of rows) {
    const reason = r.overdue ? null : deadJobReason(r, claimGraceMs, now);
    if (!r.overdue && !reason) continue;
    await getDb().$transaction(async (tx) => {
      const run = await tx.run.findUnique({ where: { id: r.id } });
      if (!run || run.status !== 'queued') return;
      if (r.overdue) {
        await recordAbortedInTx(tx, run, 'timed_out', null);
        timedOut.push(run.id);
        return;
      }
      const changed = await tx.run.updateMany({ where: { id: run.id, status: 'queued' }, data: { status: 'failed', finishedAt: new Date(), error: reason } });
      if (!changed.count) return;
      await recordAudit(tx, {
        actorId: null, requestId: run.requestId, action: 'run.failed', entityType: 'Run', entityId: run.id,
        before: { status: 'queued' }, after: { kind: run.kind, error: reason, jobState: r.state ?? 'missing' },
      });
      failed.push(run.id);
    });
  }
  return { failed, timedOut };
}

/**
 * Keeps a run's evidence so far (LiveProgress), so the page can show each phase as it ends; parsed
 * with the kind's result schema like the final result.
 */
export async function recordRunEvidence(runId: string, phase: string, progress: number, result: object) {
  const db = getDb();
  const { kind } = await db.run.findUniqueOrThrow({ where: { id: runId }, select: { kind: true } });
  await db.run.update({ where: { id: runId }, data: { phase, progress, result: parseRunResult(kind, result) as InputJsonValue } });
}

/**
 * Finishes a run that records evidence (rehearsal, apply, down): the outcome and an audit row
 * together. An outcome that did not succeed because the run was cancelled or passed its
 * deadline is recorded as cancelled or timed out, with what it was doing.
 */
export async function completeEvidenceRun(
  runId: string,
  outcome: { ok: boolean; error?: string; aborted?: unknown; [key: string]: unknown },
  /** Written in the same transaction as the run's outcome (evidence records: recordEvidence). */
  alsoInTx?: (tx: Tx, run: { id: string; kind: RunKindName; targetId: string; requestId: string | null; revisionId: string | null }) => Promise<void>,
) {
  await getDb().$transaction(async (tx) => {
    const current = await tx.run.findUniqueOrThrow({ where: { id: runId } });
    if (isRunFinished(current.status)) return;
    const aborted = outcome.ok ? null : abortStatusOf(current);
    if (aborted) return recordAbortedInTx(tx, current, aborted, outcome);
    const result = parseRunResult(current.kind, outcome);
    const run = await tx.run.update({
      where: { id: runId },
      data: {
        status: outcome.ok ? 'succeeded' : 'failed', phase: outcome.ok ? 'done' : 'failed', progress: 100, finishedAt: new Date(),
        error: outcome.ok ? null : (outcome.error ?? `The ${current.kind} run failed.`), result: result as InputJsonValue,
      },
    });
    if (alsoInTx) await alsoInTx(tx, run);
    await recordAudit(tx, {
      actorId: null, requestId: run.requestId, action: outcome.ok ? 'run.succeeded' : 'run.failed', entityType: 'Run', entityId: runId,
      after: { kind: run.kind, ...(outcome.ok ? {} : { error: outcome.error }) },
    });
  });
}
