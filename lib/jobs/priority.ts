// No 'server-only': scripts/start.ts and scripts/worker.ts import this outside Next.
import os from 'node:os';

/** The nice value the job worker runs at unless CUTOVER_WORKER_NICE says otherwise (0: as the web server). */
export const DEFAULT_WORKER_NICE = 10;

/**
 * Lowers this process's CPU priority for the job worker, so that backups, restore drills and
 * rehearsals (and the pg_dump, pg_restore and sandbox servers they start, which inherit it) give
 * way to people's page views when the machine is busy, and take the whole machine when it is idle.
 * Call it after starting the web server and the app store's database, which keep their priority.
 * Returns the nice value now in force, or null when it was left alone.
 */
export function lowerWorkerPriority(log: (m: string) => void = () => undefined): number | null {
  const raw = process.env.CUTOVER_WORKER_NICE;
  const nice = raw === undefined || raw.trim() === '' ? DEFAULT_WORKER_NICE : Number(raw);
  if (!Number.isInteger(nice) || nice < 0 || nice > 19) {
    log(`CUTOVER_WORKER_NICE must be a whole number from 0 to 19 (got "${raw}"); the worker keeps its priority.`);
    return null;
  }
  if (nice === 0) return null;
  try {
    // Only ever raised (lower priority): that needs no privilege, and a process already nicer stays so.
    const now = os.getPriority();
    if (now >= nice) return now;
    os.setPriority(nice);
    return nice;
  } catch (err) {
    log(`could not lower the worker's CPU priority: ${err instanceof Error ? err.message : String(err)}`);
    return null;
  }
}
