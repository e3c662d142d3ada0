import { randomBytes } from 'node:crypto';
import { Client, escapeIdentifier as id } from 'pg';
import { keepQuietWhenIdle, pgClientConfig, readOnlySession, type PgTargetSettings } from '../connection';
import { migrationStatus, type MigrationFile } from '../prisma-migrations';
import { describeChange, diffSnapshots } from './diff';
import { dropScratchDatabase, scratchDatabaseName } from './rehearsal';
import { runPlannedScript } from './runner';
import { assertRestorable, createScratchOwner, describeAdmin, majorOf, warmSandbox, type RehearsalServer } from './sandbox';
import { takeSnapshot, type SchemaShape } from './snapshot';
import { assertFenceAllows, type FenceAllowances } from './sql-guard';
import { SqlSyntaxError, planSql } from './sql-plan';

/**
 * Drift: is the target's live schema what its applied migrations say it should be? The migrations
 * the target's history (_prisma_migrations) marks applied are replayed, in order, in a fresh
 * scratch database of the sandbox, owned by a role without any special right (as a rehearsal
 * does); the replay's snapshot is what the target should look like, the target's own snapshot
 * (a read-only session) what it does look like. Their differences, in words, are the drift:
 * "+" is on the target and not in the migrations, "-" is in the migrations and not on the target.
 * A history that cannot be replayed (an applied migration missing from the folder, changed since
 * it was applied, or failed half-way) is drift too, said as such.
 */
export interface DriftResult {
  ok: boolean;
  drifted: boolean;
  /** Each difference in words (diff lines, then history problems). */
  differences: string[];
  /** Hash of the schema the applied migrations build (the replay). */
  expectedHash?: string;
  /** Hash of the target's live schema. */
  actualHash?: string;
  /** The migrations replayed, in order. */
  replayed: string[];
  /** Applied on the target, but missing from the folder, changed since, or failed: not replayable. */
  history: { missing: string[]; modified: string[]; failed: string[] };
  /** In the folder, not applied on the target (not drift: just not applied yet). */
  pending: string[];
  scratchDatabase: string;
  /** Where the replay ran, in words. */
  server?: string;
  /** A caution about the comparison itself (servers of different major versions print some definitions differently). */
  note?: string;
  durationMs: number;
  error?: string;
  aborted?: boolean;
}

export type DriftStep = 'target' | 'sandbox' | 'replay' | 'compare' | 'drop';

export interface DriftOptions {
  /** The SQL fence: every migration to replay is checked before anything runs (FenceError). */
  fence: FenceAllowances;
  /** Where to replay; default: this process's warm sandbox. */
  sandbox?: RehearsalServer | Promise<RehearsalServer>;
  /** Name of the scratch database and its role (after the run, so a dead worker's copy can be dropped). */
  scratch?: string;
  signal?: AbortSignal;
  /** Called as each step starts (live progress); `replay` once per migration with its name. */
  onStep?: (step: DriftStep, detail?: string) => void;
}

class Cancelled extends Error {
  constructor() {
    super('cancelled');
  }
}

async function endSoon(client: Client | undefined): Promise<void> {
  if (!client) return;
  await Promise.race([client.end().catch(() => undefined), new Promise((r) => setTimeout(r, 2000).unref())]);
}

/**
 * Roles the target's schema names (grantees, grantors, policy roles, default-privilege roles):
 * the replay's GRANT and CREATE POLICY statements need them to exist in the sandbox. Read from
 * the target's snapshot, which already wrote the owner as "(owner)" and PUBLIC as PUBLIC.
 */
export function rolesNamedBy(shape: SchemaShape): string[] {
  const names = new Set<string>();
  const entry = (s: string) => {
    const m = /^(.*?): .*?(?: GRANTED BY (.*))?$/.exec(s);
    if (m) [m[1], m[2]].forEach((n) => n && names.add(n));
  };
  for (const acl of Object.values(shape.privileges ?? {})) acl.forEach(entry);
  for (const [key, acl] of Object.entries(shape.defaultPrivileges ?? {})) {
    acl.forEach(entry);
    const role = /^for role (.*?)(?: in schema .*)? on \w+$/.exec(key)?.[1];
    if (role) names.add(role);
  }
  for (const p of Object.values(shape.policies ?? {})) p.roles.forEach((r) => names.add(r));
  for (const n of ['PUBLIC', '(owner)', 'CURRENT_USER']) names.delete(n);
  return [...names].filter((n) => !n.startsWith('pg_') && !n.startsWith('cutover_rehearsal_')).sort();
}

/**
 * Replays the target's applied migrations (from `migrations`, the folder, in its order) in the
 * sandbox and compares the result with the target's live schema. The target is only read.
 */
