import { getDb } from '../db/client';
import { connectWithTimeout, pgClientConfig } from '../engine/connection';
import { takeSnapshot } from '../engine/postgres/snapshot';
import { targetSettings } from '../services/manage-targets';
import { dropScratchDatabase, rehearseMigration, scratchDatabaseName, type PhaseEvidence } from '../engine/postgres/rehearsal';
import { migrationFolderName, migrationSqlOf } from '../services/migration-revisions';
import { applyTimeouts } from '../engine/postgres/runner';
import { TargetBusyError, lockTargetOrFail } from '../engine/postgres/target-lock';
import type { PlannedStatement } from '../engine/postgres/sql-plan';
import { MigrationError, applyMigrations, migrationStatus, rollbackMigration, type MigrationFile } from '../engine/prisma-migrations';
import { claimRun, completeEvidenceRun, completeSnapshotRun, failRun, markInterruptedRuns, recordRunEvidence, reportProgress } from '../services/runs';
import { QUEUES, getBoss } from './queue';

/**
 * Claims a queued run for this worker (skipping one already taken, finished or interrupted),
 * does the work, and records anything unexpected as the run's failure: handlers never throw.
 */
async function withClaimedRun(runId: string, work: (targetId: string) => Promise<void>): Promise<void> {
  const claim = await claimRun(runId);
  if (!claim) return;
  try {
    await work(claim.targetId);
  } catch (err) {
    await failRun(runId, err instanceof Error ? err.message : String(err));
  } finally {
    await claim.release();
  }
}

/** Takes a schema snapshot of the run's target and records it. Never throws: failures are recorded. */
export async function runSnapshotJob(runId: string): Promise<void> {
  await withClaimedRun(runId, async (targetId) => {
    await reportProgress(runId, 'connecting to the target', 20);
    const target = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: targetId } });
    if (target.engine !== 'postgresql') throw new Error(`Snapshots of ${target.engine} targets are not supported yet.`);
    const settings = targetSettings(target);
    const client = await connectWithTimeout(pgClientConfig(settings), settings.connectTimeoutMs);
    try {
      await reportProgress(runId, 'reading the catalog', 50);
      const snapshot = await takeSnapshot(client);
      await reportProgress(runId, 'storing the snapshot', 90);
      await completeSnapshotRun(runId, snapshot);
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

const REHEARSAL_PHASES = 9;

/**
 * What a run is doing right now, written to its row for the page to poll: the current phase or
 * statement and log lines. Writes go one after another (never out of order), at most about four
 * a second; the latest state is written when the window ends, so a long statement still shows.
 */
class LiveProgress {
  readonly lines: string[] = [];
  private written = Promise.resolve();
  private lastWrite = 0;
  private percent = 0;
  private latest: { phase: string; result: object } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly runId: string) {}

  log(line: string) {
    this.lines.push(`${new Date().toISOString().slice(11, 23)} ${line}`);
    if (this.lines.length > 500) this.lines.shift();
  }

  update(phase: string, percent: number | undefined, result: object, force = false) {
    if (percent !== undefined) this.percent = percent;
    this.latest = { phase, result };
    const wait = 250 - (Date.now() - this.lastWrite);
    if (force || wait <= 0) return this.write();
    this.timer ??= setTimeout(() => this.write(), wait);
  }

  private write() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.latest) return;
    const { phase, result } = this.latest;
    this.latest = null;
    this.lastWrite = Date.now();
    const snapshot = { ...result, log: [...this.lines] };
    const percent = this.percent;
    this.written = this.written.then(() => recordRunEvidence(this.runId, phase.slice(0, 300), percent, snapshot)).catch(() => undefined);
  }

  /** Drops what is not written yet (the final result supersedes it) and waits for the writes under way. */
  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.latest = null;
    return this.written;
  }
}

/** Rehearses the run's revision on a scratch copy of its target, recording each phase as it ends. */
export async function runRehearsalJob(runId: string, sampleRows = 0): Promise<void> {
  await withClaimedRun(runId, async () => {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { revision: true, target: true } });
    if (!run.revision) throw new Error('The revision to rehearse no longer exists.');
    if (run.target.engine !== 'postgresql') throw new Error(`Rehearsals on ${run.target.engine} targets are not supported yet.`);
    const phases: PhaseEvidence[] = [];
    const progress = new LiveProgress(runId);
    const result = await rehearseMigration(
      targetSettings(run.target),
      { name: run.revision.name, upSql: migrationSqlOf(run.revision), downSql: run.revision.downSql },
      {
        scratch: scratchDatabaseName(runId),
        sampleRows,
        onPhase: (p) => {
          phases.push(p);
          progress.log(`${p.status === 'ok' ? 'ok' : 'FAILED'}: ${p.label} (${p.durationMs} ms)${p.detail ? `: ${p.detail}` : ''}`);
          progress.update(p.label, Math.round((phases.length / REHEARSAL_PHASES) * 95), { phases: [...phases] }, true);
        },
        onStatement: (phase, st, total) =>
          progress.update(`${phase}: statement ${st.index + 1} of ${total} (line ${st.line}): ${st.sql.slice(0, 120)}`, undefined, { phases: [...phases] }),
      },
    );
    await progress.flush();
    await completeEvidenceRun(runId, { ...result, revision: run.revision.revision, log: progress.lines });
  });
}

