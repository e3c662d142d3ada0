import { truncateSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { getGateView } from '@/lib/data/gate';
import { DomainError } from '@/lib/domain/errors';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { loadActor } from '@/lib/auth/actor';
import { createAgent, updateAgent } from '@/lib/services/agent-accounts';
import { requestAnalysis, saveAnalysisFields } from '@/lib/services/analysis';
import { requestBackup, requestDrill } from '@/lib/services/backups';
import { recordEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { assertGatePassed, getGateState } from '@/lib/services/gate';
import { requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { requestSnapshot } from '@/lib/services/runs';
import { signGateItem } from '@/lib/services/sign-gate';
import { getStepEvidence } from '@/lib/services/step-evidence';
import { toggleChecklistItem, transitionTask } from '@/lib/services/work-task';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { DEFAULT_SAMPLE_ROWS, RequestRehearsalSchema } from '@/lib/validation/rehearsal';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { satisfyStepEvidence } from '../support/step-evidence';
import { useTemporaryArtifactsDir, type TemporaryArtifactsDir } from '../support/artifacts-dir';

/**
 * Item 4 of issue 8: the quality gate decided on evidence Cutover produced (snapshot, analysis,
 * rehearsal with a sample, backup and drill by the real handlers; the app-schema comparison and
 * the test report, other areas' kinds, recorded as they record them), signatures bound to it,
 * and voided by a new revision or by newer evidence that fails.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let artifacts: TemporaryArtifactsDir;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_gate');
  await withClient(shop.url, (c) => c.query(`
    CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL, total_cents integer NOT NULL);
    INSERT INTO orders SELECT g, 'open', g * 10 FROM generate_series(1, 300) g;`));
  artifacts = useTemporaryArtifactsDir('gate');
}, 60_000);
afterAll(async () => {
  await stopBoss();
  await store?.close();
  await shop?.drop();
  artifacts?.restore();
});

async function refused(call: Promise<unknown>): Promise<DomainError> {
  const err = await call.then(() => null, (e) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

const UP = 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;';
const DOWN = 'ALTER TABLE orders DROP COLUMN shipped_at;';

describe('the quality gate on evidence', () => {
  it('opens on evidence, binds signatures to it, needs two reviewers, and voids them on failing evidence and on a new revision', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const author = await makeUser({ roles: ['engineer', 'reviewer'], name: 'Ann Author' });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator', 'database-optimizer', 'language-specialist', 'test-automator'] });
    const rita = await makeUser({ roles: ['reviewer'], name: 'Rita Reviewer' });
    const rob = await makeUser({ roles: ['reviewer'], name: 'Rob Reviewer' });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop production');
    const { id: requestId } = await fileRequest(author.id, { title: 'Ship dates', kind: 'table_column_change', targetId: target.id, description: 'orders.shipped_at', priority: 'HIGH' });
    const project = await getDb().project.create({
      data: { name: 'Shop app', repositoryUrl: '/nonexistent/shop.git', environments: { create: [{ position: 1, name: 'production', targetId: target.id, requiresApproval: true }] } },
    });
    await getDb().migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id } });

    /** Starts the step, ticks what is ticked by hand, completes it: its evidence must hold. */
    const finish = async (key: string) => {
      const t = await getDb().task.findFirstOrThrow({ where: { requestId, key }, include: { checklist: true } });
      if (t.status === 'pending') await transitionTask(dba.id, { taskId: t.id, transition: 'start' });
      const byHand = (await getStepEvidence(getDb(), requestId))[key].items.filter((i) => !i.coveredBy).map((i) => i.label);
      for (const c of t.checklist.filter((c) => byHand.includes(c.label))) await toggleChecklistItem(dba.id, { itemId: c.id, done: true });
      await transitionTask(dba.id, { taskId: t.id, transition: 'complete' });
    };
    const run = async (kind: Parameters<typeof handlerFor>[0], runId: string, extra: Record<string, unknown> = {}) => {
      await runJob(handlerFor(kind), { runId, ...extra });
      return getDb().run.findUniqueOrThrow({ where: { id: runId } });
    };

    // Steps 1-6 on real runs (4 and 5 rest on other areas' evidence, recorded as they record it).
    await run('snapshot', (await requestSnapshot(dba.id, { requestId })).runId);
    await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'shipped_at', upSql: UP, downSql: DOWN }));
    await run('analysis', (await requestAnalysis(dba.id, { requestId })).runId);
    await saveAnalysisFields(dba.id, { requestId, desiredChanges: 'orders.shipped_at, nullable.', migrationStrategy: 'One ADD COLUMN, no rewrite.' });
    await finish('analysis');
    await finish('create-migration');
    const rehearsal = await run('rehearsal', (await requestRehearsal(dba.id, { requestId, sampleRows: 100 })).runId, { sampleRows: 100 });
    expect(rehearsal.status).toBe('succeeded');
    await finish('test-locally');
    await satisfyStepEvidence(requestId, 'update-app-code', dba.id);
    await finish('update-app-code');
    await satisfyStepEvidence(requestId, 'test-app', dba.id);
    await finish('test-app');
    await run('backup', (await requestBackup(dba.id, { requestId })).runId);

    // Closed until Create backup is completed: no sign buttons, and what it waits for.
    const gateItems = await getDb().gateItem.findMany({ where: { requestId }, orderBy: { position: 'asc' } });
    const byKey = (key: string) => gateItems.find((g) => g.key === key)!;
    const closed = await getGateView(await loadActor(getDb(), rita.id), requestId);
    expect(closed).toMatchObject({ open: false, passed: false, canSign: true });
    expect(closed.waitingFor).toContain('"Create backup" to be completed.');
    expect(closed.items.find((i) => i.key === 'backup-ready')).toMatchObject({ satisfied: false, reason: 'Waiting for a verified restore drill of a backup of Shop production.' });
    expect((await refused(signGateItem(rita.id, { gateItemId: byKey('migration-runs').id }))).message).toBe('The quality gate opens when "Create backup" is completed.');

    const drill = await run('drill', (await requestDrill(dba.id, { requestId })).runId);
    expect(drill.status).toBe('succeeded');
    await finish('create-backup');

    const open = await getGateState(getDb(), requestId);
    expect(open).toMatchObject({ open: true, passed: false, minReviewers: 2, maxItemsPerSigner: 5, distinctSigners: 0 });
    expect(open.items.map((i) => [i.key, i.satisfied, i.evidence.map((e) => e.kind)])).toEqual([
      ['migration-runs', true, ['rehearsal']], ['rollback-tested', true, ['rehearsal']], ['tests-pass', true, ['test_report']],
      ['no-data-loss', true, ['data_loss']], ['app-works', true, ['app_schema']], ['backup-ready', true, ['drill']],
    ]);
    expect(open.items[0].evidence[0].runId).toBe(rehearsal.id);

    // The author cannot sign; "Application works" needs a note.
    expect((await refused(signGateItem(author.id, { gateItemId: byKey('migration-runs').id }))).message).toBe('You filed this request, so you cannot sign its quality gate.');
    expect(await refused(signGateItem(rita.id, { gateItemId: byKey('app-works').id }))).toMatchObject({ code: 'invalid', field: 'note' });
    // Nor can whoever wrote a revision of the migration, even holding the reviewer role.
    await getDb().user.update({ where: { id: dba.id }, data: { roles: ['engineer', 'reviewer'] } });
    expect((await refused(signGateItem(dba.id, { gateItemId: byKey('migration-runs').id }))).message).toBe('You wrote a revision of this migration, so you cannot sign its quality gate: another reviewer signs it.');
    await getDb().user.update({ where: { id: dba.id }, data: { roles: ['engineer'] } });

    // Newer evidence that fails: the item cannot be signed until it holds again.
    const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId } });
    const report = (failures: number) => getDb().$transaction((tx) => recordEvidence(tx, {
      kind: 'test_report', targetId: target.id, requestId, revision: { id: revision.id, checksum: revision.checksum }, passed: failures === 0,
      summary: `12 tests, ${failures} failures`, detail: { format: 'json', tests: 12, failures, errors: 0, skipped: 0, failureList: failures ? [{ name: 'orders ship', classname: null, message: 'boom' }] : [], revision: 1 },
    }));
    await report(2);
    expect((await refused(signGateItem(rita.id, { gateItemId: byKey('tests-pass').id }))).message).toBe(
      '"All tests pass" cannot be signed yet: The latest test report of revision 1 has failures: 12 tests, 2 failures',
    );
    await report(0);

    // Rita signs five items; a sixth is refused (two reviewers at least); Rob signs the last.
    for (const key of ['migration-runs', 'rollback-tested', 'tests-pass', 'no-data-loss', 'app-works']) {
      await signGateItem(rita.id, { gateItemId: byKey(key).id, note: key === 'app-works' ? 'Checked the orders page on staging.' : undefined });
    }
    expect((await refused(signGateItem(rita.id, { gateItemId: byKey('backup-ready').id }))).message).toBe(
      'You already signed 5 of the 6 items; one reviewer signs at most 5, so that at least 2 reviewers sign this gate. Ask another reviewer.',
    );
    expect(await signGateItem(rob.id, { gateItemId: byKey('backup-ready').id })).toMatchObject({ remaining: 0, gateStatus: 'completed' });
    const passed = await assertGatePassed(getDb(), requestId);
    expect(passed).toMatchObject({ passed: true, distinctSigners: 2, waitingFor: [] });
    // A signed gate whose evidence no longer holds (the drilled backup aged past the project's limit) is not passed.
    const { backupMaxAgeHours } = await getDb().project.findUniqueOrThrow({ where: { id: project.id } });
    await getDb().project.update({ where: { id: project.id }, data: { backupMaxAgeHours: 0 } });
    expect(await getGateState(getDb(), requestId)).toMatchObject({ passed: false, gateTask: { status: 'completed' } });
    expect((await refused(assertGatePassed(getDb(), requestId))).message).toMatch(/^The quality gate is not passed: .*Backup procedure ready: The drilled backup of Shop production is 0 h old; the limit is 0 h/);
    await getDb().project.update({ where: { id: project.id }, data: { backupMaxAgeHours } });
    expect((await assertGatePassed(getDb(), requestId)).passed).toBe(true);

    // Each signature is bound to the revision and the evidence the item rested on.
    const signatures = await getDb().gateSignature.findMany({ where: { requestId }, orderBy: { signedAt: 'asc' } });
    expect(signatures).toHaveLength(6);
    for (const s of signatures) {
      expect(s).toMatchObject({ revisionId: revision.id, revisionSha256: revision.checksum, voidedAt: null, boundDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
    }
    const first = signatures[0];
    const rehearsalEvidence = await getDb().evidence.findFirstOrThrow({ where: { requestId, kind: 'rehearsal' } });
    expect(first.evidence).toEqual([{ id: rehearsalEvidence.id, kind: 'rehearsal', passed: true, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(await getDb().gateItem.findUniqueOrThrow({ where: { id: byKey('app-works').id } })).toMatchObject({ signedById: rita.id, note: 'Checked the orders page on staging.' });

    // A newer drill that fails (its backup file damaged) voids "Backup procedure ready" only, and reopens the gate.
    const artifact = await getDb().artifact.findFirstOrThrow({ where: { kind: 'backup', targetId: target.id } });
    truncateSync(path.join(artifacts.dir, ...artifact.storeKey.split('/')), 100);
    const failedDrill = await run('drill', (await requestDrill(dba.id, { requestId })).runId);
    expect(failedDrill.status).toBe('failed');
    const afterDrill = await getGateState(getDb(), requestId);
    expect(afterDrill.passed).toBe(false);
    expect(afterDrill.gateTask?.status).toBe('in_progress');
    const backupReady = afterDrill.items.find((i) => i.key === 'backup-ready')!;
    expect(backupReady.signature).toBeNull();
    expect(backupReady.voided).toEqual([expect.objectContaining({ by: 'Rob Reviewer', reason: expect.stringMatching(/^A newer drill record failed: restore drill failed at integrity/) })]);
    expect(afterDrill.items.filter((i) => i.signature).map((i) => i.key)).toEqual(['migration-runs', 'rollback-tested', 'tests-pass', 'no-data-loss', 'app-works']);
    expect((await refused(assertGatePassed(getDb(), requestId))).message).toMatch(/^The quality gate is not passed: The quality gate step is not completed\. .*Backup procedure ready: The latest restore drill of Shop production failed/);
    expect(await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } })).toMatchObject({ currentStep: 7, completedSteps: 6 });

    // A new revision voids every signature, visibly; a signature never carries over a SQL edit.
    await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'shipped_at', upSql: 'ALTER TABLE orders ADD COLUMN shipped_at timestamp;', downSql: DOWN }));
    const edited = await getGateState(getDb(), requestId);
    expect(edited.items.every((i) => i.signature === null)).toBe(true);
    expect(edited.items.find((i) => i.key === 'migration-runs')!.voided).toEqual([
      expect.objectContaining({ by: 'Rita Reviewer', reason: 'Revision 2 of the migration was saved after this signature.' }),
    ]);
    expect(await getDb().gateItem.count({ where: { requestId, NOT: { signedById: null } } })).toBe(0);
    expect(await getDb().gateSignature.count({ where: { requestId, voidedAt: null } })).toBe(0);
    expect((await refused(signGateItem(rob.id, { gateItemId: byKey('migration-runs').id }))).message).toMatch(
      /^"Migration runs successfully" cannot be signed yet: Waiting for a passing rehearsal of revision 2: The migration changed after this evidence was produced/,
    );
    expect((await refused(assertGatePassed(getDb(), requestId))).code).toBe('conflict');
    const voids = await getDb().auditLog.findMany({ where: { requestId, action: 'gate.signatures_voided' }, orderBy: { createdAt: 'asc' } });
    expect(voids.map((v) => (v.after as { signatures: number }).signatures)).toEqual([1, 5]);

    // The project sets how many distinct reviewers the gate needs.
    await getDb().project.update({ where: { id: project.id }, data: { minGateReviewers: 3 } });
    expect(await getGateState(getDb(), requestId)).toMatchObject({ minReviewers: 3, maxItemsPerSigner: 4 });
  }, 180_000);

  it('counts a reviewer and the agent answering to them as one person: the reviewer does not sign what their agent wrote', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const filer = await makeUser({ roles: ['engineer'], name: 'Fred Filer' });
    const alice = await makeUser({ roles: ['engineer', 'reviewer'], name: 'Alice Owner' });
    const rex = await makeUser({ roles: ['reviewer'], name: 'Rex Reviewer' });
    const agent = await createAgent(admin.id, { name: 'alice-writer', agentRoles: ['database-administrator'] as never, ownerId: alice.id });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for owned agents');
    const { id: requestId } = await fileRequest(filer.id, { title: 'Ship dates by an agent', kind: 'schema_change', targetId: target.id, description: 'Shipped at.', priority: 'LOW' });
    await saveMigrationRevision(agent.id, SaveRevisionSchema.parse({ requestId, name: 'shipped_at', upSql: UP, downSql: DOWN }));
    const item = await getDb().gateItem.findFirstOrThrow({ where: { requestId }, orderBy: { position: 'asc' } });
    expect((await refused(signGateItem(alice.id, { gateItemId: item.id }))).message)
      .toBe('alice-writer answers to you and wrote a revision of this migration, so you cannot sign its quality gate: another reviewer signs it.');
    // Another reviewer is a second person: only the closed gate stops them.
    expect((await refused(signGateItem(rex.id, { gateItemId: item.id }))).message).toMatch(/^The quality gate opens when/);
    expect(await getDb().gateSignature.count({ where: { requestId } })).toBe(0);

    // Handing the agent to someone else afterwards clears nobody: it answered to Alice when it wrote.
    expect(await getDb().migrationRevision.findFirstOrThrow({ where: { requestId } })).toMatchObject({ createdById: agent.id, authorOwnerId: alice.id });
    await updateAgent(admin.id, { agentId: agent.id, agentRoles: ['database-administrator'] as never, ownerId: rex.id });
    expect((await refused(signGateItem(alice.id, { gateItemId: item.id }))).message)
      .toBe('alice-writer answers to you and wrote a revision of this migration, so you cannot sign its quality gate: another reviewer signs it.');
    // Its new owner answers for its work from now on, so he does not sign what it wrote either.
    expect((await refused(signGateItem(rex.id, { gateItemId: item.id }))).message).toMatch(/^alice-writer answers to you and wrote a revision/);
  });
});

