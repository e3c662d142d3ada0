import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { fileRequest } from '@/lib/services/file-request';
import { markInterruptedRuns, requestSnapshot } from '@/lib/services/runs';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let requestId: string;
let optimizer: Awaited<ReturnType<typeof makeUser>>;

const finished = (runId: string) => waitForRun(runId);

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_shop');
  await withClient(shop.url, (c) => c.query(`CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now()); CREATE INDEX orders_placed_at_idx ON orders (placed_at)`));
  const admin = await makeUser({ roles: ['admin'] });
  const target = await makeLiveTarget(admin.id, shop.name);
  optimizer = await makeUser({ agentRoles: ['postgres-pro'] });
  requestId = (await fileRequest(admin.id, { title: 'Index orders', kind: 'index_optimization', targetId: target.id, description: 'Speed up the order list.', priority: 'HIGH' })).id;
  await startWorker({ pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  await shop.drop();
});

describe('schema snapshot runs', () => {
  it('records the run and its job together, and the worker stores the snapshot', async () => {
    const { runId } = await requestSnapshot(optimizer.id, { requestId });
    const job = await withClient(store.url, async (c) => (await c.query(`SELECT name, data FROM pgboss.job WHERE data->>'runId' = $1`, [runId])).rows);
    expect(job).toEqual([{ name: 'cutover-snapshot', data: { runId } }]);

    const run = await finished(runId);
    expect(run).toMatchObject({ status: 'succeeded', progress: 100, phase: 'done', error: null });
    expect(run.startedAt).toBeInstanceOf(Date);
    const stored = await getDb().schemaSnapshot.findUniqueOrThrow({ where: { runId } });
    const direct = await withClient(shop.url, takeSnapshot);
    expect(stored.hash).toBe(direct.hash);
    expect(Object.keys(stored.shape as object)).toContain('tables');
    expect(run.result).toMatchObject({ snapshotId: stored.id, hash: direct.hash, tables: 1 });
    const audit = await getDb().auditLog.findMany({ where: { entityId: runId }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['run.queued', 'run.succeeded']);
  });

  it('refuses people without the Analysis roles and a second snapshot while one is queued, writing nothing', async () => {
    const outsider = await makeUser({ agentRoles: ['test-automator'] });
    const before = await getDb().run.count();
    const err = await requestSnapshot(outsider.id, { requestId }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.message).toBe('Only holders of database-optimizer or postgres-pro (or admins) can take snapshots for "Analyze database change".');
    expect(await getDb().run.count()).toBe(before);

    await stopBoss(); // nobody takes jobs: the next one stays queued
    const { runId } = await requestSnapshot(optimizer.id, { requestId });
    const busy = await requestSnapshot(optimizer.id, { requestId }).catch((e) => e);
    expect(busy).toMatchObject({ code: 'conflict' });
    await startWorker({ pollingIntervalSeconds: 0.5 });
    expect((await finished(runId)).status).toBe('succeeded');
  });

  it('records a failure when the target cannot be reached', async () => {
    await withClient(store.url, (c) => c.query(`UPDATE target_databases SET port = 1 WHERE name = 'Shop'`));
    try {
      const { runId } = await requestSnapshot(optimizer.id, { requestId });
      const run = await finished(runId);
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(/ECONNREFUSED|refused/);
    } finally {
      await withClient(store.url, (c) => c.query(`UPDATE target_databases SET port = $1 WHERE name = 'Shop'`, [Number(new URL(TEST_SERVER_URL).port || 5432)]));
    }
  });

  it('marks a run whose worker died as interrupted, and leaves a live one alone', async () => {
    const db = getDb();
    const base = await db.run.findFirstOrThrow({ where: { requestId } });
    const orphan = await db.run.create({ data: { kind: 'snapshot', status: 'running', targetId: base.targetId, requestId, requestedById: optimizer.id } });
    const alive = await db.run.create({ data: { kind: 'snapshot', status: 'running', targetId: base.targetId, requestId, requestedById: optimizer.id } });
    // A live worker holds its run's lock on its own connection.
    const holder = new Client({ connectionString: store.url });
    await holder.connect();
    await holder.query('SELECT pg_advisory_lock(21845, hashtext($1))', [alive.id]);
    try {
      expect(await markInterruptedRuns()).toEqual([orphan.id]);
      expect((await db.run.findUniqueOrThrow({ where: { id: orphan.id } })).status).toBe('interrupted');
      expect((await db.run.findUniqueOrThrow({ where: { id: alive.id } })).status).toBe('running');
    } finally {
      await holder.end();
    }
    expect(await markInterruptedRuns()).toEqual([alive.id]);
  });
});
