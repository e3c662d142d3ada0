import type { RunKindName } from '../domain/run-rules';
import type { TargetDatabase } from '../generated/prisma/client';
import { configuredRehearsalServer, driverFor, dropScratchDatabase, rehearsalServerFromUrl, scratchDatabaseName, warmSandbox, type EngineDriver, type RehearsalServer } from '../engine';
import { targetRehearsalServerUrl, targetSettings } from '../services/manage-targets';
import type { LiveProgress } from './live-progress';
import type { QueueName } from './queue';

/**
 * What a handler gets for one claimed run. The worker has already claimed the run, re-checked
 * who queued it and the target's settings, and watches for Cancel and the deadline (`signal`).
 */
export interface RunContext {
  runId: string;
  targetId: string;
  /** The job's payload as queued (runId plus the spec's extras, e.g. sampleRows). */
  job: Record<string, unknown>;
  /** Fires on Cancel or at the deadline; pass it to everything that can stop early. */
  signal: AbortSignal;
  /** Live phase/percent/partial result and log lines for the page (rate-limited writes). */
  progress: LiveProgress;
  /** One phase and percent, written at once (for short runs with a few steps). */
  report(phase: string, percent: number): Promise<void>;
}

/**
 * One kind of run (or a few sharing a queue, as apply and down do). Registered in
 * lib/jobs/handlers/index.ts; the worker takes jobs from `queue` and calls `run`.
 * `run` records the outcome itself (completeEvidenceRun / completeSnapshotRun); a throw is
 * recorded as the run's failure (or as cancelled/timed out when the signal fired).
 */
export interface RunHandler {
  kinds: readonly RunKindName[];
  queue: QueueName;
  run(ctx: RunContext): Promise<void>;
  /** Clean-up for runs of these kinds whose worker died (scratch databases left on a rehearsal server). */
  afterInterrupted?(run: { id: string; target: TargetDatabase }): Promise<void>;
}

export const defineHandler = (h: RunHandler) => h;

/** Ends a session on abort (runs that only read: closing the connection is enough). Returns the unsubscribe. */
export function closeOnAbort(signal: AbortSignal, session: { end(): Promise<void> }) {
  const close = () => void session.end().catch(() => undefined);
  if (signal.aborted) close();
  else signal.addEventListener('abort', close, { once: true });
  return () => signal.removeEventListener('abort', close);
}

/**
 * A session on the run's target through its engine's driver (EngineNotSupportedError for engines
 * not supported yet), closed when the work ends; read-only sessions are also closed on abort.
 */
export async function withTargetSession<T>(
  ctx: Pick<RunContext, 'runId' | 'signal'>,
  target: TargetDatabase,
  options: { readOnly: boolean; what?: string },
  work: (session: Awaited<ReturnType<EngineDriver['connect']>>, driver: EngineDriver) => Promise<T>,
): Promise<T> {
  const driver = driverFor(target, options.what);
  const session = await driver.connect(targetSettings(target), { readOnly: options.readOnly, applicationName: `cutover run ${ctx.runId}` });
  const stopWatching = options.readOnly ? closeOnAbort(ctx.signal, session) : () => undefined;
  try {
    return await work(session, driver);
  } finally {
    stopWatching();
    await driver.close(session);
  }
}

/** Where a target's rehearsals run when it is not this worker's sandbox: its own rehearsal server, or the install's. */
export function rehearsalServerFor(target: Pick<TargetDatabase, 'rehearsalServerEncrypted' | 'name'>): RehearsalServer | null {
  const url = targetRehearsalServerUrl(target);
  return url ? rehearsalServerFromUrl(url, `the rehearsal server named for ${target.name}`) : configuredRehearsalServer();
}

/** The server a run's sandbox work goes to: never the target's own server. */
export function sandboxFor(target: Pick<TargetDatabase, 'rehearsalServerEncrypted' | 'name'>): RehearsalServer | Promise<RehearsalServer> {
  return rehearsalServerFor(target) ?? warmSandbox();
}

/**
 * afterInterrupted of runs that work in a scratch database (named scratchDatabaseName(run.id)):
 * a dead worker's scratch database and role on a rehearsal server are dropped there (its own
 * sandbox is reaped whole).
 */
export async function dropInterruptedScratch(run: { id: string; target: TargetDatabase }): Promise<void> {
  const server = rehearsalServerFor(run.target);
  if (server) await dropScratchDatabase(server, scratchDatabaseName(run.id));
}
