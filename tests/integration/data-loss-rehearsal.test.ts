import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataLossCheck, type DataLossReport } from '@/lib/engine/postgres/data-loss';
import { rehearseMigration } from '@/lib/engine/postgres/rehearsal';
import { FENCE_OFF } from '@/lib/engine/postgres/sql-guard';
import { getDb } from '@/lib/db/client';
import { readRunResult } from '@/lib/domain/run-results';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionFormSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { sandboxForFile, settingsOf } from '../support/sandbox';

const sandbox = sandboxForFile();
const ORDERS = 2000;
let target: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  target = await createScratchDatabase('cutover_dataloss_target');
  await withClient(target.url, (c) =>
    c.query(`CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, total_cents integer NOT NULL);
             INSERT INTO orders SELECT g, (ARRAY['open', 'paid', 'void'])[g % 3 + 1], g * 10 FROM generate_series(1, ${ORDERS}) g;`),
  );
}, 60_000);
afterAll(() => target?.drop());

const UP = `ALTER TABLE orders ADD COLUMN archived boolean NOT NULL DEFAULT false;\nDELETE FROM orders WHERE status = 'void';\n`;
const DOWN = `ALTER TABLE orders DROP COLUMN archived;\n`;
/** The first void orders by key, read from the target with psql (the reference for the keys the check names). */
const firstVoidIds = () =>
  execFileSync('psql', ['-Atc', `SELECT id FROM orders WHERE status = 'void' ORDER BY id LIMIT 10`, target.url], { encoding: 'utf8' }).trim().split('\n');
const voidCount = () => Number(execFileSync('psql', ['-Atc', `SELECT count(*) FROM orders WHERE status = 'void'`, target.url], { encoding: 'utf8' }).trim());

describe('the data-loss check in a rehearsal with a data sample', () => {
  it('fails an undeclared DELETE, naming the first deleted keys, and passes it declared, with its count', async () => {
    const rehearse = (declared: Parameters<typeof dataLossCheck>[0]) =>
      rehearseMigration(settingsOf(target.url), { name: 'drop_void', upSql: UP, downSql: DOWN }, {
        sandbox: sandbox(), fence: FENCE_OFF, sampleRows: ORDERS, dataCheck: dataLossCheck(declared),
      });
    const undeclared = await rehearse({ tables: [] });
    const phase = undeclared.phases.find((p) => p.phase === 'data-loss')!;
    expect(phase.status).toBe('failed');
    expect(phase.detail).toMatch(/^Undeclared data changes in 1 table\(s\): public\.orders/);
    const orders = (phase.result as DataLossReport).tables.find((t) => t.table === 'public.orders')!;
    expect(orders.keys.map((k) => k.key.id)).toEqual(firstVoidIds());
    expect(orders.keys.every((k) => k.change === 'deleted')).toBe(true);
    expect(orders).toMatchObject({ rowsBefore: ORDERS, rowsAfter: ORDERS - voidCount(), moreKeys: true });
    expect(orders.notes).toContain('column archived (boolean) added');
    // The line that would declare it: the migration's own DELETE condition, as the form takes it.
    expect(orders.suggestedDeclaration).toBe(`public.orders rows where status = 'void'`);
    expect(undeclared.ok).toBe(false);

    const declared = await rehearse({ tables: [{ table: 'public.orders', rows: { predicate: `status = 'void'` } }] });
    expect(declared.ok).toBe(true);
    const ok = declared.phases.find((p) => p.phase === 'data-loss')!;
    expect(ok.status).toBe('ok');
    expect((ok.result as DataLossReport).tables[0]).toMatchObject({ status: 'changed as declared', declaredRows: { updated: 0, inserted: 0, deleted: voidCount() } });
  }, 60_000);
});

describe('declared changes on a revision, and the data_loss evidence through the worker', () => {
  let store: Awaited<ReturnType<typeof openTestAppStore>> | undefined;
  afterAll(async () => {
    await stopBoss();
    await store?.close();
  });

  it('refuses a condition that is not a plain expression, saves the declarations, and records evidence that passes', async () => {
    store = await openTestAppStore();
    const admin = await makeUser({ roles: ['admin'] });
    const shop = await makeLiveTarget(admin.id, target.name, 'Orders');
    const requestId = (await fileRequest(admin.id, { title: 'Drop void orders', kind: 'schema_change', targetId: shop.id, description: 'Void orders go.', priority: 'HIGH' })).id;
    const save = (declaredChanges: string) =>
      saveMigrationRevision(admin.id, SaveRevisionFormSchema.parse({ requestId, name: 'drop_void', upSql: UP, downSql: DOWN, declaredChanges }));

    // The form's text: a line that is not a declaration fails parsing; a subquery fails the parser's check.
    expect(SaveRevisionFormSchema.safeParse({ requestId, name: 'x', upSql: UP, downSql: DOWN, declaredChanges: 'orders lose some rows' }).success).toBe(false);
    await expect(save(`public.orders rows where id IN (SELECT 1)`)).rejects.toMatchObject({ field: 'declaredChanges', message: expect.stringMatching(/subqueries/) });
    expect(await getDb().migrationRevision.count({ where: { requestId } })).toBe(0);

    const saved = await save(`public.orders rows where status = 'void'\n`);
    const revision = await getDb().migrationRevision.findUniqueOrThrow({ where: { id: saved.id } });
    expect(revision.declaredChanges).toEqual({ tables: [{ table: 'public.orders', rows: { predicate: `status = 'void'` } }] });

    await startWorker({ pollingIntervalSeconds: 0.5 });
    const run = await waitForRun((await requestRehearsal(admin.id, { requestId, sampleRows: ORDERS })).runId, 60_000);
    expect(run.error).toBeNull();
    expect(readRunResult('rehearsal', run.result, run.id)!.phases!.find((p) => p.phase === 'data-loss')).toMatchObject({ status: 'ok' });
    const evidence = (await latestEvidence(requestId, 'data_loss'))!;
    expect(evidence).toMatchObject({ runId: run.id, passed: true, staleBecause: null });
    expect(evidence.summary).toMatch(/^No undeclared data changes in 1 table\(s\); changed as declared: public\.orders\.$/);
    expect(evidence.detail).toMatchObject({ sampleRows: ORDERS, declaredChanges: { tables: [{ table: 'public.orders' }] } });
    expect(evidence.detail!.report!.tables[0]).toMatchObject({ table: 'public.orders', declaredRows: { deleted: voidCount() } });

    // Schema only: no data-loss check, no new evidence.
    const schemaOnly = await waitForRun((await requestRehearsal(admin.id, { requestId })).runId, 60_000);
    expect(readRunResult('rehearsal', schemaOnly.result, schemaOnly.id)!.phases!.some((p) => p.phase === 'data-loss')).toBe(false);
    expect((await latestEvidence(requestId, 'data_loss'))!.runId).toBe(run.id);
  }, 120_000);
});