export async function checkDrift(target: PgTargetSettings, migrations: MigrationFile[], options: DriftOptions): Promise<DriftResult> {
  const { signal, onStep = () => undefined } = options;
  const scratch = options.scratch ?? scratchDatabaseName(randomBytes(6).toString('hex'));
  // The role is named like its database, so dropScratchDatabase finds both after a crash.
  const role = scratch;
  if (options.sandbox instanceof Promise) options.sandbox.catch(() => undefined);
  const started = performance.now();
  const result: DriftResult = {
    ok: false, drifted: false, differences: [], replayed: [], history: { missing: [], modified: [], failed: [] }, pending: [], scratchDatabase: scratch, durationMs: 0,
  };
  const checkCancelled = () => {
    if (signal?.aborted) throw new Cancelled();
  };

  let source: Client | undefined; // read-only session on the target
  let admin: Client | undefined; // the sandbox's admin
  let scratchClient: Client | undefined; // logged in as the scratch role
  let server: RehearsalServer | undefined;
  let prepared = false;
  const createdRoles: string[] = [];
  const onAbort = () => {
    void endSoon(source);
  };
  signal?.addEventListener('abort', onAbort, { once: true });

  try {
    onStep('target');
    source = keepQuietWhenIdle(new Client({ ...readOnlySession(pgClientConfig(target)), connectionTimeoutMillis: target.connectTimeoutMs, application_name: 'cutover drift (read-only)' }));
    await source.connect();
    const targetVersion = (await source.query<{ num: number; v: string }>(
      `SELECT pg_catalog.current_setting('server_version_num')::int AS num, pg_catalog.current_setting('server_version') AS v`,
    )).rows[0];
    const status = await migrationStatus(source, migrations);
    const actual = await takeSnapshot(source);
    result.actualHash = actual.hash;
    await endSoon(source);
    source = undefined;

    const toReplay = status.filter((e) => e.state === 'applied').map((e) => migrations.find((m) => m.name === e.name)!);
    result.pending = status.filter((e) => e.state === 'pending').map((e) => e.name);
    result.history.missing = status.filter((e) => e.state === 'missing_locally').map((e) => e.name);
    result.history.modified = status.filter((e) => e.state === 'modified').map((e) => e.name);
    result.history.failed = status.filter((e) => e.state === 'failed').map((e) => e.name);
    // The fence, for everything that would run, before anything runs.
    for (const m of toReplay) await assertFenceAllows(`${m.name}/migration.sql`, m.sql, options.fence);
    checkCancelled();

    onStep('sandbox');
    server = await (options.sandbox ?? warmSandbox());
    result.server = server.label;
    checkCancelled();
    admin = keepQuietWhenIdle(new Client({ ...pgClientConfig(server.admin), connectionTimeoutMillis: server.admin.connectTimeoutMs, application_name: 'cutover drift' }));
    await admin.connect();
    const me = await describeAdmin(admin);
    assertRestorable({ num: targetVersion.num, version: targetVersion.v }, { num: me.num, version: me.v, label: server.label });
    if (majorOf(me.num) !== majorOf(targetVersion.num)) {
      result.note = `The replay ran on PostgreSQL ${me.v} and the target runs ${targetVersion.v}: some definitions print differently between major versions.`;
    }

    // A role without any special right owns a fresh database, as in a rehearsal.
    const password = await createScratchOwner(admin, server, scratch, { superuser: me.superuser, onRole: () => (prepared = true) });
    // Roles the migrations grant to must exist for GRANT to replay: login-less, member of nothing, owning nothing.
    if (me.superuser || me.createrole) {
      const existing = new Set((await admin.query<{ rolname: string }>(`SELECT rolname FROM pg_roles`)).rows.map((r) => r.rolname));
      for (const name of rolesNamedBy(actual.shape)) {
        if (existing.has(name)) continue;
        const made = await admin.query(`CREATE ROLE ${id(name)} NOLOGIN`).then(() => true, () => false);
        if (made) createdRoles.push(name);
      }
    }
    checkCancelled();

    scratchClient = keepQuietWhenIdle(new Client({
      ...pgClientConfig({ ...server.admin, database: scratch, username: role, password }),
      connectionTimeoutMillis: server.admin.connectTimeoutMs,
      application_name: 'cutover drift replay',
    }));
    await scratchClient.connect();
    for (const m of toReplay) {
      checkCancelled();
      onStep('replay', m.name);
      let plan;
      try {
        plan = await planSql(m.sql);
      } catch (err) {
        if (err instanceof SqlSyntaxError) throw new Error(`${m.name}/migration.sql has a syntax error: ${err.message}`);
        throw err;
      }
      const script = await runPlannedScript(scratchClient, plan, { signal });
      if (script.aborted) throw new Cancelled();
      if (!script.ok) throw new Error(`Replaying ${m.name} in ${server.label} failed: ${script.error}`);
      result.replayed.push(m.name);
    }

    onStep('compare');
    const expected = await takeSnapshot(scratchClient);
    result.expectedHash = expected.hash;
    result.differences = [
      ...diffSnapshots(expected.shape, actual.shape).map(describeChange),
      ...result.history.missing.map((n) => `migration ${n}: applied on the target, but not in the migrations folder`),
      ...result.history.modified.map((n) => `migration ${n}: changed in the folder since it was applied`),
      ...result.history.failed.map((n) => `migration ${n}: failed on the target and was not resolved`),
    ];
    result.drifted = result.differences.length > 0;
    result.ok = true;
  } catch (err) {
    if (signal?.aborted || err instanceof Cancelled) {
      result.aborted = true;
      result.error = 'cancelled';
    } else {
      result.error = (err as Error).message;
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await Promise.all([endSoon(source), endSoon(scratchClient)]);
    if (server && prepared) {
      onStep('drop');
      await dropScratchDatabase(server, scratch).catch((e: Error) => (result.error ??= `dropping ${scratch}: ${e.message}`));
    }
    // Another replay may be using one of these roles right now: then it stays (it can do nothing).
    for (const name of createdRoles) await admin?.query(`DROP ROLE IF EXISTS ${id(name)}`).catch(() => undefined);
    await endSoon(admin);
    server?.refillSpare?.();
  }
  result.durationMs = Math.round(performance.now() - started);
  if (!result.ok) result.drifted = false;
  return result;
}
