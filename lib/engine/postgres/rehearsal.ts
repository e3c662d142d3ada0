import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, escapeIdentifier as id } from 'pg';
import { keepQuietWhenIdle, pgClientConfig, readOnlySession, type PgTargetSettings } from '../connection';
import { columnOrderChange, describeChange, diffSnapshots } from './diff';
import { LockProbe, type LockImpact, type LockProbeOptions } from './lock-probe';
import { FIRST_USER_OID, outputTextSql } from './output-text';
import { dumpSchema, listArchive } from './pg-tools';
import { restoreAsRole } from './restore-as-role';
import { runPlannedScript, type ScriptResult } from './runner';
import { assertRestorable, createScratchOwner, describeAdmin, warmSandbox, type RehearsalServer } from './sandbox';
import { takeSnapshot, type SchemaShape } from './snapshot';
import { assertFenceAllows, type FenceAllowances } from './sql-guard';
import { SqlSyntaxError, planSql, type PlannedStatement } from './sql-plan';

export type PhaseName = 'clone' | 'sample' | 'snapshot' | 'up' | 'data-loss' | 'verify-schema' | 'down' | 'verify-rollback' | 'redo' | 'drop';

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
  /** What a check phase found (data-loss: the DataCheck's result). */
  result?: unknown;
}

/**
 * A check of the sample's data around up (the data-loss check): `before` runs right before up
 * (after the snapshot), `after` right after it as the phase 'data-loss'. Both get the rehearsal
 * role's session. Only with a data sample. A check that finds a difference fails its phase but
 * the rehearsal goes on (down, rollback proof, redo) and ends not ok.
 */
export interface DataCheck {
  before(client: Client): Promise<unknown>;
  /** `upSql` is the migration's up script: what it deletes or updates may suggest a declaration. */
  after(client: Client, before: unknown, upSql?: string): Promise<{ ok: boolean; detail: string; result: unknown }>;
  /** Releases what `before` took when `after` never ran (up failed, or the run was cancelled). */
  dispose?(before: unknown): Promise<void>;
}

/** What the sandbox adds to a rehearsal, ms. */
export interface SandboxTimings {
  /** Getting the server: a warm sandbox is at hand (~0), a cold one starts (initdb + start). */
  sandboxMs: number;
  /** Creating the rehearsal's role and scratch database. */
  prepareMs: number;
  /** pg_dump --schema-only of the target (read-only). */
  dumpMs: number;
  /** pg_restore of the copy: extensions and schemas as the server's admin, the rest as the role. */
  loadMs: number;
  /** Dropping the scratch database and the role. */
  cleanupMs: number;
}

export interface RehearsalResult {
  ok: boolean;
  scratchDatabase: string;
  /** Where the copy was replayed: the sandbox or the target's rehearsal server, never the target's server. */
  server?: string;
  phases: PhaseEvidence[];
  hashes: { before?: string; afterUp?: string; afterDown?: string; afterRedo?: string };
  durationMs: number;
  timings?: SandboxTimings;
  error?: string;
  /** Cancelled through options.signal; `abortedDuring` is the phase it was in. */
  aborted?: boolean;
  abortedDuring?: PhaseName;
  /** With a data sample and options.lockProbe: how each statement of up and down blocked a probe workload. */
  lockImpact?: LockImpact;
  /** The schema after up (verify-schema), for comparing the application's schema with it; absent when up did not get that far. */
  afterUpShape?: SchemaShape;
}

const LABELS: Record<PhaseName, string> = {
  clone: 'Copy the target schema into the sandbox',
  sample: 'Copy a sample of the data',
  snapshot: 'Snapshot the original schema',
  up: 'Run migration on local database',
  'data-loss': 'Check for data loss',
  'verify-schema': 'Verify schema changes',
  down: 'Apply the down migration',
  'verify-rollback': 'Verify rollback works',
  redo: 'Apply the migration again (redo)',
  drop: 'Drop the scratch database and its role',
};

