import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { readOnlySession } from '@/lib/engine/connection';
import { analyzeImpact, analyzeMigration, qualify, type ImpactAnalysis, type RiskThresholds } from '@/lib/engine/postgres/impact';
import { planSql } from '@/lib/engine/postgres/sql-plan';
import { lockModeFromPgLocks, lockRank, type LockLevel, type LockMode } from '@/lib/engine/postgres/lock-levels';
import { runSquawk, squawkPgVersion } from '@/lib/engine/squawk';
import { cutover } from '../support/cli';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * Impact analysis against the machine's PostgreSQL, each prediction checked against what the
 * server really does: the locks in pg_locks (read from a second session while the statement's
 * transaction is open), rewrites by the table's relfilenode, scans by pg_stat_xact_user_tables.
 */

const FIXTURE = `
CREATE TABLE customers (id bigint PRIMARY KEY, name text NOT NULL, email varchar(200));
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers(id), note varchar(20),
  amount numeric(10,2), price numeric(10,2), qty int, created timestamp, status text, code text);
CREATE INDEX orders_note_idx ON orders (note);
ALTER TABLE orders ADD CONSTRAINT orders_qty_pos CHECK (qty > 0) NOT VALID;
ALTER TABLE orders ADD CONSTRAINT orders_status_nn CHECK (status IS NOT NULL);
CREATE TABLE archive_items (id bigint PRIMARY KEY, customer_id bigint REFERENCES customers(id), body text);
CREATE TABLE events (id int, v text);
CREATE TABLE measurements (id int, k int) PARTITION BY RANGE (k);
CREATE TABLE m1 PARTITION OF measurements FOR VALUES FROM (0) TO (10);
CREATE TABLE m_loose (id int, k int);
CREATE SCHEMA archive;
CREATE TABLE archive.old_orders (id bigint, total numeric);
CREATE TYPE mood AS ENUM ('calm', 'busy');
CREATE DOMAIN posint AS int CHECK (VALUE > 0);
CREATE SEQUENCE s1;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id;
CREATE UNIQUE INDEX order_totals_customer ON order_totals (customer_id);
INSERT INTO customers SELECT g, 'c' || g, 'c' || g || '@example.com' FROM generate_series(1, 201) g;
INSERT INTO orders SELECT g, 1 + g % 200, 'n' || g, g, g, 1 + g % 5, now(), 's', 'c' || g FROM generate_series(1, 2000) g;
INSERT INTO archive_items SELECT g, 1 + g % 200, 'b' FROM generate_series(1, 300) g;
INSERT INTO events SELECT g, 'e' FROM generate_series(1, 50) g;
INSERT INTO m1 SELECT g, g % 10 FROM generate_series(1, 100) g;
INSERT INTO m_loose SELECT g, 20 + g % 10 FROM generate_series(1, 100) g;
INSERT INTO archive.old_orders SELECT g, g FROM generate_series(1, 10) g;
REFRESH MATERIALIZED VIEW order_totals;
ANALYZE;
`;

/** orders (2,000 rows) is large and customers (200) medium-sized under these thresholds; events (50) is small. */
const SMALL_THRESHOLDS = { mediumRows: 100, largeRows: 1500 };

let db: Awaited<ReturnType<typeof createScratchDatabase>>;
let reader: Client;
let runner: Client;
let observer: Client;

beforeAll(async () => {
  db = await createScratchDatabase('cutover_impact');
  await withClient(db.url, (c) => c.query(FIXTURE));
  reader = new Client(readOnlySession({ connectionString: db.url }));
  runner = new Client({ connectionString: db.url });
  observer = new Client({ connectionString: db.url });
  await Promise.all([reader.connect(), runner.connect(), observer.connect()]);
});

afterAll(async () => {
  await Promise.all([reader, runner, observer].map((c) => c?.end().catch(() => undefined)));
  await db?.drop();
});

const analyze = (sql: string, thresholds?: Partial<RiskThresholds>) => analyzeImpact(sql, { client: reader, thresholds });

/** The strongest mode `pid` holds (or waits for) on each relation other sessions can see, by qualified name. */
async function locksHeldBy(pid: number): Promise<Map<string, { mode: LockMode; relkind: string }>> {
  const { rows } = await observer.query<{ nspname: string; relname: string; relkind: string; mode: string }>(
    `SELECT n.nspname, c.relname, c.relkind, l.mode
     FROM pg_locks l JOIN pg_class c ON c.oid = l.relation JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE l.pid = $1 AND l.locktype = 'relation' AND n.nspname NOT IN ('pg_catalog', 'pg_toast', 'information_schema')`,
    [pid],
  );
  const held = new Map<string, { mode: LockMode; relkind: string }>();
  for (const r of rows) {
    const mode = lockModeFromPgLocks(r.mode)!;
    const name = qualify(r.nspname, r.relname);
    const was = held.get(name);
    if (!was || lockRank(mode) > lockRank(was.mode)) held.set(name, { mode, relkind: r.relkind });
  }
  return held;
}

/**
 * The predicted locks match pg_locks: each predicted relation is held in exactly the predicted
 * mode, and any other table the statement locks is only read (ACCESS SHARE). Locks on indexes
 * the statement did not name (maintained as rows change, rebuilt by REINDEX) are PostgreSQL's own.
 */
function expectLocksMatch(sql: string, analysis: ImpactAnalysis, held: Map<string, { mode: LockMode; relkind: string }>) {
  const predicted = new Map(analysis.statements[0].locks.filter((l) => !l.newObject && l.objectKind !== 'type').map((l) => [l.object, l.mode]));
  for (const [object, mode] of predicted) expect.soft(held.get(object)?.mode, `${sql}: lock on ${object}`).toBe(mode);
  for (const [object, { mode, relkind }] of held) {
    if (predicted.has(object) || relkind === 'i' || relkind === 'I') continue;
    expect.soft(mode, `${sql}: unpredicted lock on ${object}`).toBe('ACCESS SHARE');
  }
}

