import type { Readable } from 'node:stream';
import { defaultArtifactStore } from '../artifacts/store';
import { getDb } from '../db/client';
import { loadActor } from '../auth/actor';
import { conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask, holdsAnyRole } from '../domain/permissions';
import { RUN_STEP_POSITION, runRoleRefusal } from '../domain/run-rules';
import { backupFileName } from '../engine';
import type { BackupFileQuery, BackupRunInput } from '../validation/backup';
import { recordAudit } from './audit';
import { backupTargetOf } from './projects';
import { queueRun, queueRunInTransaction } from './runs';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

/** A Create backup holder (or admin) asks for a consistent backup of the request's backup target (production's when it has a project). */
export async function requestBackup(actorId: string, input: BackupRunInput) {
  return queueRun(actorId, { kind: 'backup', requestId: input.requestId });
}

/**
 * A Create backup holder (or admin) asks for a restore drill of the request's latest backup of its backup target.
 * Who is asking is checked before anything about the request's backups is said.
 */
export async function requestDrill(actorId: string, input: BackupRunInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const request = await tx.migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true, targetId: true, projectId: true } });
    if (!request) throw notFound('Migration request');
    const step = await tx.task.findUnique({
      where: { requestId_position: { requestId: request.id, position: RUN_STEP_POSITION.drill! } },
      select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS },
    });
    const refusal = runRoleRefusal(actor, 'drill', step);
    if (refusal) throw forbidden(refusal);
    // Before anything about the request's backups is said (queueRunInTransaction checks it again).
    await assertStepClaimAllows(tx, actor, step);
    const { targetId } = await backupTargetOf(tx, request);
    const latest = await tx.artifact.findFirst({
      where: { kind: 'backup', targetId, run: { requestId: request.id } },
      orderBy: { createdAt: 'desc' },
      select: { id: true },
    });
    if (!latest) throw conflict('There is no backup of this request to drill yet: take one first (Back up).');
    return queueRunInTransaction(tx, actor, { kind: 'drill', requestId: request.id, artifactId: latest.id });
  });
}

/** A backup file on its way to the person who downloads it. */
export interface BackupDownload {
  fileName: string;
  sizeBytes: number;
  sha256: string;
  body: Readable;
}

/**
 * The backup file for download (GET /api/v1/backups/:id/file). It holds all of the target's
 * data, so only the Create backup step's holders of the backup's request (and admins) get it,
 * checked before the artifact store is touched; each download is audited, the refused ones
 * leave nothing. A file gone from the store or changed in size is a conflict, not a partial download.
 */
export async function openBackupDownload(actorId: string, query: BackupFileQuery): Promise<BackupDownload> {
  const store = defaultArtifactStore();
  const file = await getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!holdsAnyRole(actor)) throw forbidden('Only holders of the Create backup step (or admins) can download backups.');
    const artifact = await tx.artifact.findUnique({
      where: { id: query.id },
      select: { id: true, kind: true, storeKey: true, sha256: true, sizeBytes: true, createdAt: true, target: { select: { name: true } }, run: { select: { requestId: true } } },
    });
    const requestId = artifact?.run?.requestId;
    if (!artifact || artifact.kind !== 'backup' || !artifact.target || !requestId) throw notFound('Backup');
    const step = await tx.task.findUnique({
      where: { requestId_position: { requestId, position: RUN_STEP_POSITION.backup! } },
      select: { subject: true, eligibleRoles: true, isGate: true },
    });
    if (!step || !canWorkTask(actor, step)) {
      const who = step ? step.eligibleRoles.join(' or ') : 'the Create backup step';
      throw forbidden(`Only holders of ${who} (or admins) can download this backup: it holds all of the target's data.`);
    }
    const sizeBytes = Number(artifact.sizeBytes);
    const stored = await store.stat(artifact.storeKey);
    if (!stored) throw conflict(`The backup's file is no longer in ${store.label}: take a new backup.`);
    if (stored.sizeBytes !== sizeBytes) throw conflict(`The backup's file in ${store.label} is ${stored.sizeBytes} bytes, ${sizeBytes} were recorded: take a new backup.`);
    await recordAudit(tx, {
      actorId: actor.id, requestId, action: 'backup.downloaded', entityType: 'Artifact', entityId: artifact.id,
      after: { storeKey: artifact.storeKey, sha256: artifact.sha256, sizeBytes },
    });
    return { key: artifact.storeKey, fileName: backupFileName(artifact.target.name, artifact.createdAt), sizeBytes, sha256: artifact.sha256 };
  });
  const { key, ...facts } = file;
  return { ...facts, body: await store.open(key) };
}
