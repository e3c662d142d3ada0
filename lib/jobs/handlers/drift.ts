import { getDb } from '../../db/client';
import { defaultDriftFolder, driftSummary } from '../../domain/drift';
import { EngineNotSupportedError, driverFor, scratchDatabaseName, type DriftStep, type MigrationFile } from '../../engine';
import { fenceAllowancesFor } from '../../services/app-settings';
import { recordEvidence } from '../../services/evidence';
import { targetSettings } from '../../services/manage-targets';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler, dropInterruptedScratch, sandboxFor } from '../handler';
import { QUEUES } from '../queue';

const STEP_PERCENT: Record<DriftStep, number> = { target: 5, sandbox: 20, replay: 30, compare: 85, drop: 95 };
const STEP_LABEL: Record<DriftStep, string> = {
  target: "reading the target's schema and migration history (read-only)",
  sandbox: 'preparing a scratch database in the sandbox',
  replay: 'replaying',
  compare: 'comparing the two schemas',
  drop: 'dropping the scratch database',
};

/** The imported folder a drift run compares with: the one it was queued with, or the request's (see defaultDriftFolder). */
async function folderOf(run: { folderId: string | null; requestId: string | null }) {
  const db = getDb();
  if (run.folderId) return db.migrationFolder.findUnique({ where: { id: run.folderId } });
  const request = run.requestId ? await db.migrationRequest.findUnique({ where: { id: run.requestId }, select: { sourceMigration: true } }) : null;
  const folders = await db.migrationFolder.findMany({ orderBy: { importedAt: 'desc' }, take: 20 });
  const named = folders.map((f) => ({ ...f, migrationNames: (f.migrations as unknown as MigrationFile[]).map((m) => m.name) }));
  return defaultDriftFolder(named, request?.sourceMigration ?? null);
}

/**
 * Drift: the target's applied migrations (those of the imported folder its history marks applied)
 * replayed in the sandbox by a role without rights, and the result compared with the target's
 * live schema (read-only). A drifted target is recorded as failed evidence (it raises the risk);
 * outcome, evidence and audit row in one transaction.
 */
export const driftHandler = defineHandler({
  kinds: ['drift'],
  queue: QUEUES.drift,
  async run({ runId, signal, progress }) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { target: true } });
    const driver = driverFor(run.target, 'Drift checks');
    if (!driver.drift) throw new EngineNotSupportedError(run.target.engine, run.target.name, 'Drift checks');
    const folder = await folderOf(run);
    if (!folder) throw new Error('There is no imported migrations folder to compare the target with: import the Prisma migrations folder (Migrations) first.');
    const migrations = folder.migrations as unknown as MigrationFile[];
    const folderRef = { id: folder.id, name: folder.name };
    progress.log(`comparing ${run.target.name} with the ${migrations.length} migrations of "${folder.name}"`);
    const result = await driver.drift(targetSettings(run.target), migrations, {
      fence: await fenceAllowancesFor(run.target),
      // Never the target's server: its rehearsal server, the install's, or this worker's warm sandbox.
      sandbox: sandboxFor(run.target),
      scratch: scratchDatabaseName(runId),
      signal,
      onStep: (step, detail) => {
        const label = `${STEP_LABEL[step]}${detail ? ` ${detail}` : ''}`;
        progress.log(label);
        progress.update(label, STEP_PERCENT[step], { step, folder: folderRef }, step !== 'replay');
      },
    });
    if (result.aborted) throw signal.reason ?? new Error('cancelled');
    if (result.ok) {
      progress.log(result.drifted ? `DRIFT: ${result.differences.length} difference(s)` : 'no drift');
      for (const line of result.differences.slice(0, 200)) progress.log(`  ${line}`);
    } else progress.log(`FAILED: ${result.error}`);
    await progress.flush();
    const fields = {
      drifted: result.drifted, differences: result.differences, expectedHash: result.expectedHash, actualHash: result.actualHash, replayed: result.replayed,
      history: result.history, pending: result.pending, folder: folderRef, server: result.server, note: result.note,
    };
    await completeEvidenceRun(runId, { ok: result.ok, error: result.error, durationMs: result.durationMs, ...fields, log: progress.lines }, async (tx, done) => {
      // A check that could not finish proves nothing either way: no evidence.
      if (!result.ok || !result.expectedHash || !result.actualHash) return;
      await recordEvidence(tx, {
        kind: 'drift', targetId: done.targetId, requestId: done.requestId, runId: done.id, passed: !result.drifted,
        summary: driftSummary(result),
        detail: { ...fields, expectedHash: result.expectedHash, actualHash: result.actualHash },
        hashes: { expectedSchema: result.expectedHash, actualSchema: result.actualHash },
      });
    });
  },
  afterInterrupted: dropInterruptedScratch,
});
