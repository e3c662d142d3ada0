/**
 * `npm start`: everything a first run needs, then the web server.
 * Without DATABASE_URL it runs an embedded PostgreSQL under .data/ and a demo target;
 * with it, it uses that PostgreSQL (several instances may share it).
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { withClient, MigrationError, stopWarmSandbox } from '../lib/engine';
import { ensureDatabase, persistentSecret, startEmbeddedPostgres, type EmbeddedServer } from '../lib/db/embedded';
import { migrateAppStore } from '../lib/db/migrate';
import { disconnectDb } from '../lib/db/client';
import { ensureDemo, ensureFirstAdmin, ensureTemplate } from '../lib/services/bootstrap';
import { initialAdminPasswordFile } from '../lib/db/initial-admin-password';
import { stopBoss } from '../lib/jobs/queue';
import { startWorker } from '../lib/jobs/worker';
import { startWebhookDispatcher } from '../lib/agents/webhooks';
import { lowerWorkerPriority } from '../lib/jobs/priority';
import { buildState } from './build-state';

const dev = process.argv.includes('--dev');
const dataDir = path.resolve(process.env.CUTOVER_DATA_DIR ?? '.data');
const port = Number(process.env.PORT ?? 3000);
const log = (msg: string) => console.log(`[cutover] ${msg}`);

async function main() {
  mkdirSync(dataDir, { recursive: true });
  process.env.CUTOVER_SECRET_KEY ??= persistentSecret(dataDir, 'secret.key', () => randomBytes(32).toString('hex'));
  process.env.NEXTAUTH_SECRET ??= persistentSecret(dataDir, 'auth-secret', () => randomBytes(32).toString('base64url'));
  process.env.NEXTAUTH_URL ??= `http://localhost:${port}`;

  let embedded: EmbeddedServer | undefined;
  let demoUrl: string | undefined;
  if (!process.env.DATABASE_URL) {
    const pgPort = Number(process.env.CUTOVER_EMBEDDED_PG_PORT ?? 54329);
    embedded = await startEmbeddedPostgres(dataDir, pgPort);
    log(`embedded PostgreSQL 15 on 127.0.0.1:${pgPort} (data in ${path.relative(process.cwd(), dataDir) || '.'}/pg)`);
    await ensureDatabase(embedded.urlFor('postgres'), 'cutover');
    await ensureDatabase(embedded.urlFor('postgres'), 'cutover_demo');
    // The cluster is Cutover's own: only its admin role may connect to the app store (the demo role may not).
    await withClient(embedded.urlFor('postgres'), (c) => c.query('REVOKE CONNECT ON DATABASE cutover FROM PUBLIC'));
    process.env.DATABASE_URL = embedded.urlFor('cutover');
    demoUrl = embedded.urlFor('cutover_demo');
  } else if (process.env.CUTOVER_DEMO === '1') {
    // Tests and trials on a shared server can ask for the demo target too.
    const url = new URL(process.env.DATABASE_URL);
    const demoName = `${url.pathname.slice(1)}_demo`;
    const admin = new URL(url);
    admin.pathname = '/postgres';
    await ensureDatabase(admin.toString(), demoName);
    url.pathname = `/${demoName}`;
    demoUrl = url.toString();
  }

  const stopAll = async () => {
    await stopBoss();
    // The warm rehearsal sandbox goes with this process (a killed one is reaped at the next start).
    await stopWarmSandbox().catch(() => undefined);
    await disconnectDb().catch(() => undefined);
    await embedded?.stop().catch(() => undefined);
  };

  try {
    const result = await migrateAppStore(process.env.DATABASE_URL!);
    log(result.applied.length ? `applied migrations: ${result.applied.join(', ')}` : 'app store schema is up to date');
  } catch (err) {
    const name = err instanceof MigrationError ? ` ${err.migrationName}` : '';
    console.error(`[cutover] refusing to start: migration${name} could not be applied.\n${(err as Error).message}`);
    await stopAll();
    process.exit(1);
  }

  await ensureTemplate();
  if (demoUrl) {
    // The demo target connects as its own role that owns only the demo database, never as the app store's.
    const { registered } = await ensureDemo(demoUrl);
    if (registered) log('registered the demo target "Demo shop" (2,000 customers, 3,000 orders)');
  }
  const admin = await ensureFirstAdmin({ email: process.env.CUTOVER_ADMIN_EMAIL, password: process.env.CUTOVER_ADMIN_PASSWORD });
  if (admin && !process.env.CUTOVER_ADMIN_PASSWORD) {
    // Kept (readable by this user only) in case the first start is interrupted before you see it.
    writeFileSync(initialAdminPasswordFile(dataDir), admin.password + '\n', { mode: 0o600 });
  }
  if (process.env.CUTOVER_WORKER !== '0') {
    const { interrupted } = await startWorker();
    startWebhookDispatcher();
    log(`job worker running in this process${interrupted.length ? ` (marked ${interrupted.length} orphaned run(s) interrupted)` : ''}`);
  }

  if (!dev && buildState() !== 'fresh') {
    log('building the web app (first start or changed sources)...');
    const build = spawnSync(process.execPath, [require.resolve('next/dist/bin/next'), 'build'], { stdio: 'inherit', env: process.env });
    if (build.status !== 0) {
      console.error('[cutover] the build failed; see above.');
      await stopAll();
      process.exit(1);
    }
  }

  const web = dev ? [require.resolve('next/dist/bin/next'), 'dev', '-p', String(port)] : [path.join(__dirname, 'web-server.mjs')];
  const child = spawn(process.execPath, web, {
    stdio: ['ignore', 'inherit', 'inherit'],
    env: { ...process.env, PORT: String(port), NODE_ENV: dev ? 'development' : 'production' },
  });
  log(`Cutover is starting on http://localhost:${port}`);
  // Only now: the web server (just spawned) and the app store's database keep their priority.
  if (process.env.CUTOVER_WORKER !== '0') lowerWorkerPriority(log);
  if (admin) {
    log(`first admin created. Sign in at http://localhost:${port}/signin with`);
    log(`    email:    ${admin.email}`);
    log(`    password: ${admin.password}`);
    if (!process.env.CUTOVER_ADMIN_PASSWORD) log(`(also in ${initialAdminPasswordFile(dataDir)} until that admin first signs in; change people and roles under People)`);
  }

  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    child.kill('SIGTERM');
    await stopAll();
    process.exit(code);
  };
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  child.on('exit', (code) => void shutdown(code ?? 0));
}

main().catch((err) => {
  console.error('[cutover] failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
