import { Client } from 'pg';
import { ADMIN_EMAIL, DATABASE_URL, DEMO_TARGET } from './support/env';

/**
 * Runs after the web server is up (Playwright starts webServer first; the databases were
 * recreated by e2e/support/reset-db.ts just before it). Refuses to run the specs against
 * a store that is not fresh: they count requests and expect only what start.ts seeds.
 */
export default async function globalSetup() {
  const client = new Client({ connectionString: DATABASE_URL });
  await client.connect();
  try {
    const { rows: users } = await client.query<{ email: string }>('SELECT email FROM users');
    const { rows: requests } = await client.query('SELECT 1 FROM migration_requests');
    const { rows: targets } = await client.query<{ name: string }>('SELECT name FROM target_databases');
    const problems = [
      users.length === 1 && users[0].email === ADMIN_EMAIL ? null : `expected only ${ADMIN_EMAIL}, found ${users.map((u) => u.email).join(', ')}`,
      requests.length === 0 ? null : `expected no requests, found ${requests.length}`,
      targets.some((t) => t.name === DEMO_TARGET) ? null : `the "${DEMO_TARGET}" target is missing`,
    ].filter(Boolean);
    if (problems.length) throw new Error(`The e2e store is not fresh: ${problems.join('; ')}.`);
  } finally {
    await client.end();
  }
}
