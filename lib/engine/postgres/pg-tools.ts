import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { PgTargetSettings } from '../connection';

/** Where pg_dump and pg_restore are: CUTOVER_PG_BIN_DIR, then PATH, then Debian's versioned folders. */
export function findPgTool(tool: 'pg_dump' | 'pg_restore'): string {
  const dirs = [
    process.env.CUTOVER_PG_BIN_DIR,
    ...(process.env.PATH ?? '').split(path.delimiter),
    ...(existsSync('/usr/lib/postgresql')
      ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`)
      : []),
  ].filter((d): d is string => Boolean(d));
  for (const dir of dirs) if (existsSync(path.join(dir, tool))) return path.join(dir, tool);
  throw new Error(`${tool} was not found. Install the PostgreSQL client tools (e.g. apt-get install postgresql-client) or set CUTOVER_PG_BIN_DIR.`);
}


/** libpq's environment for a connection: the password never appears on a command line. */
export function libpqEnv(c: PgTargetSettings): NodeJS.ProcessEnv {
  return {
    // Only what libpq needs: nothing of this process's environment leaks into pg_dump's.
    NODE_ENV: process.env.NODE_ENV,
    PATH: process.env.PATH,
    PGHOST: c.host,
    PGPORT: String(c.port),
    PGDATABASE: c.database,
    PGUSER: c.username,
    ...(c.password ? { PGPASSWORD: c.password } : {}),
    PGSSLMODE: c.sslMode === 'verify-full' ? 'verify-full' : c.sslMode === 'require' ? 'require' : 'disable',
    PGCONNECT_TIMEOUT: String(Math.max(2, Math.ceil(c.connectTimeoutMs / 1000))),
    PGAPPNAME: 'cutover',
  };
}

/** pg_dump refuses servers newer than itself; say so in words a person can act on. */
export function explainDumpError(stderr: string): string {
  const mismatch = /server version: ([\d.]+); pg_dump version: ([\d.]+)/.exec(stderr);
  if (mismatch) {
    return `pg_dump ${mismatch[2]} cannot dump a PostgreSQL ${mismatch[1]} server. Install the client tools of version ${mismatch[1].split('.')[0]} or newer and point CUTOVER_PG_BIN_DIR at them.`;
  }
  return stderr.trim().split('\n').slice(-3).join(' ');
}

/**
 * Copies the schema of one database into another, empty one: pg_dump --schema-only piped into
 * pg_restore, without owners or privileges (the scratch database belongs to the runner).
 */
export function cloneSchema(from: PgTargetSettings, to: PgTargetSettings): Promise<void> {
  return new Promise((resolve, reject) => {
    const dump = spawn(findPgTool('pg_dump'), ['--schema-only', '--format=custom', '--no-owner', '--no-privileges'], { env: libpqEnv(from) });
    const restore = spawn(findPgTool('pg_restore'), ['--no-owner', '--no-privileges', '--exit-on-error', '--dbname', to.database], { env: libpqEnv(to) });
    let dumpErr = '';
    let restoreErr = '';
    dump.stderr.on('data', (b) => (dumpErr += b));
    restore.stderr.on('data', (b) => (restoreErr += b));
    dump.stdout.pipe(restore.stdin);
    let dumpCode: number | null = null;
    let restoreCode: number | null = null;
    const settle = () => {
      if (dumpCode === null || restoreCode === null) return;
      if (dumpCode !== 0) reject(new Error(`pg_dump failed: ${explainDumpError(dumpErr)}`));
      else if (restoreCode !== 0) reject(new Error(`pg_restore failed: ${restoreErr.trim().split('\n').slice(-3).join(' ')}`));
      else resolve();
    };
    dump.on('error', reject);
    restore.on('error', reject);
    dump.on('close', (code) => ((dumpCode = code ?? 1), settle()));
    restore.on('close', (code) => ((restoreCode = code ?? 1), settle()));
  });
}
