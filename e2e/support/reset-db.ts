/**
 * Drops and recreates the e2e databases so every run starts from an empty store.
 * Runs as the first half of the webServer command: Playwright starts the web server
 * before globalSetup, and the server migrates and seeds the store as it starts.
 */
import { Client } from 'pg';
import { E2E_DATABASE, E2E_DEMO_DATABASE, PG_ADMIN_URL } from './env';

export async function resetDatabases(): Promise<void> {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    for (const name of [E2E_DATABASE, E2E_DEMO_DATABASE]) {
      // FORCE: a server left over from an interrupted run must not keep the old store alive.
      await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      await client.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await client.end();
  }
}

resetDatabases()
  .then(() => console.log('[e2e] recreated databases cutover_e2e and cutover_e2e_demo'))
  .catch((err) => {
    console.error('[e2e] could not reset the e2e databases on the test PostgreSQL:', err instanceof Error ? err.message : err);
    process.exit(1);
  });
