import { createHash, randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { chmod, link, lstat, mkdtemp, rm, unlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import { pipeline } from 'node:stream/promises';
import { ArtifactIntegrityError, copyVerified, describeMismatch, type ArtifactStore } from '../../artifacts/store';
import { keepQuietWhenIdle, pgClientConfig, type PgTargetSettings } from '../connection';
import { checksumsByTable, pgToolVersion } from './backup';
import { tableChecksums, type TableChecksum } from './checksum';
import { findPgTool, libpqEnv, runTool } from './pg-tools';
import { dropScratchDatabase, scratchDatabaseName } from './rehearsal';
import { restoreAsRole } from './restore-as-role';
import { assertRestorable, createScratchOwner, describeAdmin, majorOf, warmSandbox, type RehearsalServer } from './sandbox';
import { DEFAULT_FENCE_ALLOWANCES, type FenceAllowances } from './sql-guard';

/** What a drill needs to know of a backup: where its bytes are, what they hashed to, what the tables held. */
export interface BackupArtifact {
  key: string;
  sha256: string;
  sizeBytes: number;
  checksums: TableChecksum[];
}

export interface DrillTable {
  table: string;
  /** Rows at backup time. */
  rows: number;
  /** Rows in the restored copy (null: the table is missing there). */
  actualRows: number | null;
  expected: string;
  actual: string | null;
  equal: boolean;
}

export type DrillStep = 'integrity' | 'archive' | 'restore' | 'verify' | 'cleanup';

export interface DrillProgress {
  step: DrillStep;
  message: string;
  /** The table pg_restore is loading (schema.table), from its --verbose lines. */
  table?: string;
}

export interface DrillResult {
  ok: boolean;
  /** The step that failed, when one did. */
  failedStep?: DrillStep;
  error?: string;
  aborted?: boolean;
  key: string;
  sha256: string;
  sizeBytes: number;
  /** Where the copy was restored: never the target's server. */
  server?: string;
  scratchDatabase: string;
  archive?: ArchiveHeader;
  pgRestoreVersion?: string;
  /** Reading the file whole and checking its sha256 and size. */
  integrityMs: number;
  restoreMs: number;
  /** The checksums of the restored copy. */
  verifyMs: number;
  durationMs: number;
  tables: DrillTable[];
  /** Tables whose rows or checksum differ from the backup's (or are missing). */
  differing: string[];
}

export interface ArchiveHeader {
  format: string;
  tocEntries: number;
  /** The server the dump was taken from ("15.20 (Debian ...)"). */
  dumpedFrom: string;
  dumpedBy: string;
}

/** The header lines of `pg_restore --list` (";     Dumped by pg_dump version: 15.20 ..."). */
export function parseArchiveHeader(list: string): ArchiveHeader {
  const field = (name: string) => new RegExp(`^;\\s+${name}:\\s*(.+)$`, 'm').exec(list)?.[1].trim() ?? '';
  const header = { format: field('Format'), tocEntries: Number(field('TOC Entries')) || 0, dumpedFrom: field('Dumped from database version'), dumpedBy: field('Dumped by pg_dump version') };
  if (!header.format || !header.dumpedBy) throw new Error('pg_restore --list found no archive header: this is not a pg_dump archive.');
  return header;
}

/** "15.20 (Debian 15.20-0+deb12u1)" → 150020; "9.6.24" → 90624. */
export function pgVersionNum(version: string): number {
  const [a = 0, b = 0, c = 0] = (/^(\d+)(?:\.(\d+))?(?:\.(\d+))?/.exec(version) ?? []).slice(1).map((n) => Number(n ?? 0));
  return a >= 10 ? a * 10_000 + b : a * 10_000 + b * 100 + c;
}

/**
 * Runs pg_restore, reporting each table it starts loading (its --verbose lines, serial or -j).
 * Credentials travel in libpq's environment, never on the command line.
 */
function runPgRestore(args: string[], env: NodeJS.ProcessEnv, options: { signal?: AbortSignal; onTable?: (table: string) => void }): Promise<void> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new Error('pg_restore was not started: cancelled'));
    const child = spawn(findPgTool('pg_restore'), ['--verbose', ...args], { env, signal: options.signal, killSignal: 'SIGKILL', stdio: ['ignore', 'ignore', 'pipe'] });
    const errors: string[] = [];
    createInterface({ input: child.stderr }).on('line', (line) => {
      const m = /processing data for table "(.+)"/.exec(line) ?? /launching item \d+ TABLE DATA (\S+ \S+)/.exec(line);
      if (m) options.onTable?.(m[1].replace(' ', '.'));
      else if (/error|warning|detail|hint|command was/i.test(line)) {
        errors.push(line);
        if (errors.length > 20) errors.shift();
      }
    });
    child.on('error', (e) => reject(options.signal?.aborted ? new Error('pg_restore was stopped: cancelled') : e));
    child.on('close', (code) => {
      if (options.signal?.aborted) reject(new Error('pg_restore was stopped: cancelled'));
      else if (code === 0) resolve();
      else reject(new Error(`pg_restore failed: ${errors.slice(-3).join(' ') || `exit code ${code}`}`));
    });
  });
}

