import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { relationsNamed } from '@/lib/engine/postgres/lock-probe';
import { rehearseMigration, scratchDatabaseName, type DataCheck } from '@/lib/engine/postgres/rehearsal';
import { parseFile } from '@/lib/engine/postgres/sql-plan';
import { FENCE_OFF } from '@/lib/engine/postgres/sql-guard';
import { getDb } from '@/lib/db/client';
import { readRunResult } from '@/lib/domain/run-results';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { updateTarget } from '@/lib/services/manage-targets';
import { requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { sandboxForFile, sandboxUrl, settingsOf } from '../support/sandbox';

const sandbox = sandboxForFile();
const ROWS = 200_000;
let target: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  target = await createScratchDatabase('cutover_lock_target');
  // Wide enough keys that building an index on the sample takes a few hundred ms.
  await withClient(target.url, (c) =>
    c.query(`CREATE TABLE items (id int PRIMARY KEY, code text NOT NULL, qty int NOT NULL);
             INSERT INTO items SELECT g, md5(g::text) || md5((g * 7)::text), g % 100 FROM generate_series(1, ${ROWS}) g;`),
  );
}, 60_000);
afterAll(() => target?.drop());

interface PgLocksSeen {
  /** Modes the migration's backend (application_name "cutover rehearsal ...") held on items. */
  migrationHeld: Set<string>;
  /** Modes the probe sessions waited for on items (granted = false), by probe kind. */
  probesWaited: { read: Set<string>; write: Set<string> };
}

/**
 * An observer of its own, beside Cutover's monitor: the sandbox's superuser, connected to the
 * scratch database as soon as it exists, polls pg_locks and pg_stat_activity while the rehearsal runs.
 */
