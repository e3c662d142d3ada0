import { randomBytes } from 'node:crypto';
import { disconnectDb, getDb } from '@/lib/db/client';
import { migrateAppStore } from '@/lib/db/migrate';
import { stopWarmSandbox } from '@/lib/engine/postgres/sandbox';
import { ensureTemplate } from '@/lib/services/bootstrap';
import { hashPassword } from '@/lib/services/manage-users';
import type { AgentRole, Role } from '@/lib/domain/roles';
import { createTarget } from '@/lib/services/manage-targets';
import { TEST_SERVER_URL, createScratchDatabase } from './scratch-db';

/**
 * A migrated app store in a scratch database, wired into getDb() for the services under test.
 * One per test file; call `close()` in afterAll.
 */
export async function openTestAppStore() {
  const scratch = await createScratchDatabase();
  await disconnectDb();
  process.env.DATABASE_URL = scratch.url;
  process.env.CUTOVER_SECRET_KEY ??= randomBytes(32).toString('hex');
  await migrateAppStore(scratch.url);
  await ensureTemplate();
  return {
    url: scratch.url,
    async close() {
      // A worker in this process may have started its warm sandbox for rehearsals.
      await stopWarmSandbox();
      await disconnectDb();
      await scratch.drop();
    },
  };
}

let seq = 0;
const cheapHash = hashPassword('not-used-in-these-tests');

/** A user with the given roles, straight into the store (services under test do their own checks). */
export async function makeUser(opts: { roles?: Role[]; agentRoles?: AgentRole[]; active?: boolean; name?: string } = {}) {
  seq += 1;
  const name = opts.name ?? `User ${seq}`;
  return getDb().user.create({
    data: {
      email: `user${seq}-${randomBytes(3).toString('hex')}@test.local`,
      name,
      passwordHash: await cheapHash,
      roles: opts.roles ?? ['engineer'],
      agentRoles: opts.agentRoles ?? [],
      active: opts.active ?? true,
    },
  });
}

export async function makeTarget(name = `Target ${randomBytes(3).toString('hex')}`) {
  return getDb().targetDatabase.create({
    data: { name, environment: 'staging', host: '127.0.0.1', port: 5432, database: 'postgres', username: 'postgres' },
  });
}

/** A target registered through the service, pointing at a real database on the test server. */
export async function makeLiveTarget(adminId: string, database: string, name = 'Shop') {
  const server = new URL(TEST_SERVER_URL);
  return createTarget(adminId, {
    name, engine: 'postgresql', environment: 'staging', host: server.hostname, port: Number(server.port || 5432),
    database, username: decodeURIComponent(server.username), password: decodeURIComponent(server.password) || undefined,
    sslMode: 'disable', connectTimeoutMs: 3000, lockTimeoutMs: 5000, statementTimeoutMs: 600_000,
  });
}

/** Waits (bounded) until the worker has finished a run, and returns it. */
export async function waitForRun(runId: string, timeoutMs = 20_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    if (['succeeded', 'failed', 'interrupted', 'cancelled', 'timed_out'].includes(run.status)) return run;
    if (Date.now() > until) throw new Error(`run ${runId} still ${run.status} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
