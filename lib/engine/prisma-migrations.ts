import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';
import { runPlannedScript, type ScriptResult } from './postgres/runner';
import { SqlSyntaxError, planSql, type PlannedStatement } from './postgres/sql-plan';
import { assertFenceAllows, type FenceAllowances } from './postgres/sql-guard';

/** The advisory lock key Prisma Migrate itself takes, so Cutover and Prisma exclude each other. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
  /** Cutover's convention beside Prisma's migration.sql: the way back. */
  downSql?: string;
}

export interface ApplyResult {
  applied: string[];
  alreadyApplied: string[];
  /** Per applied migration: time and statements, as evidence. */
  evidence: Record<string, ScriptResult>;
}

/** Prisma Migrate's checksum: lowercase hex sha256 of migration.sql as written on disk. */
export function migrationChecksum(sql: string | Buffer): string {
  return createHash('sha256').update(sql).digest('hex');
}

/** Reads a Prisma migrations folder (`<timestamp>_<name>/migration.sql`), in the order Prisma applies them. */
export function readMigrationsDir(dir: string): MigrationFile[] {
  if (!existsSync(dir)) throw new Error(`Migrations folder not found: ${dir}`);
  return readdirSync(dir)
    .filter((entry) => statSync(path.join(dir, entry)).isDirectory())
    .filter((entry) => existsSync(path.join(dir, entry, 'migration.sql')))
    .sort()
    .map((name) => {
      const raw = readFileSync(path.join(dir, name, 'migration.sql'));
      const down = path.join(dir, name, 'down.sql');
      return {
        name,
        sql: raw.toString('utf8'),
        checksum: migrationChecksum(raw),
        ...(existsSync(down) ? { downSql: readFileSync(down, 'utf8') } : {}),
      };
    });
}

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string,
    message: string,
    readonly evidence?: ScriptResult,
  ) {
    super(message);
    this.name = 'MigrationError';
  }

  /** The migration was stopped on purpose (Cancel, a deadline), not refused by the database. */
  get aborted(): boolean {
    return this.evidence?.aborted === true;
  }
}

// Same shape as the table Prisma Migrate creates, so `prisma migrate status` agrees with us.
const CREATE_HISTORY_TABLE = `
CREATE TABLE IF NOT EXISTS "_prisma_migrations" (
    "id"                    VARCHAR(36) PRIMARY KEY NOT NULL,
    "checksum"              VARCHAR(64) NOT NULL,
    "finished_at"           TIMESTAMPTZ,
    "migration_name"        VARCHAR(255) NOT NULL,
    "logs"                  TEXT,
    "rolled_back_at"        TIMESTAMPTZ,
    "started_at"            TIMESTAMPTZ NOT NULL DEFAULT now(),
    "applied_steps_count"   INTEGER NOT NULL DEFAULT 0
)`;

interface HistoryRow {
  migration_name: string;
  checksum: string;
  finished_at: Date | null;
  rolled_back_at: Date | null;
  logs?: string | null;
}

export interface ApplyOptions {
  /** Called as each statement starts (live progress). */
  onStatement?: (migration: string, statement: PlannedStatement, total: number) => void;
  /** Take the lock (wait) or refuse when another run holds it; default wait. */
  lock?: 'wait' | ((client: Client) => Promise<void>);
  /**
   * Leave a failed migration's row behind (finished_at NULL, the error in `logs`), as Prisma
   * Migrate does, so that `status` shows it and later applies stop until someone resolves it.
   * Target databases want this; Cutover's own store retries on the next start instead.
   */
  recordFailure?: boolean;
  /**
   * Stops the run (see RunHooks.signal): the statement in flight is cancelled and rolled back,
   * and the result returned once the rollback has finished. An atomic migration stopped this way
   * leaves the target as it was, history included; a non-atomic one leaves its failed row saying so.
   */
  signal?: AbortSignal;
  /**
   * What the SQL fence lets through on this database (sql-guard.ts). Required, so that no caller
   * can run a migration past the fence by forgetting it: every migration that would run is checked
   * before the first one runs.
   */
  fence: FenceAllowances;
}

export type MigrationState = 'applied' | 'pending' | 'failed' | 'modified' | 'missing_locally';

export interface MigrationStatusEntry {
  name: string;
  state: MigrationState;
  fileChecksum: string | null;
  appliedChecksum: string | null;
  finishedAt: Date | null;
  logs: string | null;
}

