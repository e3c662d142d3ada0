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