describe('the rehearsal behind "No data loss"', () => {
  it('rehearses on a data sample by default; a schema-only rehearsal says in its evidence that the no-data-loss check did not run', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for samples');
    const { id: requestId } = await fileRequest(dba.id, { title: 'Sampled', kind: 'table_column_change', targetId: target.id, description: 'orders.shipped_at', priority: 'LOW' });
    await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'shipped_at', upSql: UP, downSql: DOWN }));
    const noDataLoss = async () => (await getGateState(getDb(), requestId)).items.find((i) => i.key === 'no-data-loss')!;

    // Asked for on purpose: schema only. Step 3's evidence says what did not run; the gate item refuses it.
    const schemaOnly = await requestRehearsal(dba.id, { requestId, sampleRows: 0 });
    await runJob(handlerFor('rehearsal'), { runId: schemaOnly.runId, sampleRows: 0 });
    const bare = await getDb().evidence.findFirstOrThrow({ where: { runId: schemaOnly.runId, kind: 'rehearsal' } });
    expect(bare).toMatchObject({ passed: true, summary: expect.stringContaining('rehearsed without a data sample: the no-data-loss check did not run') });
    expect(await noDataLoss()).toMatchObject({ satisfied: false, reason: expect.stringContaining('ran without a data sample') });

    // Not asked: the form's and its action's default is a sample of DEFAULT_SAMPLE_ROWS rows a table, so the no-data-loss phase runs and the item holds.
    const byDefault = await requestRehearsal(dba.id, RequestRehearsalSchema.parse({ requestId }));
    const queued = await getDb().auditLog.findFirstOrThrow({ where: { requestId, action: 'run.queued', entityId: byDefault.runId } });
    expect(queued.after).toMatchObject({ sampleRows: DEFAULT_SAMPLE_ROWS });
    expect(DEFAULT_SAMPLE_ROWS).toBeGreaterThan(0);
    expect(RequestRehearsalSchema.parse({ requestId }).sampleRows).toBe(DEFAULT_SAMPLE_ROWS);
    await runJob(handlerFor('rehearsal'), { runId: byDefault.runId, sampleRows: DEFAULT_SAMPLE_ROWS });
    const sampled = await getDb().evidence.findFirstOrThrow({ where: { runId: byDefault.runId, kind: 'rehearsal' } });
    expect(sampled.summary).toContain(`on a sample of ${DEFAULT_SAMPLE_ROWS} rows a table`);
    expect(await getDb().evidence.findFirstOrThrow({ where: { runId: byDefault.runId, kind: 'data_loss' } })).toMatchObject({ passed: true });
    expect(await noDataLoss()).toMatchObject({ satisfied: true });
  }, 120_000);
});