/** Compares the restored copy's checksums with the backup's, table by table. */
export function compareChecksums(expected: TableChecksum[], actual: TableChecksum[]): { tables: DrillTable[]; differing: string[] } {
  const found = checksumsByTable(actual);
  const tables: DrillTable[] = expected.map((e) => {
    const a = found.get(e.table);
    return { table: e.table, rows: e.rows, actualRows: a?.rows ?? null, expected: e.checksum, actual: a?.checksum ?? null, equal: !!a && a.rows === e.rows && a.checksum === e.checksum };
  });
  const known = new Set(expected.map((e) => e.table));
  for (const a of actual) {
    if (!known.has(a.table)) tables.push({ table: a.table, rows: 0, actualRows: a.rows, expected: '', actual: a.checksum, equal: false });
  }
  return { tables, differing: tables.filter((t) => !t.equal).map((t) => t.table) };
}

/** Where a drill restores: a server, one starting, or how to start one when it is needed. */
export type SandboxSource = RehearsalServer | Promise<RehearsalServer> | (() => Promise<RehearsalServer>);

export interface DrillOptions {
  signal?: AbortSignal;
  onProgress?: (p: DrillProgress) => void;
  /** Name the scratch database after the run, so that a dead worker's copy can be found and dropped. */
  scratch?: string;
  /** Extensions the restore may create (as for rehearsals). */
  fence?: FenceAllowances;
  /** pg_restore --jobs for the data and indexes (default: the machine's cores, at most 4). */
  jobs?: number;
}

class StepFailed extends Error {
  constructor(readonly step: DrillStep, message: string) {
    super(message);
  }
}

/**
 * The artifact's bytes as a file of the drill's own, checked against the recorded sha256 and
 * size: what pg_restore then reads is exactly what was checked (hashing the store's path and
 * handing pg_restore that path would let a file swapped in between be restored). The file lives
 * in a fresh directory only this user can enter (0700): a hard link to the store's file when the
 * store keeps files (no bytes copied; a file renamed over the stored one later leaves the link
 * on the old bytes), made beside the artifact so that both are on one file system; a copy,
 * hashed while it is written, otherwise (another file system, a store without files, or a stored
 * file this user does not own or that others may write, whose bytes could change in place).
 * `dirs` collects the directories to remove.
 */
async function verifiedPrivateCopy(
  store: ArtifactStore,
  key: string,
  expected: { sha256: string; sizeBytes: number },
  dirs: string[],
  signal?: AbortSignal,
): Promise<string> {
  const found = await store.stat(key);
  if (!found) throw new ArtifactIntegrityError({ ok: false, problem: 'missing', message: `${key} is missing from the artifact store.` });
  // A wrong size fails at once, before any hashing.
  const sized = describeMismatch(key, expected, found);
  if (!sized.ok) throw new ArtifactIntegrityError(sized);
  const privateDir = async (parent: string) => {
    const dir = await mkdtemp(path.join(parent, '.cutover-drill-'));
    dirs.push(dir);
    await chmod(dir, 0o700);
    return dir;
  };
  const hashOf = async (file: string) => {
    const hash = createHash('sha256');
    await pipeline(createReadStream(file), hash, { signal });
    return hash.digest('hex');
  };
  const check = (sha256: string, sizeBytes: number) => {
    const result = describeMismatch(key, expected, { sha256, sizeBytes });
    if (!result.ok) throw new ArtifactIntegrityError(result);
  };
  const name = path.basename(key);
  if (store.localPath) {
    const stored = store.localPath(key);
    const linked = await privateDir(path.dirname(stored))
      .then(async (dir) => {
        const file = path.join(dir, name);
        await link(stored, file);
        const s = await lstat(file);
        if (s.isFile() && s.uid === process.getuid?.() && (s.mode & 0o022) === 0) return { file, size: s.size };
        await unlink(file);
        return null;
      })
      .catch(() => null);
    if (linked) {
      check(await hashOf(linked.file), linked.size);
      return linked.file;
    }
  }
  const file = path.join(await privateDir(os.tmpdir()), name);
  await copyVerified(store, key, file, expected, signal);
  return file;
}

