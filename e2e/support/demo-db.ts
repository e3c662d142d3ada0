import { Client } from 'pg';
import { E2E_DEMO_DATABASE, PG_ADMIN_URL } from './env';

/**
 * Removes what a spec applied to the shared demo database (tables whose names start with
 * `prefix`, and the _prisma_migrations rows named so or listed), so later specs see the demo shop as seeded.
 */
export async function cleanDemoDatabase(prefix: string, migrationNames: string[] = []): Promise<void> {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${E2E_DEMO_DATABASE}`;
  const client = new Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT format('%I.%I', schemaname, tablename) AS name FROM pg_tables WHERE schemaname = 'public' AND starts_with(tablename, $1)`,
      [prefix],
    );
    for (const { name } of rows) await client.query(`DROP TABLE IF EXISTS ${name} CASCADE`);
    if ((await client.query(`SELECT to_regclass('public._prisma_migrations') AS t`)).rows[0].t) {
      await client.query(`DELETE FROM _prisma_migrations WHERE strpos(migration_name, $1) > 0 OR migration_name = ANY($2)`, [prefix, migrationNames]);
    }
  } finally {
    await client.end();
  }
}
