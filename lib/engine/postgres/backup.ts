import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ArtifactStore } from '../../artifacts/store';
import { formatBytes } from '../../domain/format-bytes';
import { connectWithTimeout, pgClientConfig, readOnlySession, type PgTargetSettings } from '../connection';
import { describeTables, tableChecksums, type ChecksumColumn as ColumnInfo, type TableChecksum } from './checksum';
import { explainDumpError, findPgTool, libpqEnv } from './pg-tools';
import { majorOf } from './sandbox';

/** A PostgreSQL client tool's version, as `--version` prints it. */
export interface PgToolVersion {
  tool: 'pg_dump' | 'pg_restore';
  /** "15.20" */
  version: string;
  /** 15 (9.6 for the old scheme). */
  major: number;
}

/** "pg_dump (PostgreSQL) 15.20 (Debian 15.20-0+deb12u1)" → 15.20; "17devel" → 17. */
export function parseToolVersion(tool: PgToolVersion['tool'], output: string): PgToolVersion {
  const m = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(output);
  if (!m) throw new Error(`${tool} did not say which version it is (it printed ${JSON.stringify(output.trim().slice(0, 120))}).`);
  const first = Number(m[1]);
  const second = m[2] === undefined ? 0 : Number(m[2]);
  return { tool, version: m[2] === undefined ? m[1] : `${m[1]}.${m[2]}`, major: first >= 10 ? first : first + second / 10 };
}

