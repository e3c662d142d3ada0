import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeChange, diffSnapshots } from '@/lib/engine/postgres/diff';
import { takeSnapshot, type SchemaSnapshot } from '@/lib/engine/postgres/snapshot';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/** A schema with every object kind the snapshot knows, in two orders that must snapshot alike. */
const OBJECTS = [
  `CREATE EXTENSION IF NOT EXISTS citext`,
  `CREATE SCHEMA billing`,
  `CREATE TYPE public.order_status AS ENUM ('pending', 'paid', 'shipped')`,
  `CREATE SEQUENCE billing.invoice_no START 1000 INCREMENT 5`,
  `CREATE TABLE public.customers (
     id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
     email citext NOT NULL,
     name text,
     country char(2) NOT NULL DEFAULT 'NL',
     CONSTRAINT customers_email_key UNIQUE (email),
     CONSTRAINT customers_country_check CHECK (country ~ '^[A-Z]{2}$'))`,
  `CREATE TABLE public.orders (
     id serial PRIMARY KEY,
     customer_id bigint NOT NULL REFERENCES public.customers(id) ON DELETE CASCADE,
     status public.order_status NOT NULL DEFAULT 'pending',
     total_cents integer NOT NULL,
     total_eur numeric(12,2) GENERATED ALWAYS AS (total_cents / 100.0) STORED,
     tags text[] NOT NULL DEFAULT '{}',
     placed_at timestamptz NOT NULL DEFAULT now())`,
  `CREATE INDEX orders_open_idx ON public.orders (placed_at DESC) WHERE status <> 'shipped'`,
  `CREATE INDEX orders_tags_idx ON public.orders USING gin (tags)`,
  `CREATE INDEX customers_lower_name_idx ON public.customers (lower(name))`,
  `CREATE TABLE billing.invoices (
     no integer PRIMARY KEY DEFAULT nextval('billing.invoice_no'),
     order_id integer NOT NULL REFERENCES public.orders(id),
     period tstzrange NOT NULL,
     EXCLUDE USING gist (order_id WITH =, period WITH &&))`,
  `CREATE VIEW public.paid_orders AS SELECT id, customer_id FROM public.orders WHERE status = 'paid'`,
  `CREATE MATERIALIZED VIEW billing.revenue AS SELECT date_trunc('day', placed_at) AS day, sum(total_cents) AS cents FROM public.orders GROUP BY 1`,
];

const dbs: { drop(): Promise<void> }[] = [];
async function databaseWith(statements: string[]) {
  const db = await createScratchDatabase('cutover_snap');
  dbs.push(db);
  await withClient(db.url, async (c) => {
    for (const s of statements) await c.query(s);
  });
  return db;
}
const snapshotOf = (url: string) => withClient(url, takeSnapshot);

let db: Awaited<ReturnType<typeof createScratchDatabase>>;
let snap: SchemaSnapshot;
beforeAll(async () => {
  // btree_gist: the exclusion constraint compares an integer with "=" inside a GiST index.
  db = await databaseWith(['CREATE EXTENSION IF NOT EXISTS btree_gist', ...OBJECTS]);
  snap = await snapshotOf(db.url);
});
afterAll(async () => {
  for (const d of dbs) await d.drop();
});

