import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationChecksum } from '@/lib/engine/prisma-migrations';
import { cutover, cutoverWithEnv } from '../support/cli';
import { sandboxUrl, sandboxForFile, withSandbox } from '../support/sandbox';
import { createScratchDatabase, withClient } from '../support/scratch-db';


/** A Prisma migrations folder: enums, an extension, quoted identifiers and a lock file. */
function migrationsFolder(extra: Record<string, string> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'cli-migs-'));
  const files: Record<string, string> = {
    '20240101000000_init': `CREATE EXTENSION IF NOT EXISTS "citext";\nCREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');\nCREATE TABLE "User" ("id" SERIAL PRIMARY KEY, "email" CITEXT NOT NULL, "role" "Role" NOT NULL DEFAULT 'USER');\nCREATE UNIQUE INDEX "User_email_key" ON "User"("email");\n`,
    '20240102000000_posts': `CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL REFERENCES "User"("id"), "title" TEXT NOT NULL);\n`,
    ...extra,
  };
  for (const [name, sql] of Object.entries(files)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'migration.sql'), sql);
  }
  writeFileSync(path.join(dir, 'migration_lock.toml'), 'provider = "postgresql"\n');
  return dir;
}

const scratches: { drop(): Promise<void> }[] = [];
async function freshDb() {
  const db = await createScratchDatabase('cutover_cli');
  scratches.push(db);
  return db;
}
afterAll(async () => {
  for (const s of scratches) await s.drop();
});

