import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { planSql, SqlSyntaxError } from '@/lib/engine/postgres/sql-plan';
import { cutover } from '../support/cli';
import { createScratchDatabase, withClient } from '../support/scratch-db';

function folder(migrations: Record<string, { up: string; down?: string }>) {
  const dir = mkdtempSync(path.join(tmpdir(), 'runner-migs-'));
  for (const [name, m] of Object.entries(migrations)) {
    mkdirSync(path.join(dir, name));
    writeFileSync(path.join(dir, name, 'migration.sql'), m.up);
    if (m.down !== undefined) writeFileSync(path.join(dir, name, 'down.sql'), m.down);
  }
  return dir;
}
const scratches: { drop(): Promise<void> }[] = [];
async function freshDb() {
  const db = await createScratchDatabase('cutover_run');
  scratches.push(db);
  return db;
}
afterAll(async () => {
  for (const s of scratches) await s.drop();
});
const rows = (url: string, sql: string, params: unknown[] = []) => withClient(url, async (c) => (await c.query(sql, params)).rows);

describe('planning SQL with the PostgreSQL parser', () => {
  it('splits statements, locates them, and finds the ones that cannot run in a transaction', async () => {
    const plan = await planSql('-- add an index without blocking writes\nCREATE TABLE t (id int);\n\nCREATE INDEX CONCURRENTLY t_id ON t (id);\nDROP INDEX CONCURRENTLY t_id;\nREINDEX TABLE CONCURRENTLY t;\nVACUUM t;\nANALYZE t;\nALTER TYPE mood ADD VALUE \'meh\';');
    expect(plan.statements.map((s) => [s.line, s.kind, s.transactional])).toEqual([
      [2, 'CreateStmt', true],
      [4, 'IndexStmt', false],
      [5, 'DropStmt', false],
      [6, 'ReindexStmt', false],
      [7, 'VacuumStmt', false],
      [8, 'VacuumStmt', true],
      [9, 'AlterEnumStmt', true],
    ]);
    expect(plan.statements[1].reason).toBe('CREATE INDEX CONCURRENTLY cannot run inside a transaction');
    expect(plan.atomic).toBe(false);
    expect((await planSql('BEGIN; CREATE TABLE a (id int); COMMIT;')).ownsTransactions).toBe(true);
    expect((await planSql('CREATE TABLE a (id int); INSERT INTO a VALUES (1);')).atomic).toBe(true);
  });

  it('reports a syntax error with its line and column', async () => {
    const err = await planSql('CREATE TABLE a (id int);\nALTER TABLE a ADD COLUMN b integr NOT NULL DEFAULT;\n').catch((e) => e);
    expect(err).toBeInstanceOf(SqlSyntaxError);
    expect(err.message).toBe('syntax error at or near ";" (line 2, column 51)');
  });
});

