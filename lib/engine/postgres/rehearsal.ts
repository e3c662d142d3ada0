import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { keepQuietWhenIdle, pgClientConfig, type PgTargetSettings } from '../connection';
import { describeChange, diffSnapshots } from './diff';
import { cloneSchema } from './pg-tools';
import { runPlannedScript, type ScriptResult } from './runner';
import { takeSnapshot } from './snapshot';
import { SqlSyntaxError, planSql, type PlannedStatement } from './sql-plan';

export type PhaseName = 'clone' | 'sample' | 'snapshot' | 'up' | 'verify-schema' | 'down' | 'verify-rollback' | 'redo' | 'drop';

export interface PhaseEvidence {
  phase: PhaseName;
  label: string;
  status: 'ok' | 'failed';
  durationMs: number;
  detail?: string;
  /** Statement evidence for up, down and redo. */
  script?: ScriptResult;
  /** Schema changes (verify-schema) or differences left after rollback (verify-rollback). */
  changes?: string[];
  hash?: string;
}

export interface RehearsalResult {
  ok: boolean;
  scratchDatabase: string;
  phases: PhaseEvidence[];
  hashes: { before?: string; afterUp?: string; afterDown?: string; afterRedo?: string };
  durationMs: number;
  error?: string;
}

const LABELS: Record<PhaseName, string> = {
  clone: 'Clone the target schema into a scratch database',
  sample: 'Copy a sample of the data',
  snapshot: 'Snapshot the original schema',
  up: 'Run migration on local database',
  'verify-schema': 'Verify schema changes',
  down: 'Apply the down migration',
  'verify-rollback': 'Verify rollback works',
  redo: 'Apply the migration again (redo)',
  drop: 'Drop the scratch database',
};

class PhaseFailed extends Error {}

const quoteName = (qualified: string) => qualified.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');

/**
 * Copies up to `limit` rows of every table from the target into the scratch copy, through JSON
 * (types survive), without foreign-key checks (a sample breaks references), and moves owned
 * sequences past the copied keys. Needs a superuser on the scratch server for the FK bypass.
 */
async function copySample(target: PgTargetSettings, scratch: Client, limit: number): Promise<Record<string, number>> {
  try {
    await scratch.query(`SET session_replication_role = replica`);
  } catch {
    throw new Error(`Copying a data sample needs a superuser on ${target.host}:${target.port} (to load rows without foreign-key checks). Rehearse with the schema only, or register the target with a superuser.`);
  }
  const shape = (await takeSnapshot(scratch)).shape;
  const source = keepQuietWhenIdle(new Client({ ...pgClientConfig(target), connectionTimeoutMillis: target.connectTimeoutMs, application_name: 'cutover rehearsal sample' }));
  await source.connect();
  const copied: Record<string, number> = {};
  try {
    await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    for (const [table, info] of Object.entries(shape.tables)) {
      const columns = info.columns.filter((c) => !c.generated).map((c) => `"${c.name.replace(/"/g, '""')}"`);
      const { rows } = await source.query<{ rows: unknown; n: number }>(
        `SELECT coalesce(json_agg(t), '[]'::json) AS rows, count(*)::int AS n FROM (SELECT * FROM ${quoteName(table)} LIMIT $1) t`,
        [limit],
      );
      if (rows[0].n > 0) {
        await scratch.query(
          `INSERT INTO ${quoteName(table)} (${columns.join(', ')}) OVERRIDING SYSTEM VALUE
           SELECT ${columns.join(', ')} FROM json_populate_recordset(NULL::${quoteName(table)}, $1::json)`,
          [JSON.stringify(rows[0].rows)],
        );
      }
      copied[table] = rows[0].n;
    }
    await source.query('COMMIT');
  } finally {
    await source.end().catch(() => undefined);
  }
  await scratch.query(`SET session_replication_role = origin`);
  for (const [sequence, info] of Object.entries(shape.sequences)) {
    if (!info.ownedBy) continue;
    const [schema, table, column] = info.ownedBy.split('.');
    await scratch.query(
      `SELECT setval('${quoteName(sequence).replace(/'/g, "''")}', coalesce((SELECT max("${column}") FROM ${quoteName(`${schema}.${table}`)}), 0) + 1, false)`,
    );
  }
  await scratch.query('ANALYZE');
  return copied;
}