class PhaseFailed extends Error {}
class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

/** "schema"."table", each part quoted on its own: names may hold dots and quotes. */
const qualified = (schema: string, name: string) => `${id(schema)}.${id(name)}`;

/** Ends a client without waiting for a statement the server is still running (bounded). */
async function endSoon(client: Client | undefined): Promise<void> {
  if (!client) return;
  await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
}

/** PostgreSQL's error for a table whose row-level security the session may not skip (row_security = off). */
const RLS_REFUSED = /query would be affected by row-level security policy/;

/**
 * Copies up to `limit` rows of every table from the target (`source`, a read-only session with
 * row_security off) into the scratch copy, through JSON (types survive), without foreign-key
 * checks (a sample breaks references), and moves owned sequences past the copied keys.
 * `scratch` is a session that LOGGED IN as the rehearsal's role: the copy's own code (checks,
 * ALWAYS triggers, defaults, generated columns, index expressions) came from the target, and a
 * superuser session with SET ROLE would let it RESET ROLE back to the superuser. The role may set
 * session_replication_role only because the server's admin granted it that parameter for the
 * length of the sample (PostgreSQL 15's GRANT SET ON PARAMETER).
 */
async function copySample(source: Client, scratch: Client, limit: number): Promise<{ copied: Record<string, number>; estimated: Record<string, number> }> {
  await scratch.query(`SET session_replication_role = replica`);
  // Names come from the copy's catalog as separate parts; partitions are filled through their parent.
  // `user_typed`: the column's type (a domain's base type) is not initdb's, so the target may have a cast of its own for it.
  const { rows: tables } = await scratch.query<{ schema: string; name: string; columns: string[]; user_typed: boolean[] }>(`
    WITH RECURSIVE domains(domain, base) AS (
      SELECT t.oid, t.typbasetype FROM pg_catalog.pg_type t WHERE t.typtype = 'd'
      UNION ALL
      SELECT d.domain, t.typbasetype FROM domains d JOIN pg_catalog.pg_type t ON t.oid = d.base WHERE t.typtype = 'd'
    )
    SELECT n.nspname AS schema, c.relname AS name, pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY a.attnum) AS columns,
           pg_catalog.array_agg(COALESCE((SELECT d.base FROM domains d JOIN pg_catalog.pg_type b ON b.oid = d.base WHERE d.domain = a.atttypid AND b.typtype <> 'd'), a.atttypid)
                                >= ${FIRST_USER_OID}::pg_catalog.oid ORDER BY a.attnum) AS user_typed
    FROM pg_catalog.pg_class c
    JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
    WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition AND c.relname <> '_prisma_migrations'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')
    GROUP BY n.nspname, c.relname
    ORDER BY n.nspname, c.relname`);
  const copied: Record<string, number> = {};
  const estimated: Record<string, number> = {};
  await source.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    for (const t of tables) {
      const table = qualified(t.schema, t.name);
      const columns = t.columns.map(id).join(', ');
      // json_agg would convert a user-defined type through the target's cast to json if it has
      // one, running the target's code here: such columns travel as their output text instead,
      // which json_populate_recordset reads back through the type's input function.
      const selected = t.columns.map((c, i) => (t.user_typed[i] ? `${outputTextSql(`s.${id(c)}`)} AS ${id(c)}` : `s.${id(c)}`)).join(', ');
      const { rows } = await source
        .query<{ rows: unknown; n: number }>(
          `SELECT COALESCE(pg_catalog.json_agg(r.*), '[]'::pg_catalog.json) AS rows, pg_catalog.count(*)::int AS n FROM (SELECT ${selected} FROM ${table} s LIMIT $1) r`,
          [limit],
        )
        .catch((err: Error) => {
          if (!RLS_REFUSED.test(err.message)) throw err;
          throw new Error(
            `${t.schema}.${t.name} has row-level security on the target. The sample is read with row_security off, so that the target's policy ` +
              `functions never run in Cutover's session: PostgreSQL refuses the read instead. Rehearse with the schema only (no sample rows), ` +
              `or give the target's role BYPASSRLS if its policies may be skipped.`,
          );
        });
      if (rows[0].n > 0) {
        await scratch.query(
          `INSERT INTO ${table} (${columns}) OVERRIDING SYSTEM VALUE
           SELECT ${columns} FROM pg_catalog.json_populate_recordset(NULL::${table}, $1::pg_catalog.json)`,
          [JSON.stringify(rows[0].rows)],
        );
      }
      copied[`${t.schema}.${t.name}`] = rows[0].n;
      // The target's own estimate: lock impact measured on the sample understates a bigger table.
      const est = await source.query<{ n: string | null }>(`SELECT c.reltuples::pg_catalog.int8::pg_catalog.text AS n FROM pg_catalog.pg_class c WHERE c.oid = pg_catalog.to_regclass($1)`, [table]);
      const n = Number(est.rows[0]?.n ?? -1);
      if (n >= 0) estimated[`${t.schema}.${t.name}`] = n;
    }
    await source.query('COMMIT');
  } catch (err) {
    await source.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  const { rows: sequences } = await scratch.query<{ seq: string; schema: string; table: string; column: string }>(`
    SELECT s.oid::pg_catalog.text AS seq, tn.nspname AS schema, t.relname AS table, a.attname AS column
    FROM pg_catalog.pg_class s
    JOIN pg_catalog.pg_depend d ON d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = s.oid
      AND d.refclassid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.deptype IN ('a', 'i')
    JOIN pg_catalog.pg_class t ON t.oid = d.refobjid
    JOIN pg_catalog.pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_catalog.pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE s.relkind = 'S'`);
  for (const s of sequences) {
    await scratch.query(
      `SELECT pg_catalog.setval($1::pg_catalog.oid::pg_catalog.regclass, COALESCE((SELECT pg_catalog.max(${id(s.column)}) FROM ${qualified(s.schema, s.table)}), 0) + 1, false)`,
      [s.seq],
    );
  }
  await scratch.query('ANALYZE');
  await scratch.query(`RESET session_replication_role`);
  return { copied, estimated };
}