describe('applying and rolling back on a target', () => {
  it('runs CREATE INDEX CONCURRENTLY outside the transaction and records the migration as Prisma does', async () => {
    const db = await freshDb();
    const dir = folder({
      '20240101000000_orders': { up: 'CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz);\nINSERT INTO orders (placed_at) SELECT now() FROM generate_series(1, 100);\n' },
      '20240102000000_index': { up: 'CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);\n', down: 'DROP INDEX CONCURRENTLY orders_placed_at_idx;\n' },
    });
    // Said beforehand: the index migration is not atomic.
    const status = await cutover('status', '--url', db.url, '--dir', dir);
    expect(status.stdout).toContain('pending         20240101000000_orders  (2 statements, one transaction)');
    expect(status.stdout).toContain('pending         20240102000000_index  (1 statement; not atomic: line 1 runs outside a transaction)');
    const result = await cutover('apply', '--url', db.url, '--dir', dir, '--json');
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.evidence['20240102000000_index'].statements[0]).toMatchObject({ kind: 'IndexStmt', transactional: false, status: 'ok' });
    expect(body.evidence['20240101000000_orders'].statements.map((s: { status: string }) => s.status)).toEqual(['ok', 'ok']);
    const history = await rows(db.url, `SELECT * FROM _prisma_migrations ORDER BY migration_name`);
    for (const row of history) {
      expect(row.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(row).toMatchObject({ logs: null, rolled_back_at: null, applied_steps_count: 1 });
      expect(row.finished_at.getTime()).toBeGreaterThanOrEqual(row.started_at.getTime());
    }
    expect(await rows(db.url, `SELECT indexname FROM pg_indexes WHERE indexname = 'orders_placed_at_idx'`)).toHaveLength(1);
  });

  it('leaves a failed row with the error when a non-atomic migration fails part-way', async () => {
    const db = await freshDb();
    const dir = folder({
      '20240101000000_mixed': { up: 'CREATE TABLE a (id int);\nCREATE INDEX CONCURRENTLY a_id ON a (id);\nINSERT INTO missing VALUES (1);\n' },
    });
    const result = await cutover('apply', '--url', db.url, '--dir', dir, '--json');
    expect(result.code).toBe(1);
    const body = JSON.parse(result.stdout);
    expect(body.error).toBe('Migration 20240101000000_mixed failed: relation "missing" does not exist at line 3, column 13');
    expect(body.evidence.committedBeforeFailure).toBe(2);
    const [row] = await rows(db.url, `SELECT finished_at, logs FROM _prisma_migrations`);
    expect(row.finished_at).toBeNull();
    expect(row.logs).toContain('relation "missing" does not exist');
  });

  it('refuses a migration with a syntax error before running anything', async () => {
    const db = await freshDb();
    const dir = folder({ '20240101000000_typo': { up: 'CREATE TABLE ok (id int);\nCREATE TABEL nope (id int);\n' } });
    const result = await cutover('apply', '--url', db.url, '--dir', dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('was not run: migration.sql has a syntax error: syntax error at or near "TABEL" (line 2, column 8)');
    expect(await rows(db.url, `SELECT to_regclass('ok') AS t`)).toEqual([{ t: null }]);
  });

  it('rolls back with down.sql to the schema it started from, marks the row rolled back, and can apply again', async () => {
    const db = await freshDb();
    const dir = folder({
      '20240101000000_base': { up: 'CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL);' },
      '20240102000000_loyalty': {
        up: "CREATE TYPE tier AS ENUM ('bronze', 'gold');\nALTER TABLE customers ADD COLUMN tier tier NOT NULL DEFAULT 'bronze';\nCREATE INDEX customers_tier_idx ON customers (tier);\n",
        down: 'DROP INDEX customers_tier_idx;\nALTER TABLE customers DROP COLUMN tier;\nDROP TYPE tier;\n',
      },
    });
    const wrong = await cutover('apply', '--url', db.url, '--dir', dir, '--name', 'x');
    expect(wrong).toMatchObject({ code: 2, stderr: expect.stringContaining('apply takes no --name.') });
    expect((await cutover('apply', '--url', db.url, '--dir', path.join(dir), '--json')).code).toBe(0);
    const applied = await withClient(db.url, takeSnapshot);
    // The schema before the second migration, rebuilt in another database for comparison.
    const base = await freshDb();
    await withClient(base.url, (c) => c.query('CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL)'));
    const before = await withClient(base.url, takeSnapshot);

    const down = await cutover('down', '--url', db.url, '--dir', dir);
    expect(down.code).toBe(0);
    expect(down.stdout).toMatch(/^rolled back {2}20240102000000_loyalty {2}\(3 statements, [\d.]+ ms\)/);
    const after = await withClient(db.url, takeSnapshot);
    expect(after.hash).toBe(before.hash);
    expect(after.hash).not.toBe(applied.hash);
    const [row] = await rows(db.url, `SELECT rolled_back_at FROM _prisma_migrations WHERE migration_name = '20240102000000_loyalty'`);
    expect(row.rolled_back_at).toBeInstanceOf(Date);

    const status = await cutover('status', '--url', db.url, '--dir', dir);
    expect(status.stdout).toMatch(/pending\s+20240102000000_loyalty/);
    expect((await cutover('apply', '--url', db.url, '--dir', dir)).code).toBe(0);
    expect((await withClient(db.url, takeSnapshot)).hash).toBe(applied.hash);

    const noDown = await cutover('down', '--url', db.url, '--dir', dir, '--name', '20240101000000_base');
    expect(noDown.code).toBe(1);
    expect(noDown.stderr).toContain('has no down.sql');
  });

  it('lets exactly one of two simultaneous runs on a target proceed, naming the one holding the lock', async () => {
    const db = await freshDb();
    const dir = folder({ '20240101000000_slow': { up: 'SELECT pg_sleep(1.5);\nCREATE TABLE slow (id int);\n' } });
    const [a, b] = await Promise.all([
      cutover('apply', '--url', db.url, '--dir', dir),
      new Promise((r) => setTimeout(r, 400)).then(() => cutover('apply', '--url', db.url, '--dir', dir)),
    ]);
    expect([a.code, b.code].sort()).toEqual([0, 1]);
    const refused = a.code === 1 ? a : b;
    expect(refused.stderr).toMatch(/Another migration run holds the lock on this database: "cutover-cli apply \(pid \d+\)"/);
    expect(await rows(db.url, `SELECT count(*)::int AS n FROM _prisma_migrations`)).toEqual([{ n: 1 }]);
  });

  it('stops a statement at the statement timeout and rolls the migration back', async () => {
    const db = await freshDb();
    const dir = folder({ '20240101000000_too_slow': { up: 'CREATE TABLE t (id int);\nSELECT pg_sleep(5);\n' } });
    const started = Date.now();
    const result = await cutover('apply', '--url', db.url, '--dir', dir, '--statement-timeout', '300');
    expect(result.code).toBe(1);
    expect(Date.now() - started).toBeLessThan(4000);
    expect(result.stderr).toContain('canceling statement due to statement timeout');
    expect(await rows(db.url, `SELECT to_regclass('t') AS t`)).toEqual([{ t: null }]);
  });
});
