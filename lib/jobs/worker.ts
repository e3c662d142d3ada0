import { getDb } from '../db/client';
import { connectWithTimeout, pgClientConfig, readOnlySession } from '../engine/connection';
import { takeSnapshot } from '../engine/postgres/snapshot';
import { targetRehearsalServerUrl, targetSettings } from '../services/manage-targets';
import { configuredRehearsalServer, reapAbandonedSandboxes, rehearsalServerFromUrl, warmSandbox, type RehearsalServer } from '../engine/postgres/sandbox';
import { dropScratchDatabase, rehearseMigration, scratchDatabaseName, type PhaseEvidence } from '../engine/postgres/rehearsal';
import { migrationFolderName, migrationSqlOf } from '../services/migration-revisions';
import { applyTimeouts } from '../engine/postgres/runner';
import { TargetBusyError, lockTargetOrFail } from '../engine/postgres/target-lock';
import type { PlannedStatement } from '../engine/postgres/sql-plan';
import { MigrationError, applyMigrations, migrationStatus, rollbackMigration, type MigrationFile } from '../engine/prisma-migrations';
import { FenceError } from '../engine/postgres/sql-guard';
import { fenceAllowancesFor } from '../services/app-settings';
import {
  abortStatusOf, checkClaimedRun, claimRun, completeEvidenceRun, completeSnapshotRun, failRun, failStrandedQueuedRuns, markInterruptedRuns,
  recordAbortedRun, recordRunEvidence, rememberAbortPhase, reportProgress,
} from '../services/runs';
import { QUEUES, getBoss } from './queue';

/** Why a run's work was stopped on purpose; the run is recorded cancelled or timed out. */
class RunAborted extends Error {
  constructor(readonly status: 'cancelled' | 'timed_out') {
    super(status === 'cancelled' ? 'The run was cancelled.' : 'The run passed its deadline.');
    this.name = 'RunAborted';
  }
}

const WATCH_INTERVAL_MS = 500;

/**
 * Watches a claimed run: aborts its controller when someone presses Cancel (the row's
 * cancel_requested_at, read every half second) or when its deadline passes (a timer).
 */
function watchRun(runId: string, deadlineAt: Date | null, controller: AbortController) {
  let aborting = false;
  // What the run was doing is read before anything is stopped: the clean-up that follows (a
  // rehearsal dropping its copy) writes phases of its own.
  const abort = async (status: 'cancelled' | 'timed_out') => {
    if (aborting || controller.signal.aborted) return;
    aborting = true;
    const row = await getDb().run.findUnique({ where: { id: runId }, select: { phase: true } }).catch(() => null);
    rememberAbortPhase(runId, row?.phase ?? null);
    controller.abort(new RunAborted(status));
  };
  let checking = false;
  const check = async () => {
    if (checking || controller.signal.aborted) return;
    checking = true;
    try {
      const row = await getDb().run.findUnique({ where: { id: runId }, select: { cancelRequestedAt: true } });
      const status = abortStatusOf({ cancelRequestedAt: row?.cancelRequestedAt ?? null, deadlineAt });
      if (status) await abort(status);
    } catch {
      // The next tick tries again; a store that stays away fails the run's own writes anyway.
    } finally {
      checking = false;
    }
  };
  const poll = setInterval(() => void check(), WATCH_INTERVAL_MS);
  const untilDeadline = deadlineAt ? Math.max(0, deadlineAt.getTime() - Date.now()) : null;
  // The timer makes the deadline exact; setTimeout holds at most ~24.8 days, the poll covers the rest.
  const deadline = untilDeadline !== null && untilDeadline < 2 ** 31 - 1 ? setTimeout(() => void abort('timed_out'), untilDeadline) : undefined;
  return {
    check,
    stop() {
      clearInterval(poll);
      if (deadline) clearTimeout(deadline);
    },
  };
}

/**
 * Claims a queued run for this worker (skipping one already taken, finished or interrupted),
 * re-checks what was checked when it was queued, does the work with an AbortSignal that fires
 * on Cancel or at the deadline, and records anything unexpected as the run's failure (or, when
 * the run was stopped on purpose, as cancelled or timed out): handlers never throw.
 */
async function withClaimedRun(runId: string, work: (targetId: string, signal: AbortSignal) => Promise<void>): Promise<void> {
  const claim = await claimRun(runId);
  if (!claim) return;
  const controller = new AbortController();
  const watcher = watchRun(runId, claim.deadlineAt, controller);
  try {
    await watcher.check();
    if (controller.signal.aborted) {
      await recordAbortedRun(runId);
      return;
    }
    const refusal = await checkClaimedRun(runId);
    if (refusal) {
      await failRun(runId, refusal);
      return;
    }
    await work(claim.targetId, controller.signal);
    // Work that ended without recording anything (it stopped at the abort) is recorded here.
    if (controller.signal.aborted) await recordAbortedRun(runId);
  } catch (err) {
    if (controller.signal.aborted) await recordAbortedRun(runId, { error: err instanceof Error ? err.message : String(err) });
    else await failRun(runId, err instanceof Error ? err.message : String(err));
  } finally {
    watcher.stop();
    await claim.release();
  }
}

/** Ends a session on abort (snapshot and status runs only read: closing the connection is enough). */
function closeOnAbort(signal: AbortSignal, client: { end(): Promise<void> }) {
  const close = () => void client.end().catch(() => undefined);
  if (signal.aborted) close();
  else signal.addEventListener('abort', close, { once: true });
  return () => signal.removeEventListener('abort', close);
}