/**
 * The restore drill: proves that a backup restores and holds what the backup's checksums say.
 * 1. The file's size and sha256 are checked against those recorded when it was stored: a
 *    corrupted or truncated file fails here, before anything is restored. What is checked is a
 *    private link or copy of the file, and every later step reads that one (verifiedPrivateCopy).
 * 2. `pg_restore --list` reads the archive's table of contents; pg_restore and the sandbox must
 *    be at least as new as the pg_dump and the server that wrote it.
 * 3. A fresh role without special rights owns a fresh scratch database in the sandbox (the dump
 *    holds the target's code: functions, triggers, defaults). The server's admin restores schemas
 *    and allowed extensions, as a rehearsal's copy does (restoreAsRole); the role restores the
 *    rest, its data with several jobs.
 * 4. The restored copy's per-table row counts and checksums are compared with the backup's.
 * The scratch database and the role are dropped whatever happened.
 */
export async function drillRestore(
  store: ArtifactStore,
  artifact: BackupArtifact,
  /**
   * Where to restore; default: this process's warm sandbox. A function is called only once the
   * file has passed its checks (a CLI starts its own sandbox then, not for a corrupted file).
   */
  sandbox?: SandboxSource,
  options: DrillOptions = {},
): Promise<DrillResult> {
  const { signal, onProgress = () => undefined, scratch = scratchDatabaseName(randomBytes(6).toString('hex')), fence = DEFAULT_FENCE_ALLOWANCES } = options;
  const jobs = options.jobs ?? Math.max(1, Math.min(4, os.availableParallelism()));
  // A sandbox still starting when the file fails its checks must not become an unhandled rejection.
  if (sandbox instanceof Promise) sandbox.catch(() => undefined);
  const started = performance.now();
  const result: DrillResult = {
    ok: false, key: artifact.key, sha256: artifact.sha256, sizeBytes: artifact.sizeBytes, scratchDatabase: scratch,
    integrityMs: 0, restoreMs: 0, verifyMs: 0, durationMs: 0, tables: [], differing: [],
  };
  const expected = { sha256: artifact.sha256, sizeBytes: artifact.sizeBytes };
  let step: DrillStep = 'integrity';
  let server: RehearsalServer | undefined;
  let created = false;
  const role = scratch;

  const privateDirs: string[] = [];
  try {
    onProgress({ step, message: `checking the size and sha256 of ${artifact.key}` });
    let t = performance.now();
    const file = await verifiedPrivateCopy(store, artifact.key, expected, privateDirs, signal);
    result.integrityMs = Math.round(performance.now() - t);
    const workDir = await mkdtemp(path.join(os.tmpdir(), 'cutover-drill-'));
    try {
      step = 'archive';
      onProgress({ step, message: 'reading the archive\'s table of contents (pg_restore --list)' });
      const list = await runTool('pg_restore', ['--list', file], { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH }, signal).catch((err: Error) => {
        throw new StepFailed('archive', `The backup is not a readable pg_dump archive: ${err.message}`);
      });
      const archive = parseArchiveHeader(list);
      result.archive = archive;
      const pgRestore = await pgToolVersion('pg_restore', signal);
      result.pgRestoreVersion = pgRestore.version;
      const dumpedByMajor = majorOf(pgVersionNum(archive.dumpedBy));
      if (pgRestore.major < dumpedByMajor) {
        throw new StepFailed(
          'archive',
          `pg_restore ${pgRestore.version} is older than the pg_dump ${archive.dumpedBy} that wrote the backup and cannot read it. ` +
            `Install the client tools of PostgreSQL ${dumpedByMajor} or newer (e.g. apt-get install postgresql-client-${dumpedByMajor}) and point CUTOVER_PG_BIN_DIR at them.`,
        );
      }
      const entries = list.split('\n').filter((l) => l.trim() && !l.startsWith(';'));

      step = 'restore';
      t = performance.now();
      server = await (typeof sandbox === 'function' ? sandbox() : (sandbox ?? warmSandbox()));
      result.server = server.label;
      signal?.throwIfAborted();
      const admin = keepQuietWhenIdle(new Client({ ...pgClientConfig(server.admin), connectionTimeoutMillis: server.admin.connectTimeoutMs, application_name: 'cutover restore drill' }));
      await admin.connect();
      let password: string;
      try {
        const me = await describeAdmin(admin);
        try {
          assertRestorable({ num: pgVersionNum(archive.dumpedFrom), version: archive.dumpedFrom.split(' ')[0] }, { num: me.num, version: me.v, label: server.label });
        } catch (err) {
          throw new StepFailed('archive', (err as Error).message);
        }
        onProgress({ step, message: `restoring into ${scratch} in ${server.label}` });
        password = await createScratchOwner(admin, server, scratch, { superuser: me.superuser, onRole: () => (created = true) });
      } finally {
        await admin.end().catch(() => undefined);
      }
      const asAdmin: PgTargetSettings = { ...server.admin, database: scratch };
      const asRole: PgTargetSettings = { ...server.admin, database: scratch, username: role, password };
      const onTable = (table: string) => onProgress({ step: 'restore', message: `restoring ${table}`, table });
      await restoreAsRole(file, entries, {
        asAdmin, asRole, fence, label: server.label, workDir, appName: 'cutover restore drill', signal,
        // A whole backup: data and indexes with several jobs (so not one transaction), each table reported;
        // its owners, privileges, publications, subscriptions, tablespaces and security labels stay behind.
        restoreRest: (useList) => runPgRestore(
          [
            '--no-owner', '--no-privileges', '--no-publications', '--no-subscriptions', '--no-tablespaces', '--no-security-labels',
            '--exit-on-error', '--no-password', `--jobs=${jobs}`, `--use-list=${useList}`, '--dbname', asRole.database, file,
          ],
          libpqEnv(asRole),
          { signal, onTable },
        ),
      });
      result.restoreMs = Math.round(performance.now() - t);

      step = 'verify';
      t = performance.now();
      onProgress({ step, message: `computing the checksums of ${artifact.checksums.length} tables in the restored copy` });
      const client = keepQuietWhenIdle(new Client({ ...pgClientConfig(asRole), connectionTimeoutMillis: server.admin.connectTimeoutMs, application_name: 'cutover restore drill' }));
      await client.connect();
      const stopOnAbort = () => void client.end().catch(() => undefined);
      signal?.addEventListener('abort', stopOnAbort, { once: true });
      try {
        // A policy that would hide rows from the owner (FORCE ROW LEVEL SECURITY) makes the read fail instead.
        await client.query('SET row_security = off');
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        // Every table of the copy, not only the backup's: a table missing or extra is a difference too.
        const actual = await tableChecksums(client, { signal });
        await client.query('COMMIT');
        Object.assign(result, compareChecksums(artifact.checksums, actual));
      } finally {
        signal?.removeEventListener('abort', stopOnAbort);
        await client.end().catch(() => undefined);
      }
      result.verifyMs = Math.round(performance.now() - t);
    } finally {
      await rm(workDir, { recursive: true, force: true });
    }
    result.ok = result.differing.length === 0;
    if (!result.ok) {
      result.failedStep = 'verify';
      result.error = `${result.differing.length} table(s) differ from the backup's checksums: ${result.differing.slice(0, 5).join(', ')}${result.differing.length > 5 ? ', ...' : ''}`;
    }
  } catch (err) {
    if (signal?.aborted) {
      result.aborted = true;
      result.failedStep = step;
      result.error = `cancelled during ${step}`;
    } else if (err instanceof ArtifactIntegrityError) {
      result.failedStep = 'integrity';
      result.error = `${err.message} The backup cannot be restored.`;
    } else {
      result.failedStep = err instanceof StepFailed ? err.step : step;
      result.error = (err as Error).message;
    }
  } finally {
    for (const dir of privateDirs) await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    if (server && created) {
      onProgress({ step: 'cleanup', message: `dropping ${scratch} and its role` });
      await dropScratchDatabase(server, scratch).catch((e: Error) => {
        result.ok = false;
        result.failedStep ??= 'cleanup';
        result.error ??= `The scratch database ${scratch} could not be dropped: ${e.message}`;
      });
    }
    server?.refillSpare?.();
  }
  result.durationMs = Math.round(performance.now() - started);
  return result;
}
