import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { captureBefore, compareAfter, predicateProblem, type DataLossReport, type DeclaredDataChanges } from '@/lib/engine/postgres/data-loss';
import { TEST_SERVER_URL, createScratchDatabase, urlForDatabase, withClient } from '../support/scratch-db';

const ORDERS = 50_000;

/** A shop: orders (bigint key, 50,000 rows), customers (text key), lines (two-column key), a log without a key. */
const SCHEMA = [
  `CREATE TABLE public.orders (id bigint PRIMARY KEY, customer_id integer NOT NULL, status text NOT NULL, total numeric(12,2), note text, placed_at timestamptz NOT NULL,
     weight real, wait interval)`,
  `INSERT INTO public.orders SELECT g, g % 997, (ARRAY['open', 'paid', 'void'])[g % 3 + 1], (g % 1000) / 4.0, CASE WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END,
     TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 minute', g / 7.0, g * INTERVAL '1 second' FROM generate_series(1, ${ORDERS}) g`,
  `CREATE TABLE public.customers (email text PRIMARY KEY, name text)`,
  `INSERT INTO public.customers SELECT 'c' || g || '@example.com', 'Customer ' || g FROM generate_series(1, 3000) g`,
  `CREATE TABLE public.lines (order_id bigint, line integer, sku text NOT NULL, qty integer NOT NULL, PRIMARY KEY (order_id, line))`,
  `INSERT INTO public.lines SELECT g / 4, g % 4, 'sku-' || (g % 50), 1 + g % 3 FROM generate_series(4, 8003) g`,
  `CREATE TABLE public.audit_log (at timestamptz, message text)`,
  `INSERT INTO public.audit_log SELECT TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 hour', 'event ' || g FROM generate_series(1, 500) g`,
];

let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
const copies: string[] = [];
beforeAll(async () => {
  shop = await createScratchDatabase('cutover_dataloss');
  await withClient(shop.url, async (c) => {
    for (const s of SCHEMA) await c.query(s);
    await c.query('ANALYZE');
  });
}, 60_000);
afterAll(async () => {
  await withClient(TEST_SERVER_URL, async (c) => {
    for (const name of copies) await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  });
  await shop?.drop();
});

/** A fresh copy of the shop (CREATE DATABASE ... TEMPLATE: a file copy, much faster than filling it again). */
async function freshShop(): Promise<string> {
  const name = `${shop.name}_${randomBytes(3).toString('hex')}`;
  copies.push(name);
  await withClient(TEST_SERVER_URL, (c) => c.query(`CREATE DATABASE "${name}" TEMPLATE "${shop.name}"`));
  return urlForDatabase(name);
}

/**
 * A fresh shop, a session that captures "before", the migration run from another session (as a
 * rehearsal runs it), then the comparison in the capturing session.
 */
async function check(migration: string[], declared: DeclaredDataChanges = { tables: [] }, options: { method?: 'auto' | 'full'; sessionSettings?: string; upSql?: string } = {}) {
  const url = await freshShop();
  const session = new Client({ connectionString: url });
  await session.connect();
  try {
    if (options.sessionSettings) await session.query(options.sessionSettings);
    const before = await captureBefore(session);
    await withClient(url, async (c) => {
      for (const s of migration) await c.query(s);
    });
    const report = await compareAfter(session, before, declared, options);
    return { report, url, table: (name: string) => report.tables.find((t) => t.table === name)! };
  } finally {
    await session.end();
  }
}

const psqlValue = (url: string, sql: string) => execFileSync('psql', ['-Atc', sql, url], { encoding: 'utf8' }).trim();
const keysOf = (r: DataLossReport, table: string) => r.tables.find((t) => t.table === table)!.keys;

