import PgBoss from 'pg-boss';
import type { Tx } from '../db/client';

/** Durable jobs live in the app store, in pg-boss's own schema. */
export const QUEUES = { snapshot: 'cutover-snapshot', rehearsal: 'cutover-rehearsal', apply: 'cutover-apply', status: 'cutover-status' } as const;
export type QueueName = (typeof QUEUES)[keyof typeof QUEUES];

const globalForBoss = globalThis as unknown as { cutoverBoss?: Promise<PgBoss> };

/** This process's pg-boss, started once; it creates its schema and Cutover's queues if missing. */
export function getBoss(): Promise<PgBoss> {
  globalForBoss.cutoverBoss ??= (async () => {
    const connectionString = process.env.DATABASE_URL;
    if (!connectionString) throw new Error('DATABASE_URL is not set.');
    const boss = new PgBoss({ connectionString, schema: 'pgboss', max: 3, application_name: 'cutover-jobs' });
    boss.on('error', (err) => console.error('[cutover] job queue:', err.message));
    await boss.start();
    // A run that fails is recorded as failed and retried by a person, never silently by the queue.
    for (const name of Object.values(QUEUES)) await boss.createQueue(name, { name, retryLimit: 0 });
    return boss;
  })();
  return globalForBoss.cutoverBoss;
}

export async function stopBoss(): Promise<void> {
  const boss = globalForBoss.cutoverBoss;
  globalForBoss.cutoverBoss = undefined;
  await (await boss)?.stop({ graceful: true, wait: true, timeout: 5000 }).catch(() => undefined);
}

/**
 * Enqueues a job inside the caller's Prisma transaction, so the run row and its job commit
 * (or roll back) together: no run waits for a job that was never sent.
 */
export async function enqueueInTransaction(tx: Tx, queue: QueueName, data: object): Promise<string | null> {
  const boss = await getBoss();
  const db = {
    executeSql: async (text: string, values: unknown[]) => ({ rows: await tx.$queryRawUnsafe<unknown[]>(text, ...values) }),
  };
  return boss.send(queue, data, { db });
}