describe('cutover CLI', () => {
  it('refuses bad usage with exit code 2 and says why', async () => {
    expect((await cutover()).code).toBe(2);
    const unknown = await cutover('launch');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "launch"');
    const missing = await cutover('status', '--dir', 'x');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--url: is required');
    const badUrl = await cutover('apply', '--url', 'mysql://x', '--dir', 'x', '--json');
    expect(badUrl.code).toBe(2);
    expect(JSON.parse(badUrl.stdout)).toMatchObject({ ok: false, usage: true, error: '--url: must be a postgresql:// connection string' });
    expect((await cutover('--help')).code).toBe(0);
    expect((await cutover('help')).code).toBe(0);
  });

  it('says what is wrong with the work itself without burying it under the usage text', async () => {
    const db = await freshDb();
    const nothing = await cutover('down', '--url', db.url, '--dir', migrationsFolder());
    expect(nothing.code).toBe(2);
    expect(nothing.stderr).toContain('error: No migration of this folder is applied; there is nothing to roll back.');
    expect(nothing.stderr).not.toContain('Usage:');
  });

  it('shows pending migrations, applies them once, and is a no-op the second time', async () => {
    const db = await freshDb();
    const dir = migrationsFolder();
    const before = await cutover('status', '--url', db.url, '--dir', dir, '--json');
    expect(before.code).toBe(1);
    expect(JSON.parse(before.stdout).migrations.map((m: { state: string }) => m.state)).toEqual(['pending', 'pending']);

    const applied = await cutover('apply', '--url', db.url, '--dir', dir);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toContain('applied  20240101000000_init');
    expect(applied.stdout).toContain('2 migration(s) applied.');
    const again = await cutover('apply', '--url', db.url, '--dir', dir);
    expect(again).toMatchObject({ code: 0, stdout: expect.stringContaining('Nothing to apply') });

    const after = await cutover('status', '--url', db.url, '--dir', dir);
    expect(after.code).toBe(0);
    expect(after.stdout).toContain('2 migrations: 2 applied, 0 pending, 0 failed, 0 modified');
    const rows = await withClient(db.url, async (c) => (await c.query(`SELECT migration_name, checksum, applied_steps_count FROM _prisma_migrations ORDER BY migration_name`)).rows);
    expect(rows).toHaveLength(2);
    expect(rows[0].applied_steps_count).toBe(1);
  });

  it('stops at the first failing migration, records it as Prisma does, and refuses to go on until resolved', async () => {
    const db = await freshDb();
    const broken = `CREATE TABLE "Half" ("id" INTEGER);\nINSERT INTO "Nope" VALUES (1);\n`;
    const dir = migrationsFolder({ '20240103000000_broken': broken, '20240104000000_later': 'CREATE TABLE "Later" ("id" INTEGER);' });
    const result = await cutover('apply', '--url', db.url, '--dir', dir, '--json');
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout);
    expect(body).toMatchObject({ ok: false, migration: '20240103000000_broken' });
    expect(body.error).toBe('Migration 20240103000000_broken failed and was rolled back: relation "Nope" does not exist at line 2, column 13');

    const state = await withClient(db.url, async (c) => ({
      half: (await c.query(`SELECT to_regclass('"Half"') AS t`)).rows[0].t,
      later: (await c.query(`SELECT to_regclass('"Later"') AS t`)).rows[0].t,
      failed: (await c.query(`SELECT finished_at, logs, checksum FROM _prisma_migrations WHERE migration_name = '20240103000000_broken'`)).rows,
    }));
    expect(state.half).toBeNull();
    expect(state.later).toBeNull();
    expect(state.failed).toHaveLength(1);
    expect(state.failed[0]).toMatchObject({ finished_at: null, checksum: migrationChecksum(broken) });
    expect(state.failed[0].logs).toContain('Database error code: 42P01');

    const status = await cutover('status', '--url', db.url, '--dir', dir);
    expect(status.code).toBe(1);
    expect(status.stdout).toMatch(/failed\s+20240103000000_broken/);
    expect(status.stdout).toMatch(/pending\s+20240104000000_later/);
    const retry = await cutover('apply', '--url', db.url, '--dir', dir);
    expect(retry.code).toBe(1);
    expect(retry.stderr).toContain('failed earlier and was not resolved');
  });

  it('refuses a migration changed after it was applied, showing both checksums', async () => {
    const db = await freshDb();
    const dir = migrationsFolder();
    expect((await cutover('apply', '--url', db.url, '--dir', dir)).code).toBe(0);
    const file = path.join(dir, '20240102000000_posts', 'migration.sql');
    const original = migrationChecksum(`CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY, "authorId" INTEGER NOT NULL REFERENCES "User"("id"), "title" TEXT NOT NULL);\n`);
    writeFileSync(file, 'CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);\n');
    const status = await cutover('status', '--url', db.url, '--dir', dir);
    expect(status.code).toBe(1);
    expect(status.stdout).toContain(`applied checksum ${original}, file checksum ${migrationChecksum('CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);\n')}`);
    const apply = await cutover('apply', '--url', db.url, '--dir', dir);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toContain('was modified after it was applied');
  });

  it('applies hundreds of migrations in order', async () => {
    const db = await freshDb();
    const many: Record<string, string> = {};
    for (let i = 0; i < 300; i++) {
      const ts = `2025${String(i).padStart(10, '0')}`;
      many[`${ts}_step_${i}`] = i === 0 ? 'CREATE TABLE "Counter" ("n" INTEGER NOT NULL);' : `ALTER TABLE "Counter" ADD COLUMN "c${i}" INTEGER;`;
    }
    const dir = migrationsFolder(many);
    const result = await cutover('apply', '--url', db.url, '--dir', dir, '--json');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).applied).toHaveLength(302);
    const cols = await withClient(db.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'Counter'`)).rows[0].n);
    expect(cols).toBe(300);
  });

  it('snapshots a database to a file and diffs it against the live schema', async () => {
    const db = await freshDb();
    const dir = migrationsFolder();
    await cutover('apply', '--url', db.url, '--dir', dir);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'snap-')), 'before.json');
    const snap = await cutover('snapshot', '--url', db.url, '--out', out);
    expect(snap.code).toBe(0);
    expect(snap.stdout).toContain('table public.User');
    expect(snap.stdout).toContain('enum public.Role (USER, ADMIN)');

    expect((await cutover('diff', '--from', out, '--to', db.url)).stdout).toContain('No differences');
    await withClient(db.url, (c) => c.query(`ALTER TABLE "Post" ADD COLUMN "publishedAt" TIMESTAMPTZ`));
    const diff = await cutover('diff', '--from', out, '--to', db.url, '--json');
    expect(diff.code).toBe(0);
    const body = JSON.parse(diff.stdout);
    expect(body.same).toBe(false);
    expect(body.changes).toEqual([
      { kind: 'added', object: 'column', name: 'public.Post.publishedAt', after: { name: 'publishedAt', type: 'timestamp with time zone', nullable: true, default: null, identity: null, generated: null } },
    ]);
  });

  it('fails with exit code 1 and a clear message when the database cannot be reached', async () => {
    const result = await cutover('status', '--url', 'postgresql://postgres@127.0.0.1:1/none', '--dir', migrationsFolder());
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: .*ECONNREFUSED/);
  });
});

describe('cutover CLI: the password need not be on the command line', () => {
  // A server that asks for passwords (scram-sha-256): the sandbox, with a role of our own.
  const sandbox = sandboxForFile();
  const user = 'cli_user';
  const password = 'pa ss:w@rd/1';
  beforeAll(async () => {
    await withSandbox(sandbox(), async (c) => {
      await c.query(`CREATE ROLE ${user} LOGIN PASSWORD '${password}'`);
      await c.query(`CREATE DATABASE cli_db OWNER ${user}`);
    });
  });
  const noPassword = () => `postgresql://${user}@127.0.0.1:${sandbox().port}/cli_db`;

  it('says how in --help', async () => {
    const help = await cutover('--help');
    expect(help.stdout).toContain('PGPASSWORD');
    expect(help.stdout).toContain('--url-env VAR');
    expect(help.stdout).toContain('--sandbox-url');
    expect(help.stdout).toMatch(/functions, triggers,\s+policies/);
  });

  it('reads the password from PGPASSWORD when the URL has none', async () => {
    const refused = await cutoverWithEnv({ PGPASSWORD: 'wrong' }, 'snapshot', '--url', noPassword(), '--json');
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout).error).toMatch(/password authentication failed/);
    const ok = await cutoverWithEnv({ PGPASSWORD: password }, 'snapshot', '--url', noPassword(), '--json');
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('reads the whole URL from the variable named by --url-env, and never prints it', async () => {
    const url = sandboxUrl(sandbox(), 'cli_db', user, password);
    const ok = await cutoverWithEnv({ SHOP_DATABASE_URL: url }, 'snapshot', '--url-env', 'SHOP_DATABASE_URL');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^PostgreSQL 15\.\d+, schema hash [0-9a-f]{64}$/m);
    expect(ok.stdout + ok.stderr).not.toContain(password);
    const unset = await cutoverWithEnv({}, 'snapshot', '--url-env', 'NO_SUCH_VARIABLE_HERE');
    expect(unset.code).toBe(2);
    expect(unset.stderr).toContain('--url-env: the environment variable NO_SUCH_VARIABLE_HERE is not set.');
    const both = await cutoverWithEnv({ SHOP_DATABASE_URL: url }, 'snapshot', '--url', noPassword(), '--url-env', 'SHOP_DATABASE_URL');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('Give --url or --url-env, not both.');
  });
});
