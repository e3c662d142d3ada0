import { createHash, randomUUID } from 'node:crypto';
import { defaultArtifactStore } from '../../artifacts/store';
import { getDb } from '../../db/client';
import { backupSummary, type BackupArtifactMetadata } from '../../domain/backups';
import { formatBytes } from '../../domain/format-bytes';
import { EngineNotSupportedError, driverFor, type BackupProgress, type BackupResult } from '../../engine';
import type { InputJsonValue } from '../../generated/prisma/internal/prismaNamespace';
import { recordEvidence } from '../../services/evidence';
import { targetSettings } from '../../services/manage-targets';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler } from '../handler';
import { QUEUES } from '../queue';

/** Where a run's backup lives in the artifact store: one folder per target. */
export const backupKey = (targetId: string, runId: string) => `backups/${targetId}/${runId}.dump`;

/** sha256 of the per-table checksums (one line a table), the hash the evidence rests on beside the file's. */
export function checksumsDigest(checksums: { table: string; rows: number; checksum: string }[]): string {
  return createHash('sha256').update(checksums.map((c) => `${c.table}|${c.rows}|${c.checksum}`).join('\n')).digest('hex');
}

/**
 * A consistent backup of the run's target (pg_dump -Fc of an exported snapshot, per-table
 * checksums in that snapshot) into the artifact store. The Artifact row, the run's outcome, the
 * evidence record and the audit row are written in one transaction; a file whose row was not
 * written (the run was cancelled at the last moment) is removed again.
 */
export const backupHandler = defineHandler({
  kinds: ['backup'],
  queue: QUEUES.backup,
  async run({ runId, signal, progress }) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { target: true } });
    const driver = driverFor(run.target, 'Backups');
    if (!driver.backup) throw new EngineNotSupportedError(run.target.engine, run.target.name, 'Backups');
    const store = defaultArtifactStore();
    const key = backupKey(run.targetId, runId);
    let tablesLogged = 0;
    const onProgress = (p: BackupProgress) => {
      const partial = { stage: p.stage, table: p.table, tablesDumped: p.tablesDumped, tablesTotal: p.tablesTotal, bytesWritten: p.bytesWritten };
      if (p.stage === 'dumping') {
        const share = p.tablesTotal ? (p.tablesDumped ?? 0) / p.tablesTotal : 0;
        if (p.table && (p.tablesDumped ?? 0) > tablesLogged) {
          tablesLogged = p.tablesDumped ?? 0;
          progress.log(`dumping ${p.table} (${p.tablesDumped} of ${p.tablesTotal})`);
        }
        progress.update(
          `${p.message}${p.tablesTotal ? ` (table ${p.tablesDumped ?? 0} of ${p.tablesTotal})` : ''}, ${formatBytes(p.bytesWritten ?? 0)} written`,
          10 + Math.round(share * 80),
          partial,
        );
      } else {
        progress.log(p.message);
        progress.update(p.message, p.stage === 'checking' ? 2 : p.stage === 'snapshot' ? 5 : undefined, partial, true);
      }
    };
    let result: BackupResult;
    try {
      result = await driver.backup(targetSettings(run.target), store, key, { signal, onProgress });
    } catch (err) {
      if (signal.aborted) throw err;
      // A refusal (pg_dump too old) or a failure is recorded as such, with its evidence.
      const error = (err as Error).message;
      progress.log(`FAILED: ${error}`);
      await progress.flush();
      await completeEvidenceRun(runId, { ok: false, error, log: progress.lines }, async (tx, done) => {
        await recordEvidence(tx, {
          kind: 'backup', targetId: done.targetId, requestId: done.requestId, runId: done.id,
          passed: false, summary: `backup failed: ${error.slice(0, 200)}`, detail: { error },
        });
      });
      return;
    }
    const rows = result.checksums.reduce((n, c) => n + c.rows, 0);
    progress.log(`stored ${formatBytes(result.sizeBytes)}, sha256 ${result.sha256}; checksums of ${result.checksums.length} tables (${rows} rows) in ${result.checksumMs} ms`);
    await progress.flush();
    const artifactId = randomUUID();
    const facts = {
      sha256: result.sha256, sizeBytes: result.sizeBytes, database: result.database, serverVersion: result.serverVersion,
      pgDumpVersion: result.pgDumpVersion, durationMs: result.durationMs, checksumMs: result.checksumMs,
    };
    const metadata: BackupArtifactMetadata = {
      format: 'pg_dump custom', database: result.database, serverVersion: result.serverVersion, pgDumpVersion: result.pgDumpVersion,
      startedAt: result.startedAt, durationMs: result.durationMs, dumpMs: result.dumpMs, checksumMs: result.checksumMs,
      checksums: result.checksums, layouts: result.layouts.map((l) => ({ ...l, columns: l.columns.map((c) => ({ ...c })) })),
    };
    try {
      await completeEvidenceRun(
        runId,
        { ok: true, artifactId, ...facts, dumpMs: result.dumpMs, tables: result.checksums, log: progress.lines },
        async (tx, done) => {
          await tx.artifact.create({
            data: {
              id: artifactId, kind: 'backup', storeKey: key, sha256: result.sha256, sizeBytes: BigInt(result.sizeBytes),
              mediaType: 'application/octet-stream', targetId: done.targetId, runId: done.id, metadata: metadata as unknown as InputJsonValue,
            },
          });
          await recordEvidence(tx, {
            kind: 'backup', targetId: done.targetId, requestId: done.requestId, runId: done.id, passed: true,
            summary: backupSummary({ sizeBytes: result.sizeBytes, tables: result.checksums.length, rows, durationMs: result.durationMs }),
            detail: { artifactId, ...facts, tables: result.checksums },
            hashes: { dumpSha256: result.sha256, checksumsSha256: checksumsDigest(result.checksums) },
          });
        },
      );
    } finally {
      // The file is kept only with its row: a run recorded otherwise (cancelled meanwhile) or a failed write leaves none behind.
      const recorded = await getDb().artifact.findUnique({ where: { id: artifactId }, select: { id: true } }).catch(() => null);
      if (!recorded) await store.delete(key).catch(() => undefined);
    }
  },
});
