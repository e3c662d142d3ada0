import { getDb } from '../db/client';
import { reapAbandonedSandboxes } from '../engine';
import type { RunKindName } from '../domain/run-rules';
import {
  abortStatusOf, checkClaimedRun, claimRun, failRun, failStrandedQueuedRuns, markInterruptedRuns,
  recordAbortedRun, rememberAbortPhase, reportProgress,
} from '../services/runs';
import type { RunHandler } from './handler';
import { RUN_HANDLERS } from './handlers';
import { LiveProgress } from './live-progress';
import { getBoss } from './queue';

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
function watchRun(runId: string, deadlineAt: Date | null, controller: AbortController, livePhase: () => string | null) {
  let aborting = false;
  // What the run was doing is read before anything is stopped: the clean-up that follows (a
  // rehearsal dropping its copy) writes phases of its own.
  const abort = async (status: 'cancelled' | 'timed_out') => {
    if (aborting || controller.signal.aborted) return;
    aborting = true;
    // The handler's latest phase, which may still be waiting for its write; else the row's.
    const row = livePhase() === null ? await getDb().run.findUnique({ where: { id: runId }, select: { phase: true } }).catch(() => null) : null;
    rememberAbortPhase(runId, livePhase() ?? row?.phase ?? null);
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
async function withClaimedRun(
  runId: string,
  work: (targetId: string, signal: AbortSignal) => Promise<void>,
  livePhase: () => string | null = () => null,
): Promise<void> {
  const claim = await claimRun(runId);
  if (!claim) return;
  const controller = new AbortController();
  const watcher = watchRun(runId, claim.deadlineAt, controller, livePhase);
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

/** The handler of a kind of run (RUN_HANDLERS, lib/jobs/handlers/index.ts). */
export function handlerFor(kind: RunKindName): RunHandler {
  const handler = RUN_HANDLERS.find((h) => h.kinds.includes(kind));
  if (!handler) throw new Error(`No worker handles runs of kind ${kind}.`);
  return handler;
}

/**
 * Runs one job with its handler: the run claimed, re-checked and watched (withClaimedRun), the
 * handler given its context. Never throws: failures are recorded on the run.
 */
export async function runJob(handler: RunHandler, job: { runId: string } & Record<string, unknown>): Promise<void> {
  const { runId } = job;
  const progress = new LiveProgress(runId);
  const report = async (phase: string, percent: number) => {
    progress.phase = phase;
    await reportProgress(runId, phase, percent);
  };
  await withClaimedRun(runId, async (targetId, signal) => {
    try {
      await handler.run({ runId, targetId, job, signal, progress, report });
    } finally {
      await progress.flush();
    }
  }, () => progress.phase);
}

// One function per kind, as tests and scripts call them.
export const runSnapshotJob = (runId: string) => runJob(handlerFor('snapshot'), { runId });
export const runRehearsalJob = (runId: string, sampleRows = 0) => runJob(handlerFor('rehearsal'), { runId, sampleRows });
export const runApplyJob = (runId: string) => runJob(handlerFor('apply'), { runId });
export const runStatusJob = (runId: string) => runJob(handlerFor('status'), { runId });

/**
 * What a dead worker's runs left behind: its sandbox (the postmaster outlives a worker killed
 * with SIGKILL) is stopped and removed whole; each interrupted run's handler cleans up the rest
 * (a rehearsal's scratch database and role on a rehearsal server).
 */
async function cleanUpInterruptedRuns(runIds: string[]) {
  const reaped = await reapAbandonedSandboxes();
  if (reaped.length) console.log(`[cutover] removed ${reaped.length} sandbox(es) left by stopped workers`);
  if (runIds.length === 0) return;
  const runs = await getDb().run.findMany({ where: { id: { in: runIds } }, include: { target: true } });
  for (const run of runs) {
    const cleanUp = RUN_HANDLERS.find((h) => h.kinds.includes(run.kind))?.afterInterrupted;
    if (!cleanUp) continue;
    try {
      await cleanUp(run);
    } catch (err) {
      console.error(`[cutover] could not clean up after interrupted run ${run.id}:`, err instanceof Error ? err.message : err);
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
    await cleanUpInterruptedRuns(ids);
    return { interrupted: ids, ...(await failStrandedQueuedRuns()) };
  };
  const swept = await sweep();
  // Again every minute: a worker that died a moment ago may still have held its lock at start-up.
  setInterval(() => void sweep().catch((err) => console.error('[cutover] sweep of interrupted runs failed:', err.message)), 60_000).unref();
  for (const handler of RUN_HANDLERS) {
    await boss.work<{ runId: string } & Record<string, unknown>>(
      handler.queue,
      { pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5, batchSize: 1 },
      async ([job]) => runJob(handler, job.data),
    );
  }
  return swept;
}
