import type { Client } from 'pg';
import { PRISMA_MIGRATE_LOCK_KEY } from '../prisma-migrations';

export class TargetBusyError extends Error {
  constructor(readonly holder: string) {
    super(`Another migration run holds the lock on this database: ${holder}. Wait for it to finish, then try again.`);
    this.name = 'TargetBusyError';
  }
}

/**
 * Takes the migration lock on a target without waiting (Prisma Migrate's key, so Cutover and
 * Prisma exclude each other). When it is taken, says who holds it: every Cutover connection
 * names its run in application_name.
 */
export async function lockTargetOrFail(client: Client): Promise<void> {
  const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PRISMA_MIGRATE_LOCK_KEY]);
  if (rows[0].ok) return;
  const { rows: holders } = await client.query<{ application_name: string; pid: number; backend_start: Date }>(
    `SELECT a.application_name, a.pid, a.backend_start FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
     WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1`,
    [PRISMA_MIGRATE_LOCK_KEY],
  );
  const h = holders[0];
  throw new TargetBusyError(h ? `"${h.application_name || 'an unnamed client (Prisma Migrate?)'}" (server process ${h.pid}, connected ${h.backend_start.toISOString()})` : 'another session');
}
