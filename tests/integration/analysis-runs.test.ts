import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadActor } from '@/lib/auth/actor';
import { getDb } from '@/lib/db/client';
import { getAnalysisPanel } from '@/lib/data/analysis';
import { stopBoss } from '@/lib/jobs/queue';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { createAgent } from '@/lib/services/agent-accounts';
import { acknowledgeDestructiveOperation, requestAnalysis, saveAnalysisFields } from '@/lib/services/analysis';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { saveMigrationRevision } from '@/lib/services/migration-revisions';
import { signGateItem } from '@/lib/services/sign-gate';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { completeStepWithEvidence } from '../support/step-evidence';

/**
 * The analysis vertical: an analysis run against a real target records its result and evidence
 * (the target is only read), destructive operations are acknowledged explicitly, once, by the
 * right people, only for the latest analysis of the current revision; the two written fields
 * are saved by the Analysis step's holders. Every change leaves its audit row.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_analysis_runs');
  await withClient(shop.url, (c) =>
    c.query(`CREATE TABLE orders (id bigint PRIMARY KEY, note text, qty int);
             INSERT INTO orders SELECT g, 'n' || g, g % 5 FROM generate_series(1, 500) g; ANALYZE orders;`));
}, 60_000);
afterAll(async () => {
  await stopBoss();
  await store?.close();
  await shop?.drop();
});

const UP = 'ALTER TABLE orders DROP COLUMN note;\nCREATE INDEX orders_qty_idx ON orders (qty);\n';

describe('analysis runs', () => {
  it('analyse the latest revision read-only, record result and evidence, and take acknowledgements only as they should', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'], name: 'Olga Optimizer' });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'], name: 'Dana DBA' });
    const engineer = await makeUser({ roles: ['engineer'] });
    const reviewer = await makeUser({ roles: ['reviewer'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for analysis');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Drop notes', kind: 'schema_change', targetId: target.id, description: 'Notes go.', priority: 'HIGH' });
    const save = (upSql: string) => saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'drop_note', upSql, downSql: 'ALTER TABLE orders ADD COLUMN note text;' }));

    await expect(requestAnalysis(optimizer.id, { requestId })).rejects.toThrow('Save the migration (Create migration) before analysing it.');
    await save(UP);
    await expect(requestAnalysis(engineer.id, { requestId })).rejects.toThrow(/Only holders of database-optimizer or postgres-pro or database-administrator/);
    const { runId } = await requestAnalysis(optimizer.id, { requestId });
    await runJob(handlerFor('analysis'), { runId });

    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('succeeded');
    // Nothing ran on the target: the column is still there, and no index was built.
    await withClient(shop.url, async (c) => {
      const { rows } = await c.query(`SELECT (SELECT count(*) FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note')::int AS note,
        to_regclass('orders_qty_idx') IS NULL AS no_index`);
      expect(rows[0]).toEqual({ note: 1, no_index: true });
    });
    const evidence = await latestEvidence(requestId, 'analysis');
    expect(evidence).toMatchObject({ runId, passed: false, staleBecause: null, summary: expect.stringMatching(/^risk high: 2 statements, 1 destructive operation/) });
    expect(evidence?.detail).toMatchObject({
      revision: 1, statements: 2, strongestLock: 'ACCESS EXCLUSIVE', catalogRead: true,
      destructive: [{ operationKey: 'drop_column:public.orders.note', line: 1 }],
      tables: [{ name: 'public.orders', rows: 500, rowsExact: true }],
      squawk: { version: '2.66.0', error: null, rules: expect.objectContaining({ 'ban-drop-column': 1, 'require-concurrent-index-creation': 1 }) },
    });

    const panel = await getAnalysisPanel(await loadActor(getDb(), engineer.id), requestId);
    expect(panel).toMatchObject({ canRun: false, canAcknowledge: false, canEditFields: false, latestRevision: 1 });
    expect(panel.run?.impact?.statements.map((s) => s.lock)).toEqual(['ACCESS EXCLUSIVE', 'SHARE']);
    expect(panel.run?.destructive).toEqual([expect.objectContaining({ operationKey: 'drop_column:public.orders.note', acknowledged: null })]);
    expect(panel.run?.squawk?.findings.map((f) => f.rule)).toContain('ban-drop-column');
    // The written fields start as the analysis's words.
    expect(panel.fields.prefilled).toEqual({ desiredChanges: true, migrationStrategy: true });
    expect(panel.fields.desiredChanges).toBe('- drop column note of public.orders (line 1)\n- create index public.orders_qty_idx on public.orders (line 2)');
    expect(panel.fields.migrationStrategy).toMatch(/CREATE INDEX CONCURRENTLY orders_qty_idx ON orders \(qty\)/);

    // Acknowledging: who, what and how often.
    const ack = (actorId: string, operationKey: string, note = 'Notes moved to the CRM last quarter.') => acknowledgeDestructiveOperation(actorId, { requestId, operationKey, note });
    await expect(ack(engineer.id, 'drop_column:public.orders.note')).rejects.toThrow('Acknowledging a destructive operation needs the database-administrator, lead, reviewer or admin role.');
    await expect(ack(optimizer.id, 'drop_column:public.orders.note')).rejects.toThrow(/needs the database-administrator, lead, reviewer or admin role/);
    await expect(ack(dba.id, 'drop_table:public.orders')).rejects.toThrow(/is not a destructive operation of the latest analysis of revision 1/);
    await ack(dba.id, 'drop_column:public.orders.note');
    await expect(ack(reviewer.id, 'drop_column:public.orders.note')).rejects.toThrow('Dana DBA already acknowledged this operation for revision 1.');
    const acked = await getAnalysisPanel(await loadActor(getDb(), reviewer.id), requestId);
    expect(acked.run?.destructive[0].acknowledged).toMatchObject({ by: 'Dana DBA', note: 'Notes moved to the CRM last quarter.' });
    expect(acked.run?.unacknowledged).toBe(0);
    const audit = await getDb().auditLog.findMany({ where: { requestId, action: 'analysis.destructive_acknowledged' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: dba.id, after: { revision: 1, operationKey: 'drop_column:public.orders.note', note: 'Notes moved to the CRM last quarter.' } });

    // A new revision: the old analysis and its acknowledgement no longer count until it is analysed again.
    await save(`${UP}TRUNCATE orders;\n`);
    await expect(ack(dba.id, 'drop_column:public.orders.note')).rejects.toThrow('Revision 2 has not been analysed yet: run the impact analysis first.');
    const stale = await getAnalysisPanel(await loadActor(getDb(), dba.id), requestId);
    expect(stale.run).toMatchObject({ outdated: true, revision: 1 });
    expect(stale.run?.destructive[0].acknowledged).toBeNull();
    const second = await requestAnalysis(dba.id, { requestId });
    await runJob(handlerFor('analysis'), { runId: second.runId });
    const fresh = await getAnalysisPanel(await loadActor(getDb(), dba.id), requestId);
    expect(fresh.run?.destructive.map((d) => [d.operationKey, d.acknowledged])).toEqual([
      ['drop_column:public.orders.note', null],
      ['truncate:public.orders', null],
    ]);
    await ack(reviewer.id, 'truncate:public.orders', 'The table is rebuilt by the nightly import.');
    expect((await getAnalysisPanel(await loadActor(getDb(), dba.id), requestId)).run?.unacknowledged).toBe(1);

    // The gate: every item can be signed but the last signature, which would pass it, waits for the
    // remaining acknowledgement; nothing is written by the refused signature.
    // Steps 1-6 on their evidence (the real analysis above; the rest recorded directly: this test is about acknowledgements).
    for (let position = 1; position <= 6; position++) await completeStepWithEvidence(admin.id, requestId, position);
    const items = await getDb().gateItem.findMany({ where: { requestId }, orderBy: { position: 'asc' } });
    for (const item of items.slice(0, -1)) await signGateItem(reviewer.id, { gateItemId: item.id, note: 'checked' });
    const last = items[items.length - 1];
    // One reviewer signs at most five of the six items: the last is a second reviewer's.
    const secondReviewer = await makeUser({ roles: ['reviewer'] });
    await expect(signGateItem(secondReviewer.id, { gateItemId: last.id })).rejects.toThrow(
      'The gate cannot pass while 1 destructive operation(s) of the migration are unacknowledged (Analysis step): drops column public.orders.note and the values it holds in 500 rows.',
    );
    expect(await getDb().gateItem.findUniqueOrThrow({ where: { id: last.id } })).toMatchObject({ signedById: null });
    await ack(dba.id, 'drop_column:public.orders.note', 'Notes moved to the CRM last quarter.');
    expect(await signGateItem(secondReviewer.id, { gateItemId: last.id })).toMatchObject({ remaining: 0, gateStatus: 'completed' });
  });

  it('record a migration whose effect cannot be told, or that deletes every row in disguise, as not passed until acknowledged', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for hidden deletes');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Hidden', kind: 'schema_change', targetId: target.id, description: 'Hidden deletes.', priority: 'LOW' });
    const upSql = 'DO $$ BEGIN DROP TABLE orders; END $$;\nWITH d AS (DELETE FROM orders WHERE 1 = 1 RETURNING 1) SELECT count(*) FROM d;\n';
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'hidden', upSql, downSql: 'SELECT 1;' }));
    const { runId } = await requestAnalysis(admin.id, { requestId });
    await runJob(handlerFor('analysis'), { runId });
    const evidence = await latestEvidence(requestId, 'analysis');
    expect(evidence).toMatchObject({ runId, passed: false });
    expect(evidence?.detail).toMatchObject({
      unknownStatements: 1,
      destructive: [
        { operationKey: 'unknown_effect:line 1', kind: 'unknown_effect', description: expect.stringMatching(/^effect unknown: DO block at line 1/) },
        { operationKey: 'delete_all:public.orders', kind: 'delete_all', line: 2 },
      ],
    });
    const ack = (operationKey: string) => acknowledgeDestructiveOperation(dba.id, { requestId, operationKey, note: 'Read the block: it is intended.' });
    await ack('unknown_effect:line 1');
    expect((await getAnalysisPanel(await loadActor(getDb(), dba.id), requestId)).run?.unacknowledged).toBe(1);
    await ack('delete_all:public.orders');
    expect((await getAnalysisPanel(await loadActor(getDb(), dba.id), requestId)).run?.unacknowledged).toBe(0);
  });

  it('take no acknowledgement from whoever filed the request or wrote the revision, whatever their role', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const filer = await makeUser({ roles: ['lead'], name: 'Fiona Filer' });
    const author = await makeUser({ roles: ['admin'], name: 'Arthur Author' });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'], name: 'Dora DBA' });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for self-acknowledgement');
    const { id: requestId } = await fileRequest(filer.id, { title: 'Drop notes again', kind: 'schema_change', targetId: target.id, description: 'Notes go.', priority: 'LOW' });
    await saveMigrationRevision(author.id, SaveRevisionSchema.parse({ requestId, name: 'drop_note', upSql: UP, downSql: 'ALTER TABLE orders ADD COLUMN note text;' }));
    const { runId } = await requestAnalysis(dba.id, { requestId });
    await runJob(handlerFor('analysis'), { runId });

    const ack = (actorId: string) => acknowledgeDestructiveOperation(actorId, { requestId, operationKey: 'drop_column:public.orders.note', note: 'Checked: nobody reads notes.' });
    await expect(ack(filer.id)).rejects.toThrow('You filed this request: someone else (database-administrator, lead, reviewer or admin) must acknowledge its destructive operations.');
    await expect(ack(author.id)).rejects.toThrow('You wrote this revision of the migration: someone else (database-administrator, lead, reviewer or admin) must acknowledge its destructive operations.');
    expect(await getDb().destructiveAcknowledgement.count({ where: { requestId } })).toBe(0);
    // The page offers the button to neither of them, and to a second person.
    for (const [who, can] of [[filer, false], [author, false], [dba, true]] as const) {
      expect((await getAnalysisPanel(await loadActor(getDb(), who.id), requestId)).canAcknowledge, who.name).toBe(can);
    }
    await ack(dba.id);
    expect((await getAnalysisPanel(await loadActor(getDb(), dba.id), requestId)).run?.unacknowledged).toBe(0);
  });

  it('count an owner and the agents answering to them as one person: none of them acknowledges what one of them filed or wrote', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const alice = await makeUser({ roles: ['engineer', 'reviewer'], name: 'Alice Owner' });
    const carol = await makeUser({ roles: ['engineer'], name: 'Carol Other' });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for owned agents');
    const dbaRoles = ['database-administrator', 'database-optimizer', 'postgres-pro'] as never;
    const writer = await createAgent(admin.id, { name: 'alice-dba', agentRoles: dbaRoles, ownerId: alice.id });
    const second = await createAgent(admin.id, { name: 'alice-dba-2', agentRoles: ['database-administrator'] as never, ownerId: alice.id });
    const carols = await createAgent(admin.id, { name: 'carol-dba', agentRoles: ['database-administrator'] as never, ownerId: carol.id });
    const someoneElse = 'someone else (database-administrator, lead, reviewer or admin) must acknowledge its destructive operations.';
    const analysed = async (filerId: string) => {
      const { id: requestId } = await fileRequest(filerId, { title: 'Drop notes, by an agent', kind: 'schema_change', targetId: target.id, description: 'Notes go.', priority: 'LOW' });
      await saveMigrationRevision(writer.id, SaveRevisionSchema.parse({ requestId, name: 'drop_note', upSql: UP, downSql: 'ALTER TABLE orders ADD COLUMN note text;' }));
      const { runId } = await requestAnalysis(writer.id, { requestId });
      await runJob(handlerFor('analysis'), { runId });
      return requestId;
    };
    const ack = (actorId: string, requestId: string) => acknowledgeDestructiveOperation(actorId, { requestId, operationKey: 'drop_column:public.orders.note', note: 'Checked: nobody reads notes.' });

    // Alice filed it: neither she nor an agent of hers acknowledges.
    const filedByAlice = await analysed(alice.id);
    await expect(ack(alice.id, filedByAlice)).rejects.toThrow(`You filed this request: ${someoneElse}`);
    await expect(ack(second.id, filedByAlice)).rejects.toThrow(`You answer to Alice Owner, who filed this request: ${someoneElse}`);

    // Carol filed it, Alice's agent wrote it: Alice and her other agent are its author all the same.
    const filedByCarol = await analysed(carol.id);
    await expect(ack(writer.id, filedByCarol)).rejects.toThrow(`You wrote this revision of the migration: ${someoneElse}`);
    await expect(ack(alice.id, filedByCarol)).rejects.toThrow(`alice-dba answers to you and wrote this revision of the migration: ${someoneElse}`);
    await expect(ack(second.id, filedByCarol)).rejects.toThrow(`You answer to the same person as alice-dba, which wrote this revision of the migration: ${someoneElse}`);
    expect(await getDb().destructiveAcknowledgement.count({ where: { requestId: { in: [filedByAlice, filedByCarol] } } })).toBe(0);
    expect((await getAnalysisPanel(await loadActor(getDb(), alice.id), filedByCarol)).canAcknowledge).toBe(false);
    expect((await getAnalysisPanel(await loadActor(getDb(), second.id), filedByCarol)).canAcknowledge).toBe(false);
    // An agent answering to someone else is a second person.
    expect((await getAnalysisPanel(await loadActor(getDb(), carols.id), filedByAlice)).canAcknowledge).toBe(true);
    await ack(carols.id, filedByAlice);
    expect(await getDb().destructiveAcknowledgement.count({ where: { requestId: filedByAlice, acknowledgedById: carols.id } })).toBe(1);
  });

  it('save the written fields for the Analysis step holders only, audited', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['postgres-pro'] });
    const reviewer = await makeUser({ roles: ['reviewer'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for analysis fields');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Fields', kind: 'schema_change', targetId: target.id, description: 'Fields.', priority: 'LOW' });
    const input = { requestId, desiredChanges: '- add a gift flag to orders', migrationStrategy: 'ADD COLUMN without a default: instant.' };
    await expect(saveAnalysisFields(reviewer.id, input)).rejects.toThrow(/Only holders of database-optimizer or postgres-pro \(or admins\) can write the analysis/);
    expect(await saveAnalysisFields(optimizer.id, input)).toEqual({ changed: true });
    expect(await saveAnalysisFields(optimizer.id, input)).toEqual({ changed: false });
    const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request).toMatchObject({ desiredChanges: input.desiredChanges, migrationStrategy: input.migrationStrategy });
    const audit = await getDb().auditLog.findMany({ where: { requestId, action: 'request.analysis_saved' } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actorId: optimizer.id, before: { desiredChanges: null, migrationStrategy: null }, after: { desiredChanges: input.desiredChanges } });
    const panel = await getAnalysisPanel(await loadActor(getDb(), optimizer.id), requestId);
    expect(panel.fields).toEqual({ desiredChanges: input.desiredChanges, migrationStrategy: input.migrationStrategy, prefilled: { desiredChanges: false, migrationStrategy: false } });
    expect(panel.canEditFields).toBe(true);
  });
});