/**
 * Applies (or rolls back) the run's revision on its target: the target's migration lock taken
 * without waiting, its lock and statement timeouts set, the history row written as Prisma does.
 */
export async function runApplyJob(runId: string): Promise<void> {
  await withClaimedRun(runId, async () => {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { revision: true, target: true, request: true } });
    if (!run.revision || !run.request) throw new Error('The revision to apply no longer exists.');
    const target = run.target;
    const settings = targetSettings(target);
    const migration = {
      name: migrationFolderName(run.request.createdAt, run.revision.name),
      sql: migrationSqlOf(run.revision),
      checksum: run.revision.checksum,
      downSql: run.revision.downSql,
    };
    await reportProgress(runId, `connecting to ${target.name}`, 10);
    const client = await connectWithTimeout({ ...pgClientConfig(settings), application_name: `cutover run ${runId}` }, settings.connectTimeoutMs);
    const progress = new LiveProgress(runId);
    try {
      await applyTimeouts(client, target);
      await reportProgress(runId, run.kind === 'apply' ? `applying ${migration.name}` : `rolling back ${migration.name}`, 40);
      const onStatement = (name: string, st: PlannedStatement, total: number) =>
        progress.update(`${name}: statement ${st.index + 1} of ${total} (line ${st.line}): ${st.sql.slice(0, 120)}`, 40 + Math.round(((st.index + 1) / total) * 55), {});
      const evidence =
        run.kind === 'apply'
          ? (await applyMigrations(client, [migration], { recordFailure: true, lock: lockTargetOrFail, onStatement })).evidence[migration.name] ?? null
          : await rollbackMigration(client, migration, { lock: lockTargetOrFail, onStatement });
      await progress.flush();
      await completeEvidenceRun(runId, {
        ok: true, migration: migration.name, revision: run.revision.revision, script: evidence,
        note: evidence ? undefined : 'already applied: nothing to do',
      });
    } catch (err) {
      await progress.flush();
      if (!(err instanceof MigrationError) && !(err instanceof TargetBusyError)) throw err;
      await completeEvidenceRun(runId, {
        ok: false, error: err.message, migration: migration.name, revision: run.revision.revision,
        script: err instanceof MigrationError ? err.evidence : undefined,
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

/** Reads the target's migration history and compares it with the imported folder (read-only). */
export async function runStatusJob(runId: string): Promise<void> {
  await withClaimedRun(runId, async () => {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { folder: true, target: true } });
    if (!run.folder) throw new Error('The imported folder no longer exists.');
    const settings = targetSettings(run.target);
    const client = await connectWithTimeout({ ...pgClientConfig(settings), application_name: `cutover run ${runId}` }, settings.connectTimeoutMs);
    try {
      const migrations = run.folder.migrations as unknown as MigrationFile[];
      const entries = await migrationStatus(client, migrations);
      await completeEvidenceRun(runId, { ok: true, entries: entries.map(({ name, state, fileChecksum, appliedChecksum }) => ({ name, state, fileChecksum, appliedChecksum })) });
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

/** A rehearsal whose worker died left its scratch copy on the target's server: drop it. */
async function dropOrphanedScratchDatabases(runIds: string[]) {
  const runs = await getDb().run.findMany({ where: { id: { in: runIds }, kind: 'rehearsal' }, include: { target: true } });
  for (const run of runs) {
    try {
      await dropScratchDatabase(targetSettings(run.target), scratchDatabaseName(run.id));
    } catch (err) {
      console.error(`[cutover] could not drop the scratch database of interrupted run ${run.id}:`, err instanceof Error ? err.message : err);
    }
  }
}

/**
 * Starts this process's worker: first marks runs orphaned by a dead worker as interrupted,
 * then takes jobs. `npm start` runs one in-process; `npm run worker` runs one on its own.
 */
export async function startWorker(options: { pollingIntervalSeconds?: number } = {}): Promise<{ interrupted: string[] }> {
  const boss = await getBoss();
  const sweep = async () => {
    const ids = await markInterruptedRuns();
    await dropOrphanedScratchDatabases(ids);
    return ids;
  };
  const interrupted = await sweep();
  // Again every minute: a worker that died a moment ago may still have held its lock at start-up.
  setInterval(() => void sweep().catch((err) => console.error('[cutover] sweep of interrupted runs failed:', err.message)), 60_000).unref();
  await boss.work<{ runId: string }>(
    QUEUES.snapshot,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5, batchSize: 1 },
    async ([job]) => runSnapshotJob(job.data.runId),
  );
  await boss.work<{ runId: string }>(
    QUEUES.status,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5, batchSize: 1 },
    async ([job]) => runStatusJob(job.data.runId),
  );
  await boss.work<{ runId: string }>(
    QUEUES.apply,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5, batchSize: 1 },
    async ([job]) => runApplyJob(job.data.runId),
  );
  await boss.work<{ runId: string; sampleRows?: number }>(
    QUEUES.rehearsal,
    { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5, batchSize: 1 },
    async ([job]) => runRehearsalJob(job.data.runId, job.data.sampleRows ?? 0),
  );
  return { interrupted };
}
