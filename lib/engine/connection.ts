import { Client, type ClientConfig } from 'pg';

/**
 * A connection the server ends while nobody is using it (a DROP DATABASE ... WITH (FORCE), a
 * restart) emits an error event; unheard, it would crash the process. The next query on the
 * client fails with a clear error anyway, so a note in the log is enough here.
 */
export function keepQuietWhenIdle<T extends { on(event: 'error', fn: (err: Error) => void): unknown }>(client: T): T {
  client.on('error', (err) => console.error('[cutover] database connection ended:', err.message));
  return client;
}

/**
 * Opens a pg client that gives up connecting after `timeoutMs` instead of hanging on a silent host.
 * No client-side read timeout unless asked for (`queryTimeoutMs`): a runner's statement may run
 * for as long as the server's statement_timeout allows, and a client that gave up early would
 * leave it running on the server while the run reports a failure.
 */
export async function connectWithTimeout(config: ClientConfig, timeoutMs: number, options: { queryTimeoutMs?: number } = {}): Promise<Client> {
  const client = new Client({ ...config, connectionTimeoutMillis: timeoutMs, ...(options.queryTimeoutMs ? { query_timeout: options.queryTimeoutMs } : {}) });
  keepQuietWhenIdle(client);
  await client.connect();
  return client;
}

/**
 * Startup options of a session that only reads a target (snapshots, status checks, the schema
 * and sample a rehearsal copies, impact analysis, backups): every transaction is read-only from
 * the first statement on; names resolve in pg_catalog only, so no object of the target's schemas
 * can stand in for a catalog function, operator or table (queries of such a session qualify user
 * objects with their schema); and row-level security is off, so reading a table never runs the
 * target's policy functions: where a policy would apply to Cutover's role, PostgreSQL refuses
 * the read instead (callers fall back or say so).
 */
export const READ_ONLY_OPTIONS = '-c default_transaction_read_only=on -c search_path=pg_catalog -c row_security=off';

/**
 * The same config for a read-only session. Options given in a connection string's `?options=`
 * come first, so ours (later -c settings win) cannot be switched off by the URL.
 */
export function readOnlySession(config: ClientConfig): ClientConfig {
  let urlOptions = '';
  let connectionString = config.connectionString;
  if (connectionString) {
    const u = new URL(connectionString);
    urlOptions = u.searchParams.get('options') ?? '';
    u.searchParams.delete('options');
    connectionString = u.toString();
  }
  const options = [urlOptions, config.options, READ_ONLY_OPTIONS].filter(Boolean).join(' ');
  return { ...config, ...(connectionString ? { connectionString } : {}), options };
}

export interface PgTargetSettings {
  host: string;
  port: number;
  database: string;
  username: string;
  password: string | null;
  sslMode: string;
  connectTimeoutMs: number;
}

export function pgClientConfig(t: PgTargetSettings): ClientConfig {
  return {
    host: t.host,
    port: t.port,
    database: t.database,
    user: t.username,
    password: t.password ?? undefined,
    ssl: t.sslMode === 'disable' ? false : { rejectUnauthorized: t.sslMode === 'verify-full' },
    application_name: 'cutover',
  };
}

export type ConnectionCheck = { ok: true; serverVersion: string; latencyMs: number } | { ok: false; error: string };

/** Connects for real and reports the server version, or a readable error within the timeout. */
export async function checkPostgresConnection(t: PgTargetSettings): Promise<ConnectionCheck> {
  const started = Date.now();
  let client: Client | undefined;
  try {
    // A connection check only reads the version: read-only, and bounded end to end.
    client = await connectWithTimeout(readOnlySession(pgClientConfig(t)), t.connectTimeoutMs, { queryTimeoutMs: t.connectTimeoutMs * 2 });
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    return { ok: true, serverVersion: `PostgreSQL ${rows[0].server_version}`, latencyMs: Date.now() - started };
  } catch (err) {
    return { ok: false, error: describeConnectionError(err, t) };
  } finally {
    await client?.end().catch(() => undefined);
  }
}

function describeConnectionError(err: unknown, t: PgTargetSettings): string {
  const e = err as { code?: string; message?: string };
  const where = `${t.host}:${t.port}/${t.database}`;
  switch (e.code) {
    case 'ECONNREFUSED':
      return `Connection refused by ${t.host}:${t.port}: no server is listening there.`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `Host ${t.host} could not be resolved.`;
    case '28P01':
    case '28000':
      return `Authentication failed for user ${t.username} on ${where}.`;
    case '3D000':
      return `Database ${t.database} does not exist on ${t.host}:${t.port}.`;
  }
  if (/timeout/i.test(e.message ?? '')) return `No answer from ${t.host}:${t.port} within ${t.connectTimeoutMs} ms.`;
  return `Could not connect to ${where}: ${e.message ?? String(err)}`;
}

/** Opens a client on `url` for `fn` and always closes it (set-up scripts and tests). */
export async function withClient<T>(url: string, fn: (c: Client) => Promise<T>): Promise<T> {
  const c = new Client({ connectionString: url });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end();
  }
}
