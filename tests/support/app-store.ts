import { randomBytes } from 'node:crypto';
import { disconnectDb, getDb } from '@/lib/db/client';
import { migrateAppStore } from '@/lib/db/migrate';
import { ensureTemplate } from '@/lib/services/bootstrap';
import { hashPassword } from '@/lib/services/manage-users';
import type { AgentRole, Role } from '@/lib/domain/roles';
import { createScratchDatabase } from './scratch-db';

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
