import { defaultArtifactStore } from '../../artifacts/store';
import { getDb } from '../../db/client';
import { BackupArtifactMetadataSchema, drillSummary } from '../../domain/backups';
import { EngineNotSupportedError, driverFor, scratchDatabaseName, type DrillProgress, type DrillStep } from '../../engine';
import { fenceAllowancesFor } from '../../services/app-settings';
import { recordEvidence } from '../../services/evidence';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler, dropInterruptedScratch, sandboxFor } from '../handler';
import { QUEUES } from '../queue';

const STEP_PERCENT: Record<DrillStep, number> = { integrity: 5, archive: 20, restore: 30, verify: 80, cleanup: 95 };
const STEP_LABEL: Record<DrillStep, string> = {
  integrity: 'checking the file (size and sha256)',
  archive: 'reading the archive',
  restore: 'restoring into the sandbox',
  verify: 'comparing checksums with the backup\'s',
  cleanup: 'dropping the scratch database',
};

/**
 * The restore drill of a backup (the run's artifact): its file checked against the sha256 and
 * size recorded when it was stored, restored into the sandbox (never the target's server) by a
 * role without rights, its tables' checksums compared with those taken in the dump's snapshot.
 * A file that fails its check is a failed drill with that reason. Outcome, evidence and audit
 * row in one transaction.
 */
export const drillHandler = defineHandler({
  kinds: ['drill'],
  queue: QUEUES.drill,
  async run({ runId, signal, progress }) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { target: true, artifact: true } });
    if (!run.artifact) throw new Error('The backup to drill no longer exists.');
    const driver = driverFor(run.target, 'Restore drills');
    if (!driver.drill) throw new EngineNotSupportedError(run.target.engine, run.target.name, 'Restore drills');
    const metadata = BackupArtifactMetadataSchema.safeParse(run.artifact.metadata);
    if (!metadata.success) throw new Error('The backup\'s recorded checksums are unreadable: take a new backup.');
    const artifact = run.artifact;
    const onProgress = (p: DrillProgress) => {
      progress.log(p.message);
      progress.update(p.table ? `restoring ${p.table}` : STEP_LABEL[p.step], STEP_PERCENT[p.step], { step: p.step, table: p.table, artifactId: artifact.id }, !p.table);
    };
    const result = await driver.drill(
      defaultArtifactStore(),
      { key: artifact.storeKey, sha256: artifact.sha256, sizeBytes: Number(artifact.sizeBytes), checksums: metadata.data.checksums },
      // Never the target's server: its rehearsal server, the install's, or this worker's warm sandbox.
      sandboxFor(run.target),
      { signal, onProgress, scratch: scratchDatabaseName(runId), fence: await fenceAllowancesFor(run.target) },
    );
    progress.log(result.ok ? `ok: ${result.tables.length} tables equal to the backup's checksums` : `FAILED (${result.failedStep}): ${result.error}`);
    await progress.flush();
    const { key: _key, sha256: _sha, sizeBytes: _size, ...rest } = result;
    await completeEvidenceRun(runId, { ...rest, artifactId: artifact.id, backupSha256: artifact.sha256, log: progress.lines }, async (tx, done) => {
      await recordEvidence(tx, {
        kind: 'drill', targetId: done.targetId, requestId: done.requestId, runId: done.id, passed: result.ok,
        summary: drillSummary(result),
        detail: {
          artifactId: artifact.id, backupSha256: artifact.sha256, ok: result.ok, failedStep: result.failedStep, error: result.error,
          server: result.server, pgRestoreVersion: result.pgRestoreVersion, integrityMs: result.integrityMs, restoreMs: result.restoreMs,
          verifyMs: result.verifyMs, tables: result.tables, differing: result.differing,
        },
        hashes: { dumpSha256: artifact.sha256 },
      });
    });
  },
  afterInterrupted: dropInterruptedScratch,
});
