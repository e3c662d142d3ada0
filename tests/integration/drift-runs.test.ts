import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActor } from '@/lib/auth/actor';
import { getDb } from '@/lib/db/client';
import { getDriftPanel } from '@/lib/data/drift';
import { applyMigrations, migrationChecksum, type MigrationFile } from '@/lib/engine/prisma-migrations';
import { DEFAULT_FENCE_ALLOWANCES } from '@/lib/engine/postgres/sql-guard';
import { stopBoss } from '@/lib/jobs/queue';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { requestDriftCheck } from '@/lib/services/drift';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';

const migration = (name: string, sql: string): MigrationFile => ({ name, sql, checksum: migrationChecksum(sql) });
const FOLDER = [
  migration('20260201000000_init', `CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE);\n`),
  migration('20260202000000_orders', `CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers (id), total integer NOT NULL);\n`),
];

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_drift_runs');
  await withClient(shop.url, (c) => applyMigrations(c, FOLDER, { fence: DEFAULT_FENCE_ALLOWANCES }));
}, 60_000);
afterAll(async () => {
  await stopBoss();
  await store?.close();
  await shop?.drop();
});

describe('drift runs', () => {
  it('queue for the Analysis step, the DBA desk and admins; record the verdict as evidence, failed when the target drifted', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const engineer = await makeUser({ roles: ['engineer'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for drift');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Drift', kind: 'schema_change', targetId: target.id, description: 'Is the shop what its migrations say?', priority: 'HIGH' });

    await expect(requestDriftCheck(engineer.id, { requestId })).rejects.toThrow(/Checking drift needs database-optimizer or postgres-pro, database-administrator, lead or admin/);
    const engineerPanel = await getDriftPanel(await loadActor(getDb(), engineer.id), requestId);
    expect(engineerPanel).toMatchObject({ canRun: false, folders: [], defaultFolderId: null, run: null });
    expect(engineerPanel.refusal).toMatch(/Checking drift needs/);

    // Without an imported folder there is nothing to compare with: the run says what to do.
    const { runId: noFolder } = await requestDriftCheck(optimizer.id, { requestId });
    await runJob(handlerFor('drift'), { runId: noFolder });
    expect(await getDb().run.findUniqueOrThrow({ where: { id: noFolder } })).toMatchObject({ status: 'failed', error: expect.stringMatching(/import the Prisma migrations folder/) });
    expect(await latestEvidence(requestId, 'drift')).toBeNull();

    const folder = await getDb().migrationFolder.create({ data: { name: 'shop-migrations.tar.gz', migrations: FOLDER as never, importedById: admin.id } });
    const { runId: clean } = await requestDriftCheck(dba.id, { requestId });
    await runJob(handlerFor('drift'), { runId: clean });
    const cleanRun = await getDb().run.findUniqueOrThrow({ where: { id: clean } });
    expect(cleanRun.error).toBeNull();
    expect(cleanRun).toMatchObject({ status: 'succeeded', folderId: null });
    expect(cleanRun.result).toMatchObject({ ok: true, drifted: false, differences: [], replayed: FOLDER.map((m) => m.name), folder: { id: folder.id, name: folder.name } });
    const passed = await latestEvidence(requestId, 'drift');
    expect(passed).toMatchObject({ runId: clean, passed: true, staleBecause: null, detail: { drifted: false, replayed: FOLDER.map((m) => m.name) } });
    expect(passed!.summary).toMatch(/^no drift/);
    expect(passed!.hashes.expectedSchema).toBe(passed!.hashes.actualSchema);

    await withClient(shop.url, (c) => c.query(`ALTER TABLE orders ADD COLUMN coupon text; CREATE INDEX orders_total_idx ON orders (total)`));
    const { runId: drifted } = await requestDriftCheck(admin.id, { requestId, folderId: folder.id });
    await runJob(handlerFor('drift'), { runId: drifted });
    const driftRun = await getDb().run.findUniqueOrThrow({ where: { id: drifted } });
    expect(driftRun).toMatchObject({ status: 'succeeded', folderId: folder.id });
    const failed = await latestEvidence(requestId, 'drift');
    expect(failed).toMatchObject({ runId: drifted, passed: false });
    expect(failed!.detail!.differences.sort()).toEqual([
      '+ column public.orders.coupon text',
      '+ index public.orders.orders_total_idx CREATE INDEX orders_total_idx ON public.orders USING btree (total)',
    ]);
    expect(failed!.summary).toMatch(/^drift: 2 differences/);

    const panel = await getDriftPanel(await loadActor(getDb(), optimizer.id), requestId);
    expect(panel).toMatchObject({ canRun: true, refusal: null, defaultFolderId: folder.id, folders: [{ id: folder.id, name: folder.name, migrations: 2 }] });
    expect(panel.run).toMatchObject({ id: drifted, status: 'succeeded', drifted: true, replayed: FOLDER.map((m) => m.name), folder: { name: folder.name } });
    expect(panel.run!.differences).toContain('+ column public.orders.coupon text');
    // The audit trail has the queueing and the outcome of each run.
    const audit = await getDb().auditLog.findMany({ where: { entityId: drifted }, orderBy: { createdAt: 'asc' }, select: { action: true } });
    expect(audit.map((a) => a.action)).toEqual(['run.queued', 'run.succeeded']);
  }, 60_000);
});