function watchPgLocks(database: string) {
  const seen: PgLocksSeen = { migrationHeld: new Set(), probesWaited: { read: new Set(), write: new Set() } };
  let stop = false;
  const observe = async (c: Client) => {
    while (!stop) {
      const { rows } = await c.query<{ app: string; mode: string; granted: boolean }>(
        `SELECT a.application_name AS app, l.mode, l.granted
         FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid JOIN pg_database d ON d.oid = l.database
         JOIN pg_class r ON r.oid = l.relation
         WHERE d.datname = $1 AND l.locktype = 'relation' AND r.relname = 'items'`,
        [database],
      );
      for (const r of rows) {
        if (r.app.startsWith('cutover rehearsal') && r.granted) seen.migrationHeld.add(r.mode);
        if (r.app === 'cutover lock probe write' && !r.granted) seen.probesWaited.write.add(r.mode);
        if (r.app === 'cutover lock probe read' && !r.granted) seen.probesWaited.read.add(r.mode);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  };
  const done = (async () => {
    while (!stop) {
      const exists = await withClient(sandboxUrl(sandbox()), async (c) => (await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [database])).rowCount === 1);
      if (exists) {
        // The rehearsal drops the database WITH (FORCE) at its end, ending this session too.
        const c = new Client({ connectionString: sandboxUrl(sandbox(), database) });
        c.on('error', () => undefined);
        await c.connect();
        await observe(c).catch(() => undefined);
        return c.end().catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return async () => {
    stop = true;
    await done;
    return seen;
  };
}

/** Rows' content and versions (xmin) of items, to show that the probes' writes changed nothing. */
const rowState: DataCheck = {
  before: (c: Client) => state(c),
  async after(c: Client, before: unknown) {
    const after = await state(c);
    return { ok: JSON.stringify(after) === JSON.stringify(before), detail: JSON.stringify(after), result: { before, after } };
  },
};
const state = async (c: Client) =>
  (await c.query(`SELECT count(*)::int AS n, md5(string_agg(concat_ws('|', id, code, qty), ',' ORDER BY id)) AS content, md5(string_agg(xmin::text, ',' ORDER BY id)) AS versions FROM items t`)).rows[0];

async function rehearseWithProbe(upSql: string, downSql: string, options: { signal?: AbortSignal } = {}) {
  const scratch = scratchDatabaseName(randomBytes(6).toString('hex'));
  const stop = watchPgLocks(scratch);
  const result = await rehearseMigration(settingsOf(target.url), { name: 'index_items', upSql, downSql }, {
    sandbox: sandbox(), fence: FENCE_OFF, scratch, sampleRows: ROWS, lockProbe: { thresholdMs: 20 }, dataCheck: rowState, ...options,
  });
  const pgLocks = await stop();
  const sessionsLeft = await withClient(sandboxUrl(sandbox()), async (c) =>
    (await c.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name LIKE 'cutover lock%'`)).rows[0].n as number,
  );
  return { result, pgLocks, sessionsLeft };
}

describe('lock impact, measured with a probe workload on the sample', () => {
  it('names the relations a statement touches, from its parse tree', () => {
    const names = (sql: string) => relationsNamed(parseFile(sql).stmts![0].stmt);
    expect(names('CREATE INDEX CONCURRENTLY i ON s.t (a)')).toEqual(['"s"."t"']);
    expect(names('ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)')).toEqual(['"t"', '"p"']);
    expect(names('UPDATE t SET a = (SELECT 1 FROM "U")')).toEqual(['"t"', '"U"']);
    expect(names('DROP INDEX s.i1, i2')).toEqual(['"s"."i1"', '"i2"']);
  });

  it('shows a non-concurrent index build blocking the probe writers (not the readers), as pg_locks saw it', async () => {
    const { result, pgLocks, sessionsLeft } = await rehearseWithProbe('CREATE INDEX items_code ON items (code);\n', 'DROP INDEX items_code;\n');
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const impact = result.lockImpact!;
    expect(impact.error).toBeUndefined();
    expect(impact.tables).toEqual(['public.items']);
    const build = impact.statements.find((s) => s.phase === 'up' && s.index === 0)!;
    expect(build.sql).toBe('CREATE INDEX items_code ON items (code);'.replace(';', ''));
    expect(build.probeBlockedMs.max).toBeGreaterThan(0);
    expect(build.probeBlockedMs.total).toBeGreaterThanOrEqual(build.probeBlockedMs.max);
    expect(build.blockedKinds).toEqual(['write']);
    expect(build.blockedBy).toEqual({ mode: 'ShareLock', relation: 'public.items' });
    expect(build.longestLock).toMatchObject({ mode: 'ShareLock', relation: 'public.items' });
    expect(build.samples.some((s) => s.kind === 'write' && s.blocked)).toBe(true);
    expect(build.samples.some((s) => s.kind === 'read' && !s.blocked)).toBe(true);
    expect(build.samples.filter((s) => s.kind === 'read').every((s) => !s.blocked)).toBe(true);
    expect(impact.exceeded).toContainEqual(expect.objectContaining({ phase: 'up', index: 0, blockedMs: build.probeBlockedMs.max }));
    // The independent reading: the migration's backend held SHARE on items while probe writers queued for ROW EXCLUSIVE.
    expect(pgLocks.migrationHeld).toContain('ShareLock');
    expect([...pgLocks.probesWaited.write]).toEqual(['RowExclusiveLock']);
    expect([...pgLocks.probesWaited.read]).toEqual([]);
    // The probes changed no row and wrote no row version; their sessions are gone.
    expect(result.phases.find((p) => p.phase === 'data-loss')).toMatchObject({ status: 'ok' });
    expect(sessionsLeft).toBe(0);
  }, 60_000);

  it('shows CREATE INDEX CONCURRENTLY leaving the probe writers unblocked while they keep writing', async () => {
    const { result, pgLocks, sessionsLeft } = await rehearseWithProbe(
      'CREATE INDEX CONCURRENTLY items_code ON items (code);\n',
      'DROP INDEX CONCURRENTLY items_code;\n',
    );
    expect(result.error).toBeUndefined();
    const build = result.lockImpact!.statements.find((s) => s.phase === 'up' && s.index === 0)!;
    expect(build.probeBlockedMs).toEqual({ max: 0, total: 0 });
    expect(build.blockedKinds).toEqual([]);
    expect(build.longestLock).toMatchObject({ mode: 'ShareUpdateExclusiveLock', relation: 'public.items' });
    // Writers did write while the index was built, none of them waited.
    expect(build.samples.filter((s) => s.kind === 'write' && !s.error).length).toBeGreaterThan(2);
    expect(build.samples.filter((s) => s.blocked)).toEqual([]);
    expect(result.lockImpact!.exceeded.filter((e) => e.phase === 'up')).toEqual([]);
    expect(pgLocks.migrationHeld).toContain('ShareUpdateExclusiveLock');
    expect(pgLocks.migrationHeld).not.toContain('ShareLock');
    expect([...pgLocks.probesWaited.write]).toEqual([]);
    expect(result.phases.find((p) => p.phase === 'data-loss')).toMatchObject({ status: 'ok' });
    expect(sessionsLeft).toBe(0);
  }, 60_000);

  it('blames the statement that took the lock: a quick ALTER whose ACCESS EXCLUSIVE is held while the next statement runs', async () => {
    const { result, pgLocks } = await rehearseWithProbe('ALTER TABLE items ADD COLUMN note text;\nSELECT pg_sleep(0.8);\n', 'ALTER TABLE items DROP COLUMN note;\n');
    expect(result.error).toBeUndefined();
    const impact = result.lockImpact!;
    const [alter, sleep] = impact.statements.filter((s) => s.phase === 'up');
    expect(alter.blockedKinds).toEqual(['read', 'write']);
    expect(alter.blockedBy).toEqual({ mode: 'AccessExclusiveLock', relation: 'public.items' });
    expect(alter.longestLock).toMatchObject({ mode: 'AccessExclusiveLock', relation: 'public.items' });
    // A probe gives up after its lock_timeout and retries at once: the episode is as long as an application's wait.
    expect(alter.probeBlockedMs.max).toBeGreaterThan(impact.probeLockTimeoutMs);
    // Each blocked query says how long its session had been waiting by then (the picture's ramps).
    const waits = [alter, sleep].flatMap((s) => s.samples).filter((s) => s.blocked).map((s) => s.waitedMs!);
    expect(Math.max(...waits)).toBe(alter.probeBlockedMs.max);
    expect(sleep.probeBlockedMs).toEqual({ max: 0, total: 0 });
    expect(sleep.longestLock).toBeNull();
    expect(impact.exceeded.map((e) => `${e.phase}:${e.index}`)).toContain('up:0');
    expect(impact.exceeded.map((e) => `${e.phase}:${e.index}`)).not.toContain('up:1');
    expect(pgLocks.migrationHeld).toContain('AccessExclusiveLock');
    expect(pgLocks.probesWaited.read).toContain('AccessShareLock');
    expect(pgLocks.probesWaited.write).toContain('RowExclusiveLock');
    expect(result.phases.find((p) => p.phase === 'data-loss')).toMatchObject({ status: 'ok' });
  }, 60_000);

  it('stops the probes on cancel and leaves no session behind', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const timer = setInterval(() => {
      // Once up is holding its lock and the probes are waiting for it.
      if (Date.now() - started > 500) void withClient(sandboxUrl(sandbox()), async (c) => {
        const { rows } = await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name LIKE 'cutover lock probe%' AND wait_event_type = 'Lock'`);
        if (rows.length) controller.abort();
      }).catch(() => undefined);
    }, 100);
    const { result, sessionsLeft } = await rehearseWithProbe('LOCK TABLE items IN ACCESS EXCLUSIVE MODE;\nSELECT pg_sleep(30);\n', 'SELECT 1;\n', { signal: controller.signal });
    clearInterval(timer);
    expect(result.aborted).toBe(true);
    expect(result.abortedDuring).toBe('up');
    expect(sessionsLeft).toBe(0);
    expect(result.phases.at(-1)).toMatchObject({ phase: 'drop', status: 'ok' });
  }, 60_000);
});

