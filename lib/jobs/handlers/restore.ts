import { defaultArtifactStore } from '../../artifacts/store';
import { getDb } from '../../db/client';
import { BackupArtifactMetadataSchema } from '../../domain/backups';
import { EngineNotSupportedError, restoreBackupOntoTarget } from '../../engine';
import { markDeploymentRecovered } from '../../services/deploy';
import { targetSettings } from '../../services/manage-targets';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler } from '../handler';
import { QUEUES } from '../queue';

const PERCENT = { integrity: 10, script: 25, restore: 40, verify: 85 } as const;

/**
 * The recovery of a deploy by its pre-deploy backup: the file checked against its sha256, the
 * target's schemas replaced by the backup's in one transaction (a failure leaves the target as it
 * was), every table compared with the backup's checksums. On success the deployment is recorded
 * recovered, in the run's own transaction.
 */
export const restoreHandler = defineHandler({
  kinds: ['restore'],
  queue: QUEUES.restore,
  async run({ runId, signal, progress }) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { target: true, artifact: true } });
    if (!run.artifact || !run.deploymentId) throw new Error('The backup to restore no longer exists.');
    if (run.target.engine !== 'postgresql') throw new EngineNotSupportedError(run.target.engine, run.target.name, 'Restores');
    const metadata = BackupArtifactMetadataSchema.safeParse(run.artifact.metadata);
    if (!metadata.success) throw new Error("The backup's recorded checksums are unreadable: it cannot be verified after a restore.");
    const artifact = run.artifact;
    const result = await restoreBackupOntoTarget(
      defaultArtifactStore(),
      { key: artifact.storeKey, sha256: artifact.sha256, sizeBytes: Number(artifact.sizeBytes), checksums: metadata.data.checksums },
      targetSettings(run.target),
      {
        signal,
        onProgress: (step, message) => {
          progress.log(message);
          progress.update(message, PERCENT[step], { step, artifactId: artifact.id, deploymentId: run.deploymentId }, true);
        },
      },
    );
    progress.log(result.ok ? `ok: ${run.target.name} restored; ${result.tables.length} tables equal to the backup's checksums` : `FAILED (${result.step}): ${result.error}`);
    await progress.flush();
    const deploymentId = run.deploymentId;
    await completeEvidenceRun(
      runId,
      {
        ok: result.ok, ...(result.error ? { error: result.error } : {}), deploymentId, artifactId: artifact.id, step: result.step,
        tables: result.tables, differing: result.differing, log: progress.lines,
      },
      async (tx, done) => {
        if (result.ok) await markDeploymentRecovered(tx, deploymentId, 'restore', done.id);
      },
    );
  },
});
