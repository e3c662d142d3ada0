import 'server-only';
import { getDb } from '../db/client';
import { BackupArtifactMetadataSchema, type BackupArtifactMetadata } from '../domain/backups';
import { notFound } from '../domain/errors';
import { canManageTargets, canWorkTask, type Actor } from '../domain/permissions';
import { RUN_STEP_POSITION } from '../domain/run-rules';
import { readRunResult } from '../domain/run-results';
import { backupFileName, restoreProcedure, restoreScript, type RestoreScriptTarget } from '../engine';
import { latestEvidence } from '../services/evidence';
import type { RestoreScriptQuery } from '../validation/backup';
import { backupTargetOf } from '../services/projects';
import { assertCanRead } from './access';
import { runTextRedactor } from './runs';
import { LABELLED_ACCOUNT, labelOf } from './account-label';

const TARGET_FIELDS = { select: { name: true, host: true, port: true, database: true, username: true, sslMode: true } } as const;
type TargetFields = { name: string; host: string | null; port: number | null; database: string; username: string | null; sslMode: string };

/**
 * Where a restore script points: the target as it is now, its address only for people who may
 * see it (admins); the others' script asks for PGHOST and PGPORT when it runs. Never a password.
 */
function scriptTarget(actor: Actor, t: TargetFields): RestoreScriptTarget {
  const address = canManageTargets(actor);
  return { name: t.name, host: address ? t.host : null, port: address ? t.port : null, database: t.database, username: t.username ?? 'postgres', sslMode: t.sslMode };
}

function scriptInput(artifact: { id: string; storeKey: string; sha256: string; sizeBytes: bigint; createdAt: Date }, meta: BackupArtifactMetadata, targetName: string) {
  return {
    key: artifact.storeKey, fileName: backupFileName(targetName, artifact.createdAt), sha256: artifact.sha256, sizeBytes: Number(artifact.sizeBytes),
    database: meta.database, serverVersion: meta.serverVersion, pgDumpVersion: meta.pgDumpVersion, startedAt: meta.startedAt,
    checksums: meta.checksums, layouts: meta.layouts,
  };
}

/**
 * The Create backup step's panel: which target the request's backups are of (its project's
 * production environment's, else its own), the latest backup and drill runs of the request on
 * that target, the latest backup of it, its restore script.
 */
export async function getBackupPanel(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const redact = runTextRedactor(actor);
  const db = getDb();
  const request = await db.migrationRequest.findUnique({ where: { id: requestId }, select: { targetId: true, projectId: true } });
  if (!request) throw notFound('Migration request');
  const { targetId, environment } = await backupTargetOf(db, request);
  const target = await db.targetDatabase.findUniqueOrThrow({ where: { id: targetId }, ...TARGET_FIELDS });
  const [backupRun, drillRun, artifact, drillEvidence, step] = await Promise.all([
    db.run.findFirst({ where: { requestId, targetId, kind: 'backup' }, orderBy: { queuedAt: 'desc' }, include: { requestedBy: LABELLED_ACCOUNT } }),
    db.run.findFirst({ where: { requestId, targetId, kind: 'drill' }, orderBy: { queuedAt: 'desc' }, include: { requestedBy: LABELLED_ACCOUNT } }),
    db.artifact.findFirst({ where: { kind: 'backup', targetId, run: { requestId } }, orderBy: { createdAt: 'desc' } }),
    latestEvidence(requestId, 'drill'),
    db.task.findUnique({ where: { requestId_position: { requestId, position: RUN_STEP_POSITION.backup! } }, select: { eligibleRoles: true, isGate: true } }),
  ]);
  const backupResult = backupRun ? (readRunResult('backup', backupRun.result, backupRun.id) ?? {}) : null;
  const drillResult = drillRun ? (readRunResult('drill', drillRun.result, drillRun.id) ?? {}) : null;
  const meta = artifact ? BackupArtifactMetadataSchema.safeParse(artifact.metadata) : null;
  const runView = (run: NonNullable<typeof backupRun>, log: string[] | undefined) => ({
    id: run.id,
    status: run.status,
    phase: redact(run.phase, target),
    progress: run.progress,
    error: redact(run.error, target),
    requestedBy: labelOf(run.requestedBy),
    queuedAt: run.queuedAt,
    finishedAt: run.finishedAt,
    log: (log ?? []).slice(-200).map((line) => redact(line, target)),
  });
  return {
    // What is backed up, in words for the panel: the environment's name when it is production's.
    backupTarget: { name: target.name, environment: environment?.name ?? null, ownTarget: targetId === request.targetId },
    backupRun: backupRun && backupResult ? runView(backupRun, backupResult.log) : null,
    drillRun: drillRun && drillResult
      ? {
          ...runView(drillRun, drillResult.log),
          artifactId: drillRun.artifactId,
          backupSha256: drillResult.backupSha256 ?? null,
          ok: drillResult.ok ?? null,
          failedStep: drillResult.failedStep ?? null,
          // The sandbox or rehearsal server it restored into: its address for target managers only.
          server: redact(drillResult.server ?? null, target),
          pgRestoreVersion: drillResult.pgRestoreVersion ?? null,
          dumpedBy: drillResult.archive?.dumpedBy ?? null,
          integrityMs: drillResult.integrityMs ?? null,
          restoreMs: drillResult.restoreMs ?? null,
          verifyMs: drillResult.verifyMs ?? null,
          tables: drillResult.tables ?? [],
          differing: drillResult.differing ?? [],
          staleBecause: drillEvidence?.runId === drillRun.id ? drillEvidence.staleBecause : null,
        }
      : null,
    backup: artifact && meta?.success
      ? (() => {
          const input = scriptInput(artifact, meta.data, target.name);
          const to = scriptTarget(actor, target);
          return {
            id: artifact.id,
            sha256: artifact.sha256,
            sizeBytes: Number(artifact.sizeBytes),
            createdAt: artifact.createdAt,
            database: meta.data.database,
            serverVersion: meta.data.serverVersion,
            pgDumpVersion: meta.data.pgDumpVersion,
            durationMs: meta.data.durationMs,
            dumpMs: meta.data.dumpMs,
            checksumMs: meta.data.checksumMs,
            tables: meta.data.checksums,
            fileName: input.fileName,
            // The file holds all of the target's data: its link only for who may download it (openBackupDownload checks again).
            canDownload: !!step && canWorkTask(actor, step),
            script: restoreScript(input, to),
            procedure: restoreProcedure(input, to),
          };
        })()
      : null,
  };
}
export type BackupPanelView = Awaited<ReturnType<typeof getBackupPanel>>;

/** A backup's restore script or written procedure, for download (GET /api/v1/backups/:id/restore-script). */
export async function getRestoreScript(actor: Actor, query: RestoreScriptQuery) {
  assertCanRead(actor);
  const artifact = await getDb().artifact.findUnique({ where: { id: query.id }, include: { target: TARGET_FIELDS } });
  const meta = artifact?.kind === 'backup' ? BackupArtifactMetadataSchema.safeParse(artifact.metadata) : null;
  if (!artifact?.target || !meta?.success) throw notFound('Backup');
  const input = scriptInput(artifact, meta.data, artifact.target.name);
  const to = scriptTarget(actor, artifact.target);
  const base = input.fileName.replace(/\.dump$/, '');
  return query.format === 'procedure'
    ? { fileName: `restore-${base}.md`, contentType: 'text/markdown; charset=utf-8', body: restoreProcedure(input, to) }
    : { fileName: `restore-${base}.sh`, contentType: 'text/x-shellscript; charset=utf-8', body: restoreScript(input, to) };
}
