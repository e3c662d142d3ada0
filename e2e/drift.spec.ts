import { randomBytes } from 'node:crypto';
import { expect, test } from '@playwright/test';
import { Client } from 'pg';
import { tarGz } from '../lib/engine/archive';
import { migrationChecksum } from '../lib/engine/prisma-migrations';
import { admin, signIn } from './support/auth';
import { E2E_DEMO_DATABASE, PG_ADMIN_URL } from './support/env';
import { factory } from './support/factories';
import { requestPath } from './support/request-page';

/** The demo shop's schema as one migration (createDemoShop's DDL, without its rows): the baseline its history will say is applied. */
const BASELINE_SQL = `CREATE TYPE order_status AS ENUM ('pending', 'paid', 'shipped', 'cancelled');
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE, full_name text NOT NULL, country char(2) NOT NULL DEFAULT 'NL', created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE products (id bigserial PRIMARY KEY, sku text NOT NULL UNIQUE, name text NOT NULL, price_cents integer NOT NULL CHECK (price_cents >= 0), active boolean NOT NULL DEFAULT true);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers(id), status order_status NOT NULL DEFAULT 'pending', placed_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
CREATE TABLE order_items (order_id bigint NOT NULL REFERENCES orders(id) ON DELETE CASCADE, product_id bigint NOT NULL REFERENCES products(id), quantity integer NOT NULL CHECK (quantity > 0), PRIMARY KEY (order_id, product_id));
CREATE VIEW order_totals AS
  SELECT o.id AS order_id, sum(oi.quantity * p.price_cents) AS total_cents
  FROM orders o JOIN order_items oi ON oi.order_id = o.id JOIN products p ON p.id = oi.product_id
  GROUP BY o.id;
`;

/** A session on the demo database as the server's admin (the spec's own hand on the target). */
async function demoDatabase<T>(fn: (c: Client) => Promise<T>): Promise<T> {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${E2E_DEMO_DATABASE}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

test('an Analysis holder checks the demo target for drift: none against its baseline, then a manual ALTER TABLE is named', async ({ browser, page, context }) => {
  test.setTimeout(150_000);
  const tag = randomBytes(3).toString('hex');
  const migration = `20250501000000_drift_baseline_${tag}`;
  const fileName = `drift-${tag}.tar.gz`;
  const column = `drift_note_${tag}`;

  // An admin imports the project's migrations folder (one migration: the demo shop's schema).
  const adminContext = await browser.newContext();
  const adminPage = await adminContext.newPage();
  await signIn(adminContext, admin);
  await adminPage.goto('/migrations');
  await adminPage.getByLabel('Prisma migrations folder (.tar.gz or .zip)').setInputFiles({
    name: fileName, mimeType: 'application/gzip',
    buffer: tarGz([{ path: `prisma/migrations/${migration}/migration.sql`, content: BASELINE_SQL }]),
  });
  await adminPage.getByRole('button', { name: 'Import' }).click();
  await expect(adminPage).toHaveURL(/\/migrations\?folder=/);
  await adminContext.close();

  // The demo target was built before it had migrations: its history gets the baseline marked applied
  // (as `prisma migrate resolve --applied` does), in a history table its own role owns.
  await demoDatabase(async (c) => {
    await c.query(`CREATE TABLE IF NOT EXISTS "_prisma_migrations" (id varchar(36) PRIMARY KEY NOT NULL, checksum varchar(64) NOT NULL, finished_at timestamptz,
      migration_name varchar(255) NOT NULL, logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0)`);
    const owner = (await c.query<{ o: string }>(`SELECT pg_catalog.pg_get_userbyid(datdba) AS o FROM pg_database WHERE datname = current_database()`)).rows[0].o;
    await c.query(`ALTER TABLE "_prisma_migrations" OWNER TO "${owner.replace(/"/g, '""')}"`);
    await c.query(`INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ($1, $2, now(), $3, 1)`,
      [`drift-${tag}`, migrationChecksum(BASELINE_SQL), migration]);
  });

  try {
    const author = await factory.createUser({ name: 'Drift Author' });
    const optimizer = await factory.createUser({ name: 'Drift Optimizer', roles: ['engineer'], agentRoles: ['database-optimizer'] });
    const request = await factory.fileRequest(author);

    // Someone who may not check drift sees the panel, no button, and who may.
    const authorContext = await browser.newContext();
    const authorPage = await authorContext.newPage();
    await signIn(authorContext, author);
    await authorPage.goto(requestPath(request));
    await expect(authorPage.getByTestId('drift-panel')).toHaveAttribute('data-status', 'none');
    await expect(authorPage.getByRole('button', { name: 'Check drift' })).toHaveCount(0);
    await expect(authorPage.getByTestId('drift-who')).toContainText('Checking drift needs database-optimizer or postgres-pro');
    await authorContext.close();

    await signIn(context, optimizer);
    await page.goto(requestPath(request));
    const panel = page.getByTestId('drift-panel');
    await panel.getByLabel('Migrations').selectOption({ label: `${fileName} (1 migration)` });
    await panel.getByRole('button', { name: 'Check drift' }).click();
    // Queued, replayed in the worker's sandbox, compared; the page polls until it is done.
    await expect(panel).toHaveAttribute('data-verdict', 'clean', { timeout: 90_000 });
    await expect(panel.getByTestId('drift-verdict')).toHaveText("No drift: the target's schema is exactly what its 1 applied migration builds.");
    await expect(panel.getByTestId('drift-badge')).toHaveText('no drift');
    await expect(panel).toContainText(`against ${fileName}`);

    // Someone changes the target by hand.
    await demoDatabase((c) => c.query(`ALTER TABLE orders ADD COLUMN ${column} text`));
    await panel.getByRole('button', { name: 'Check drift' }).click();
    await expect(panel).toHaveAttribute('data-verdict', 'drifted', { timeout: 90_000 });
    await expect(panel.getByTestId('drift-verdict')).toContainText('Drift: the target differs from what its 1 applied migration builds, in 1 place.');
    await expect(panel.getByTestId('drift-badge')).toHaveText('drifted');
    await expect(panel.getByTestId('drift-advice')).toContainText('a migration that records the change');
    await expect(panel.getByTestId('drift-differences').getByRole('listitem')).toHaveText([`+ column public.orders.${column} text`]);
    await expect(page.getByTestId('audit-log')).toContainText('run.succeeded');
  } finally {
    await demoDatabase(async (c) => {
      await c.query(`ALTER TABLE orders DROP COLUMN IF EXISTS ${column}`);
      await c.query(`DELETE FROM "_prisma_migrations" WHERE migration_name = $1`, [migration]);
    });
  }
});
