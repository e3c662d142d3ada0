import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client, escapeIdentifier as id } from 'pg';
import type { ArtifactStore } from '../../artifacts/store';
import { pgClientConfig, type PgTargetSettings } from '../connection';
import type { TableChecksum } from '../driver';
import { PRISMA_MIGRATE_LOCK_KEY } from '../prisma-migrations';
import { findPgTool, libpqEnv, runTool } from './pg-tools';
import { tableChecksums } from './checksum';
import { compareChecksums, type DrillTable } from './restore-drill';

/**
 * Restores a backup (pg_dump custom archive in the artifact store) ONTO a target database: the
 * recovery of a failed deploy. One transaction: every user schema of the target is dropped and
 * the archive's SQL replayed (psql --single-transaction), so a failure part-way leaves the target
 * as it was. Before: the file is copied privately and checked against its sha256 and size. After:
 * every table's checksum is compared with those taken in the backup's snapshot. Cutover's
 * migration lock is held throughout, so no apply or down of Cutover's runs meanwhile.
 */

export type TargetRestoreStep = 'integrity' | 'script' | 'restore' | 'verify';

export interface TargetRestoreResult {
  ok: boolean;
  step: TargetRestoreStep;
  error?: string;
  tables: DrillTable[];
  differing: string[];
  restoreMs: number;
}

async function privateVerifiedCopy(store: ArtifactStore, key: string, expected: { sha256: string; sizeBytes: number }, dir: string, signal?: AbortSignal) {
  const file = path.join(dir, 'backup.dump');
  const hash = createHash('sha256');
  let size = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  await pipeline(await store.open(key), tap, createWriteStream(file, { mode: 0o600 }), { signal });
  const sha256 = hash.digest('hex');
  if (size !== expected.sizeBytes || sha256 !== expected.sha256) {
    throw new Error(`The backup's file is not what was stored (${size} bytes, sha256 ${sha256.slice(0, 12)}; recorded ${expected.sizeBytes} bytes, sha256 ${expected.sha256.slice(0, 12)}): it was not restored.`);
  }
  return file;
}

function runPsql(args: string[], env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<void> {
  const psql = path.join(path.dirname(findPgTool('pg_restore')), 'psql');
  return new Promise((resolve, reject) => {
    const child = spawn(psql, args, { env, signal, killSignal: 'SIGKILL' });
    let err = '';
    child.stderr.on('data', (b) => (err += b));
    child.stdout.resume();
    child.on('error', (e) => reject(signal?.aborted ? new Error('the restore was cancelled (rolled back)') : e));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`psql failed: ${err.trim().split('\n').slice(-3).join(' ')}`))));
  });
}

