import { getDb } from '../db/client';
import { loadActor } from '../auth/actor';
import { conflict, forbidden, notFound } from '../domain/errors';
import { RUN_STEP_POSITION, runRoleRefusal } from '../domain/run-rules';
import type { BackupRunInput } from '../validation/backup';
import { queueRun, queueRunInTransaction } from './runs';

/** A Create backup holder (or admin) asks for a consistent backup of the request's target. */
export async function requestBackup(actorId: string, input: BackupRunInput) {
  return queueRun(actorId, { kind: 'backup', requestId: input.requestId });
}

/**
 * A Create backup holder (or admin) asks for a restore drill of the request's latest backup.
 * Who is asking is checked before anything about the request's backups is said.
 */
export async function requestDrill(actorId: string, input: BackupRunInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const request = await tx.migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true, targetId: true } });
    if (!request) throw notFound('Migration request');
    const step = await tx.task.findUnique({
      where: { requestId_position: { requestId: request.id, position: RUN_STEP_POSITION.drill! } },
      select: { subject: true, eligibleRoles: true, isGate: true },
    });
    const refusal = runRoleRefusal(actor, 'drill', step);
    if (refusal) throw forbidden(refusal);
    const latest = await tx.artifact.findFirst({
      where: { kind: 'backup', targetId: request.targetId, run: { requestId: request.id } },
      orderBy: { createdAt: 'desc' },
      select: { id: true },
    });
    if (!latest) throw conflict('There is no backup of this request to drill yet: take one first (Back up).');
    return queueRunInTransaction(tx, actor, { kind: 'drill', requestId: request.id, artifactId: latest.id });
  });
}
