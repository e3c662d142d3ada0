import path from 'node:path';
import { Client } from 'pg';
import { applyMigrations, readMigrationsDir, type ApplyResult, DEFAULT_FENCE_ALLOWANCES } from '../engine';

export const APP_MIGRATIONS_DIR = path.join(process.cwd(), 'prisma', 'migrations');

/** Brings the app store's schema up to date; throws MigrationError naming the migration that failed. */
export async function migrateAppStore(databaseUrl: string, dir = APP_MIGRATIONS_DIR): Promise<ApplyResult> {
  const client = new Client({ connectionString: databaseUrl, application_name: 'cutover-migrate' });
  await client.connect();
  try {
    // Cutover's own migrations pass the fence as any team's would; nothing is allowed beyond the defaults.
    return await applyMigrations(client, readMigrationsDir(dir), { fence: DEFAULT_FENCE_ALLOWANCES });
  } finally {
    await client.end();
  }
}