/** `prisma migrate status`: each migration in the folder (and any applied one not in it), with its state. */
export async function migrationStatus(client: Client, migrations: MigrationFile[]): Promise<MigrationStatusEntry[]> {
  // Status sessions resolve names in pg_catalog only (read-only, see connection.ts): look for the
  // history where the default search_path ("$user", public) would find it, qualified.
  const { rows: exists } = await client.query<{ t: string | null }>(
    `SELECT COALESCE(pg_catalog.to_regclass('"_prisma_migrations"'), pg_catalog.to_regclass(pg_catalog.quote_ident(current_user) || '._prisma_migrations'),
            pg_catalog.to_regclass('public._prisma_migrations'))::text AS t`,
  );
  const rows: HistoryRow[] = exists[0].t
    ? (await client.query<HistoryRow>(`SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM ${exists[0].t} ORDER BY started_at`)).rows
    : [];
  // The latest row that was not rolled back decides, as in Prisma.
  const current = new Map<string, HistoryRow>();
  for (const row of rows) if (!row.rolled_back_at) current.set(row.migration_name, row);
  const entries: MigrationStatusEntry[] = migrations.map((m) => {
    const row = current.get(m.name);
    const state: MigrationState = !row ? 'pending' : !row.finished_at ? 'failed' : row.checksum !== m.checksum ? 'modified' : 'applied';
    return { name: m.name, state, fileChecksum: m.checksum, appliedChecksum: row?.checksum ?? null, finishedAt: row?.finished_at ?? null, logs: row?.logs ?? null };
  });
  const local = new Set(migrations.map((m) => m.name));
  for (const [name, row] of current) {
    if (!local.has(name)) entries.push({ name, state: 'missing_locally', fileChecksum: null, appliedChecksum: row.checksum, finishedAt: row.finished_at, logs: row.logs ?? null });
  }
  return entries;
}

/**
 * Applies every pending migration, each in its own transaction with its history row,
 * under Prisma's advisory lock: two instances starting together apply each migration once.
 * Refuses (before applying anything) a migration whose file changed after it was applied.
 */
export async function applyMigrations(client: Client, migrations: MigrationFile[], options: ApplyOptions): Promise<ApplyResult> {
  if (options.lock && options.lock !== 'wait') await options.lock(client);
  else await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    // Read the history without creating it yet: a refused migration must leave the database as it was.
    const { rows: exists } = await client.query(`SELECT to_regclass('"_prisma_migrations"') AS t`);
    const rows: HistoryRow[] = exists[0].t
      ? (await client.query<HistoryRow>(`SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`)).rows
      : [];
    const done = new Map<string, HistoryRow>();
    for (const row of rows) {
      if (row.rolled_back_at) continue;
      if (!row.finished_at) {
        throw new MigrationError(
          row.migration_name,
          `Migration ${row.migration_name} failed earlier and was not resolved; fix the database, then mark it rolled back in _prisma_migrations.`,
        );
      }
      done.set(row.migration_name, row);
    }
    for (const m of migrations) {
      const row = done.get(m.name);
      if (row && row.checksum !== m.checksum) {
        throw new MigrationError(
          m.name,
          `Migration ${m.name} was modified after it was applied (applied checksum ${row.checksum}, file checksum ${m.checksum}). Restore the original file and add a new migration instead.`,
        );
      }
    }
    // The SQL fence, for every migration that would run, before the first one runs.
    for (const m of migrations) if (!done.has(m.name)) await assertFenceAllows(`${m.name}/migration.sql`, m.sql, options.fence);
    await client.query(CREATE_HISTORY_TABLE);
    const result: ApplyResult = { applied: [], alreadyApplied: [], evidence: {} };
    for (const m of migrations) {
      if (done.has(m.name)) {
        result.alreadyApplied.push(m.name);
        continue;
      }
      result.evidence[m.name] = await applyOne(client, m, options);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
  }
}

async function planOrRefuse(name: string, file: string, sql: string) {
  try {
    return await planSql(sql);
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw new MigrationError(name, `Migration ${name} was not run: ${file} has a syntax error: ${err.message}`);
    throw err;
  }
}

/**
 * Applies one migration as Prisma Migrate records it. An atomic file runs in one transaction
 * with its history row; a file with statements PostgreSQL refuses in a transaction (CREATE
 * INDEX CONCURRENTLY, ...) runs in parts, its row written first and completed at the end, so a
 * failure part-way leaves a failed row that says what happened, as Prisma would.
 */
