import { createHash, randomUUID } from 'node:crypto';
import { readdirSync, readFileSync, statSync, existsSync } from 'node:fs';
import path from 'node:path';
import type { Client } from 'pg';

/** The advisory lock key Prisma Migrate itself takes, so Cutover and Prisma exclude each other. */
export const PRISMA_MIGRATE_LOCK_KEY = 72707369;

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export interface ApplyResult {
  applied: string[];
  alreadyApplied: string[];
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
      return { name, sql: raw.toString('utf8'), checksum: migrationChecksum(raw) };
    });
}

export class MigrationError extends Error {
  constructor(
    readonly migrationName: string,
    message: string,
  ) {
    super(message);
    this.name = 'MigrationError';
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
  /**
   * Leave a failed migration's row behind (finished_at NULL, the error in `logs`), as Prisma
   * Migrate does, so that `status` shows it and later applies stop until someone resolves it.
   * Target databases want this; Cutover's own store retries on the next start instead.
   */
  recordFailure?: boolean;
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
  const { rows: exists } = await client.query(`SELECT to_regclass('"_prisma_migrations"') AS t`);
  const rows: HistoryRow[] = exists[0].t
    ? (await client.query<HistoryRow>(`SELECT migration_name, checksum, finished_at, rolled_back_at, logs FROM "_prisma_migrations" ORDER BY started_at`)).rows
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
export async function applyMigrations(client: Client, migrations: MigrationFile[], options: ApplyOptions = {}): Promise<ApplyResult> {
  await client.query('SELECT pg_advisory_lock($1)', [PRISMA_MIGRATE_LOCK_KEY]);
  try {
    await client.query(CREATE_HISTORY_TABLE);
    const { rows } = await client.query<HistoryRow>(
      `SELECT migration_name, checksum, finished_at, rolled_back_at FROM "_prisma_migrations" ORDER BY started_at`,
    );
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
    const result: ApplyResult = { applied: [], alreadyApplied: [] };
    for (const m of migrations) {
      if (done.has(m.name)) {
        result.alreadyApplied.push(m.name);
        continue;
      }
      await applyOne(client, m, options);
      result.applied.push(m.name);
    }
    return result;
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [PRISMA_MIGRATE_LOCK_KEY]).catch(() => undefined);
  }
}

async function applyOne(client: Client, m: MigrationFile, options: ApplyOptions): Promise<void> {
  const id = randomUUID();
  await client.query('BEGIN');
  try {
    await client.query(
      `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, started_at, applied_steps_count) VALUES ($1, $2, $3, now(), 0)`,
      [id, m.checksum, m.name],
    );
    await client.query(m.sql);
    await client.query(
      `UPDATE "_prisma_migrations" SET finished_at = clock_timestamp(), applied_steps_count = 1 WHERE id = $1`,
      [id],
    );
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    const pgErr = err as { message?: string; position?: string; code?: string };
    const where = pgErr.position ? ` (at character ${pgErr.position} of migration.sql)` : '';
    const message = `Migration ${m.name} failed and was rolled back: ${pgErr.message ?? String(err)}${where}`;
    if (options.recordFailure) {
      await client.query(
        `INSERT INTO "_prisma_migrations" (id, checksum, migration_name, logs, started_at, applied_steps_count) VALUES ($1, $2, $3, $4, now(), 0)`,
        [id, m.checksum, m.name, `${pgErr.code ? `Database error code: ${pgErr.code}\n` : ''}${message}`],
      );
    }
    throw new MigrationError(m.name, message);
  }
}