/** Lets the rehearsal's role load rows without foreign-key checks, for the sample only (revoked right after). */
const GRANT_REPLICA = (role: string) => `GRANT SET ON PARAMETER session_replication_role TO ${id(role)}`;
const REVOKE_REPLICA = (role: string) => `REVOKE SET ON PARAMETER session_replication_role FROM ${id(role)}`;

export function scratchDatabaseName(id: string): string {
  return `cutover_rehearsal_${id.replace(/[^0-9a-f]/gi, '').slice(0, 16).toLowerCase()}`;
}

/**
 * Drops a scratch database and its role that a rehearsal left on a rehearsal server (its worker
 * died); FORCE ends their sessions. Cutover's own sandbox needs no such sweep: a dead worker's
 * sandbox is removed whole (reapAbandonedSandboxes).
 */
export async function dropScratchDatabase(server: RehearsalServer, name: string): Promise<void> {
  if (!name.startsWith('cutover_rehearsal_')) throw new Error(`${name} is not a rehearsal database.`);
  const admin = new Client({ ...pgClientConfig(server.admin), connectionTimeoutMillis: server.admin.connectTimeoutMs });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${id(name)} WITH (FORCE)`);
    // A worker that died during the sample leaves the role its grant on session_replication_role.
    const { rows } = await admin.query<{ granted: boolean }>(
      `SELECT pg_catalog.current_setting('server_version_num')::int >= 150000 AND EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = $1) AS granted`,
      [name],
    );
    if (rows[0].granted) await admin.query(REVOKE_REPLICA(name)).catch(() => undefined);
    await admin.query(`DROP ROLE IF EXISTS ${id(name)}`);
  } finally {
    await admin.end();
  }
}

/**
 * "Test migration locally". The target is only read: its schema by pg_dump through a read-only
 * session (and, with a sample, some rows through another one). The copy is replayed elsewhere:
 * in Cutover's sandbox (a PostgreSQL cluster this process owns) or in the target's rehearsal
 * server. There a fresh role without any special right owns a fresh scratch database; the
 * server's admin loads the copy so that its objects belong to that role, and the migration runs
 * as that role: up, what changed, down, the schema proven equal to the original, up again.
 * The scratch database and the role are dropped whatever happened. Every phase leaves evidence.
 */
export interface RehearsalOptions {
  /** Called as each phase ends, with its evidence. */
  onPhase?: (p: PhaseEvidence) => void;
  /** Called as each statement of up, down or redo starts (live progress). */
  onStatement?: (phase: PhaseName, statement: PlannedStatement, total: number) => void;
  /** Name the scratch database (and its role) after the run, so that a dead worker's copy can be found and dropped. */
  scratch?: string;
  /** Rows to copy from each table of the target (0: schema only). */
  sampleRows?: number;
  /** Where to replay the copy; default: this process's warm sandbox. */
  sandbox?: RehearsalServer | Promise<RehearsalServer>;
  /** Aborting cancels the rehearsal: children killed, statement cancelled, copy dropped; resolves with aborted: true. */
  signal?: AbortSignal;
  /**
   * The SQL fence (sql-guard.ts): both files are checked before any connection and a refusal
   * throws FenceError. Required, so no caller can forget it (FENCE_OFF says so out loud); the
   * sandbox's least privilege holds with or without it.
   */
  fence: FenceAllowances;
  /** Runs around up when there is a data sample (sampleRows > 0). */
  dataCheck?: DataCheck;
  /** Measures lock impact while up and down run (lock-probe.ts), when there is a data sample. */
  lockProbe?: LockProbeOptions;
}

export async function rehearseMigration(
  target: PgTargetSettings,
  migration: { name: string; upSql: string; downSql: string },
  options: RehearsalOptions,
): Promise<RehearsalResult> {
  const { onPhase = () => undefined, onStatement, scratch = scratchDatabaseName(randomBytes(6).toString('hex')), sampleRows = 0, signal } = options;
  // A sandbox still starting when the fence refuses must not become an unhandled rejection.
  if (options.sandbox instanceof Promise) options.sandbox.catch(() => undefined);
  await assertFenceAllows('migration.sql', migration.upSql, options.fence);
  await assertFenceAllows('down.sql', migration.downSql, options.fence);
  // The role is named like its database: one name to find both after a crash.
  const role = scratch;
  const started = performance.now();
  const phases: PhaseEvidence[] = [];
  const hashes: RehearsalResult['hashes'] = {};
  let afterUpShape: SchemaShape | undefined;
  const timings: SandboxTimings = { sandboxMs: 0, prepareMs: 0, dumpMs: 0, loadMs: 0, cleanupMs: 0 };
  const appName = `cutover rehearsal ${migration.name}`.slice(0, 63);
  let server: RehearsalServer | undefined;
  let admin: Client | undefined; // the server's admin, in its maintenance database
  let scratchClient: Client | undefined; // logged in as the rehearsal role: restores the copy, loads the sample, runs up, down and redo
  let source: Client | undefined; // read-only session on the target
  let asRole: PgTargetSettings | undefined; // the rehearsal role's login to the scratch database
  let probe: LockProbe | undefined; // probe sessions, also logged in as the role
  let pendingDataCheck: { check: DataCheck; before: unknown } | undefined; // taken before up, not yet compared
  let roleCreated = false;
  let replicaGranted = false; // the role may set session_replication_role (during the sample only)
  let current: PhaseName = 'clone';
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-rehearsal-'));

  const checkCancelled = () => {
    if (signal?.aborted) throw new Cancelled();
  };
  // On cancel: pg_dump/pg_restore die through their own signal; the statement running in the
  // scratch database is cancelled from a second session; the target's read is simply ended.
  const onAbort = () => {
    void endSoon(source);
    if (!server || !roleCreated) return;
    const canceller = new Client({ ...pgClientConfig(server.admin), connectionTimeoutMillis: server.admin.connectTimeoutMs, application_name: 'cutover rehearsal cancel' });
    canceller.on('error', () => undefined);
    void canceller
      .connect()
      .then(() => canceller.query(`SELECT pg_catalog.pg_cancel_backend(pid) FROM pg_catalog.pg_stat_activity WHERE datname = $1 AND pid <> pg_catalog.pg_backend_pid()`, [scratch]))
      .catch(() => undefined)
      .finally(() => canceller.end().catch(() => undefined));
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  // Findings of phases that fail without stopping the rehearsal (the data-loss check).
  const findings: string[] = [];
  async function phase<T>(
    name: PhaseName, work: () => Promise<{ value: T; evidence?: Partial<PhaseEvidence> }>, evenIfCancelled = false, goOnIfFailed = false,
  ): Promise<T | undefined> {
    const t0 = performance.now();
    if (!evenIfCancelled) current = name;
    try {
      if (!evenIfCancelled) checkCancelled();
      const { value, evidence } = await work();
      if (!evenIfCancelled) checkCancelled();
      const failed = evidence?.status === 'failed';
      const p: PhaseEvidence = { phase: name, label: LABELS[name], status: failed ? 'failed' : 'ok', durationMs: Math.round(performance.now() - t0), ...evidence };
      phases.push(p);
      onPhase(p);
      if (failed && goOnIfFailed) findings.push(`${LABELS[name]}: ${p.detail ?? 'failed'}`);
      else if (failed) throw new PhaseFailed(p.detail ?? `${LABELS[name]} failed`);
      return value;
    } catch (err) {
      if (err instanceof PhaseFailed) throw err;
      const detail = signal?.aborted && !evenIfCancelled ? 'cancelled' : (err as Error).message;
      const p: PhaseEvidence = { phase: name, label: LABELS[name], status: 'failed', durationMs: Math.round(performance.now() - t0), detail };
      phases.push(p);
      onPhase(p);
      throw new PhaseFailed(detail);
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
    const run = (started: (s: PlannedStatement) => void) =>
      runPlannedScript(scratchClient!, plan, {
        onStatement: (s) => {
          // Between statements a cancel stops the script (the copy is dropped right after).
          checkCancelled();
          started(s);
          onStatement?.(phaseName, s, plan.statements.length);
        },
      });
    const script = probe && (phaseName === 'up' || phaseName === 'down') ? await probe.watch(phaseName, sql, plan.statements, run) : await run(() => undefined);
    return { value: undefined, evidence: { script, ...(script.ok ? {} : { status: 'failed' as const, detail: `${file}: ${script.error}` }) } };
  };

  let error: string | undefined;
  let aborted = false;
  try {
    await phase('clone', async () => {
      source = keepQuietWhenIdle(new Client({ ...readOnlySession(pgClientConfig(target)), connectionTimeoutMillis: target.connectTimeoutMs, application_name: 'cutover rehearsal (read-only)' }));
      await source.connect();
      // Reading a table with row-level security then fails instead of running the target's policy functions in this session.
      await source.query('SET row_security = off');
      const targetVersion = (await source.query<{ num: number; v: string }>(`SELECT pg_catalog.current_setting('server_version_num')::int AS num, pg_catalog.current_setting('server_version') AS v`)).rows[0];

      let t = performance.now();
      server = await (options.sandbox ?? warmSandbox());
      timings.sandboxMs = Math.round(performance.now() - t);
      checkCancelled();
      admin = keepQuietWhenIdle(new Client({ ...pgClientConfig(server.admin), connectionTimeoutMillis: server.admin.connectTimeoutMs, application_name: appName }));
      await admin.connect();
      const me = await describeAdmin(admin);
      assertRestorable({ num: targetVersion.num, version: targetVersion.v }, { num: me.num, version: me.v, label: server.label });

      t = performance.now();
      const password = await createScratchOwner(admin, server, scratch, { superuser: me.superuser, onRole: () => (roleCreated = true) });
      timings.prepareMs = Math.round(performance.now() - t);
      checkCancelled();

      t = performance.now();
      const dumpFile = path.join(workDir, 'schema.dump');
      await dumpSchema(target, dumpFile, { signal });
      timings.dumpMs = Math.round(performance.now() - t);

      t = performance.now();
      asRole = { ...server.admin, database: scratch, username: role, password };
      const { skipped } = await restoreAsRole(dumpFile, await listArchive(dumpFile), {
        asAdmin: { ...server.admin, database: scratch }, asRole, fence: options.fence, label: server.label, workDir, appName, signal,
      });
      timings.loadMs = Math.round(performance.now() - t);
      checkCancelled();

      scratchClient = keepQuietWhenIdle(new Client({
        ...pgClientConfig(asRole),
        connectionTimeoutMillis: server.admin.connectTimeoutMs,
        application_name: appName,
      }));
      await scratchClient.connect();
      const notes = skipped.length ? `; ${skipped.length} event trigger entr${skipped.length === 1 ? 'y' : 'ies'} not copied` : '';
      return {
        value: undefined,
        evidence: { detail: `pg_dump --schema-only of ${target.database} (read-only) loaded into ${scratch} in ${server.label}, owned by role ${role} (no superuser, cannot create databases or roles)${notes}` },
      };
    });
    if (sampleRows > 0) {
      await phase('sample', async () => {
        // The role's own session loads the rows; PostgreSQL 15 lets a superuser hand it session_replication_role alone.
        const num = Number((await admin!.query<{ n: string }>(`SELECT pg_catalog.current_setting('server_version_num') AS n`)).rows[0].n);
        const granted = num >= 150000 && (await admin!.query(GRANT_REPLICA(role)).then(() => true, () => false));
        if (!granted) {
          throw new Error(
            `Copying a data sample needs PostgreSQL 15 or newer on ${server!.label} and an admin there that is a superuser ` +
              '(to let the rehearsal role load rows without foreign-key checks). Rehearse with the schema only, or use Cutover\'s own sandbox.',
          );
        }
        replicaGranted = true;
        let copied: Record<string, number>;
        let estimated: Record<string, number>;
        try {
          ({ copied, estimated } = await copySample(source!, scratchClient!, sampleRows));
        } finally {
          // Up, down and redo run with foreign-key checks, as on the target.
          await admin!.query(REVOKE_REPLICA(role));
          replicaGranted = false;
        }
        const total = Object.values(copied).reduce((n, c) => n + c, 0);
        return {
          value: undefined,
          evidence: { detail: `${total} rows from ${Object.keys(copied).length} tables (at most ${sampleRows} each)`, result: { sampleRows, copied, targetEstimatedRows: estimated } },
        };
      });
    }
    await endSoon(source);
    source = undefined;
    const before = (await phase('snapshot', async () => {
      const s = await takeSnapshot(scratchClient!);
      hashes.before = s.hash;
      return { value: s, evidence: { hash: s.hash, detail: `${Object.keys(s.shape.tables).length} tables` } };
    }))!;
    if (sampleRows > 0 && options.lockProbe) {
      probe = new LockProbe(pgClientConfig(asRole!), {
        ...options.lockProbe,
        migrationPid: () => (scratchClient as unknown as { processID: number | null } | undefined)?.processID ?? null,
        signal,
      });
      await probe.open();
    }
    const dataCheck = sampleRows > 0 ? options.dataCheck : undefined;
    // Taken right before up; a failure here is reported by the data-loss phase, in its place.
    const dataBefore = dataCheck
      ? await dataCheck.before(scratchClient!).then((value) => ({ value }), (err: Error) => ({ error: err.message }))
      : undefined;
    pendingDataCheck = dataCheck && dataBefore && 'value' in dataBefore ? { check: dataCheck, before: dataBefore.value } : undefined;
    await phase('up', () => runScript('migration.sql', migration.upSql, 'up'));
    if (dataCheck && dataBefore) {
      await phase('data-loss', async () => {
        if ('error' in dataBefore) return { value: undefined, evidence: { status: 'failed' as const, detail: `the state before up could not be read: ${dataBefore.error}` } };
        pendingDataCheck = undefined;
        const r = await dataCheck.after(scratchClient!, dataBefore.value, migration.upSql);
        return { value: undefined, evidence: { detail: r.detail, result: r.result, ...(r.ok ? {} : { status: 'failed' as const }) } };
      }, false, true);
    }
    const afterUp = (await phase('verify-schema', async () => {
      const s = await takeSnapshot(scratchClient!);
      hashes.afterUp = s.hash;
      afterUpShape = s.shape;
      const changes = diffSnapshots(before.shape, s.shape).map(describeChange);
      return { value: s, evidence: { hash: s.hash, changes, detail: changes.length ? `${changes.length} change(s)` : 'the migration changed no schema object' } };
    }))!;
    await phase('down', () => runScript('down.sql', migration.downSql, 'down'));
    await phase('verify-rollback', async () => {
      const s = await takeSnapshot(scratchClient!);
      hashes.afterDown = s.hash;
      const differences = diffSnapshots(before.shape, s.shape);
      const left = differences.map(describeChange);
      // PostgreSQL cannot re-add a column in its old place, so a down.sql re-adding a dropped column
      // leaves it last: when column order is all that differs, the rollback still counts as working.
      const reordered = differences.map(columnOrderChange);
      if (left.length && reordered.every(Boolean)) {
        const tables = reordered.map((o) => `${o!.table}${o!.moved ? ` (${o!.moved})` : ` (${o!.after.join(', ')})`}`).join(', ');
        return {
          value: undefined,
          evidence: { hash: s.hash, changes: left, detail: `the schema after down equals the original except the column order of ${tables}: PostgreSQL re-adds a column at the end` },
        };
      }
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
    if (signal?.aborted) {
      aborted = true;
      error = `cancelled during ${current}`;
    } else {
      error = (err as Error).message;
      if (!(err instanceof PhaseFailed)) phases.push({ phase: 'clone', label: LABELS.clone, status: 'failed', durationMs: 0, detail: error });
    }
  } finally {
    if (!error && findings.length) error = findings.join('; ');
    signal?.removeEventListener('abort', onAbort);
    await Promise.all([
      endSoon(scratchClient), endSoon(source), probe?.close(),
      pendingDataCheck?.check.dispose?.(pendingDataCheck.before).catch(() => undefined),
    ]);
    if (admin && roleCreated) {
      const t = performance.now();
      await phase('drop', async () => {
        await admin!.query(`DROP DATABASE IF EXISTS ${id(scratch)} WITH (FORCE)`);
        if (replicaGranted) await admin!.query(REVOKE_REPLICA(role));
        await admin!.query(`DROP ROLE IF EXISTS ${id(role)}`);
        return { value: undefined, evidence: { detail: `${scratch} and role ${role}` } };
      }, true).catch((e: Error) => (error ??= e.message));
      timings.cleanupMs = Math.round(performance.now() - t);
    }
    await endSoon(admin);
    rmSync(workDir, { recursive: true, force: true });
    server?.refillSpare?.();
  }
  return {
    ok: !error, scratchDatabase: scratch, server: server?.label, phases, hashes, durationMs: Math.round(performance.now() - started), timings, error,
    ...(aborted ? { aborted: true, abortedDuring: current } : {}),
    ...(probe ? { lockImpact: probe.result() } : {}),
    ...(afterUpShape ? { afterUpShape } : {}),
  };
}