async function applyOne(client: Client, m: MigrationFile, options: ApplyOptions): Promise<ScriptResult> {
  const plan = await planOrRefuse(m.name, 'migration.sql', m.sql);
  const id = randomUUID();
  const started = new Date();
  const fail = (result: ScriptResult) =>
    new MigrationError(m.name, `Migration ${m.name} failed${plan.atomic ? ' and was rolled back' : ''}: ${result.error}`, result);
  const failureLog = (result: ScriptResult) => {
    const failed = result.statements.find((s) => s.status === 'failed');
    return `${failed?.error?.code ? `Database error code: ${failed.error.code}\n` : ''}${fail(result).message}`;
  };

  const onStatement = options.onStatement ? (s: PlannedStatement) => options.onStatement!(m.name, s, plan.statements.length) : undefined;
  if (plan.atomic) {
    const result = await runPlannedScript(client, plan, {
      onStatement,
      signal: options.signal,
      beforeCommit: (c) =>
        c.query(
          `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, finished_at, applied_steps_count) VALUES ($1, $2, $3, $4, clock_timestamp(), 1)`,
          [id, m.checksum, m.name, started],
        ).then(() => undefined),
    });
    if (result.ok) return result;
    // Cancelled and rolled back: nothing happened to the target, so its history says nothing either.
    if (result.aborted) throw new MigrationError(m.name, `Migration ${m.name} was cancelled and rolled back: ${result.error}`, result);
    if (options.recordFailure) {
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, $5, 0)`,
        [id, m.checksum, m.name, failureLog(result), started],
      );
    }
    throw fail(result);
  }

  await client.query(
    `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, 0)`,
    [id, m.checksum, m.name, started],
  );
  const result = await runPlannedScript(client, plan, {
    onStatement,
    signal: options.signal,
    beforeCommit: (c) => c.query(`UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`, [id]).then(() => undefined),
  });
  if (result.ok) return result;
  // Part of it may have stayed: the failed row is the honest record, whatever the caller asked.
  await client.query(`UPDATE "_prisma_migrations" SET logs = $2 WHERE id = $1`, [id, failureLog(result)]);
  throw fail(result);
}

/**
 * Runs a migration's down.sql and marks its history row rolled back, in one transaction when
 * the file allows it. Refuses when the migration is not applied or has no down.sql.
 */
export async function rollbackMigration(client: Client, m: MigrationFile, options: Pick<ApplyOptions, 'lock' | 'onStatement' | 'signal' | 'fence'>): Promise<ScriptResult> {
  if (m.downSql === undefined) throw new MigrationError(m.name, `Migration ${m.name} has no down.sql; write one to roll it back.`);
  const plan = await planOrRefuse(m.name, 'down.sql', m.downSql);
  await assertFenceAllows(`${m.name}/down.sql`, m.downSql, options.fence);
  if (options.lock && options.lock !== 'wait') await options.lock(client);
  else await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    const { rows } = await client.query<{ id: string; checksum: string }>(
      `SELECT id, checksum FROM "_prisma_migrations" WHERE migration_name = $1 AND finished_at IS NOT NULL AND rolled_back_at IS NULL`,
      [m.name],
    );
    if (rows.length === 0) throw new MigrationError(m.name, `Migration ${m.name} is not applied, so there is nothing to roll back.`);
    if (rows[0].checksum !== m.checksum) {
      throw new MigrationError(m.name, `Migration ${m.name} was modified after it was applied (applied checksum ${rows[0].checksum}, file checksum ${m.checksum}); refusing to roll it back with a down.sql written for another version.`);
    }
    const result = await runPlannedScript(client, plan, {
      onStatement: options.onStatement ? (s) => options.onStatement!(m.name, s, plan.statements.length) : undefined,
      signal: options.signal,
      beforeCommit: (c) => c.query(`UPDATE "_prisma_migrations" SET rolled_back_at = clock_timestamp() WHERE id = $1`, [rows[0].id]).then(() => undefined),
    });
    if (result.aborted) throw new MigrationError(m.name, `Rolling back ${m.name} was cancelled${plan.atomic ? ' and undone' : ''}: ${result.error}`, result);
    if (!result.ok) throw new MigrationError(m.name, `Rolling back ${m.name} failed${plan.atomic ? ' and was undone' : ''}: ${result.error}`, result);
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
  }
}

/**
 * Finds the migrations of a Prisma migrations folder among an archive's files, at any depth
 * (`prisma/migrations/<timestamp>_<name>/migration.sql`, or the folder itself zipped).
 */
export function migrationsFromArchive(files: { path: string; content: string | Buffer }[]): MigrationFile[] {
  const byFolder = new Map<string, { up?: Buffer; down?: Buffer }>();
  for (const f of files) {
    const m = /(?:^|\/)([^/]+)\/(migration|down)\.sql$/.exec(f.path);
    if (!m) continue;
    const entry = byFolder.get(m[1]) ?? {};
    entry[m[2] === 'migration' ? 'up' : 'down'] = Buffer.isBuffer(f.content) ? f.content : Buffer.from(f.content);
    byFolder.set(m[1], entry);
  }
  return [...byFolder.entries()]
    .filter(([, e]) => e.up)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, e]) => ({
      name,
      sql: e.up!.toString('utf8'),
      checksum: migrationChecksum(e.up!),
      ...(e.down ? { downSql: e.down.toString('utf8') } : {}),
    }));
}
