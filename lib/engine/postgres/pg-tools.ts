import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { READ_ONLY_OPTIONS, type PgTargetSettings } from '../connection';

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


/**
 * libpq's environment for a connection: the password never appears on a command line. With
 * `readOnly`, the session gets a read-only session's options (PGOPTIONS: READ_ONLY_OPTIONS), so a
 * dump of a target cannot write to it whatever pg_dump does, and no policy function runs.
 */
export function libpqEnv(c: PgTargetSettings, options: { readOnly?: boolean } = {}): NodeJS.ProcessEnv {
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
    ...(options.readOnly ? { PGOPTIONS: READ_ONLY_OPTIONS } : {}),
  };
}

/** pg_dump refuses servers newer than itself; say so in words a person can act on. */
export function explainDumpError(stderr: string): string {
  const mismatch = /server version: ([\d.]+); pg_dump version: ([\d.]+)/.exec(stderr);
  if (mismatch) {
    return `pg_dump ${mismatch[2]} cannot dump a PostgreSQL ${mismatch[1]} server. Install the client tools of version ${mismatch[1].split('.')[0]} or newer and point CUTOVER_PG_BIN_DIR at them.`;
  }
  return lastLines(stderr);
}

const lastLines = (text: string) => text.trim().split('\n').slice(-3).join(' ');

/**
 * Runs pg_dump or pg_restore and resolves with its stdout. An aborted `signal` kills it at once
 * (the rehearsal it belongs to was cancelled or ran out of time).
 */
export function runTool(tool: 'pg_dump' | 'pg_restore', args: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error(`${tool} was not started: cancelled`));
    const child = spawn(findPgTool(tool), args, { env, signal, killSignal: 'SIGKILL' });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    child.on('error', (e) => reject(signal?.aborted ? new Error(`${tool} was stopped: cancelled`) : e));
    child.on('close', (code) => {
      if (signal?.aborted) reject(new Error(`${tool} was stopped: cancelled`));
      else if (code === 0) resolve(out);
      else reject(new Error(`${tool} failed: ${tool === 'pg_dump' ? explainDumpError(err) : lastLines(err)}`));
    });
  });
}

/**
 * Dumps the schema of `from` (no data) into `file` in pg_dump's custom format, through a
 * read-only session. Owners, privileges, tablespaces, publications, subscriptions and security
 * labels stay behind: the copy belongs to the rehearsal's own role on another server.
 */
export async function dumpSchema(from: PgTargetSettings, file: string, options: { signal?: AbortSignal } = {}): Promise<void> {
  await runTool(
    'pg_dump',
    ['--schema-only', '--format=custom', '--no-owner', '--no-privileges', '--no-tablespaces', '--no-publications', '--no-subscriptions', '--no-security-labels', `--file=${file}`],
    libpqEnv(from, { readOnly: true }),
    options.signal,
  );
}

/** The table of contents of a custom-format archive (`pg_restore -l`), one entry a line. */
export async function listArchive(file: string): Promise<string[]> {
  const out = await runTool('pg_restore', ['--list', file], { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH });
  return out.split('\n').filter((l) => l.trim() && !l.startsWith(';'));
}

/**
 * Restores `file` (or the entries in `useList`) into `to.database` as `to.username`, stopping at
 * the first error. Objects belong to whoever logs in: a restore that must not run with an admin's
 * rights logs in as the role itself (a superuser with --role could be led back by RESET ROLE).
 */
export async function restoreArchive(
  file: string,
  to: PgTargetSettings,
  options: { useList?: string; signal?: AbortSignal } = {},
): Promise<void> {
  await runTool(
    'pg_restore',
    [
      '--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--dbname', to.database,
      ...(options.useList ? [`--use-list=${options.useList}`] : []),
      file,
    ],
    libpqEnv(to),
    options.signal,
  );
}