export function scratchDatabaseName(id: string): string {
  return `cutover_rehearsal_${id.replace(/[^0-9a-f]/gi, '').slice(0, 16).toLowerCase()}`;
}

/** Drops a scratch database a rehearsal left behind (its worker died); FORCE ends its sessions. */
export async function dropScratchDatabase(target: PgTargetSettings, name: string): Promise<void> {
  if (!name.startsWith('cutover_rehearsal_')) throw new Error(`${name} is not a rehearsal database.`);
  const admin = new Client({ ...pgClientConfig(target), connectionTimeoutMillis: target.connectTimeoutMs });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/**
 * "Test migration locally": clone the target's schema into a scratch database on the same
 * server, apply up, show what changed, apply down, prove the schema is the original again,
 * apply up once more, and drop the scratch database whatever happened. The target itself is
 * only read (by pg_dump). Every phase leaves evidence.
 */
export interface RehearsalOptions {
  /** Called as each phase ends, with its evidence. */
  onPhase?: (p: PhaseEvidence) => void;
  /** Called as each statement of up, down or redo starts (live progress). */
  onStatement?: (phase: PhaseName, statement: PlannedStatement, total: number) => void;
  /** Name the scratch database after the run, so that a dead worker's copy can be found and dropped. */
  scratch?: string;
  /** Rows to copy from each table of the target (0: schema only). */
  sampleRows?: number;
}

export async function rehearseMigration(
  target: PgTargetSettings,
  migration: { name: string; upSql: string; downSql: string },
  options: RehearsalOptions = {},
): Promise<RehearsalResult> {
  const { onPhase = () => undefined, onStatement, scratch = scratchDatabaseName(randomBytes(6).toString('hex')), sampleRows = 0 } = options;
  const started = performance.now();
  const phases: PhaseEvidence[] = [];
  const hashes: RehearsalResult['hashes'] = {};
  const admin = keepQuietWhenIdle(new Client({ ...pgClientConfig(target), connectionTimeoutMillis: target.connectTimeoutMs, application_name: `cutover rehearsal ${migration.name}` }));
  let scratchClient: Client | undefined;
  let created = false;

  async function phase<T>(name: PhaseName, work: () => Promise<{ value: T; evidence?: Partial<PhaseEvidence> }>): Promise<T> {
    const t0 = performance.now();
    try {
      const { value, evidence } = await work();
      const failed = evidence?.status === 'failed';
      const p: PhaseEvidence = { phase: name, label: LABELS[name], status: failed ? 'failed' : 'ok', durationMs: Math.round(performance.now() - t0), ...evidence };
      phases.push(p);
      onPhase(p);
      if (failed) throw new PhaseFailed(p.detail ?? `${LABELS[name]} failed`);
      return value;
    } catch (err) {
      if (err instanceof PhaseFailed) throw err;
      const p: PhaseEvidence = { phase: name, label: LABELS[name], status: 'failed', durationMs: Math.round(performance.now() - t0), detail: (err as Error).message };
      phases.push(p);
      onPhase(p);
      throw new PhaseFailed(p.detail);
    }
  }

  const runScript = async (file: 'migration.sql' | 'down.sql', sql: string, phaseName: PhaseName) => {
    let plan;
    try {
      plan = await planSql(sql);
    } catch (err) {
      if (err instanceof SqlSyntaxError) return { value: undefined, evidence: { status: 'failed' as const, detail: `${file}: ${err.message}` } };
      throw err;
    }
    const script = await runPlannedScript(scratchClient!, plan, {
      onStatement: onStatement ? (s) => onStatement(phaseName, s, plan.statements.length) : undefined,
    });
    return { value: undefined, evidence: { script, ...(script.ok ? {} : { status: 'failed' as const, detail: `${file}: ${script.error}` }) } };
  };

  let error: string | undefined;
  try {
    await admin.connect();
    await phase('clone', async () => {
      await admin.query(`CREATE DATABASE "${scratch}"`);
      created = true;
      await cloneSchema({ ...target }, { ...target, database: scratch });
      scratchClient = keepQuietWhenIdle(new Client({ ...pgClientConfig({ ...target, database: scratch }), application_name: `cutover rehearsal ${migration.name}` }));
      await scratchClient.connect();
      return { value: undefined, evidence: { detail: `pg_dump --schema-only of ${target.database} restored into ${scratch}` } };
    });
    if (sampleRows > 0) {
      await phase('sample', async () => {
        const copied = await copySample(target, scratchClient!, sampleRows);
        const total = Object.values(copied).reduce((n, c) => n + c, 0);
        return { value: undefined, evidence: { detail: `${total} rows from ${Object.keys(copied).length} tables (at most ${sampleRows} each)` } };
      });
    }
    const before = await phase('snapshot', async () => {
      const s = await takeSnapshot(scratchClient!);
      hashes.before = s.hash;
      return { value: s, evidence: { hash: s.hash, detail: `${Object.keys(s.shape.tables).length} tables` } };
    });
    await phase('up', () => runScript('migration.sql', migration.upSql, 'up'));
    const afterUp = await phase('verify-schema', async () => {
      const s = await takeSnapshot(scratchClient!);
      hashes.afterUp = s.hash;
      const changes = diffSnapshots(before.shape, s.shape).map(describeChange);
      return { value: s, evidence: { hash: s.hash, changes, detail: changes.length ? `${changes.length} change(s)` : 'the migration changed no schema object' } };
    });
    await phase('down', () => runScript('down.sql', migration.downSql, 'down'));
    await phase('verify-rollback', async () => {
      const s = await takeSnapshot(scratchClient!);
      hashes.afterDown = s.hash;
      const left = diffSnapshots(before.shape, s.shape).map(describeChange);
      return {
        value: undefined,
        evidence: left.length
          ? { hash: s.hash, changes: left, status: 'failed' as const, detail: `the schema after down differs from the original in ${left.length} place(s)` }
          : { hash: s.hash, detail: 'the schema after down equals the original' },
      };
    });
    await phase('redo', async () => {
      const r = await runScript('migration.sql', migration.upSql, 'redo');
      if (r.evidence.status === 'failed') return r;
      const s = await takeSnapshot(scratchClient!);
      hashes.afterRedo = s.hash;
      const same = s.hash === afterUp.hash;
      return {
        value: undefined,
        evidence: { ...r.evidence, hash: s.hash, ...(same ? { detail: 'same schema as the first up' } : { status: 'failed' as const, detail: 'the second up produced another schema than the first', changes: diffSnapshots(afterUp.shape, s.shape).map(describeChange) }) },
      };
    });
  } catch (err) {
    error = err instanceof PhaseFailed ? err.message : (err as Error).message;
    if (!(err instanceof PhaseFailed)) phases.push({ phase: 'clone', label: LABELS.clone, status: 'failed', durationMs: 0, detail: error });
  } finally {
    await scratchClient?.end().catch(() => undefined);
    if (created) {
      await phase('drop', async () => {
        await admin.query(`DROP DATABASE IF EXISTS "${scratch}" WITH (FORCE)`);
        return { value: undefined, evidence: { detail: scratch } };
      }).catch((e: Error) => (error ??= e.message));
    }
    await admin.end().catch(() => undefined);
  }
  return { ok: !error, scratchDatabase: scratch, phases, hashes, durationMs: Math.round(performance.now() - started), error };
}