/** Runs `<tool> --version` (the tool findPgTool finds) with nothing of this process's environment but PATH. */
export function pgToolVersion(tool: PgToolVersion['tool'], signal?: AbortSignal): Promise<PgToolVersion> {
  return new Promise((resolve, reject) => {
    const child = spawn(findPgTool(tool), ['--version'], { env: { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH }, signal, killSignal: 'SIGKILL' });
    let out = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (out += b));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(parseToolVersion(tool, out));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** The machine's pg_dump cannot dump the target's server: refused before anything is read or written. */
export class PgDumpTooOldError extends Error {
  constructor(readonly pgDump: PgToolVersion, readonly server: { version: string; major: number }) {
    super(
      `pg_dump ${pgDump.version} is older than the target's PostgreSQL ${server.version} and cannot back it up. ` +
        `Install the client tools of PostgreSQL ${server.major} or newer (e.g. apt-get install postgresql-client-${server.major}) ` +
        `and point CUTOVER_PG_BIN_DIR at them (e.g. /usr/lib/postgresql/${server.major}/bin).`,
    );
    this.name = 'PgDumpTooOldError';
  }
}

export interface BackupProgress {
  stage: 'checking' | 'snapshot' | 'dumping' | 'checksums' | 'stored';
  message: string;
  /** The table pg_dump is copying (schema.table), from its --verbose lines. */
  table?: string;
  tablesDumped?: number;
  tablesTotal?: number;
  bytesWritten?: number;
}

export interface BackupResult {
  key: string;
  sha256: string;
  sizeBytes: number;
  format: 'custom';
  database: string;
  serverVersion: string;
  serverVersionNum: number;
  pgDumpVersion: string;
  startedAt: string;
  /** The whole backup: versions, snapshot, dump and checksums, until the file is stored. */
  durationMs: number;
  /** pg_dump alone. */
  dumpMs: number;
  /** The per-table checksums in the dump's snapshot, computed after the dump. */
  checksumMs: number;
  /** Row count and content checksum of every table, in the exact snapshot pg_dump dumped. */
  checksums: TableChecksum[];
  /** The columns each checksum hashed: what a restore script needs to compute the same checksums in SQL. */
  layouts: TableLayout[];
}

/** A table's columns as its checksum hashes them (restore-script.ts turns them back into SQL). */
export interface TableLayout {
  /** schema.table as in the checksums. */
  table: string;
  /** Both parts quoted, for SQL. */
  sqlName: string;
  /** As describeTables reads them: name, base type, and whatever else the row hash depends on. */
  columns: ColumnInfo[];
}

/** How long a backup waits for its read locks behind an exclusive one (a running migration) before it gives up. */
const BACKUP_LOCK_TIMEOUT_MS = 60_000;

const TABLE_LINE = /dumping contents of table "(.+)"\s*$/;

/**
 * Backs up `target` with `pg_dump -Fc` into `store` under `key`, together with per-table row
 * counts and content checksums that describe exactly what the dump holds: a REPEATABLE READ, READ
 * ONLY transaction exports its snapshot, pg_dump dumps that snapshot (`--snapshot`; it can only
 * import a snapshot whose exporting transaction is still open), then the checksums are computed in
 * the same transaction. Writers keep writing meanwhile; neither reading sees them. One reading at a
 * time: a backup takes one core of the target, as pg_dump alone does. A pg_dump older than the server is refused before anything starts.
 */
export async function backupDatabase(
  target: PgTargetSettings,
  store: ArtifactStore,
  key: string,
  options: { signal?: AbortSignal; onProgress?: (p: BackupProgress) => void } = {},
): Promise<BackupResult> {
  const { signal, onProgress = () => undefined } = options;
  const started = performance.now();
  const startedAt = new Date().toISOString();
  onProgress({ stage: 'checking', message: 'checking the versions of pg_dump and the server' });
  const pgDump = await pgToolVersion('pg_dump', signal);
  const client = await connectWithTimeout({ ...readOnlySession(pgClientConfig(target)), application_name: 'cutover backup (read-only)' }, target.connectTimeoutMs);
  // A cancel ends the session (and so its query) as well as pg_dump.
  const onAbort = () => void client.end().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const server = (await client.query<{ num: number; v: string }>(
      `SELECT pg_catalog.current_setting('server_version_num')::int AS num, pg_catalog.current_setting('server_version') AS v`,
    )).rows[0];
    const serverMajor = majorOf(server.num);
    if (pgDump.major < serverMajor) throw new PgDumpTooOldError(pgDump, { version: server.v.split(' ')[0], major: serverMajor });

    onProgress({ stage: 'snapshot', message: 'exporting a repeatable-read snapshot of the target' });
    // As pg_dump reads: a policy that would hide rows makes the read fail rather than count fewer rows than the dump holds.
    await client.query('SET row_security = off');
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const snapshotId = (await client.query<{ id: string }>('SELECT pg_catalog.pg_export_snapshot() AS id')).rows[0].id;
    const layouts: TableLayout[] = (await describeTables(client)).map((t) => ({
      table: t.qualified, sqlName: t.sqlName, columns: t.columns,
    }));
    // Held until COMMIT, after the checksums: pg_dump's own locks end with pg_dump, and a TRUNCATE or a
    // rewriting ALTER in between (not MVCC-safe) would show the checksums another table than the dump.
    if (layouts.length > 0) {
      await client.query(`SET LOCAL lock_timeout = ${BACKUP_LOCK_TIMEOUT_MS}`);
      await client.query(`LOCK TABLE ${layouts.map((l) => l.sqlName).join(', ')} IN ACCESS SHARE MODE`).catch((err: Error) => {
        throw new Error(`Could not lock the target's tables for reading within ${BACKUP_LOCK_TIMEOUT_MS / 1000} s (${err.message}): something holds an exclusive lock on one of them; back up again when it is done.`, { cause: err });
      });
    }

    const dumpStarted = performance.now();
    const dumped = await dumpIntoStore(target, store, key, snapshotId, { signal, tablesTotal: layouts.length, onProgress });
    const dumpMs = Math.round(performance.now() - dumpStarted);
    // After the dump, in the same snapshot (the transaction is still open), one table at a time and
    // without parallel workers: the backup holds one core of the target, not all of them.
    let checksums: TableChecksum[];
    const checksumStarted = performance.now();
    try {
      checksums = await tableChecksums(client, { signal, serial: true });
    } catch (err) {
      await store.delete(key).catch(() => undefined);
      throw err;
    }
    const checksumMs = Math.round(performance.now() - checksumStarted);
    onProgress({ stage: 'checksums', message: `checksums of ${checksums.length} tables computed in the dump's snapshot` });
    await client.query('COMMIT');
    onProgress({ stage: 'stored', message: `stored ${formatBytes(dumped.sizeBytes)} (${dumped.sizeBytes.toLocaleString('en-US')} bytes) as ${key} in ${store.label}`, bytesWritten: dumped.sizeBytes });
    return {
      ...dumped,
      format: 'custom',
      database: target.database,
      serverVersion: server.v,
      serverVersionNum: server.num,
      pgDumpVersion: pgDump.version,
      startedAt,
      durationMs: Math.round(performance.now() - started),
      dumpMs,
      checksumMs,
      checksums,
      layouts,
    };
  } catch (err) {
    if (signal?.aborted) throw new Error('The backup was cancelled.', { cause: err });
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

/**
 * Streams `pg_dump -Fc --snapshot` of the target into the store, hashing on the way. The store
 * keeps nothing unless pg_dump ended well: the stream fails with pg_dump's own error otherwise.
 * Credentials travel in libpq's environment; the session is read-only whatever pg_dump does.
 */
async function dumpIntoStore(
  target: PgTargetSettings,
  store: ArtifactStore,
  key: string,
  snapshotId: string,
  options: { signal?: AbortSignal; tablesTotal: number; onProgress: (p: BackupProgress) => void },
) {
  const { signal, tablesTotal, onProgress } = options;
  const child = spawn(
    findPgTool('pg_dump'),
    ['--format=custom', '--verbose', '--no-password', `--snapshot=${snapshotId}`],
    { env: libpqEnv(target, { readOnly: true }), signal, killSignal: 'SIGKILL', stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  let tablesDumped = 0;
  let bytesWritten = 0;
  let table: string | undefined;
  createInterface({ input: child.stderr }).on('line', (line) => {
    stderr.push(line);
    if (stderr.length > 200) stderr.shift();
    const m = TABLE_LINE.exec(line);
    if (m) {
      table = m[1];
      tablesDumped++;
      onProgress({ stage: 'dumping', message: `dumping ${table}`, table, tablesDumped, tablesTotal, bytesWritten });
    }
  });
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  exited.catch(() => undefined);
  async function* output() {
    let reported = 0;
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      bytesWritten += chunk.length;
      if (bytesWritten - reported >= 8 << 20) {
        reported = bytesWritten;
        onProgress({ stage: 'dumping', message: table ? `dumping ${table}` : 'dumping', table, tablesDumped, tablesTotal, bytesWritten });
      }
      yield chunk;
    }
    const code = await exited;
    if (code !== 0) throw new Error(`pg_dump failed: ${signal?.aborted ? 'cancelled' : explainDumpError(stderr.join('\n'))}`);
  }
  try {
    return await store.put(key, output(), { signal });
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}

/** Row counts and checksums keyed by table, for comparisons. */
export function checksumsByTable(checksums: TableChecksum[]): Map<string, TableChecksum> {
  return new Map(checksums.map((c) => [c.table, c]));
}
