import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The machine's PostgreSQL (see DESIGN.md); override with CUTOVER_TEST_PG_URL. */
export const TEST_SERVER_URL = process.env.CUTOVER_TEST_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export function urlForDatabase(name: string): string {
  const u = new URL(TEST_SERVER_URL);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A fresh, empty database for one test file; `drop()` removes it. */
export async function createScratchDatabase(prefix = 'cutover_test') {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`;
  const admin = new Client({ connectionString: TEST_SERVER_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE "${name}"`);
  await admin.end();
  return {
    name,
    url: urlForDatabase(name),
    async drop() {
      const c = new Client({ connectionString: TEST_SERVER_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await c.end();
    },
  };
}

export { withClient } from '@/lib/engine/connection';
