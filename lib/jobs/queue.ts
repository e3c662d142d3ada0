import PgBoss from 'pg-boss';
import { Client } from 'pg';
import type { Tx } from '../db/client';

/** Durable jobs live in the app store, in pg-boss's own schema. */
export const QUEUES = {
  snapshot: 'cutover-snapshot', rehearsal: 'cutover-rehearsal', apply: 'cutover-apply', status: 'cutover-status',
  analysis: 'cutover-analysis', backup: 'cutover-backup', drill: 'cutover-drill', drift: 'cutover-drift',
  deploy: 'cutover-deploy', verify: 'cutover-verify', restore: 'cutover-restore',
} as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

const globalForBoss = globalThis as unknown as { cutoverBoss?: Promise<PgBoss> };
const stopping = new WeakSet<PgBoss>();

/**
 * Creates Cutover's queues that do not exist yet. pg-boss's create_queue is not safe when two
 * instances start together (each attaches a partition to pgboss.job: a deadlock), so instances
 * take turns under an advisory lock ("CU", 4) and skip queues that are already there.
 */
async function createQueues(boss: PgBoss, connectionString: string) {
  const lock = new Client({ connectionString, application_name: 'cutover-jobs' });
  lock.on('error', () => undefined);
  await lock.connect();
  try {
    await lock.query('SELECT pg_advisory_lock(21845, 4)');
    for (const name of Object.values(QUEUES)) {
      // A run that fails is recorded as failed and retried by a person, never silently by the queue.
      if (!(await boss.getQueue(name))) await boss.createQueue(name, { name, retryLimit: 0 });
    }
  } finally {
    await lock.end().catch(() => undefined); // the lock goes with the session
  }
}

/**
 * This process's pg-boss, started once; it creates its schema and Cutover's queues if missing.
 * A start that fails (the store not up yet, a network blip) is not remembered: the next call
 * tries again, so a worker or a page does not stay broken until the process restarts.
 */
export function getBoss(): Promise<PgBoss> {
  const starting = (globalForBoss.cutoverBoss ??= (async () => {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is not set.');
    const boss = new PgBoss({ connectionString, schema: 'pgboss', max: 3, application_name: 'cutover-jobs' });
    // Once it is being stopped (shutdown, the store going away with it), its errors are expected.
    boss.on('error', (err) => {
      if (!stopping.has(boss)) console.error('[cutover] job queue:', err.message);
    });
    try {
      await boss.start();
      await createQueues(boss, connectionString);
    } catch (err) {
      await boss.stop({ graceful: false, wait: true, timeout: 1000 }).catch(() => undefined);
      throw err;
    }
    return boss;
  })());
  starting.catch(() => {
    if (globalForBoss.cutoverBoss === starting) globalForBoss.cutoverBoss = undefined;
  });
  return starting;
}

export async function stopBoss(): Promise<void> {
  const boss = globalForBoss.cutoverBoss;
  globalForBoss.cutoverBoss = undefined;
  const started = await boss?.catch(() => undefined);
  if (!started) return;
  stopping.add(started);
  await started.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => undefined);
}

/** Withdraws a job that has not started (a run cancelled while queued); a job already taken is left alone. */
export async function cancelJob(queue: QueueName, jobId: string): Promise<void> {
  const boss = await getBoss();
  await boss.cancel(queue, jobId);
}

/**
 * Enqueues a job inside the caller's Prisma transaction, so the run row and its job commit
 * (or roll back) together: no run waits for a job that was never sent.
 */
export async function enqueueInTransaction(tx: Tx, queue: QueueName, data: object, id?: string, options: { startAfter?: Date } = {}): Promise<string | null> {
  const boss = await getBoss();
  const db = {
    executeSql: async (text: string, values: unknown[]) => ({ rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values) }),
  };
  // startAfter: scheduled work (post-deployment checks) waits in the queue until then.
  return boss.send(queue, data, { db, ...(id ? { id } : {}), ...(options.startAfter ? { startAfter: options.startAfter } : {}) });
}