describe('no data loss', () => {
  it('passes when nothing changed, checking each table with one count (nothing was written)', async () => {
    const { report, table } = await check([]);
    expect(report.ok).toBe(true);
    expect(table('public.orders')).toMatchObject({ status: 'unchanged', method: 'incremental', rowsBefore: ORDERS, rowsAfter: ORDERS, problems: [] });
    expect(table('public.audit_log')).toMatchObject({ status: 'unchanged', method: 'full' });
  });

  it('compares the same whatever the session settings (the before hashes are taken under fixed ones)', async () => {
    const { report } = await check([`UPDATE public.orders SET weight = weight WHERE id < 100`], undefined, {
      method: 'full',
      sessionSettings: `SET TimeZone = 'Asia/Kathmandu'; SET IntervalStyle = 'iso_8601'; SET extra_float_digits = -3; SET DateStyle = 'German'`,
    });
    expect(report.ok).toBe(true);
  });

  it('passes on an added column, with or without a table rewrite', async () => {
    const { report, table } = await check([
      `ALTER TABLE public.orders ADD COLUMN discount integer NOT NULL DEFAULT 0`,
      // A volatile default rewrites the table: a new relfilenode, so the full comparison runs.
      `ALTER TABLE public.customers ADD COLUMN token text DEFAULT md5(random()::text)`,
    ]);
    expect(report.ok).toBe(true);
    expect(table('public.orders')).toMatchObject({ status: 'unchanged', method: 'incremental' });
    expect(table('public.orders').notes).toContain('column discount (integer) added');
    expect(table('public.customers')).toMatchObject({ status: 'unchanged', method: 'full' });
    expect(table('public.customers').compared).toEqual(['email', 'name']);
  });

  it('fails on an undeclared DELETE and names the deleted keys (bisection of key ranges)', async () => {
    const deleted = ['17', '4242', '31337'];
    const { report, table, url } = await check([`DELETE FROM public.orders WHERE id IN (${deleted.join(', ')})`]);
    expect(report.ok).toBe(false);
    const orders = table('public.orders');
    expect(orders.status).toBe('undeclared changes');
    expect(orders.rowsAfter).toBe(Number(psqlValue(url, 'SELECT count(*) FROM public.orders')));
    expect(orders.keys).toEqual(deleted.map((id) => ({ key: { id }, change: 'deleted' })));
    expect(orders.bisection?.queries).toBeGreaterThan(2);
    expect(orders.problems[0]).toMatch(/17 deleted; 4242 deleted; 31337 deleted/);
    // The keys named are exactly those gone (psql as the reference).
    expect(psqlValue(url, `SELECT count(*) FROM public.orders WHERE id IN (${deleted.join(', ')})`)).toBe('0');
    expect(table('public.customers').status).toBe('unchanged');
  });

  it('passes once the DELETE is declared (table and condition), reporting how many rows it deleted', async () => {
    const voided = Number(psqlValue(shop.url, `SELECT count(*) FROM public.orders WHERE status = 'void'`));
    const declared = { tables: [{ table: 'public.orders', rows: { predicate: `status = 'void'` } }] };
    const { report, table } = await check([`DELETE FROM public.orders WHERE status = 'void'`], declared);
    expect(report.ok).toBe(true);
    expect(table('public.orders').status).toBe('changed as declared');
    expect(table('public.orders').declaredRows).toEqual({ updated: 0, inserted: 0, deleted: voided });
    expect(table('public.orders').declared[0]).toContain(`${voided} deleted`);

    // The declaration covers those rows only: one more row deleted outside it is named.
    const more = await check([`DELETE FROM public.orders WHERE status = 'void' OR id = 20001`], declared);
    expect(more.report.ok).toBe(false);
    expect(keysOf(more.report, 'public.orders')).toEqual([{ key: { id: '20001' }, change: 'deleted' }]);
  });

  it('counts rows a declared UPDATE moved into or out of the condition as declared', async () => {
    const { report, table } = await check(
      [`UPDATE public.orders SET status = 'void' WHERE id IN (1, 2, 3)`, `UPDATE public.orders SET total = 0 WHERE status = 'void'`],
      { tables: [{ table: 'orders', rows: { predicate: `status = 'void'` } }] },
    );
    expect(report.ok).toBe(true);
    expect(table('public.orders').declaredRows).toMatchObject({ inserted: 0, deleted: 0 });
  });

  it('fails on an undeclared UPDATE of one row in 50,000: the written rows name it, and so does the bisection', async () => {
    const change = [`UPDATE public.orders SET note = 'changed' WHERE id = 36912`];
    const quick = await check(change);
    expect(quick.report.ok).toBe(false);
    expect(quick.table('public.orders')).toMatchObject({ method: 'incremental', differingRows: 1, keys: [{ key: { id: '36912' }, change: 'updated' }] });

    const full = await check(change, undefined, { method: 'full' });
    expect(full.report.ok).toBe(false);
    const orders = full.table('public.orders');
    expect(orders.method).toBe('full');
    expect(orders.keys).toEqual([{ key: { id: '36912' }, change: 'updated' }]);
    expect(orders.bisection!.depth).toBeGreaterThanOrEqual(2);
    expect(orders.checksumBefore).not.toBe(orders.checksumAfter);
  });

  it('finds written rows wherever they landed: in a few parts of the table (TID ranges) or all over it (one scan)', async () => {
    // Freed space in early and middle pages (VACUUM) takes the re-inserted rows there; the UPDATE's new version goes to the end.
    const reinsert = (where: string, note: string) =>
      `INSERT INTO public.orders SELECT g, g % 997, (ARRAY['open', 'paid', 'void'])[g % 3 + 1], (g % 1000) / 4.0, ${note},
         TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 minute', g / 7.0, g * INTERVAL '1 second' FROM generate_series(1, ${ORDERS}) g WHERE ${where}`;
    const few = await check([
      `DELETE FROM public.orders WHERE id BETWEEN 100 AND 149 OR id BETWEEN 25000 AND 25049`, `VACUUM public.orders`,
      reinsert('g BETWEEN 100 AND 149 OR g BETWEEN 25000 AND 25049', `CASE WHEN g = 25000 THEN 'moved' WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END`),
      `UPDATE public.orders SET note = 'changed' WHERE id = 49990`,
    ]);
    expect(few.table('public.orders')).toMatchObject({ method: 'incremental', differingRows: 2, rowsAfter: ORDERS });
    expect(few.table('public.orders').keys).toEqual([{ key: { id: '25000' }, change: 'updated' }, { key: { id: '49990' }, change: 'updated' }]);
    // The rows written are in parts of the table far apart.
    const blocks = psqlValue(few.url, `SELECT string_agg(((ctid::text::point)[0])::int::text, ',' ORDER BY id) FROM public.orders WHERE id IN (100, 25000, 49990)`);
    expect(new Set(blocks.split(',')).size).toBeGreaterThan(1);

    const all = await check([
      `DELETE FROM public.orders WHERE id % 100 = 0`, `VACUUM public.orders`,
      reinsert('g % 100 = 0', `CASE WHEN g = 700 THEN 'moved' WHEN g % 5 = 0 THEN NULL ELSE 'note ' || g END`),
    ]);
    expect(all.table('public.orders')).toMatchObject({ method: 'incremental', differingRows: 1, rowsAfter: ORDERS, keys: [{ key: { id: '700' }, change: 'updated' }] });
    // A row deleted outright is not among the written rows: the full path names it.
    const gone = await check([`DELETE FROM public.orders WHERE id = 31000`, `VACUUM public.orders`, `UPDATE public.orders SET note = note WHERE id = 5`]);
    expect(gone.table('public.orders')).toMatchObject({ method: 'full', keys: [{ key: { id: '31000' }, change: 'deleted' }] });
  });

  it('sees no change in a row rewritten with the same values', async () => {
    const { report, table } = await check([`UPDATE public.orders SET note = note WHERE id % 10 = 0`]);
    expect(report.ok).toBe(true);
    expect(table('public.orders')).toMatchObject({ status: 'unchanged', method: 'incremental' });
  });

  it('names keys of text and two-column primary keys, and inserted rows', async () => {
    const { report } = await check(
      [
        `UPDATE public.customers SET name = 'X' WHERE email = 'c2500@example.com'`,
        `UPDATE public.lines SET qty = qty + 1 WHERE order_id = 1000 AND line = 2`,
        `INSERT INTO public.lines VALUES (1500, 9, 'sku-new', 1)`,
      ],
      undefined,
      { method: 'full' },
    );
    expect(report.ok).toBe(false);
    expect(keysOf(report, 'public.customers')).toEqual([{ key: { email: 'c2500@example.com' }, change: 'updated' }]);
    expect(keysOf(report, 'public.lines')).toEqual([
      { key: { order_id: '1000', line: '2' }, change: 'updated' },
      { key: { order_id: '1500', line: '9' }, change: 'inserted' },
    ]);
  });

  it('passes a declared dropped column and fails an undeclared one', async () => {
    const drop = [`ALTER TABLE public.orders DROP COLUMN note`];
    const undeclared = await check(drop);
    expect(undeclared.report.ok).toBe(false);
    expect(undeclared.table('public.orders').problems[0]).toMatch(/column note \(text\) is gone/);

    const declared = await check(drop, { tables: [{ table: 'public.orders', dropColumns: ['note'] }] });
    expect(declared.report.ok).toBe(true);
    expect(declared.table('public.orders')).toMatchObject({ status: 'changed as declared', compared: ['id', 'customer_id', 'status', 'total', 'placed_at', 'weight', 'wait'] });
    expect(declared.table('public.orders').declared).toContain('column note dropped as declared');
  });

  it('compares declared altered columns apart: a type change with a backfill passes when declared', async () => {
    const migration = [`ALTER TABLE public.orders ALTER COLUMN total TYPE bigint USING (total * 100)::bigint`];
    expect((await check(migration)).report.ok).toBe(false);
    const declared = await check(migration, { tables: [{ table: 'public.orders', columns: ['total'] }] });
    expect(declared.report.ok).toBe(true);
    expect(declared.table('public.orders').declared[0]).toMatch(/column total altered as declared: values differ in \d+ row/);
  });

  it('a table without a primary key: counts and checksums only, and says why no keys are named', async () => {
    const { report, table } = await check([`DELETE FROM public.audit_log WHERE message = 'event 7'`]);
    expect(report.ok).toBe(false);
    expect(table('public.audit_log')).toMatchObject({ rowsBefore: 500, rowsAfter: 499, keys: [], keysUnavailable: 'the table has no primary key' });
  });

  it('a dropped table fails unless declared; a new table is reported as added', async () => {
    const migration = [`DROP TABLE public.audit_log`, `CREATE TABLE public.refunds (id bigint PRIMARY KEY)`];
    const undeclared = await check(migration);
    expect(undeclared.report.ok).toBe(false);
    expect(undeclared.table('public.audit_log').problems[0]).toMatch(/dropped, with its 500 row/);
    expect(undeclared.table('public.refunds')).toMatchObject({ status: 'added', rowsAfter: 0 });
    const declared = await check(migration, { tables: [{ table: 'public.audit_log', drop: true }] });
    expect(declared.report.ok).toBe(true);
    expect(declared.table('public.audit_log').status).toBe('dropped as declared');
  });

  it('leaves the migration history table out: it is bookkeeping the runner writes', async () => {
    const { report } = await check([`CREATE TABLE public._prisma_migrations (id text PRIMARY KEY)`, `INSERT INTO public._prisma_migrations VALUES ('20260101000000_x')`]);
    expect(report.ok).toBe(true);
    expect(report.tables.map((t) => t.table)).not.toContain('public._prisma_migrations');
  });

  it('suggests the declaration line for what it found, one line a failing table', async () => {
    const migration = [`ALTER TABLE public.orders DROP COLUMN note`, `DELETE FROM public.orders WHERE status = 'void'`, `DELETE FROM public.audit_log WHERE message IN (SELECT 'event 7')`, `DELETE FROM public.audit_log WHERE message = 'event 8'`];
    const { report, table } = await check(migration, { tables: [] }, { upSql: migration.join(';\n') + ';\n' });
    expect(report.ok).toBe(false);
    expect(table('public.orders').suggestedDeclaration).toBe(`public.orders drop column note · public.orders rows where status = 'void'`);
    // Two DELETEs on one table: no single condition, so every row.
    expect(table('public.audit_log').suggestedDeclaration).toBe('public.audit_log rows');
    expect(table('public.customers').suggestedDeclaration).toBeUndefined();
  });

  it('accepts a plain condition and refuses anything else', async () => {
    expect(await predicateProblem(`status = 'void' AND placed_at < now() - interval '1 day' AND lower(note) LIKE 'n%' AND id IN (1, 2)`)).toBeNull();
    expect(await predicateProblem(`id IN (SELECT 1)`)).toMatch(/subqueries/);
    expect(await predicateProblem(`true; DROP TABLE orders`)).toMatch(/;/);
    expect(await predicateProblem(`true) OR (true`)).toMatch(/parenthesis/);
    expect(await predicateProblem(`true -- note`)).toMatch(/comments/);
    expect(await predicateProblem(`pg_sleep(10) IS NULL`)).toMatch(/function pg_sleep is not allowed/);
    expect(await predicateProblem(`orders.status = 'void'`)).toMatch(/without a table/);
    expect(await predicateProblem(`id = $1`)).toMatch(/parameters/);
    expect(await predicateProblem(`count(*) > 1`)).toMatch(/not allowed/);
    expect(await predicateProblem(`status = `)).toMatch(/does not parse/);
    const { report } = await check([], { tables: [{ table: 'public.orders', rows: { predicate: `id IN (SELECT 1)` } }] });
    expect(report.ok).toBe(false);
    expect(report.tables.find((t) => t.table === 'public.orders')!.problems[0]).toMatch(/declared condition is refused/);
  });
});

