import { statSync } from 'node:fs';
import { Client } from 'pg';
import { z } from 'zod';
import {
  DEFAULT_ALLOWED_EXTENSIONS, FENCE_KINDS, MigrationError, TargetBusyError, readOnlySession, reapAbandonedSandboxes, rehearsalServerFromUrl, startSandbox,
  type FenceAllowances, type PgTargetSettings, type RehearsalServer, type Sandbox, type ScriptResult,
} from '../engine';

/** Exit codes: 0 all is well, 1 the work failed (or there is work left), 2 the command was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/** The command line was wrong: exit 2. Only mistakes in the arguments themselves show the whole usage text. */
export class UsageError extends Error {
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

/**
 * One `cutover <name>` command: a file under lib/cli/commands/ and a line in its index.
 * main() parses the flags with `flags` (a strict zod object: unknown flags are usage errors,
 * exit 2), handles --json, --help and --url-env, and calls `run` with the parsed input.
 * `run` returns the exit code; it throws UsageError for a wrong command line, and anything else
 * it throws is reported as a failure (exit 1, `{ ok: false, error }` with --json).
 */
export interface CliCommand<Flags extends z.ZodType = z.ZodType> {
  name: string;
  /** Its lines in --help: the command and its flags on the left (at column 2), what it does from column 34. */
  usage: string;
  flags: Flags;
  run(input: z.infer<Flags>, ctx: { json: boolean; io: Io }): Promise<number>;
}

/** Keeps the flags' type through to `run`. */
export const defineCommand = <F extends z.ZodType>(c: CliCommand<F>): CliCommand<F> => c;

// Flags several commands share.
export const url = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// connection string');
export const ms = z.coerce.number().int().min(0).max(86_400_000);
export const timeouts = { 'lock-timeout': ms.default(5000), 'statement-timeout': ms.default(0) };
// The SQL fence's allowances: none by default, as for a target nobody has allowed anything on.
const kindIds = FENCE_KINDS.map((k) => k.id);
export const fenceFlags = {
  allow: z.string().optional().refine((v) => !v || v.split(',').every((k) => kindIds.includes(k.trim())), `must name fence kinds: ${kindIds.join(', ')}`),
  'allow-extension': z.string().optional(),
};
export function fenceFrom(input: { allow?: string; 'allow-extension'?: string }): FenceAllowances {
  const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  return { allowedKinds: list(input.allow), allowedExtensions: [...DEFAULT_ALLOWED_EXTENSIONS, ...list(input['allow-extension'])] };
}

/**
 * Where a command replays or restores: never the database's own server. The rehearsal server of
 * --sandbox-url (or CUTOVER_SANDBOX_URL), else a sandbox (embedded PostgreSQL) started for this
 * command at the first `get()`, announced to `onStarted`, and stopped by `stop()`.
 */
export function commandSandbox(sandboxUrl: string | undefined, onStarted?: (s: Sandbox) => void): { get(): Promise<RehearsalServer>; stop(): Promise<void> } {
  const named = sandboxUrl ?? process.env.CUTOVER_SANDBOX_URL;
  let server: Promise<RehearsalServer> | undefined;
  let own: Sandbox | undefined;
  const start = async () => {
    if (named) return rehearsalServerFromUrl(named);
    await reapAbandonedSandboxes();
    own = await startSandbox();
    onStarted?.(own);
    return own;
  };
  return {
    get: () => (server ??= start()),
    stop: async () => {
      await own?.stop();
    },
  };
}

async function connect(connectionString: string, label: string, readOnly: boolean): Promise<Client> {
  // The label names this run to anyone who finds its lock taken.
  const config = { connectionString, connectionTimeoutMillis: 10_000, application_name: `cutover-cli ${label} (pid ${process.pid})` };
  const client = new Client(readOnly ? readOnlySession(config) : config);
  await client.connect();
  return client;
}

/** A session for `fn`; label 'read' (the default) and 'diff' sessions are read-only. */
export async function withDb<T>(connectionString: string, fn: (c: Client) => Promise<T>, label = 'read'): Promise<T> {
  const client = await connect(connectionString, label, label === 'read' || label === 'diff');
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export const statements = (n: number) => `${n} statement${n === 1 ? '' : 's'}`;

export function describeRun(r: ScriptResult): string {
  const outside = r.statements.filter((x) => !x.transactional).length;
  return `(${statements(r.statements.length)}, ${r.durationMs} ms${outside ? `, ${outside} outside a transaction` : ''})`;
}

/** Work that changes a database: exit 0, or 1 with the migration and the reason. */
export async function reportWork(json: boolean, io: Io, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof MigrationError) && !(err instanceof TargetBusyError)) throw err;
    const migration = err instanceof MigrationError ? err.migrationName : undefined;
    if (json) io.out(JSON.stringify({ ok: false, migration, error: err.message, evidence: err instanceof MigrationError ? err.evidence : undefined }, null, 2));
    else io.err(`error: ${err.message}`);
    return EXIT.failed;
  }
}

/** A --dir that must be a folder: a missing one is a mistake on the command line (exit 2), not a failed check. */
export function existingDirectory(dir: string, flag = '--dir'): string {
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new UsageError(`${flag} ${dir}: no such directory.`);
  }
  if (!isDir) throw new UsageError(`${flag} ${dir}: not a directory.`);
  return dir;
}

/** The engine's settings for a postgresql:// URL (the password from PGPASSWORD when the URL has none). */
export function settingsFromUrl(connectionString: string): PgTargetSettings {
  const u = new URL(connectionString);
  return {
    host: u.hostname || 'localhost', port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    username: decodeURIComponent(u.username) || 'postgres', password: u.password ? decodeURIComponent(u.password) : (process.env.PGPASSWORD ?? null),
    sslMode: u.searchParams.get('sslmode') ?? 'disable', connectTimeoutMs: 10_000,
  };
}
