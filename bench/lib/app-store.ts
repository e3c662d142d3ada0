import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { migrateAppStore } from '../../lib/db/migrate';
import { databaseUrl, recreateDatabase } from './database';

/**
 * A scratch app store for a benchmark: the database recreated and migrated, the environment of the
 * server it will be served by (fresh secrets, artifacts and data under `workDir`), and the same
 * store and key set in this process, which calls the services too (seeding, queuing runs).
 * `onCreated` runs once the database exists, so the caller can drop it whatever fails next.
 */
export async function prepareBenchStore(options: { database: string; port: number; workDir: string; onCreated: () => void }) {
  const url = databaseUrl(options.database);
  await recreateDatabase(options.database);
  options.onCreated();
  await migrateAppStore(url);
  const serverEnv: Record<string, string> = {
    DATABASE_URL: url,
    NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
    NEXTAUTH_URL: `http://localhost:${options.port}`,
    CUTOVER_SECRET_KEY: randomBytes(32).toString('hex'),
    CUTOVER_ARTIFACTS_DIR: path.join(options.workDir, 'artifacts'),
    CUTOVER_DATA_DIR: path.join(options.workDir, 'data'),
  };
  Object.assign(process.env, { DATABASE_URL: url, CUTOVER_SECRET_KEY: serverEnv.CUTOVER_SECRET_KEY, CUTOVER_ARTIFACTS_DIR: serverEnv.CUTOVER_ARTIFACTS_DIR, CUTOVER_DATA_DIR: serverEnv.CUTOVER_DATA_DIR });
  const { ensureTemplate } = await import('../../lib/services/bootstrap');
  await ensureTemplate();
  return { url, serverEnv };
}