describe('schema snapshot', () => {
  it('lists schemas, extensions, enums and sequences, leaving out what extensions own', () => {
    expect(snap.shape.schemas).toEqual(['billing', 'public']);
    expect(snap.serverVersion).toMatch(/^\d+\.\d+/);
    expect(Object.keys(snap.shape.extensions).sort()).toEqual(['btree_gist', 'citext']);
    expect(snap.shape.enums).toEqual({ 'public.order_status': ['pending', 'paid', 'shipped'] });
    expect(snap.shape.sequences['billing.invoice_no']).toMatchObject({ type: 'bigint', start: '1000', increment: '5', ownedBy: null });
    expect(snap.shape.sequences['public.orders_id_seq']).toMatchObject({ type: 'integer', ownedBy: 'public.orders.id' });
    // citext's own functions and types are not listed as the schema's
    expect(Object.keys(snap.shape.enums)).not.toContain('public.citext');
  });

  it('has no row estimate for a table never analyzed', () => {
    expect(snap.stats['public.orders'].estimatedRows).toBeNull();
  });

  it('describes columns: types, nullability, defaults, identity and generated columns', () => {
    const customers = snap.shape.tables['public.customers'];
    expect(customers.columns).toEqual([
      { name: 'id', type: 'bigint', nullable: false, default: null, identity: 'always', generated: null },
      { name: 'email', type: 'citext', nullable: false, default: null, identity: null, generated: null },
      { name: 'name', type: 'text', nullable: true, default: null, identity: null, generated: null },
      { name: 'country', type: 'character(2)', nullable: false, default: "'NL'::bpchar", identity: null, generated: null },
    ]);
    const orders = snap.shape.tables['public.orders'].columns;
    expect(orders.find((c) => c.name === 'status')).toMatchObject({ type: 'order_status', default: "'pending'::order_status" });
    expect(orders.find((c) => c.name === 'total_eur')).toMatchObject({ type: 'numeric(12,2)', generated: expect.stringContaining('total_cents'), default: null });
    expect(orders.find((c) => c.name === 'tags')).toMatchObject({ type: 'text[]', default: "'{}'::text[]" });
    expect(orders.find((c) => c.name === 'id')).toMatchObject({ type: 'integer', default: "nextval('orders_id_seq'::regclass)" });
  });

  it('describes keys, unique, check, foreign key and exclusion constraints', () => {
    const customers = snap.shape.tables['public.customers'];
    expect(customers.primaryKey).toEqual({ name: 'customers_pkey', definition: 'PRIMARY KEY (id)' });
    expect(customers.uniques).toEqual([{ name: 'customers_email_key', definition: 'UNIQUE (email)' }]);
    expect(customers.checks[0]).toMatchObject({ name: 'customers_country_check', definition: expect.stringContaining("'^[A-Z]{2}$'") });
    expect(snap.shape.tables['public.orders'].foreignKeys).toEqual([
      { name: 'orders_customer_id_fkey', definition: 'FOREIGN KEY (customer_id) REFERENCES customers(id) ON DELETE CASCADE' },
    ]);
    expect(snap.shape.tables['billing.invoices'].exclusions[0].definition).toMatch(/^EXCLUDE USING gist \(order_id WITH =, period WITH &&\)/);
  });

  it('describes indexes with their method and predicate', () => {
    const orders = snap.shape.tables['public.orders'].indexes;
    expect(orders.map((i) => i.name)).toEqual(['orders_open_idx', 'orders_pkey', 'orders_tags_idx']);
    expect(orders[0]).toMatchObject({ method: 'btree', unique: false, predicate: "(status <> 'shipped'::order_status)" });
    expect(orders[0].definition).toContain('(placed_at DESC)');
    expect(orders[1]).toMatchObject({ primary: true, unique: true });
    expect(orders[2].method).toBe('gin');
    expect(snap.shape.tables['public.customers'].indexes.find((i) => i.name === 'customers_lower_name_idx')!.definition).toContain('lower(name)');
  });

  it('describes views and materialized views', () => {
    expect(snap.shape.views['public.paid_orders']).toMatchObject({ materialized: false, definition: expect.stringContaining("'paid'::order_status") });
    expect(snap.shape.views['billing.revenue'].materialized).toBe(true);
  });

  it('keeps row estimates and sizes beside the shape, outside the hash', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`INSERT INTO customers (email, name) SELECT 'c' || g || '@x.io', 'C' || g FROM generate_series(1, 500) g`);
      await c.query('ANALYZE');
    });
    const again = await snapshotOf(db.url);
    expect(again.stats['public.customers'].estimatedRows).toBe(500);
    expect(again.stats['public.customers'].totalBytes).toBeGreaterThan(8192);
    expect(again.hash).toBe(snap.hash);
    expect(again.hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('hashes the same schema the same, however it was built', async () => {
    const reordered = [OBJECTS[0], OBJECTS[2], OBJECTS[1], OBJECTS[3], ...OBJECTS.slice(4, 6), OBJECTS[8], OBJECTS[7], OBJECTS[6], ...OBJECTS.slice(9)];
    const other = await databaseWith(['CREATE EXTENSION IF NOT EXISTS btree_gist', ...reordered]);
    expect((await snapshotOf(other.url)).hash).toBe(snap.hash);
  });
});

describe('schema diff', () => {
  it('is empty between equal schemas', () => {
    expect(diffSnapshots(snap.shape, snap.shape)).toEqual([]);
  });

  it('lists what a migration added, removed and changed, and its rollback restores the hash', async () => {
    const up = [
      `ALTER TABLE public.orders ADD COLUMN shipped_at timestamptz`,
      `ALTER TABLE public.customers ALTER COLUMN country SET DEFAULT 'DE'`,
      `DROP INDEX public.orders_tags_idx`,
      `ALTER TYPE public.order_status ADD VALUE 'cancelled'`,
      `CREATE TABLE public.audit (id bigserial PRIMARY KEY, note text)`,
      `DROP VIEW public.paid_orders`,
      `ALTER TABLE public.customers ADD CONSTRAINT customers_name_len CHECK (length(name) < 200)`,
    ];
    await withClient(db.url, async (c) => {
      for (const s of up) await c.query(s);
    });
    const after = await snapshotOf(db.url);
    const lines = diffSnapshots(snap.shape, after.shape).map(describeChange).sort();
    expect(lines).toEqual(
      [
        "~ column public.customers.country: character(2) NOT NULL DEFAULT 'NL'::bpchar -> character(2) NOT NULL DEFAULT 'DE'::bpchar",
        '~ enum public.order_status: (pending, paid, shipped) -> (pending, paid, shipped, cancelled)',
        '+ column public.orders.shipped_at timestamp with time zone',
        '+ constraint public.customers.customers_name_len CHECK (length(name) < 200)',
        '+ sequence public.audit_id_seq',
        '+ table public.audit',
        '- index public.orders.orders_tags_idx CREATE INDEX orders_tags_idx ON public.orders USING gin (tags)',
        '- view public.paid_orders',
      ].sort(),
    );
    expect(after.hash).not.toBe(snap.hash);

    // Enum values cannot be dropped in PostgreSQL: the rollback rebuilds the type.
    const down = [
      `ALTER TABLE public.customers DROP CONSTRAINT customers_name_len`,
      `CREATE VIEW public.paid_orders AS SELECT id, customer_id FROM public.orders WHERE status = 'paid'`,
      `DROP TABLE public.audit`,
      `CREATE INDEX orders_tags_idx ON public.orders USING gin (tags)`,
      `ALTER TABLE public.customers ALTER COLUMN country SET DEFAULT 'NL'`,
      `ALTER TABLE public.orders DROP COLUMN shipped_at`,
    ];
    await withClient(db.url, async (c) => {
      for (const s of down) await c.query(s);
    });
    const rolledBack = await snapshotOf(db.url);
    // Only the enum value remains, and the diff says so: exactly what rehearsal must catch.
    expect(diffSnapshots(snap.shape, rolledBack.shape).map(describeChange)).toEqual([
      '~ enum public.order_status: (pending, paid, shipped) -> (pending, paid, shipped, cancelled)',
    ]);
  });
});