/** Runs `sql` in a transaction left open, reads its locks from the observer session, rolls back. */
async function locksWhileOpen(sql: string) {
  const pid = (await runner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
  await runner.query('BEGIN');
  try {
    await runner.query(sql);
    return await locksHeldBy(pid);
  } finally {
    await runner.query('ROLLBACK');
  }
}

// [statement, the lock the analysis must report for it, the mode on each relation]
const LOCK_TABLE: [string, LockLevel, Record<string, LockMode>][] = [
  ['ALTER TABLE orders ADD COLUMN extra int', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ["ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'x'", 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders ALTER COLUMN note SET STATISTICS 100', 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ['ALTER TABLE orders SET (fillfactor = 70)', 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ['ALTER TABLE orders DISABLE TRIGGER orders_touch', 'SHARE ROW EXCLUSIVE', { 'public.orders': 'SHARE ROW EXCLUSIVE' }],
  [
    'ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID',
    'SHARE ROW EXCLUSIVE',
    { 'public.orders': 'SHARE ROW EXCLUSIVE', 'public.customers': 'SHARE ROW EXCLUSIVE' },
  ],
  [
    'ALTER TABLE orders ADD CONSTRAINT orders_customer_fk3 FOREIGN KEY (customer_id) REFERENCES customers (id)',
    'SHARE ROW EXCLUSIVE',
    { 'public.orders': 'SHARE ROW EXCLUSIVE', 'public.customers': 'SHARE ROW EXCLUSIVE' },
  ],
  ['ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_pos', 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ['ALTER TABLE orders ADD CONSTRAINT orders_price_pos CHECK (price >= 0)', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders ALTER COLUMN qty SET NOT NULL', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders ALTER COLUMN qty TYPE bigint', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders DROP COLUMN code', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders DROP CONSTRAINT orders_customer_id_fkey', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE', 'public.customers': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders RENAME COLUMN note TO remark', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE customers RENAME TO clients', 'ACCESS EXCLUSIVE', { 'public.customers': 'ACCESS EXCLUSIVE' }],
  ['ALTER INDEX orders_note_idx RENAME TO orders_remark_idx', 'SHARE UPDATE EXCLUSIVE', { 'public.orders_note_idx': 'SHARE UPDATE EXCLUSIVE' }],
  ['ALTER TABLE events SET UNLOGGED', 'ACCESS EXCLUSIVE', { 'public.events': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE events ADD PRIMARY KEY (id)', 'ACCESS EXCLUSIVE', { 'public.events': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders OWNER TO CURRENT_USER', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE orders ENABLE ROW LEVEL SECURITY', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE measurements ATTACH PARTITION m_loose FOR VALUES FROM (20) TO (30)', 'ACCESS EXCLUSIVE', { 'public.measurements': 'SHARE UPDATE EXCLUSIVE', 'public.m_loose': 'ACCESS EXCLUSIVE' }],
  ['ALTER TABLE measurements DETACH PARTITION m1', 'ACCESS EXCLUSIVE', { 'public.measurements': 'ACCESS EXCLUSIVE', 'public.m1': 'ACCESS EXCLUSIVE' }],
  ['CREATE TABLE m2 PARTITION OF measurements FOR VALUES FROM (10) TO (20)', 'ACCESS EXCLUSIVE', { 'public.measurements': 'ACCESS EXCLUSIVE' }],
  ['CREATE INDEX orders_status_idx ON orders (status)', 'SHARE', { 'public.orders': 'SHARE' }],
  ['DROP INDEX orders_note_idx', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE', 'public.orders_note_idx': 'ACCESS EXCLUSIVE' }],
  ['DROP TABLE archive_items', 'ACCESS EXCLUSIVE', { 'public.archive_items': 'ACCESS EXCLUSIVE', 'public.customers': 'ACCESS EXCLUSIVE' }],
  ['TRUNCATE events', 'ACCESS EXCLUSIVE', { 'public.events': 'ACCESS EXCLUSIVE' }],
  ['TRUNCATE customers CASCADE', 'ACCESS EXCLUSIVE', { 'public.customers': 'ACCESS EXCLUSIVE', 'public.orders': 'ACCESS EXCLUSIVE', 'public.archive_items': 'ACCESS EXCLUSIVE' }],
  ['DROP SCHEMA archive CASCADE', 'ACCESS EXCLUSIVE', { 'archive.old_orders': 'ACCESS EXCLUSIVE' }],
  ['CREATE TABLE order_lines (id int, customer_id bigint REFERENCES customers (id))', 'SHARE ROW EXCLUSIVE', { 'public.customers': 'SHARE ROW EXCLUSIVE' }],
  ['CREATE TABLE orders_copy (LIKE orders)', 'ACCESS SHARE', { 'public.orders': 'ACCESS SHARE' }],
  ['CREATE VIEW order_ids AS SELECT id FROM orders', 'ACCESS SHARE', { 'public.orders': 'ACCESS SHARE' }],
  ['CREATE TRIGGER orders_touch2 AFTER INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch()', 'SHARE ROW EXCLUSIVE', { 'public.orders': 'SHARE ROW EXCLUSIVE' }],
  ['DROP TRIGGER orders_touch ON orders', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['CREATE POLICY orders_all ON orders USING (true)', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ["COMMENT ON TABLE orders IS 'what customers bought'", 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ["COMMENT ON COLUMN orders.note IS 'free text'", 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ['CREATE STATISTICS orders_stats ON qty, price FROM orders', 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ["UPDATE orders SET status = 'paid' WHERE id = 1", 'ROW EXCLUSIVE', { 'public.orders': 'ROW EXCLUSIVE' }],
  ['DELETE FROM archive_items WHERE id < 10', 'ROW EXCLUSIVE', { 'public.archive_items': 'ROW EXCLUSIVE' }],
  // The foreign key's check reads customers FOR KEY SHARE: ROW SHARE, stronger than the SELECT's ACCESS SHARE.
  ["INSERT INTO orders (id, customer_id, status) SELECT id + 10000, id, 'new' FROM customers", 'ROW EXCLUSIVE', { 'public.orders': 'ROW EXCLUSIVE', 'public.customers': 'ROW SHARE' }],
  ['DELETE FROM customers WHERE id = 201', 'ROW EXCLUSIVE', { 'public.customers': 'ROW EXCLUSIVE', 'public.orders': 'ROW SHARE', 'public.archive_items': 'ROW SHARE' }],
  ['SELECT * FROM orders WHERE id = 1 FOR UPDATE', 'ROW SHARE', { 'public.orders': 'ROW SHARE' }],
  ['LOCK TABLE orders IN SHARE ROW EXCLUSIVE MODE', 'SHARE ROW EXCLUSIVE', { 'public.orders': 'SHARE ROW EXCLUSIVE' }],
  ['ANALYZE orders', 'SHARE UPDATE EXCLUSIVE', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
  ['REINDEX TABLE orders', 'SHARE', { 'public.orders': 'SHARE' }],
  ['REINDEX INDEX orders_note_idx', 'ACCESS EXCLUSIVE', { 'public.orders': 'SHARE', 'public.orders_note_idx': 'ACCESS EXCLUSIVE' }],
  ['CLUSTER orders USING orders_pkey', 'ACCESS EXCLUSIVE', { 'public.orders': 'ACCESS EXCLUSIVE' }],
  ['REFRESH MATERIALIZED VIEW order_totals', 'ACCESS EXCLUSIVE', { 'public.order_totals': 'ACCESS EXCLUSIVE' }],
  ['REFRESH MATERIALIZED VIEW CONCURRENTLY order_totals', 'EXCLUSIVE', { 'public.order_totals': 'EXCLUSIVE' }],
  ['ALTER SEQUENCE s1 RESTART WITH 5', 'SHARE ROW EXCLUSIVE', { 'public.s1': 'SHARE ROW EXCLUSIVE' }],
  ['GRANT SELECT ON orders TO PUBLIC', 'none', {}],
  ["CREATE TYPE shade AS ENUM ('light', 'dark')", 'none', {}],
];

describe('lock levels', () => {
  it.each(LOCK_TABLE)('%s takes %s', async (sql, lock, relations) => {
    const analysis = await analyze(sql);
    const s = analysis.statements[0];
    expect(s.classified).toBe(true);
    expect(s.lock).toBe(lock);
    expect(Object.fromEntries(s.locks.filter((l) => !l.newObject).map((l) => [l.object, l.mode]))).toEqual(relations);
    expectLocksMatch(sql, analysis, await locksWhileOpen(sql));
  });

  it('ALTER TYPE ... ADD VALUE locks the type, not a table', async () => {
    const sql = "ALTER TYPE mood ADD VALUE 'asleep'";
    const s = (await analyze(sql)).statements[0];
    expect(s.locks).toEqual([{ object: 'mood', objectKind: 'type', mode: 'EXCLUSIVE', newObject: false }]);
    const pid = (await runner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
    await runner.query('BEGIN');
    try {
      await runner.query(sql);
      const { rows } = await observer.query(
        `SELECT l.locktype, l.mode FROM pg_locks l WHERE l.pid = $1 AND ((l.locktype = 'object' AND l.classid = 'pg_type'::regclass AND l.objid = 'mood'::regtype) OR l.locktype = 'relation')
           AND (l.locktype = 'object' OR l.relation NOT IN (SELECT oid FROM pg_class WHERE relnamespace = 'pg_catalog'::regnamespace))`,
        [pid],
      );
      expect(rows).toEqual([{ locktype: 'object', mode: 'ExclusiveLock' }]);
    } finally {
      await runner.query('ROLLBACK');
    }
  });

  // CONCURRENTLY cannot run in a transaction block: watched from another session while it waits on a writer.
  it.each([
    ['CREATE INDEX CONCURRENTLY orders_code_idx ON orders (code)', { 'public.orders': 'SHARE UPDATE EXCLUSIVE' }],
    ['REINDEX INDEX CONCURRENTLY orders_note_idx', { 'public.orders': 'SHARE UPDATE EXCLUSIVE', 'public.orders_note_idx': 'SHARE UPDATE EXCLUSIVE' }],
    ['DROP INDEX CONCURRENTLY orders_code_idx', { 'public.orders': 'SHARE UPDATE EXCLUSIVE', 'public.orders_code_idx': 'SHARE UPDATE EXCLUSIVE' }],
  ] as [string, Record<string, LockMode>][])('%s, observed while it waits', async (sql, relations) => {
    const analysis = await analyze(sql);
    const s = analysis.statements[0];
    expect(s.transactional).toBe(false);
    expect(s.lock).toBe('SHARE UPDATE EXCLUSIVE');
    expect(Object.fromEntries(s.locks.filter((l) => !l.newObject).map((l) => [l.object, l.mode]))).toEqual(relations);
    const blocker = new Client({ connectionString: db.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query("UPDATE orders SET status = 's' WHERE id = 1");
      const pid = (await runner.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      const running = runner.query(sql);
      let waiting = false;
      for (let i = 0; i < 200 && !waiting; i++) {
        const { rows } = await observer.query(`SELECT wait_event_type FROM pg_stat_activity WHERE pid = $1`, [pid]);
        waiting = rows[0]?.wait_event_type === 'Lock';
        if (!waiting) await new Promise((r) => setTimeout(r, 25));
      }
      expect(waiting).toBe(true);
      // What it holds while it waits (a new index is not visible to other sessions yet).
      expectLocksMatch(sql, analysis, await locksHeldBy(pid));
      await blocker.query('COMMIT');
      await running;
    } finally {
      await blocker.end();
    }
  });
});

async function relfilenodeAndScans(sql: string, table: string) {
  await runner.query('BEGIN');
  try {
    const read = async () =>
      (
        await runner.query<{ node: string; scans: string }>(
          `SELECT pg_relation_filenode($1::regclass)::text AS node, (SELECT seq_scan FROM pg_stat_xact_user_tables WHERE relid = $1::regclass)::text AS scans`,
          [table],
        )
      ).rows[0];
    const before = await read();
    await runner.query(sql);
    const after = await read();
    return { rewritten: before.node !== after.node, scanned: Number(after.scans) > Number(before.scans) };
  } finally {
    await runner.query('ROLLBACK');
  }
}

describe('rewrites and scans', () => {
  // [statement, table, rewrite predicted, scan predicted (a rewrite reads the table too)]
  const CASES: [string, string, boolean, boolean][] = [
    ['ALTER TABLE orders ADD COLUMN extra int', 'orders', false, false],
    ['ALTER TABLE orders ADD COLUMN extra int NOT NULL DEFAULT 0', 'orders', false, false],
    ['ALTER TABLE orders ADD COLUMN extra timestamptz DEFAULT now()', 'orders', false, false],
    ['ALTER TABLE orders ADD COLUMN extra timestamptz DEFAULT clock_timestamp()', 'orders', true, true],
    ['ALTER TABLE orders ADD COLUMN extra uuid DEFAULT gen_random_uuid()', 'orders', true, true],
    ['ALTER TABLE orders ADD COLUMN extra bigserial', 'orders', true, true],
    ['ALTER TABLE orders ADD COLUMN extra int GENERATED ALWAYS AS IDENTITY', 'orders', true, true],
    ['ALTER TABLE orders ADD COLUMN extra numeric GENERATED ALWAYS AS (price * 2) STORED', 'orders', true, true],
    ['ALTER TABLE orders ADD COLUMN extra posint', 'orders', true, true],
    ['ALTER TABLE orders ADD COLUMN extra int CHECK (extra > 0)', 'orders', false, true],
    ['ALTER TABLE orders ADD COLUMN extra int UNIQUE', 'orders', false, true],
    ['ALTER TABLE orders ADD COLUMN extra bigint REFERENCES customers (id)', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN qty TYPE bigint', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN qty TYPE int USING qty + 1', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN qty TYPE int USING qty::int', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN qty TYPE posint', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN note TYPE varchar(40)', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN note TYPE varchar(10)', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN note TYPE text', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN code TYPE varchar(50)', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN code TYPE varchar', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN code TYPE char(5)', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN price TYPE numeric(12,2)', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN price TYPE numeric(12,4)', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN price TYPE numeric', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN created TYPE timestamp(3)', 'orders', true, true],
    ['ALTER TABLE orders ALTER COLUMN status SET NOT NULL', 'orders', false, false],
    ['ALTER TABLE orders ALTER COLUMN qty SET NOT NULL', 'orders', false, true],
    ['ALTER TABLE orders ADD CONSTRAINT orders_price_pos CHECK (price >= 0)', 'orders', false, true],
    ['ALTER TABLE orders ADD CONSTRAINT orders_price_pos CHECK (price >= 0) NOT VALID', 'orders', false, false],
    ['ALTER TABLE orders VALIDATE CONSTRAINT orders_qty_pos', 'orders', false, true],
    ['ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id)', 'orders', false, true],
    ['ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID', 'orders', false, false],
    ['CREATE INDEX orders_status_idx ON orders (status)', 'orders', false, true],
    ['ALTER TABLE orders DROP COLUMN code', 'orders', false, false],
    ["ALTER TABLE orders ALTER COLUMN note SET DEFAULT 'x'", 'orders', false, false],
    ['ALTER TABLE events SET UNLOGGED', 'events', true, true],
    ['ALTER TABLE events ADD PRIMARY KEY (id)', 'events', false, true],
    ['CLUSTER orders USING orders_pkey', 'orders', true, true],
    ['REINDEX TABLE orders', 'orders', false, true],
    ["UPDATE orders SET code = 'z'", 'orders', false, true],
    // The migration's own earlier statements count: a validated CHECK (qty IS NOT NULL) lets SET NOT NULL skip its scan.
    [
      'ALTER TABLE orders ADD CONSTRAINT qty_nn CHECK (qty IS NOT NULL) NOT VALID; ALTER TABLE orders VALIDATE CONSTRAINT qty_nn; ALTER TABLE orders ALTER COLUMN qty SET NOT NULL',
      'orders',
      false,
      true,
    ],
  ];

  it.each(CASES)('%s (rewrite: %s, %s, scan: %s)', async (sql, table, rewrite, scan) => {
    const analysis = await analyze(sql);
    const name = qualify('public', table);
    const predictedRewrite = analysis.statements.some((s) => s.rewrites.some((r) => r.table === name));
    const predictedScan = predictedRewrite || analysis.statements.some((s) => s.scans.some((r) => r.table === name));
    expect(predictedRewrite).toBe(rewrite);
    expect(predictedScan).toBe(scan);
    // The independent reference: a rewrite gives the table a new relfilenode; any scan counts in seq_scan.
    const observed = await relfilenodeAndScans(sql, table);
    expect(observed.rewritten).toBe(rewrite);
    expect(observed.scanned).toBe(scan);
  });

  it('the last statement of a NOT VALID, VALIDATE, SET NOT NULL sequence does not scan', async () => {
    const analysis = await analyze(
      'ALTER TABLE orders ADD CONSTRAINT qty_nn CHECK (qty IS NOT NULL) NOT VALID; ALTER TABLE orders VALIDATE CONSTRAINT qty_nn; ALTER TABLE orders ALTER COLUMN qty SET NOT NULL',
    );
    expect(analysis.statements.map((s) => s.scans.length)).toEqual([0, 1, 0]);
    expect(analysis.statements[2].notes.join(' ')).toMatch(/validated CHECK/);
  });
});

describe('destructive operations', () => {
  const MIGRATION = `
CREATE TABLE scratch_t (id int);
ALTER TABLE orders ADD COLUMN tmp text;
ALTER TABLE orders DROP COLUMN tmp;
DROP TABLE scratch_t;
ALTER TABLE orders DROP COLUMN code;
DROP INDEX orders_note_idx;
ALTER TABLE orders ALTER COLUMN note TYPE varchar(10);
ALTER TABLE orders ALTER COLUMN qty TYPE bigint;
ALTER TABLE orders ALTER COLUMN price TYPE numeric(12,1);
ALTER TABLE orders ALTER COLUMN status TYPE varchar(5);
UPDATE orders SET status = 'x' WHERE id = 1;
UPDATE orders SET status = 'x';
DELETE FROM archive_items;
DELETE FROM archive_items;
TRUNCATE events;
DROP TABLE archive.old_orders;
DROP TABLE IF EXISTS no_such_table;
`;

  it('finds each one, with a stable key, and only those', async () => {
    const analysis = await analyze(MIGRATION);
    expect(analysis.destructive.map((d) => d.operationKey)).toEqual([
      'drop_column:public.orders.code',
      'drop_index:public.orders_note_idx',
      'narrow_type:public.orders.note',
      'narrow_type:public.orders.price',
      'narrow_type:public.orders.status',
      'update_all:public.orders',
      'delete_all:public.archive_items',
      'delete_all:public.archive_items#2',
      'truncate:public.events',
      'drop_table:archive.old_orders',
    ]);
    expect(analysis.destructive[0]).toMatchObject({ kind: 'drop_column', line: 6, description: expect.stringMatching(/2,000 rows/) });
    expect(analysis.risk.level).toBe('high');
    // The same SQL, analysed again, gives the same keys (what an acknowledgement names).
    expect((await analyze(MIGRATION)).destructive.map((d) => d.operationKey)).toEqual(analysis.destructive.map((d) => d.operationKey));
  });

  it('what it calls destructive does lose data when the migration runs', async () => {
    await runner.query('BEGIN');
    try {
      await runner.query(MIGRATION);
      const { rows } = await runner.query(`SELECT
        (SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'code')::int AS code_columns,
        (SELECT count(*) FROM pg_class WHERE relname = 'orders_note_idx')::int AS note_idx,
        (SELECT count(*) FROM orders WHERE status <> 'x')::int AS untouched_orders,
        (SELECT count(*) FROM archive_items)::int AS archive_items,
        (SELECT count(*) FROM events)::int AS events,
        to_regclass('archive.old_orders') IS NULL AS old_orders_gone,
        (SELECT max(length(note)) FROM orders) <= 10 AS notes_fit,
        (SELECT count(*) FROM orders WHERE price <> round(price, 1))::int AS unrounded_prices`);
      expect(rows[0]).toEqual({ code_columns: 0, note_idx: 0, untouched_orders: 0, archive_items: 0, events: 0, old_orders_gone: true, notes_fit: true, unrounded_prices: 0 });
    } finally {
      await runner.query('ROLLBACK');
    }
  });
});

describe('destructive operations in disguise', () => {
  // Each statement, then a query that is true when it changed every row of its table (run in a rolled-back transaction).
  const everyRow: [string, string, string][] = [
    ['DELETE FROM archive_items WHERE true', 'delete_all:public.archive_items', 'SELECT count(*) = 0 FROM archive_items'],
    [`UPDATE orders SET status = 'x' WHERE 1=1`, 'update_all:public.orders', `SELECT count(*) FILTER (WHERE status <> 'x') = 0 FROM orders`],
    [`DELETE FROM events WHERE 'a'='a'`, 'delete_all:public.events', 'SELECT count(*) = 0 FROM events'],
    ['DELETE FROM events WHERE NOT false', 'delete_all:public.events', 'SELECT count(*) = 0 FROM events'],
    [`DELETE FROM events WHERE 't'::boolean AND (2 > 1 OR id = 3)`, 'delete_all:public.events', 'SELECT count(*) = 0 FROM events'],
    ['UPDATE orders SET qty = 9 WHERE id = id', 'update_all:public.orders', 'SELECT count(*) FILTER (WHERE qty <> 9) = 0 FROM orders'],
    ['UPDATE orders SET qty = 9 WHERE qty IS NULL OR qty IS NOT NULL', 'update_all:public.orders', 'SELECT count(*) FILTER (WHERE qty <> 9) = 0 FROM orders'],
    ['WITH d AS (DELETE FROM archive_items RETURNING 1) SELECT count(*) FROM d', 'delete_all:public.archive_items', 'SELECT count(*) = 0 FROM archive_items'],
    [`WITH u AS (UPDATE orders SET note = 'gone' RETURNING id) INSERT INTO events SELECT id, 'v' FROM u`, 'update_all:public.orders', `SELECT count(*) FILTER (WHERE note <> 'gone') = 0 FROM orders`],
    ['MERGE INTO events e USING (SELECT 1) s ON true WHEN MATCHED THEN DELETE', 'delete_all:public.events', 'SELECT count(*) = 0 FROM events'],
  ];

  it.each(everyRow)('%s is found as %s, and does change every row', async (sql, key, check) => {
    expect((await analyze(sql)).destructive.map((d) => d.operationKey)).toEqual([key]);
    await runner.query('BEGIN');
    try {
      await runner.query(sql);
      expect((await runner.query(check)).rows[0]['?column?']).toBe(true);
    } finally {
      await runner.query('ROLLBACK');
    }
  });

  it.each([
    'DELETE FROM events WHERE false',
    'DELETE FROM events WHERE 1 = 2',
    'DELETE FROM events WHERE NULL',
    'DELETE FROM events WHERE id = 5',
    'DELETE FROM events WHERE true AND id = 5',
    'UPDATE orders SET qty = 0 WHERE id = id + 1',
    'WITH d AS (DELETE FROM events WHERE id < 3 RETURNING 1) SELECT count(*) FROM d',
  ])('%s is not a change of every row', async (sql) => {
    expect((await analyze(sql)).destructive).toEqual([]);
  });

  it('statements whose effect it cannot tell need an acknowledgement like a destructive one', async () => {
    await runner.query(`CREATE FUNCTION purge_events() RETURNS void LANGUAGE sql AS 'DELETE FROM events'`);
    try {
      const sql = [
        'DO $$ BEGIN DROP TABLE events; END $$;',
        'CALL nothing();',
        'PREPARE wipe AS DELETE FROM events;',
        'EXECUTE wipe;',
        'SELECT purge_events();',
        'SELECT pg_catalog.lo_unlink(1);',
        `SELECT lower('X'), now(), count(*), nextval('s1'), gen_random_uuid() FROM orders;`,
        'INSERT INTO events SELECT 1, purge_events()::text;',
      ].join('\n');
      const analysis = await analyze(sql);
      expect(analysis.destructive.map((d) => [d.operationKey, d.kind, d.description.replace(/: Cutover.*/, '')])).toEqual([
        ['unknown_effect:line 1', 'unknown_effect', 'effect unknown: DO block at line 1'],
        ['unknown_effect:line 2', 'unknown_effect', 'effect unknown: CALL nothing at line 2'],
        ['unknown_effect:line 3', 'unknown_effect', 'effect unknown: PrepareStmt at line 3'],
        ['unknown_effect:line 4', 'unknown_effect', 'effect unknown: EXECUTE wipe at line 4'],
        ['unknown_effect:line 5', 'unknown_effect', 'effect unknown: SELECT calling purge_events at line 5'],
        ['unknown_effect:line 6', 'unknown_effect', 'effect unknown: SELECT calling pg_catalog.lo_unlink at line 6'],
        ['unknown_effect:line 8', 'unknown_effect', 'effect unknown: INSERT calling purge_events at line 8'],
      ]);
      // What it says may destroy data does: the function it could not see into empties the table.
      await runner.query('BEGIN');
      try {
        await runner.query('SELECT purge_events()');
        expect((await runner.query('SELECT count(*)::int AS n FROM events')).rows[0].n).toBe(0);
      } finally {
        await runner.query('ROLLBACK');
      }
      // ALTER TABLE runs a default over the existing rows, but SET DEFAULT only stores it.
      const defaults = await analyze(`ALTER TABLE orders ADD COLUMN purged text DEFAULT purge_events()::text;\nALTER TABLE orders ALTER COLUMN note SET DEFAULT purge_events()::text;`);
      expect(defaults.destructive.map((d) => d.operationKey)).toEqual(['unknown_effect:line 1']);
      // A function defined in the migration itself is not in the catalog: unknown too.
      const own = await analyze(`CREATE FUNCTION wipe() RETURNS void LANGUAGE sql AS 'DELETE FROM orders';\nSELECT wipe();`);
      expect(own.destructive.map((d) => d.operationKey)).toEqual(['unknown_effect:line 2']);
    } finally {
      await runner.query('DROP FUNCTION purge_events()');
    }
  });
});

describe('risk', () => {
  it.each([
    ['CREATE TABLE t (id int); CREATE INDEX ON t (id); ALTER TABLE events ADD COLUMN note text', 'low'],
    ['CREATE INDEX ON customers (name)', 'medium'],
    ['ALTER TABLE orders ALTER COLUMN qty TYPE bigint', 'high'],
    ['CREATE INDEX ON orders (status)', 'high'],
    ['CREATE INDEX CONCURRENTLY ON orders (status)', 'low'],
    ['ALTER TABLE orders ADD CONSTRAINT c CHECK (qty > 0) NOT VALID; ALTER TABLE orders VALIDATE CONSTRAINT c', 'low'],
    ['ALTER TABLE orders ALTER COLUMN qty SET NOT NULL', 'high'],
    ['ALTER TABLE orders ADD CONSTRAINT qty_nn CHECK (qty IS NOT NULL) NOT VALID; ALTER TABLE orders VALIDATE CONSTRAINT qty_nn; ALTER TABLE orders ALTER COLUMN qty SET NOT NULL', 'low'],
    ['ALTER TABLE orders DROP COLUMN code', 'high'],
    // Cutover cannot tell what a DO block does: it may drop anything (an operation to acknowledge).
    ['DO $$ BEGIN PERFORM 1; END $$', 'high'],
  ])('%s is %s risk', async (sql, level) => {
    const analysis = await analyze(sql, SMALL_THRESHOLDS);
    expect(analysis.risk.level).toBe(level);
    if (level !== 'low') expect(analysis.risk.reasons.length).toBeGreaterThan(0);
  });

  it('says why, with the table, its size and the lock', async () => {
    const analysis = await analyze('ALTER TABLE orders ALTER COLUMN qty TYPE bigint', SMALL_THRESHOLDS);
    expect(analysis.risk.reasons[0]).toMatch(/line 1: rewrites public\.orders \(2,000 rows, .+\) under ACCESS EXCLUSIVE, blocking reads and writes/);
    expect(analysis.tables).toEqual([{ name: 'public.orders', kind: 'table', rows: 2000, rowsExact: true, bytes: expect.any(Number) }]);
    // The same statement on the same table is low risk under the default thresholds (2,000 rows is small).
    expect((await analyze('ALTER TABLE orders ALTER COLUMN qty TYPE bigint')).risk.level).toBe('low');
  });

  it('statements it cannot classify say unknown', async () => {
    const analysis = await analyze('DO $$ BEGIN PERFORM 1; END $$; CALL nothing()');
    expect(analysis.statements.map((s) => [s.classified, s.lock])).toEqual([
      [false, 'unknown'],
      [false, 'unknown'],
    ]);
    expect(analysis.unknownStatements).toBe(2);
  });

  it('without the catalog, sizes are unknown and the risk says so', async () => {
    const analysis = await analyzeImpact('ALTER TABLE orders ALTER COLUMN qty TYPE bigint');
    expect(analysis.catalogRead).toBe(false);
    expect(analysis.risk.level).toBe('medium');
    expect(analysis.risk.reasons.join(' ')).toMatch(/catalog was not read/);
  });
});

describe('safer strategies', () => {
  let copy: Awaited<ReturnType<typeof createScratchDatabase>>;
  beforeAll(async () => {
    copy = await createScratchDatabase('cutover_impact_copy');
    await withClient(copy.url, (c) => c.query(FIXTURE));
  });
  afterAll(async () => {
    await copy?.drop();
  });

  it('offers the safer way, with SQL that runs', async () => {
    const analysis = await analyze(
      [
        'CREATE INDEX orders_status_idx ON orders (status);',
        'ALTER TABLE orders ALTER COLUMN qty SET NOT NULL;',
        'ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id);',
        "UPDATE orders SET code = upper(code);",
        'ALTER TABLE orders ADD COLUMN seen_at timestamptz DEFAULT clock_timestamp();',
        'ALTER TABLE orders RENAME COLUMN note TO remark;',
        'ALTER TABLE orders ALTER COLUMN qty TYPE bigint;',
      ].join('\n'),
    );
    expect(analysis.strategies.map((s) => [s.kind, s.line])).toEqual([
      ['create_index_concurrently', 1],
      ['not_null_via_check', 2],
      ['constraint_not_valid', 3],
      ['batched_backfill', 4],
      ['add_column_then_backfill', 5],
      ['expand_contract_rename', 6],
      ['expand_contract_type', 7],
    ]);
    // Each strategy's SQL runs as it is (expand, backfill and contract), on a copy of the target,
    // one statement at a time as psql sends them.
    await withClient(copy.url, async (c) => {
      for (const s of analysis.strategies) {
        for (const statement of (await planSql(s.sql)).statements) await c.query(statement.sql);
      }
      const { rows } = await c.query(`SELECT
        (SELECT indisvalid FROM pg_index WHERE indexrelid = 'orders_status_idx'::regclass) AS index_valid,
        (SELECT attnotnull FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'qty') AS qty_not_null,
        (SELECT convalidated FROM pg_constraint WHERE conname = 'orders_customer_fk2') AS fk_valid,
        (SELECT count(*) FROM orders WHERE code <> upper(code))::int AS lower_codes,
        (SELECT count(*) FROM orders WHERE seen_at IS NULL)::int AS unseen,
        (SELECT count(*) FROM orders WHERE remark IS DISTINCT FROM 'n' || id)::int AS renamed_wrong,
        (SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attrelid = 'orders'::regclass AND attname = 'qty') AS qty_type,
        (SELECT count(*) FROM orders WHERE qty IS DISTINCT FROM 1 + id % 5)::int AS qty_wrong`);
      expect(rows[0]).toEqual({ index_valid: true, qty_not_null: true, fk_valid: true, lower_codes: 0, unseen: 0, renamed_wrong: 0, qty_type: 'bigint', qty_wrong: 0 });
    });
  });
});

describe('squawk', () => {
  it('reports its findings with rule names, positions and links', async () => {
    const sql = [
      'CREATE INDEX orders_status_idx ON orders (status);',
      'ALTER TABLE orders ADD COLUMN flag boolean NOT NULL;',
      'ALTER TABLE orders DROP COLUMN code;',
      'ALTER TABLE orders ALTER COLUMN qty TYPE bigint;',
      'ALTER TABLE orders ADD CONSTRAINT orders_customer_fk2 FOREIGN KEY (customer_id) REFERENCES customers (id);',
      'ALTER TABLE orders RENAME COLUMN note TO remark;',
    ].join('\n');
    const version = (await analyze('SELECT 1')).serverVersion;
    const findings = await runSquawk(sql, { pgVersion: squawkPgVersion(version), assumeInTransaction: true });
    const rules = new Set(findings.map((f) => f.rule));
    for (const rule of [
      'require-concurrent-index-creation',
      'adding-required-field',
      'ban-drop-column',
      'changing-column-type',
      'constraint-missing-not-valid',
      'adding-foreign-key-constraint',
      'renaming-column',
    ])
      expect(rules, rule).toContain(rule);
    const drop = findings.find((f) => f.rule === 'ban-drop-column')!;
    expect(drop).toMatchObject({ line: 3, level: 'warning', docsUrl: 'https://squawkhq.com/docs/ban-drop-column' });
    // Cutover runs an atomic file in one transaction, so squawk is told so: no "missing transaction" advice.
    expect(findings.some((f) => /Missing transaction/.test(f.message))).toBe(false);
  });

  it('runs beside the impact analysis, told how Cutover will run the file', async () => {
    const atomic = await analyzeMigration('CREATE INDEX orders_status_idx ON orders (status);\nALTER TABLE orders ALTER COLUMN qty TYPE bigint;\nALTER TABLE orders DROP COLUMN code;\n', { client: reader });
    expect(atomic.impact.atomic).toBe(true);
    expect(atomic.squawk.error).toBeNull();
    expect(atomic.squawk.findings.map((f) => f.rule)).toEqual(expect.arrayContaining(['require-concurrent-index-creation', 'ban-drop-column']));
    expect(atomic.squawk.findings.some((f) => /Missing transaction/.test(f.message))).toBe(false);
    // CONCURRENTLY makes the file non-atomic: Cutover runs it in parts, so squawk must not assume one transaction.
    const split = await analyzeMigration('CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);\nALTER TABLE orders ALTER COLUMN qty TYPE bigint;\n', { client: reader });
    expect(split.impact.atomic).toBe(false);
    expect(split.squawk.findings.some((f) => /Missing transaction/.test(f.message))).toBe(true);
    expect(split.impact.statements[0].lock).toBe('SHARE UPDATE EXCLUSIVE');
  });

  it('reports nothing for a harmless file', async () => {
    expect(await runSquawk('SELECT 1;\n')).toEqual([]);
  });

  it('does not let the migration silence squawk: its directives are reported, not obeyed', async () => {
    const body = 'CREATE INDEX orders_status_idx ON orders (status);\n-- squawk-ignore ban-drop-column\nALTER TABLE orders DROP COLUMN code;\n';
    const plain = (await runSquawk(body.replace('-- squawk-ignore ban-drop-column', '-- nothing to see'))).map((f) => [f.rule, f.line]);
    expect(plain).toContainEqual(['ban-drop-column', 3]);
    for (const directive of ['-- squawk-ignore-file', '/* squawk-ignore-file ban-drop-column, require-concurrent-index-creation */', '  --squawk-disable-assume-in-transaction']) {
      const findings = await runSquawk(`${directive}\n${body}`, { assumeInTransaction: true });
      // squawk's findings are all there, one line down (the directive's line), ...
      const squawks = findings.filter((f) => f.rule !== 'cutover-squawk-directive').map((f) => [f.rule, f.line]);
      expect(squawks).toEqual(expect.arrayContaining([['require-concurrent-index-creation', 2], ['ban-drop-column', 4]]));
      // ... and each directive is a finding of Cutover's own, at its line.
      const own = findings.filter((f) => f.rule === 'cutover-squawk-directive');
      expect(own.map((f) => f.line)).toEqual([1, 3]);
      expect(own[1].message).toBe('the migration asks squawk to ignore ban-drop-column on the next statement at line 3: ignored by Cutover');
    }
    const fileWide = await runSquawk(`/* squawk-ignore-file ban-drop-column, require-concurrent-index-creation */\n${body}`);
    expect(fileWide[0].message).toBe('the migration asks squawk to ignore ban-drop-column, require-concurrent-index-creation in the whole file at line 1: ignored by Cutover');
  });
});

describe('cutover analyze', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-analyze-'));
    const write = (name: string, sql: string) => {
      mkdirSync(path.join(dir, name));
      writeFileSync(path.join(dir, name, 'migration.sql'), sql);
    };
    write('20260101000000_safe', 'ALTER TABLE orders ADD COLUMN gift boolean;\nCREATE INDEX CONCURRENTLY orders_gift_idx ON orders (gift);\n');
    write('20260102000000_drop', 'ALTER TABLE orders DROP COLUMN code;\n');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exits 0 for a low-risk migration and 1 for a destructive one, with --json', async () => {
    const safe = await cutover('analyze', '--url', db.url, '--dir', dir, '--name', '20260101000000_safe');
    expect(safe.code).toBe(0);
    expect(safe.stdout).toMatch(/risk low/);
    expect(safe.stdout).toMatch(/SHARE UPDATE EXCLUSIVE/);
    const drop = await cutover('analyze', '--url', db.url, '--dir', dir, '--name', '20260102000000_drop', '--json');
    expect(drop.code).toBe(1);
    const report = JSON.parse(drop.stdout);
    expect(report.migrations[0].impact.destructive.map((d: { operationKey: string }) => d.operationKey)).toEqual(['drop_column:public.orders.code']);
    expect(report.migrations[0].squawk.findings.map((f: { rule: string }) => f.rule)).toContain('ban-drop-column');
    // Nothing ran: the column is still there.
    const { rows } = await runner.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'code'`);
    expect(rows[0].n).toBe(1);
    expect((await cutover('analyze', '--url', db.url, '--dir', dir, '--name', '20260102000000_drop', '--fail-on', 'never')).code).toBe(0);
    // In text mode the exit 1 says why, in one line.
    const text = await cutover('analyze', '--url', db.url, '--dir', dir, '--name', '20260102000000_drop');
    expect(text.code).toBe(1);
    expect(text.stderr).toContain('failed: 20260102000000_drop: risk high reaches --fail-on high');
  });

  it('exits 2 on a wrong command line', async () => {
    expect((await cutover('analyze', '--url', db.url)).code).toBe(2);
    expect((await cutover('analyze', '--url', db.url, '--dir', dir, '--name', 'no_such_migration')).code).toBe(2);
  });
});
