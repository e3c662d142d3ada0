import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_MIGRATIONS_DIR, migrateAppStore } from '@/lib/db/migrate';
import { MigrationError, migrationChecksum, readMigrationsDir } from '@/lib/engine/prisma-migrations';
import { createScratchDatabase, withClient } from '../support/scratch-db';

type Scratch = Awaited<ReturnType<typeof createScratchDatabase>>;
const scratches: Scratch[] = [];
async function freshDb() {
  const s = await createScratchDatabase('cutover_mig');
  scratches.push(s);
  return s;
}
afterAll(async () => {
  for (const s of scratches) await s.drop();
});

function copyMigrations(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-migs-'));
  cpSync(APP_MIGRATIONS_DIR, dir, { recursive: true });
  return dir;
}

const history = (url: string) =>
  withClient(url, async (c) => (await c.query(`SELECT * FROM "_prisma_migrations" ORDER BY started_at`)).rows);

describe('the app store migration applier', () => {
  let db: Scratch;
  beforeAll(async () => {
    db = await freshDb();
  });

  it('applies every migration to an empty database and records it as Prisma Migrate does', async () => {
    const result = await migrateAppStore(db.url);
    const files = readMigrationsDir(APP_MIGRATIONS_DIR);
    expect(result.applied).toEqual(files.map((f) => f.name));
    const rows = await history(db.url);
    expect(rows).toHaveLength(files.length);
    for (const [i, row] of rows.entries()) {
      expect(row.migration_name).toBe(files[i].name);
      expect(row.checksum).toBe(files[i].checksum);
      expect(row.checksum).toMatch(/^[0-9a-f]{64}$/);
      expect(row.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(row.finished_at).toBeInstanceOf(Date);
      expect(row.rolled_back_at).toBeNull();
      expect(row.applied_steps_count).toBe(1);
      expect(row.logs).toBeNull();
    }
    const tables = await withClient(db.url, async (c) =>
      (await c.query(`SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.tablename),
    );
    expect(tables).toEqual(expect.arrayContaining(['_prisma_migrations', 'users', 'migration_requests', 'tasks', 'gate_items', 'audit_log']));
  });

  it('has the same column layout for _prisma_migrations as Prisma creates', async () => {
    const cols = await withClient(db.url, async (c) =>
      (
        await c.query(
          `SELECT column_name, data_type, is_nullable, character_maximum_length FROM information_schema.columns
           WHERE table_name = '_prisma_migrations' ORDER BY ordinal_position`,
        )
      ).rows,
    );
    expect(cols.map((c) => [c.column_name, c.data_type, c.is_nullable, c.character_maximum_length])).toEqual([
      ['id', 'character varying', 'NO', 36],
      ['checksum', 'character varying', 'NO', 64],
      ['finished_at', 'timestamp with time zone', 'YES', null],
      ['migration_name', 'character varying', 'NO', 255],
      ['logs', 'text', 'YES', null],
      ['rolled_back_at', 'timestamp with time zone', 'YES', null],
      ['started_at', 'timestamp with time zone', 'NO', null],
      ['applied_steps_count', 'integer', 'NO', null],
    ]);
  });

  it('is a no-op the second time', async () => {
    const before = await history(db.url);
    const result = await migrateAppStore(db.url);
    expect(result.applied).toEqual([]);
    expect(result.alreadyApplied).toHaveLength(before.length);
    expect(await history(db.url)).toEqual(before);
  });

  it('refuses a migration whose file changed after it was applied, naming it and both checksums', async () => {
    const dir = copyMigrations();
    const [first] = readMigrationsDir(dir);
    const file = path.join(dir, first.name, 'migration.sql');
    const changed = first.sql + '\n-- edited after the fact\n';
    writeFileSync(file, changed);
    const err = await migrateAppStore(db.url, dir).catch((e) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.migrationName).toBe(first.name);
    expect(err.message).toContain(`was modified after it was applied`);
    expect(err.message).toContain(first.checksum);
    expect(err.message).toContain(migrationChecksum(changed));
  });

  it('rolls a failing migration back completely, applies nothing after it and names it', async () => {
    const fresh = await freshDb();
    const dir = copyMigrations();
    const bad = path.join(dir, '29990101000000_broken');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'migration.sql'), 'CREATE TABLE "half_done" ("id" INTEGER);\nINSERT INTO "no_such_table" VALUES (1);\n');
    const later = path.join(dir, '29990102000000_after');
    mkdirSync(later);
    writeFileSync(path.join(later, 'migration.sql'), 'CREATE TABLE "after_broken" ("id" INTEGER);');

    const err = await migrateAppStore(fresh.url, dir).catch((e) => e);
    expect(err).toBeInstanceOf(MigrationError);
    expect(err.migrationName).toBe('29990101000000_broken');
    expect(err.message).toBe('Migration 29990101000000_broken failed and was rolled back: relation "no_such_table" does not exist at line 2, column 13');
    expect(err.evidence.statements.map((s: { status: string }) => s.status)).toEqual(['rolled_back', 'failed']);

    const rows = await history(fresh.url);
    expect(rows.map((r) => r.migration_name)).toEqual(readMigrationsDir(APP_MIGRATIONS_DIR).map((m) => m.name));
    const leftovers = await withClient(fresh.url, async (c) =>
      (await c.query(`SELECT to_regclass('half_done') AS a, to_regclass('after_broken') AS b`)).rows[0],
    );
    expect(leftovers).toEqual({ a: null, b: null });
  });

  it('applies each migration once when two instances start together', async () => {
    const fresh = await freshDb();
    const results = await Promise.all([migrateAppStore(fresh.url), migrateAppStore(fresh.url), migrateAppStore(fresh.url)]);
    const count = readMigrationsDir(APP_MIGRATIONS_DIR).length;
    expect(results.reduce((n, r) => n + r.applied.length, 0)).toBe(count);
    expect(results.filter((r) => r.applied.length === count)).toHaveLength(1);
    const rows = await history(fresh.url);
    expect(rows).toHaveLength(count);
    expect(new Set(rows.map((r) => r.migration_name)).size).toBe(count);
  });

  it('waits for a lock held by Prisma Migrate itself (same advisory key)', async () => {
    const fresh = await freshDb();
    const holder = new Client({ connectionString: fresh.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(72707369)');
    let finished = false;
    const run = migrateAppStore(fresh.url).then((r) => {
      finished = true;
      return r;
    });
    await new Promise((r) => setTimeout(r, 400));
    expect(finished).toBe(false);
    await holder.query('SELECT pg_advisory_unlock(72707369)');
    await holder.end();
    expect((await run).applied.length).toBeGreaterThan(0);
  });
});
