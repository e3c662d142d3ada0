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

/** Opens a pg client that gives up after `timeoutMs` instead of hanging on a silent host. */
export async function connectWithTimeout(config: ClientConfig, timeoutMs: number): Promise<Client> {
  const client = new Client({ ...config, connectionTimeoutMillis: timeoutMs, query_timeout: timeoutMs * 4 });
  keepQuietWhenIdle(client);
  await client.connect();
  return client;
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
    client = await connectWithTimeout(pgClientConfig(t), t.connectTimeoutMs);
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
