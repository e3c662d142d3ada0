import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { requestAnalysis, saveAnalysisFields } from '@/lib/services/analysis';
import { fileRequest } from '@/lib/services/file-request';
import { requestApply, requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { requestSnapshot } from '@/lib/services/runs';
import { getStepEvidence, passingRehearsal } from '@/lib/services/step-evidence';
import { toggleChecklistItem, transitionTask } from '@/lib/services/work-task';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * Item 3 of issue 8, with real runs: steps Cutover can check wait for their evidence of the
 * current revision, and the checklist items it covers are ticked by it, never by hand.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_step_evidence');
  await withClient(shop.url, (c) => c.query(`
    CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, note text);
    INSERT INTO orders SELECT g, 'open', NULL FROM generate_series(1, 200) g;`));
}, 60_000);
afterAll(async () => {
  await stopBoss();
  await store?.close();
  await shop?.drop();
});

async function refused(call: Promise<unknown>): Promise<DomainError> {
  const err = await call.then(() => null, (e) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

const task = (requestId: string, key: string) => getDb().task.findFirstOrThrow({ where: { requestId, key }, include: { checklist: { orderBy: { position: 'asc' } } } });

describe('steps that wait for their evidence', () => {
  it('Analysis: a snapshot, the analysis of a revision saved while it is in progress, and the written fields', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for analysis steps');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Index orders.status', kind: 'index_optimization', targetId: target.id, description: 'Faster status lists.', priority: 'MEDIUM' });
    const analysis = await task(requestId, 'analysis');
    await transitionTask(optimizer.id, { taskId: analysis.id, transition: 'start' });

    const before = (await getStepEvidence(getDb(), requestId)).analysis;
    expect(before).toMatchObject({ checkable: true, satisfied: false });
    expect(before.items.map((i) => [i.label, i.coveredBy, i.satisfied])).toEqual([
      ['Understand current schema', 'snapshot', false], ['Document desired changes', 'desired_changes', false],
      ['Identify data impact', 'analysis', false], ['Plan migration strategy', 'migration_strategy', false],
    ]);
    expect((await refused(toggleChecklistItem(optimizer.id, { itemId: analysis.checklist[2].id, done: true }))).message).toBe(
      '"Identify data impact" is ticked by evidence (an impact analysis), not by hand.',
    );
    const waiting = await refused(transitionTask(optimizer.id, { taskId: analysis.id, transition: 'complete' }));
    expect(waiting.message).toBe(
      '"Analyze database change" waits for its evidence: Waiting for a schema snapshot of the target (Take snapshot). Write the desired changes on the Analysis step. ' +
      'Save the migration first: an impact analysis needs a saved revision. Write the migration strategy on the Analysis step.',
    );

    // The snapshot, by the worker.
    const snap = await requestSnapshot(optimizer.id, { requestId });
    await runJob(handlerFor('snapshot'), { runId: snap.runId });
    // The DBA saves a revision while Analysis is still in progress, so that it can be analysed.
    await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'orders_status', upSql: 'CREATE INDEX orders_status ON orders (status);', downSql: 'DROP INDEX orders_status;' }));
    const analysed = await requestAnalysis(optimizer.id, { requestId });
    await runJob(handlerFor('analysis'), { runId: analysed.runId });
    await saveAnalysisFields(optimizer.id, { requestId, desiredChanges: 'An index on orders.status.', migrationStrategy: 'Plain CREATE INDEX: the table is small.' });

    const after = (await getStepEvidence(getDb(), requestId)).analysis;
    expect(after).toMatchObject({ satisfied: true, waitingFor: [] });
    expect(after.items.find((i) => i.label === 'Identify data impact')).toMatchObject({ satisfied: true, runId: analysed.runId });
    expect(await transitionTask(optimizer.id, { taskId: analysis.id, transition: 'complete' })).toMatchObject({ status: 'completed' });
    // "Create migration" holds already: the saved revision is its evidence.
    expect((await getStepEvidence(getDb(), requestId))['create-migration']).toMatchObject({ satisfied: true });
  }, 60_000);

  it('Test migration locally: a rehearsal whose rollback fails keeps the step open and the revision off staging; a fixed one passes', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for local tests');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Add orders.shipped_at', kind: 'table_column_change', targetId: target.id, description: 'Shipping dates.', priority: 'HIGH' });
    await getDb().task.updateMany({ where: { requestId, position: { lt: 3 } }, data: { status: 'completed' } });
    const testLocally = await task(requestId, 'test-locally');
    await transitionTask(dba.id, { taskId: testLocally.id, transition: 'start' });

    // The story from the issue: down.sql that does not restore the schema.
    await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'shipped_at', upSql: 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;', downSql: 'SELECT 1;' }));
    const broken = await requestRehearsal(dba.id, { requestId });
    await runJob(handlerFor('rehearsal'), { runId: broken.runId, sampleRows: 0 });
    const rehearsal = await getDb().evidence.findFirstOrThrow({ where: { requestId, kind: 'rehearsal' } });
    expect(rehearsal).toMatchObject({ runId: broken.runId, passed: false });
    expect(rehearsal.summary).toMatch(/^rehearsal of revision 1 failed: Verify rollback works \(the schema after down differs from the original in 1 place\(s\)\)/);

    const step = (await getStepEvidence(getDb(), requestId))['test-locally'];
    expect(step.items.find((i) => i.label === 'Verify rollback works')).toMatchObject({
      coveredBy: 'rehearsal', satisfied: false, runId: broken.runId,
      reason: expect.stringMatching(/^The latest rehearsal of revision 1 did not pass: Verify rollback works \(the schema after down differs/),
    });
    const rollbackItem = testLocally.checklist.find((c) => c.label === 'Verify rollback works')!;
    expect((await refused(toggleChecklistItem(dba.id, { itemId: rollbackItem.id, done: true }))).message).toBe(
      '"Verify rollback works" is ticked by evidence (a passing rehearsal), not by hand.',
    );
    for (const c of testLocally.checklist.filter((c) => ['Test data transformations', 'Check application still works'].includes(c.label))) {
      await toggleChecklistItem(dba.id, { itemId: c.id, done: true });
    }
    expect((await refused(transitionTask(dba.id, { taskId: testLocally.id, transition: 'complete' }))).message).toMatch(
      /^"Test migration locally" waits for its evidence: The latest rehearsal of revision 1 did not pass: Verify rollback works/,
    );
    // ... and the revision is not applied to staging without a word.
    const revision1 = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId } });
    expect(await passingRehearsal(getDb(), requestId, revision1.id)).toBeNull();
    const apply = await refused(requestApply(dba.id, { requestId, direction: 'up' }));
    expect(apply).toMatchObject({ code: 'conflict', message: 'Revision 1 has no passing rehearsal: rehearse it (Test migration locally) before applying it to Shop for local tests (staging).' });
    expect(await getDb().run.count({ where: { requestId, kind: 'apply' } })).toBe(0);

    // Fixed: a passing rehearsal of revision 2 ticks the covered items, lets the step complete and the apply through.
    await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'shipped_at', upSql: 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;', downSql: 'ALTER TABLE orders DROP COLUMN shipped_at;' }));
    const fixed = await requestRehearsal(dba.id, { requestId, sampleRows: 50 });
    await runJob(handlerFor('rehearsal'), { runId: fixed.runId, sampleRows: 50 });
    const revision2 = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
    const passing = await passingRehearsal(getDb(), requestId, revision2.id);
    expect(passing).toMatchObject({ runId: fixed.runId, passed: true, staleBecause: null });
    expect(passing!.detail!.afterUpShape!.tables['public.orders'].columns.map((c) => c.name)).toEqual(['id', 'status', 'note', 'shipped_at']);
    expect(passing!.detail!.phases.map((p) => p.status).every((s) => s === 'ok')).toBe(true);
    expect(passing!.detail!.dataLoss).toMatchObject({ passed: true });
    // The rehearsal of revision 1 is stale now, whatever it said.
    expect(await passingRehearsal(getDb(), requestId, revision1.id)).toBeNull();

    const held = (await getStepEvidence(getDb(), requestId))['test-locally'];
    expect(held.items.map((i) => [i.label, i.satisfied])).toEqual([
      ['Run migration on local database', true], ['Verify schema changes', true], ['Test data transformations', true], ['Check application still works', true], ['Verify rollback works', true],
    ]);
    expect(await transitionTask(dba.id, { taskId: testLocally.id, transition: 'complete' })).toMatchObject({ status: 'completed' });
    const queued = await requestApply(dba.id, { requestId, direction: 'up' });
    expect(await getDb().run.findUniqueOrThrow({ where: { id: queued.runId } })).toMatchObject({ kind: 'apply', revisionId: revision2.id });
  }, 120_000);
});