/** Takes a schema snapshot of the run's target and records it. Never throws: failures are recorded. */
export async function runSnapshotJob(runId: string): Promise<void> {
  await withClaimedRun(runId, async (targetId, signal) => {
    await reportProgress(runId, 'connecting to the target', 20);
    const target = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: targetId } });
    if (target.engine !== 'postgresql') throw new Error(`Snapshots of ${target.engine} targets are not supported yet.`);
    const settings = targetSettings(target);
    // Snapshots only read: a read-only session that resolves names in pg_catalog only.
    const client = await connectWithTimeout(readOnlySession(pgClientConfig(settings)), settings.connectTimeoutMs);
    const stopWatching = closeOnAbort(signal, client);
    try {
      await reportProgress(runId, 'reading the catalog', 50);
      const snapshot = await takeSnapshot(client);
      await reportProgress(runId, 'storing the snapshot', 90);
      if (signal.aborted) throw signal.reason;
      await completeSnapshotRun(runId, snapshot);
    } finally {
      stopWatching();
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
  await withClaimedRun(runId, async (_targetId, signal) => {
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
        // Never the target's server: the target's rehearsal server, the install's, or this worker's warm sandbox.
        sandbox: rehearsalServerFor(run.target) ?? warmSandbox(),
        signal,
        fence: await fenceAllowancesFor(run.target),
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
  await withClaimedRun(runId, async (_targetId, signal) => {
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
    // The target's fence allowances plus the app-wide extension allow list; the runner checks before anything runs.
    const fence = await fenceAllowancesFor(target);
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
          ? (await applyMigrations(client, [migration], { recordFailure: true, lock: lockTargetOrFail, onStatement, signal, fence })).evidence[migration.name] ?? null
          : await rollbackMigration(client, migration, { lock: lockTargetOrFail, onStatement, signal, fence });
      await progress.flush();
      await completeEvidenceRun(runId, {
        ok: true, migration: migration.name, revision: run.revision.revision, script: evidence,
        note: evidence ? undefined : 'already applied: nothing to do',
      });
    } catch (err) {
      await progress.flush();
      if (!(err instanceof MigrationError) && !(err instanceof TargetBusyError) && !(err instanceof FenceError)) throw err;
      // A cancelled migration has rolled back before we get here (the runner waits for it).
      await completeEvidenceRun(runId, {
        ok: false, error: err.message, migration: migration.name, revision: run.revision.revision,
        script: err instanceof MigrationError ? err.evidence : undefined, aborted: err instanceof MigrationError && err.aborted,
        ...(err instanceof FenceError ? { violations: err.violations } : {}),
      });
    } finally {
      await client.end().catch(() => undefined);
    }
  });
}

/** Reads the target's migration history and compares it with the imported folder (read-only). */
export async function runStatusJob(runId: string): Promise<void> {
  await withClaimedRun(runId, async (_targetId, signal) => {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { folder: true, target: true } });
    if (!run.folder) throw new Error('The imported folder no longer exists.');
    const settings = targetSettings(run.target);
    // Status checks only read the history: a read-only session that resolves names in pg_catalog only.
    const client = await connectWithTimeout(readOnlySession({ ...pgClientConfig(settings), application_name: `cutover run ${runId}` }), settings.connectTimeoutMs);
    const stopWatching = closeOnAbort(signal, client);
    try {
      const migrations = run.folder.migrations as unknown as MigrationFile[];
      const entries = await migrationStatus(client, migrations);
      if (signal.aborted) throw signal.reason;
      await completeEvidenceRun(runId, { ok: true, entries: entries.map(({ name, state, fileChecksum, appliedChecksum }) => ({ name, state, fileChecksum, appliedChecksum })) });
    } finally {
      stopWatching();
      await client.end().catch(() => undefined);
    }
  });
}

/** Where a target's rehearsals run when it is not this worker's sandbox: its own rehearsal server, or the install's. */
function rehearsalServerFor(target: Parameters<typeof targetRehearsalServerUrl>[0] & { name: string }): RehearsalServer | null {
  const url = targetRehearsalServerUrl(target);
  return url ? rehearsalServerFromUrl(url, `the rehearsal server named for ${target.name}`) : configuredRehearsalServer();
}

/**
 * What a dead worker's rehearsals left behind: its sandbox (the postmaster outlives a worker
 * killed with SIGKILL) is stopped and removed whole; a scratch database and role it left on a
 * rehearsal server are dropped there.
 */
async function dropOrphanedScratchDatabases(runIds: string[]) {
  const reaped = await reapAbandonedSandboxes();
  if (reaped.length) console.log(`[cutover] removed ${reaped.length} sandbox(es) left by stopped workers`);
  const runs = await getDb().run.findMany({ where: { id: { in: runIds }, kind: 'rehearsal' }, include: { target: true } });
  for (const run of runs) {
    const server = rehearsalServerFor(run.target);
    if (!server) continue;
    try {
      await dropScratchDatabase(server, scratchDatabaseName(run.id));
    } catch (err) {
      console.error(`[cutover] could not drop the scratch database of interrupted run ${run.id}:`, err instanceof Error ? err.message : err);
    }
  }
}

/**
 * Starts this process's worker: first marks runs orphaned by a dead worker as interrupted,
 * then takes jobs. `npm start` runs one in-process; `npm run worker` runs one on its own.
 */
export async function startWorker(
  options: { pollingIntervalSeconds?: number } = {},
): Promise<{ interrupted: string[]; failed: string[]; timedOut: string[] }> {
  const boss = await getBoss();
  // Runs never stay queued or running forever: orphans of a dead worker become interrupted,
  // queued runs whose job died or whose deadline passed become failed or timed out.
  const sweep = async () => {
    const ids = await markInterruptedRuns();
    await dropOrphanedScratchDatabases(ids);
    return { interrupted: ids, ...(await failStrandedQueuedRuns()) };
  };
  const swept = await sweep();
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
  return swept;
}