describe('no data loss: tables and columns by identity', () => {
  it('fails two columns that swap names, and passes the swap declared, comparing the values under their new names', async () => {
    const swap = [`ALTER TABLE public.customers RENAME COLUMN name TO tmp`, `ALTER TABLE public.customers RENAME COLUMN email TO name`, `ALTER TABLE public.customers RENAME COLUMN tmp TO email`];
    const undeclared = await check(swap);
    expect(undeclared.report.ok).toBe(false);
    expect(undeclared.table('public.customers').problems).toEqual([
      'column email was renamed to name and the revision does not declare it: email now names another column',
      'column name was renamed to email and the revision does not declare it: name now names another column',
    ]);
    // psql as the reference: the first column (attnum 1) is now called name.
    expect(psqlValue(undeclared.url, `SELECT attname FROM pg_attribute WHERE attrelid = 'public.customers'::regclass AND attnum = 1`)).toBe('name');

    const renameColumns = [{ from: 'email', to: 'name' }, { from: 'name', to: 'email' }];
    const declared = await check(swap, { tables: [{ table: 'public.customers', renameColumns }] });
    expect(declared.report.ok).toBe(true);
    expect(declared.table('public.customers').declared).toEqual(['column email renamed to name as declared', 'column name renamed to email as declared']);
    // Declared, the values still count: one changed under its new name is named by its key.
    const changed = await check([...swap, `UPDATE public.customers SET email = 'x' WHERE name = 'c7@example.com'`], { tables: [{ table: 'public.customers', renameColumns }] }, { method: 'full' });
    expect(changed.report.ok).toBe(false);
    expect(keysOf(changed.report, 'public.customers')).toEqual([{ key: { email: 'c7@example.com' }, change: 'updated' }]);
  });

  it('fails a table renamed, two tables that swap names, and one dropped and created again, unless declared', async () => {
    const swap = [`ALTER TABLE public.orders RENAME TO tmp`, `ALTER TABLE public.audit_log RENAME TO orders`, `ALTER TABLE public.tmp RENAME TO audit_log`];
    const swapped = await check(swap);
    expect(swapped.report.ok).toBe(false);
    expect(swapped.table('public.orders').problems).toEqual(['the table was renamed to public.audit_log and the revision does not declare it']);
    expect(swapped.table('public.audit_log').problems).toEqual(['the table was renamed to public.orders and the revision does not declare it']);
    expect(psqlValue(swapped.url, `SELECT count(*) FROM public.orders`)).toBe('500');

    // The table moves aside and a new one takes its name, with the same rows: still a rename to declare.
    const aside = [`ALTER TABLE public.orders RENAME TO orders_old`, `CREATE TABLE public.orders (LIKE public.orders_old INCLUDING ALL)`, `INSERT INTO public.orders SELECT * FROM public.orders_old`];
    const undeclared = await check(aside);
    expect(undeclared.report.ok).toBe(false);
    expect(undeclared.table('public.orders').problems).toEqual(['the table was renamed to public.orders_old and the revision does not declare it']);
    expect(undeclared.report.tables.filter((t) => t.table === 'public.orders').map((t) => t.status)).toEqual(['undeclared changes', 'added']);
    const declared = await check(aside, { tables: [{ table: 'public.orders', renameTo: 'orders_old' }] });
    expect(declared.report.ok).toBe(true);
    expect(declared.table('public.orders').declared).toEqual(['table renamed to public.orders_old as declared']);

    const recreated = await check([`DROP TABLE public.audit_log`, `CREATE TABLE public.audit_log AS SELECT TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 hour' AS at, 'event ' || g AS message FROM generate_series(1, 500) g`]);
    expect(recreated.report.ok).toBe(false);
    expect(recreated.table('public.audit_log')).toMatchObject({
      problems: [expect.stringMatching(/dropped, with its 500 row/)],
      notes: ['the public.audit_log after up is another table, created by the migration: the old one\'s rows are not in it'],
    });
  });

  it('fails a column dropped and added again under its name', async () => {
    const { report, table } = await check([`ALTER TABLE public.customers DROP COLUMN name`, `ALTER TABLE public.customers ADD COLUMN name text`]);
    expect(report.ok).toBe(false);
    expect(table('public.customers').problems).toEqual([
      'column name (text) is gone (dropped; the name after up is a new column) and the revision does not declare it: its values in 3000 row(s) are lost',
    ]);
  });

  it('fails when the migration renames a column of the before copy (the copies belong to the role the migration runs as)', async () => {
    // The migration finds the check's temporary tables through the catalog and swaps two column names
    // in the orders copy: read by name, the before side's status would be its note (and a migration
    // that swapped the two columns' values would pass unseen).
    const tamper = `DO $$ DECLARE r record; BEGIN
      FOR r IN SELECT c.oid::regclass AS t FROM pg_class c
               WHERE c.relpersistence = 't' AND c.relkind = 'r' AND c.relname LIKE 'cutover_before%'
                 AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'customer_id') LOOP
        EXECUTE format('ALTER TABLE %s RENAME COLUMN status TO tmp', r.t);
        EXECUTE format('ALTER TABLE %s RENAME COLUMN note TO status', r.t);
        EXECUTE format('ALTER TABLE %s RENAME COLUMN tmp TO note', r.t);
      END LOOP; END $$`;
    const error = await check([tamper], undefined, { method: 'full' }).then(() => null, (e: Error) => e);
    expect(error?.message).toMatch(/^The before copy was altered during the migration: the copy of public\.orders \(column status renamed to note, column note renamed to status\)/);
    // Dropping a copy fails too.
    const dropped = await check([`DO $$ DECLARE r record; BEGIN FOR r IN SELECT c.oid::regclass AS t FROM pg_class c WHERE c.relpersistence = 't' AND c.relname LIKE 'cutover_before%' AND c.relkind = 'r' LOOP EXECUTE format('DROP TABLE %s', r.t); END LOOP; END $$`])
      .then(() => null, (e: Error) => e);
    expect(dropped?.message).toMatch(/The before copy of public\.\w+ is gone/);
  });
});
