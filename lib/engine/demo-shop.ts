import { randomBytes } from 'node:crypto';
import type { Client } from 'pg';

/**
 * A small shop schema with a few thousand rows, so a new user has a real target to
 * file requests against. Idempotent: an existing shop is left as it is.
 */
export async function createDemoShop(client: Client): Promise<{ created: boolean }> {
  const { rows } = await client.query(`SELECT to_regclass('public.orders') AS t`);
  if (rows[0].t) return { created: false };
  await client.query('BEGIN');
  try {
    await client.query(`
      CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
      CREATE TABLE customers (
        id          bigserial PRIMARY KEY,
        email       text NOT NULL UNIQUE,
        full_name   text NOT NULL,
        country     char(2) NOT NULL DEFAULT 'NL',
        created_at  timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE products (
        id          bigserial PRIMARY KEY,
        sku         text NOT NULL UNIQUE,
        name        text NOT NULL,
        price_cents integer NOT NULL CHECK (price_cents >= 0),
        active      boolean NOT NULL DEFAULT true
      );
      CREATE TABLE orders (
        id          bigserial PRIMARY KEY,
        customer_id bigint NOT NULL REFERENCES customers(id),
        status      order_status NOT NULL DEFAULT 'pending',
        placed_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX orders_customer_id_idx ON orders (customer_id);
      CREATE TABLE order_items (
        order_id    bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE,
        product_id  bigint NOT NULL REFERENCES products(id),
        quantity    integer NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (order_id, product_id)
      );
      CREATE VIEW order_totals AS
        SELECT o.id AS order_id, sum(oi.quantity * p.price_cents) AS total_cents
        FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id
        GROUP BY o.id;

      INSERT INTO customers (email, full_name, country)
        SELECT 'customer' || g || '@example.com', 'Customer ' || g, (ARRAY['NL','DE','FR','GB','US'])[1 + g % 5]
        FROM generate_series(1, 2000) g;
      INSERT INTO products (sku, name, price_cents)
        SELECT 'SKU-' || lpad(g::text, 4, '0'), 'Product ' || g, 199 + (g * 37) % 9000
        FROM generate_series(1, 200) g;
      INSERT INTO orders (customer_id, status, placed_at)
        SELECT 1 + (g * 7) % 2000, (ARRAY['pending','paid','shipped','cancelled']::order_status[])[1 + g % 4],
               now() - (g || ' minutes')::interval
        FROM generate_series(1, 3000) g;
      INSERT INTO order_items (order_id, product_id, quantity)
        SELECT o, 1 + (o * 7 + k * 53) % 200, 1 + (o + k) % 3
        FROM generate_series(1, 3000) o, generate_series(1, 2) k;
    `);
    await client.query('COMMIT');
    // Planner statistics now, as autovacuum would soon do on a real server.
    await client.query('ANALYZE');
    return { created: true };
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/**
 * The demo database's own login role: not a superuser, no CREATEDB/CREATEROLE, owner of the demo
 * database and of everything in it, nothing else. `admin` is a session on the demo database as a
 * role that may create roles. Keeps `knownPassword` when it still signs in; otherwise sets a new
 * random one. Returns the password to store (encrypted) in the demo target.
 */
export async function ensureDemoOwner(
  admin: Client,
  opts: { role: string; knownPassword: string | null; canSignIn: (password: string) => Promise<boolean> },
): Promise<{ password: string; changed: boolean }> {
  const { rows: db } = await admin.query<{ name: string }>('SELECT current_database() AS name');
  const role = ident(opts.role);
  const { rowCount: exists } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [opts.role]);
  let password = opts.knownPassword;
  let changed = false;
  if (!exists || !password || !(await opts.canSignIn(password))) {
    password = randomBytes(24).toString('base64url');
    changed = true;
    const attrs = `LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${admin.escapeLiteral(password)}`;
    await admin.query(exists ? `ALTER ROLE ${role} ${attrs}` : `CREATE ROLE ${role} ${attrs}`);
  }
  await admin.query(`ALTER DATABASE ${ident(db[0].name)} OWNER TO ${role}`);
  // A demo made by an earlier version belongs to the admin role: hand every object over.
  const { rows: objects } = await admin.query<{ stmt: string }>(
    `SELECT format('ALTER %s %s OWNER TO %I', CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END, c.oid::regclass, $1::text) AS stmt
       FROM pg_class c
      WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
        AND c.relowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)
        AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
     UNION ALL
     SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, $1::text)
       FROM pg_type t
      WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd', 'c') AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c'))
        AND t.typowner <> (SELECT oid FROM pg_roles WHERE rolname = $1)`,
    [opts.role],
  );
  for (const { stmt } of objects) await admin.query(stmt);
  return { password, changed };
}