describe('the data-check hook around up', () => {
  it('fails its phase when the check finds a difference, and the rehearsal goes on to the rollback proof and ends not ok', async () => {
    const seen: string[] = [];
    const result = await rehearseMigration(settingsOf(target.url), { name: 'lose_rows', upSql: 'DELETE FROM items WHERE id <= 3;\n', downSql: 'SELECT 1;\n' }, {
      sandbox: sandbox(), fence: FENCE_OFF, sampleRows: 10, dataCheck: rowState, onPhase: (p) => seen.push(`${p.phase}:${p.status}`),
    });
    expect(seen).toEqual(['clone:ok', 'sample:ok', 'snapshot:ok', 'up:ok', 'data-loss:failed', 'verify-schema:ok', 'down:ok', 'verify-rollback:ok', 'redo:ok', 'drop:ok']);
    const check = result.phases.find((p) => p.phase === 'data-loss')!;
    expect(check.label).toBe('Check for data loss');
    expect(check.result).toMatchObject({ before: { n: 10 }, after: { n: 7 } });
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/^Check for data loss: /);
    expect(result.lockImpact).toBeUndefined();
  }, 60_000);
});

describe('through the worker: the target\'s threshold, the run\'s result and the lock_impact evidence', () => {
  let store: Awaited<ReturnType<typeof openTestAppStore>> | undefined;
  afterAll(async () => {
    await stopBoss();
    await store?.close();
  });

  it('records evidence that fails and names the statement over the target\'s threshold, and passes under a higher one', async () => {
    store = await openTestAppStore();
    const admin = await makeUser({ roles: ['admin'] });
    const items = await makeLiveTarget(admin.id, target.name, 'Items');
    const requestId = (await fileRequest(admin.id, { title: 'Index items', kind: 'index_optimization', targetId: items.id, description: 'Find items by code.', priority: 'HIGH' })).id;
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({
      requestId, name: 'index_items', upSql: 'CREATE INDEX items_code ON items (code);', downSql: 'DROP INDEX items_code;',
    }));
    await startWorker({ pollingIntervalSeconds: 0.5 });
    // The admin's setting, through the service the target form calls.
    const settings = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: items.id } });
    const input = {
      id: settings.id, name: settings.name, engine: 'postgresql' as const, environment: 'staging' as const, host: settings.host!, port: settings.port!,
      database: settings.database, username: settings.username!, sslMode: 'disable' as const, connectTimeoutMs: settings.connectTimeoutMs,
      lockTimeoutMs: settings.lockTimeoutMs, statementTimeoutMs: settings.statementTimeoutMs,
    };
    await updateTarget(admin.id, { ...input, lockImpactThresholdMs: 10 });
    expect((await getDb().auditLog.findFirstOrThrow({ where: { entityId: items.id, action: 'target.updated' }, orderBy: { createdAt: 'desc' } })).after).toMatchObject({ lockImpactThresholdMs: 10 });

    const run = await waitForRun((await requestRehearsal(admin.id, { requestId, sampleRows: ROWS })).runId, 60_000);
    expect(run.error).toBeNull();
    const result = readRunResult('rehearsal', run.result, run.id)!;
    expect(result.lockImpact).toMatchObject({ thresholdMs: 10, exceeded: [expect.objectContaining({ phase: 'up', index: 0 })] });
    const evidence = (await latestEvidence(requestId, 'lock_impact'))!;
    expect(evidence).toMatchObject({ runId: run.id, passed: false, staleBecause: null });
    expect(evidence.summary).toMatch(/^Over the 10 ms lock threshold: statement 1 of up \(line 1\) kept writers waiting \d+ ms behind its SHARE lock on public\.items: CREATE INDEX items_code ON items \(code\)$/);
    expect(evidence.detail).toMatchObject({ sampleRows: ROWS, thresholdMs: 10, tables: ['public.items'] });
    expect(evidence.detail!.statements[0]).not.toHaveProperty('samples');

    // A threshold above any wait: the same migration passes (and the earlier evidence is stale: the settings changed).
    await updateTarget(admin.id, { ...input, lockImpactThresholdMs: 600_000 });
    expect((await latestEvidence(requestId, 'lock_impact'))!.staleBecause).toBe("The target's settings changed after this evidence was produced.");
    const again = await waitForRun((await requestRehearsal(admin.id, { requestId, sampleRows: 1000 })).runId, 60_000);
    expect(again.error).toBeNull();
    expect(await latestEvidence(requestId, 'lock_impact')).toMatchObject({ runId: again.id, passed: true, summary: expect.stringMatching(/^No statement kept the probes waiting longer than 600000 ms( \(longest wait \d+ ms, statement 1 of up \(line 1\)\))?\.$/) });

    // Schema only: no probe, no evidence.
    const schemaOnly = await waitForRun((await requestRehearsal(admin.id, { requestId })).runId, 60_000);
    expect(readRunResult('rehearsal', schemaOnly.result, schemaOnly.id)!.lockImpact).toBeUndefined();
    expect((await latestEvidence(requestId, 'lock_impact'))!.runId).toBe(again.id);
  }, 90_000);
});

