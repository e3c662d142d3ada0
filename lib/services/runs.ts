import { getDb, getPool } from '../db/client';
import { keepQuietWhenIdle } from '../engine/connection';
import { conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask } from '../domain/permissions';
import { describeChange, diffSnapshots } from '../engine/postgres/diff';
import type { SchemaShape, SchemaSnapshot } from '../engine/postgres/snapshot';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { loadActor } from '../auth/actor';
import { QUEUES, enqueueInTransaction } from '../jobs/queue';
import { recordAudit } from './audit';

/**
 * An Analysis-step holder asks for a schema snapshot of the request's target. The run row,
 * its audit row and its job are written in one transaction; the worker does the rest.
 */
export async function requestSnapshot(actorId: string, input: { requestId: string }) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const request = await tx.migrationRequest.findUnique({
      where: { id: input.requestId },
      select: { id: true, targetId: true, tasks: { where: { position: 1 }, select: { subject: true, eligibleRoles: true, isGate: true } } },
    });
    if (!request) throw notFound('Migration request');
    const analysis = request.tasks[0];
    if (!canWorkTask(actor, analysis)) {
      throw forbidden(`Only holders of ${analysis.eligibleRoles.join(' or ')} (or admins) can take snapshots for "${analysis.subject}".`);
    }
    const busy = await tx.run.findFirst({ where: { requestId: request.id, kind: 'snapshot', status: { in: ['queued', 'running'] } } });
    if (busy) throw conflict('A snapshot of this target is already queued or running.');
    const run = await tx.run.create({
      data: { kind: 'snapshot', targetId: request.targetId, requestId: request.id, requestedById: actor.id, phase: 'queued' },
    });
    await enqueueInTransaction(tx, QUEUES.snapshot, { runId: run.id });
    await recordAudit(tx, { actorId: actor.id, requestId: request.id, action: 'run.queued', entityType: 'Run', entityId: run.id, after: { kind: 'snapshot' } });
    return { runId: run.id };
  });
}

// Advisory-lock namespace for runs in progress ("CU"): a worker holds (21845, hashtext(run id))
// on its own connection while it works, so a run whose worker died is recognisable.
const RUN_LOCK_CLASS = 21845;

/** Moves a queued run to running and returns a release function, or null if it is not queued. */
export async function claimRun(runId: string): Promise<{ targetId: string; release: () => Promise<void> } | null> {
  const client = keepQuietWhenIdle(await getPool().connect());
  try {
    await client.query('SELECT pg_advisory_lock($1, hashtext($2))', [RUN_LOCK_CLASS, runId]);
    const { rows } = await client.query<{ target_id: string }>(
      `UPDATE runs SET status = 'running', started_at = now(), phase = 'starting', progress = 5
       WHERE id = $1::uuid AND status = 'queued' RETURNING target_id`,
      [runId],
    );
    if (rows.length === 0) {
      await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RUN_LOCK_CLASS, runId]);
      client.release();
      return null;
    }
    return {
      targetId: rows[0].target_id,
      release: async () => {
        await client.query('SELECT pg_advisory_unlock($1, hashtext($2))', [RUN_LOCK_CLASS, runId]).catch(() => undefined);
        client.release();
      },
    };
  } catch (err) {
    client.release();
    throw err;
  }
}

export async function reportProgress(runId: string, phase: string, progress: number): Promise<void> {
  await getDb().run.update({ where: { id: runId }, data: { phase, progress } });
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
    const result = {
      snapshotId: stored.id,
      hash: snapshot.hash,
      tables: Object.keys(snapshot.shape.tables).length,
      previousSnapshotId: previous?.id ?? null,
      changesSincePrevious: changes,
    };
    await tx.run.update({ where: { id: runId }, data: { status: 'succeeded', phase: 'done', progress: 100, finishedAt: new Date(), result } });
    await recordAudit(tx, {
      actorId: null, requestId: run.requestId, action: 'run.succeeded', entityType: 'Run', entityId: runId,
      after: { kind: run.kind, hash: snapshot.hash, tables: result.tables, changes: changes?.length ?? null },
    });
    return stored.id;
  });
}

export async function failRun(runId: string, error: string) {
  await getDb().$transaction(async (tx) => {
    const run = await tx.run.update({ where: { id: runId }, data: { status: 'failed', error, finishedAt: new Date() } });
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

/** Keeps the rehearsal's evidence so far on the run, so the page can show each phase as it ends. */
export async function recordRunEvidence(runId: string, phase: string, progress: number, result: object) {
  await getDb().run.update({ where: { id: runId }, data: { phase, progress, result: result as InputJsonValue } });
}

/** Finishes a run that records evidence (rehearsal, apply, down): the outcome and an audit row together. */
export async function completeEvidenceRun(runId: string, outcome: { ok: boolean; error?: string; [key: string]: unknown }) {
  await getDb().$transaction(async (tx) => {
    const run = await tx.run.update({
      where: { id: runId },
      data: {
        status: outcome.ok ? 'succeeded' : 'failed', phase: outcome.ok ? 'done' : 'failed', progress: 100, finishedAt: new Date(),
        error: outcome.ok ? null : (outcome.error ?? 'The rehearsal failed.'), result: outcome as InputJsonValue,
      },
    });
    await recordAudit(tx, {
      actorId: null, requestId: run.requestId, action: outcome.ok ? 'run.succeeded' : 'run.failed', entityType: 'Run', entityId: runId,
      after: { kind: run.kind, ...(outcome.ok ? {} : { error: outcome.error }) },
    });
  });
}