export async function restoreBackupOntoTarget(
  store: ArtifactStore,
  artifact: { key: string; sha256: string; sizeBytes: number; checksums: TableChecksum[] },
  target: PgTargetSettings,
  options: { signal?: AbortSignal; onProgress?: (step: TargetRestoreStep, message: string) => void } = {},
): Promise<TargetRestoreResult> {
  const say = options.onProgress ?? (() => undefined);
  const result: TargetRestoreResult = { ok: false, step: 'integrity', tables: [], differing: [], restoreMs: 0 };
  const dir = await mkdtemp(path.join(tmpdir(), 'cutover-restore-'));
  await chmod(dir, 0o700);
  const lock = new Client(pgClientConfig(target));
  lock.on('error', () => undefined);
  try {
    say('integrity', `checking the size and sha256 of ${artifact.key}`);
    const file = await privateVerifiedCopy(store, artifact.key, artifact, dir, options.signal);

    result.step = 'script';
    say('script', 'reading the archive');
    const sql = path.join(dir, 'restore.sql');
    await runTool('pg_restore', ['--no-owner', '--no-privileges', '--file', sql, file], { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH }, options.signal);

    result.step = 'restore';
    await lock.connect();
    const { rows: got } = await lock.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [PRISMA_MIGRATE_LOCK_KEY]);
    if (!got[0].ok) throw new Error(`Another migration holds ${target.database}'s migration lock: wait for it to finish, then restore again.`);
    const { rows: schemas } = await lock.query<{ nspname: string }>(
      `SELECT nspname FROM pg_catalog.pg_namespace
       WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND nspname NOT LIKE 'pg\\_temp\\_%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%'
       ORDER BY nspname`,
    );
    // DROP SCHEMA needs its owner (or a superuser): say so before anything is dropped, not halfway through psql.
    const refusal = await ownershipProblem(lock, target, schemas.map((s) => s.nspname));
    if (refusal) throw new Error(refusal);
    const wrapper = path.join(dir, 'wrapper.sql');
    // The archive recreates what it holds; public is created empty first as a fresh database has it.
    const archiveCreatesPublic = /^CREATE SCHEMA public;$/m.test(await readHead(sql));
    await writeFile(
      wrapper,
      [
        '\\set ON_ERROR_STOP on',
        ...schemas.map((s) => `DROP SCHEMA IF EXISTS ${id(s.nspname)} CASCADE;`),
        ...(archiveCreatesPublic ? [] : ['CREATE SCHEMA public;']),
        `\\i ${sql}`,
        '',
      ].join('\n'),
    );
    say('restore', `replacing ${schemas.length} schema(s) of ${target.database} with the backup, in one transaction`);
    const t = performance.now();
    await runPsql(['-X', '-q', '--single-transaction', '-v', 'ON_ERROR_STOP=1', '-f', wrapper], libpqEnv(target), options.signal);
    result.restoreMs = Math.round(performance.now() - t);

    result.step = 'verify';
    say('verify', "comparing every table's checksum with the backup's");
    const actual = await tableChecksums(lock, { signal: options.signal });
    const compared = compareChecksums(artifact.checksums, actual);
    result.tables = compared.tables;
    result.differing = compared.differing;
    if (compared.differing.length) throw new Error(`After the restore ${compared.differing.length} table(s) differ from the backup: ${compared.differing.slice(0, 5).join(', ')}.`);
    result.ok = true;
    return result;
  } catch (err) {
    result.error = err instanceof Error ? err.message : String(err);
    return result;
  } finally {
    await lock.end().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Whether the target's user may replace every schema the restore drops (it owns each one, is a
 * member of its owner's role, or is a superuser) and create schemas in the database (public and
 * the archive's). Null when it may; else which schema needs which owner, in words. Checked before
 * anything is dropped: the restore then never starts.
 */
export async function ownershipProblem(client: Client, target: Pick<PgTargetSettings, 'database'>, schemas: string[]): Promise<string | null> {
  const { rows: [me] } = await client.query<{ user: string; superuser: boolean; can_create: boolean }>(
    `SELECT current_user AS user, r.rolsuper AS superuser, pg_catalog.has_database_privilege(current_user, pg_catalog.current_database(), 'CREATE') AS can_create
     FROM pg_catalog.pg_roles r WHERE r.rolname = current_user`,
  );
  if (me.superuser) return null;
  const { rows: foreign } = await client.query<{ schema: string; owner: string }>(
    `SELECT n.nspname AS schema, pg_catalog.pg_get_userbyid(n.nspowner) AS owner FROM pg_catalog.pg_namespace n
     WHERE n.nspname = ANY($1::pg_catalog.text[]) AND NOT pg_catalog.pg_has_role(current_user, n.nspowner, 'MEMBER') ORDER BY n.nspname`,
    [schemas],
  );
  const problems: string[] = [];
  if (foreign.length) {
    problems.push(
      `the restore replaces every schema of ${target.database}, and ${me.user} does not own ${foreign.map((f) => `schema ${f.schema} (owned by ${f.owner})`).join(', ')}. ` +
      `Make ${me.user} their owner (ALTER SCHEMA ${foreign[0].schema} OWNER TO ${me.user}), or give the target a user that owns them, then restore again`,
    );
  }
  if (!me.can_create) problems.push(`${me.user} may not create schemas in ${target.database} (GRANT CREATE ON DATABASE ${target.database} TO ${me.user})`);
  return problems.length ? `Nothing was restored: ${problems.join('; and ')}.` : null;
}

async function readHead(file: string): Promise<string> {
  const s = await stat(file);
  // CREATE SCHEMA lines come first in a pg_restore script (pre-data, schemas before anything in them).
  const chunks: Buffer[] = [];
  let read = 0;
  for await (const chunk of createReadStream(file, { start: 0, end: Math.min(s.size, 1 << 20) })) {
    chunks.push(chunk as Buffer);
    read += (chunk as Buffer).length;
    if (read >= 1 << 20) break;
  }
  return Buffer.concat(chunks).toString('utf8');
}
