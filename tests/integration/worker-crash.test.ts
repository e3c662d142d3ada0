import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { scratchDatabaseName } from '@/lib/engine/postgres/rehearsal';
import { sandboxRoot } from '@/lib/engine/postgres/sandbox';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { fileRequest } from '@/lib/services/file-request';
import { requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { backendsOf, processAlive } from '../support/sandbox';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';
import { startWorkerProcess } from '../support/worker-process';
import { recordPassingRehearsal } from '../support/step-evidence';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let worker: ChildProcess | undefined;

const databaseExists = (name: string) =>
  withClient(TEST_SERVER_URL, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1);


/** Waits (bounded) until no session holds the run's advisory lock: its worker is gone for the server too. */
async function runLockReleased(runId: string) {
  for (let i = 0; ; i++) {
    const held = await withClient(store.url, async (c) =>
      (await c.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 21845 AND objid = hashtext($1)::oid AND granted`, [runId])).rowCount,
    );
    if (!held) return;
    if (i > 100) throw new Error('the killed worker still holds its run lock');
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_shop');
  await withClient(shop.url, (c) => c.query('CREATE TABLE orders (id serial PRIMARY KEY)'));
});
afterAll(async () => {
  worker?.kill('SIGKILL');
  await stopBoss();
  await store.close();
  await shop.drop();
});

describe('a worker killed in the middle of a rehearsal', () => {
  it('leaves the run interrupted (never running forever), its scratch copy dropped, and the request free to rehearse again', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const target = await makeLiveTarget(admin.id, shop.name);
    const requestId = (await fileRequest(admin.id, { title: 'Slow one', kind: 'schema_change', targetId: target.id, description: 'A migration that takes its time.', priority: 'HIGH' })).id;
    const save = (upSql: string) =>
      saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'slow', upSql, downSql: 'ALTER TABLE orders DROP COLUMN note;' }));
    await save('ALTER TABLE orders ADD COLUMN note text;\nSELECT pg_sleep(30);\n');

    worker = await startWorkerProcess(store.url);
    const { runId } = await requestRehearsal(admin.id, { requestId });
    // Wait until the up path is running (the snapshot phase before it is recorded).
    for (let i = 0; ; i++) {
      const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
      const phases = ((run.result ?? {}) as { phases?: { phase: string }[] }).phases ?? [];
      if (run.status === 'running' && phases.some((p) => p.phase === 'snapshot')) break;
      if (i > 200) throw new Error(`the rehearsal did not reach the up phase (${run.status})`);
      await new Promise((r) => setTimeout(r, 100));
    }
    await new Promise((r) => setTimeout(r, 600));
    // The page shows the statement the worker is in.
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).phase).toBe('up: statement 2 of 2 (line 2): SELECT pg_sleep(30)');
    const scratch = scratchDatabaseName(runId);
    // The copy lives in the worker's own sandbox (its scratch database has server processes there),
    // never on the target's server.
    const sandboxes = readdirSync(sandboxRoot()).filter((d) => d.startsWith(`${worker!.pid}-`));
    expect(sandboxes).toHaveLength(1);
    const sandboxDir = path.join(sandboxRoot(), sandboxes[0]);
    const postmaster = Number(readFileSync(path.join(sandboxDir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    expect(backendsOf(scratch).length).toBeGreaterThan(0);
    expect(await databaseExists(scratch)).toBe(false);

    worker.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));
    worker = undefined;
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('running');
    // The killed worker's sandbox runs on: PostgreSQL does not watch the process that started it.
    expect(processAlive(postmaster)).toBe(true);
    // The server notices the dead client a moment later; then the run's lock is free.
    await runLockReleased(runId);

    // A worker starting again recognises the orphan: its lock died with the killed process.
    const { interrupted } = await startWorker({ pollingIntervalSeconds: 0.5 });
    expect(interrupted).toEqual([runId]);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'interrupted', error: 'The worker stopped while this run was in progress; run it again.' });
    // ... and stops and removes the sandbox the dead worker left: postmaster, scratch database, folder.
    expect(processAlive(postmaster)).toBe(false);
    expect(existsSync(sandboxDir)).toBe(false);
    expect(backendsOf(scratch)).toEqual([]);
    expect(await databaseExists(scratch)).toBe(false);
    expect(await withClient(shop.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'`)).rows[0].n)).toBe(0);

    await save('ALTER TABLE orders ADD COLUMN note text;\n');
    const retry = await waitForRun((await requestRehearsal(admin.id, { requestId })).runId);
    expect(retry.status).toBe('succeeded');
  }, 60_000);
});

describe('a worker killed in the middle of an apply', () => {
  it('leaves the target as it was (the transaction rolls back), frees the target lock, and marks the run interrupted', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for apply');
    const requestId = (await fileRequest(admin.id, { title: 'Slow apply', kind: 'schema_change', targetId: target.id, description: 'An apply that takes its time.', priority: 'HIGH' })).id;
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({
      requestId, name: 'slow_apply', upSql: 'ALTER TABLE orders ADD COLUMN z integer;\nSELECT pg_sleep(30);\n', downSql: 'ALTER TABLE orders DROP COLUMN z;',
    }));
    await recordPassingRehearsal(requestId); // applying beyond local needs one
    await stopBoss(); // only the worker process takes this job
    worker = await startWorkerProcess(store.url);
    const { requestApply } = await import('@/lib/services/migration-revisions');
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    const inSleep = async () =>
      (await withClient(shop.url, async (c) => (await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`, [`cutover run ${runId}`])).rowCount)) === 1;
    for (let i = 0; !(await inSleep()); i++) {
      if (i > 200) throw new Error('the apply never reached its pg_sleep');
      await new Promise((r) => setTimeout(r, 100));
    }
    worker.kill('SIGKILL');
    await new Promise((r) => worker!.once('exit', r));
    worker = undefined;

    // client_connection_check_interval: the target notices within about a second.
    const started = Date.now();
    for (;;) {
      const left = await withClient(shop.url, async (c) => (await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [`cutover run ${runId}`])).rowCount);
      if (!left) break;
      if (Date.now() - started > 10_000) throw new Error('the killed run is still on the target');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(Date.now() - started).toBeLessThan(5000);
    const state = await withClient(shop.url, async (c) => ({
      column: (await c.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'z'`)).rowCount,
      lock: (await c.query(`SELECT pg_try_advisory_lock(72707369) AS ok`)).rows[0].ok,
    }));
    expect(state).toEqual({ column: 0, lock: true });

    await runLockReleased(runId);
    const { interrupted } = await startWorker({ pollingIntervalSeconds: 0.5 });
    expect(interrupted).toEqual([runId]);
  }, 60_000);
});
