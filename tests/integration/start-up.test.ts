import { mkdtempSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { forgetInitialAdminPassword } from '@/lib/db/initial-admin-password';
import { getBoss, stopBoss } from '@/lib/jobs/queue';
import { DEMO_TARGET_NAME, ensureDemo, ensureFirstAdmin, ensureTemplate } from '@/lib/services/bootstrap';
import { targetSettings } from '@/lib/services/manage-targets';
import { connectWithTimeout, pgClientConfig } from '@/lib/engine/connection';
import { applyTimeouts } from '@/lib/engine/postgres/runner';
import { openTestAppStore } from '../support/app-store';
import { TEST_SERVER_URL, createScratchDatabase, urlForDatabase, withClient } from '../support/scratch-db';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let demo: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  store = await openTestAppStore();
  demo = await createScratchDatabase('cutover_demo_t');
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  await demo.drop();
  await withClient(TEST_SERVER_URL, (c) => c.query(`DROP ROLE IF EXISTS "${demo.name}_owner"`));
});

describe('start-up steps when instances start together', () => {
  it('creates the first admin once when two instances seed an empty store at the same moment', async () => {
    expect(await getDb().user.count()).toBe(0);
    const results = await Promise.all([ensureFirstAdmin({}), ensureFirstAdmin({}), ensureTemplate(), ensureTemplate()]);
    const created = results.slice(0, 2).filter(Boolean);
    expect(created).toHaveLength(1);
    expect(await getDb().user.count()).toBe(1);
    expect(await getDb().auditLog.count({ where: { action: 'user.created' } })).toBe(1);
    expect(await getDb().workflowTemplate.count()).toBe(1);
    expect(await ensureFirstAdmin({})).toBeNull();
  });

  it('registers the demo target once, connecting as its own role that owns only the demo database', async () => {
    await Promise.all([ensureDemo(demo.url), ensureDemo(demo.url)]);
    const targets = await getDb().targetDatabase.findMany({ where: { name: DEMO_TARGET_NAME } });
    expect(targets).toHaveLength(1);
    const target = targets[0];
    const role = `${demo.name}_owner`;
    expect(target.username).toBe(role);
    expect(target.passwordEncrypted).not.toBeNull();
    const server = await withClient(demo.url, async (c) => ({
      role: (await c.query(`SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = $1`, [role])).rows[0],
      owner: (await c.query(`SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()`)).rows[0].owner,
      foreign: (await c.query(`SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)`, [role])).rows[0].n,
      tables: (await c.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n,
    }));
    expect(server).toEqual({ role: { rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolcanlogin: true }, owner: role, foreign: 0, tables: 4 });
    // The target's own credentials work, and they are not the app store's.
    const client = await connectWithTimeout(pgClientConfig(targetSettings(target)), 3000);
    try {
      expect((await client.query('SELECT current_user AS u')).rows[0].u).toBe(role);
      await expect(client.query('CREATE DATABASE cutover_should_not_exist')).rejects.toThrow(/permission denied/);
    } finally {
      await client.end();
    }
    expect(await getDb().auditLog.count({ where: { entityId: target.id, action: 'target.created' } })).toBe(1);
  });

  it('moves a demo target made by an earlier version (the admin role) over to the demo role', async () => {
    const target = await getDb().targetDatabase.findFirstOrThrow({ where: { name: DEMO_TARGET_NAME } });
    await getDb().targetDatabase.update({ where: { id: target.id }, data: { username: 'postgres', passwordEncrypted: null } });
    await withClient(demo.url, (c) => c.query('CREATE TABLE made_by_admin (id int)'));
    await ensureDemo(demo.url);
    const after = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: target.id } });
    expect(after.username).toBe(`${demo.name}_owner`);
    const owner = await withClient(demo.url, async (c) => (await c.query(`SELECT pg_get_userbyid(relowner) AS o FROM pg_class WHERE relname = 'made_by_admin'`)).rows[0].o);
    expect(owner).toBe(`${demo.name}_owner`);
  });
});

describe('the first admin password file', () => {
  it('is removed at the first sign-in with that password, and only then', () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'cutover-admin-')), 'initial-admin-password');
    writeFileSync(file, 'the-printed-password\n', { mode: 0o600 });
    expect(forgetInitialAdminPassword('another-password', file)).toBe(false);
    expect(forgetInitialAdminPassword(undefined, file)).toBe(false);
    expect(existsSync(file)).toBe(true);
    expect(forgetInitialAdminPassword('the-printed-password', file)).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(forgetInitialAdminPassword('the-printed-password', file)).toBe(false);
  });
});

describe('pg-boss failing to start', () => {
  it('is tried again on the next call instead of being remembered', async () => {
    await stopBoss();
    const good = process.env.DATABASE_URL!;
    process.env.DATABASE_URL = urlForDatabase('cutover_no_such_database_xyz');
    try {
      await expect(getBoss()).rejects.toThrow(/does not exist/);
    } finally {
      process.env.DATABASE_URL = good;
    }
    const boss = await getBoss();
    expect(await boss.getQueues()).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'cutover-apply' })]));
  });
});

describe('runner sessions on targets', () => {
  it('have no client-side read timeout: a statement longer than 4x the connect timeout finishes', async () => {
    const client = await connectWithTimeout({ connectionString: urlForDatabase(demo.name) }, 250);
    try {
      const started = Date.now();
      await client.query('SELECT pg_sleep(1.2)');
      expect(Date.now() - started).toBeGreaterThanOrEqual(1100);
    } finally {
      await client.end();
    }
  });

  it('are limited by the server: statement_timeout ends a long statement and the session stays usable', async () => {
    const client = await connectWithTimeout({ connectionString: urlForDatabase(demo.name) }, 3000);
    try {
      await applyTimeouts(client, { lockTimeoutMs: 1000, statementTimeoutMs: 300 });
      const started = Date.now();
      await expect(client.query('SELECT pg_sleep(5)')).rejects.toMatchObject({ code: '57014', message: 'canceling statement due to statement timeout' });
      expect(Date.now() - started).toBeLessThan(2000);
      expect((await client.query('SELECT 1 AS one')).rows[0].one).toBe(1);
    } finally {
      await client.end();
    }
  });
});
