import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import { fileRequest } from '@/lib/services/file-request';
import { signGateItem } from '@/lib/services/sign-gate';
import { addTaskNote, blockTask, toggleChecklistItem, transitionTask } from '@/lib/services/work-task';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { completeStepWithEvidence, ensureRevision, satisfyStepEvidence } from '../support/step-evidence';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
beforeAll(async () => {
  store = await openTestAppStore();
});
afterAll(() => store.close());

const db = () => getDb();
const input = (targetId: string) => ({
  title: 'Add orders.shipped_at',
  kind: 'table_column_change' as const,
  targetId,
  description: 'Add a nullable shipped_at timestamp to orders.',
  priority: 'HIGH' as const,
});

/** Runs a service call expected to be refused; returns the error after checking its kind. */
async function refused(code: DomainError['code'], call: Promise<unknown>): Promise<DomainError> {
  const err = await call.then(
    () => null,
    (e) => e,
  );
  expect(err).toBeInstanceOf(DomainError);
  expect(err.code).toBe(code);
  return err;
}

/** Counts rows that a refused call must not have changed. */
const snapshot = async (requestId: string) => ({
  audit: await db().auditLog.count({ where: { requestId } }),
  tasks: await db().task.findMany({ where: { requestId }, orderBy: { position: 'asc' }, select: { status: true, assigneeId: true } }),
  checked: await db().checklistItem.count({ where: { task: { requestId }, done: true } }),
  signed: await db().gateItem.count({ where: { requestId, NOT: { signedById: null } } }),
  request: await db().migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { status: true, currentStep: true, completedSteps: true } }),
});

// Steps Cutover checks complete on their evidence (recorded directly here: these tests are about the workflow).
const completeStep = completeStepWithEvidence;

describe('filing a request', () => {
  it('creates the nine-step workflow, its checklists, gate items and an audit row in one go', async () => {
    const engineer = await makeUser({ roles: ['engineer'] });
    const target = await makeTarget();
    const { id, number } = await fileRequest(engineer.id, input(target.id));
    expect(number).toBeGreaterThan(0);

    const request = await db().migrationRequest.findUniqueOrThrow({
      where: { id },
      include: { tasks: { orderBy: { position: 'asc' }, include: { checklist: true } }, gateItems: true, template: true },
    });
    expect(request).toMatchObject({ status: 'open', currentStep: 1, currentSubject: 'Analyze database change', currentOwner: 'database-optimizer', completedSteps: 0, totalSteps: 9, priority: 'HIGH' });
    expect(request.template).toMatchObject({ key: 'database-migration', version: 1 });
    expect(request.tasks.map((t) => t.subject)).toEqual([
      'Analyze database change', 'Create migration', 'Test migration locally', 'Update app code', 'Test app with new schema',
      'Create backup', 'Pass quality gate', 'Deploy migration', 'Run post-deployment checks',
    ]);
    expect(request.tasks.every((t) => t.status === 'pending')).toBe(true);
    expect(request.tasks[0].blockedById).toBeNull();
    for (let i = 1; i < 9; i++) expect(request.tasks[i].blockedById).toBe(request.tasks[i - 1].id);
    expect(request.tasks.map((t) => t.checklist.length)).toEqual([4, 4, 5, 4, 4, 3, 0, 6, 4]);
    expect(request.gateItems).toHaveLength(6);

    const audit = await db().auditLog.findMany({ where: { requestId: id } });
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ action: 'request.filed', actorId: engineer.id });
    expect(audit[0].after).toMatchObject({ title: 'Add orders.shipped_at', template: 'database-migration v1', target: target.name });
  });

  it('refuses people without a filing role, unknown targets and inactive accounts, writing nothing', async () => {
    const target = await makeTarget();
    const before = await db().migrationRequest.count();
    const reviewer = await makeUser({ roles: ['reviewer'] });
    expect((await refused('forbidden', fileRequest(reviewer.id, input(target.id)))).message).toMatch(/engineer, lead or admin/);

    const engineer = await makeUser({ roles: ['engineer'] });
    const err = await refused('invalid', fileRequest(engineer.id, input('7d0f6c1e-0d0b-4c89-9a57-1b0c7a9b2f11')));
    expect(err.field).toBe('targetId');

    const gone = await makeUser({ roles: ['engineer'], active: false });
    await refused('unauthenticated', fileRequest(gone.id, input(target.id)));
    await refused('unauthenticated', fileRequest('5b1d3c6a-6a53-4b8f-8e0e-3f0f6a1d2c44', input(target.id)));

    expect(await db().migrationRequest.count()).toBe(before);
    expect(await db().task.count({ where: { request: { targetId: target.id } } })).toBe(0);
  });
});

describe('working tasks', () => {
  let requestId: string;
  let optimizer: Awaited<ReturnType<typeof makeUser>>;
  let outsider: Awaited<ReturnType<typeof makeUser>>;
  let analysis: { id: string };
  let createMigration: { id: string };

  beforeAll(async () => {
    const author = await makeUser({ roles: ['engineer'] });
    optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'], name: 'Olga Optimizer' });
    outsider = await makeUser({ roles: ['engineer', 'reviewer', 'lead'], agentRoles: ['test-automator'] });
    requestId = (await fileRequest(author.id, input((await makeTarget()).id))).id;
    analysis = await db().task.findFirstOrThrow({ where: { requestId, position: 1 } });
    createMigration = await db().task.findFirstOrThrow({ where: { requestId, position: 2 } });
  });

  it('refuses someone without the step\'s role, for every kind of change, and changes nothing', async () => {
    const before = await snapshot(requestId);
    const item = await db().checklistItem.findFirstOrThrow({ where: { taskId: analysis.id } });
    for (const call of [
      () => transitionTask(outsider.id, { taskId: analysis.id, transition: 'start' }),
      () => blockTask(outsider.id, { taskId: analysis.id, reason: 'not mine' }),
      () => toggleChecklistItem(outsider.id, { itemId: item.id, done: true }),
      () => addTaskNote(outsider.id, { taskId: analysis.id, body: 'hello' }),
    ]) {
      expect((await refused('forbidden', call())).message).toBe('Only holders of database-optimizer or postgres-pro (or admins) can work "Analyze database change".');
    }
    expect(await snapshot(requestId)).toEqual(before);
  });

  it('refuses to start a step before the one it waits for', async () => {
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const err = await refused('conflict', transitionTask(dba.id, { taskId: createMigration.id, transition: 'start' }));
    expect(err.message).toBe('"Create migration" waits for "Analyze database change" to be completed.');
  });

  it('refuses ticking before the task is started', async () => {
    const item = await db().checklistItem.findFirstOrThrow({ where: { taskId: analysis.id } });
    await refused('conflict', toggleChecklistItem(optimizer.id, { itemId: item.id, done: true }));
  });

  it('starts, refuses ticking what evidence ticks and completion before the evidence holds, then completes', async () => {
    const started = await transitionTask(optimizer.id, { taskId: analysis.id, transition: 'start' });
    expect(started).toMatchObject({ status: 'in_progress', request: { status: 'in_progress', currentStep: 1 } });
    const task = await db().task.findUniqueOrThrow({ where: { id: analysis.id }, include: { checklist: { orderBy: { position: 'asc' } } } });
    expect(task.assigneeId).toBe(optimizer.id);
    expect(task.startedAt).toBeInstanceOf(Date);

    // Every item of Analysis is ticked by evidence (a snapshot, the analysis, the two written fields).
    const tick = await refused('conflict', toggleChecklistItem(optimizer.id, { itemId: task.checklist[0].id, done: true }));
    expect(tick.message).toBe('"Understand current schema" is ticked by evidence (a schema snapshot of the target), not by hand.');
    const err = await refused('conflict', transitionTask(optimizer.id, { taskId: analysis.id, transition: 'complete' }));
    expect(err.message).toMatch(/^"Analyze database change" waits for its evidence: Waiting for a schema snapshot of the target \(Take snapshot\)\. Write the desired changes on the Analysis step\./);
    expect(await db().checklistItem.count({ where: { taskId: analysis.id, done: true } })).toBe(0);

    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    await satisfyStepEvidence(requestId, 'analysis', dba.id);

    await addTaskNote(optimizer.id, { taskId: analysis.id, body: 'Column is nullable; no backfill needed.' });
    const done = await transitionTask(optimizer.id, { taskId: analysis.id, transition: 'complete' });
    expect(done).toMatchObject({ status: 'completed', request: { currentStep: 2, currentSubject: 'Create migration', completedSteps: 1 } });

    const audit = await db().auditLog.findMany({ where: { requestId, entityId: analysis.id }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['task.start', 'task.complete']);
    expect(audit[1].before).toMatchObject({ status: 'in_progress' });
    expect(audit[1].after).toMatchObject({ status: 'completed' });
    expect(await db().auditLog.count({ where: { requestId, action: 'checklist.checked' } })).toBe(0);
    expect(await db().auditLog.count({ where: { requestId, action: 'task.note_added' } })).toBe(1);
  });

  it('refuses to restart or re-complete a completed task', async () => {
    await refused('conflict', transitionTask(optimizer.id, { taskId: analysis.id, transition: 'start' }));
    await refused('conflict', transitionTask(optimizer.id, { taskId: analysis.id, transition: 'complete' }));
  });

  it('blocks with a reason, shows the request as blocked, and resumes', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const blocked = await blockTask(admin.id, { taskId: createMigration.id, reason: 'Waiting for the maintenance window' });
    expect(blocked).toMatchObject({ status: 'blocked', request: { status: 'blocked' } });
    expect(await db().task.findUniqueOrThrow({ where: { id: createMigration.id } })).toMatchObject({ blockedReason: 'Waiting for the maintenance window' });
    const resumed = await transitionTask(admin.id, { taskId: createMigration.id, transition: 'resume' });
    expect(resumed).toMatchObject({ status: 'in_progress', request: { status: 'in_progress' } });
    expect(await db().task.findUniqueOrThrow({ where: { id: createMigration.id } })).toMatchObject({ blockedReason: null });
  });

  it('says "not found" for unknown ids', async () => {
    await refused('not_found', transitionTask(optimizer.id, { taskId: '0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4', transition: 'start' }));
    await refused('not_found', toggleChecklistItem(optimizer.id, { itemId: '0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4', done: true }));
  });

  it('serialises concurrent changes to one request (two completes, one wins)', async () => {
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const task = await db().task.findUniqueOrThrow({ where: { id: createMigration.id }, include: { checklist: true } });
    await ensureRevision(requestId, dba.id);
    // "Write Prisma migration" and "Include up and down paths" are ticked by the saved revision; the rest by hand.
    for (const item of task.checklist.slice(2)) await toggleChecklistItem(dba.id, { itemId: item.id, done: true });
    const results = await Promise.allSettled([
      transitionTask(dba.id, { taskId: createMigration.id, transition: 'complete' }),
      transitionTask(dba.id, { taskId: createMigration.id, transition: 'complete' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(await db().auditLog.count({ where: { entityId: createMigration.id, action: 'task.complete' } })).toBe(1);
  });
});

describe('the quality gate', () => {
  let requestId: string;
  let author: Awaited<ReturnType<typeof makeUser>>;
  let reviewer: Awaited<ReturnType<typeof makeUser>>;

  beforeAll(async () => {
    author = await makeUser({ roles: ['engineer', 'reviewer'] });
    reviewer = await makeUser({ roles: ['reviewer'], name: 'Rita Reviewer' });
    requestId = (await fileRequest(author.id, input((await makeTarget()).id))).id;
  });

  const gateItems = () => db().gateItem.findMany({ where: { requestId }, orderBy: { position: 'asc' } });

  it('stays closed until the steps before it are completed', async () => {
    const [first] = await gateItems();
    const err = await refused('conflict', signGateItem(reviewer.id, { gateItemId: first.id }));
    expect(err.message).toBe('The quality gate opens when "Create backup" is completed.');
  });

  it('refuses the author and non-reviewers, writing nothing', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    for (let p = 1; p <= 6; p++) await completeStep(admin.id, requestId, p);
    const before = await snapshot(requestId);
    const [first] = await gateItems();
    expect((await refused('forbidden', signGateItem(author.id, { gateItemId: first.id }))).message).toBe(
      'You filed this request, so you cannot sign its quality gate.',
    );
    expect((await refused('forbidden', signGateItem(admin.id, { gateItemId: first.id }))).message).toBe('Only reviewers can sign quality gate items.');
    expect(await snapshot(requestId)).toEqual(before);
  });

  it('records who signed each item, when, and the note; the last signature passes the gate', async () => {
    const items = await gateItems();
    const first = await signGateItem(reviewer.id, { gateItemId: items[0].id, note: 'Rehearsal run #12 green' });
    expect(first).toMatchObject({ remaining: 5, gateStatus: 'in_progress', request: { currentStep: 7 } });
    await refused('conflict', signGateItem(reviewer.id, { gateItemId: items[0].id }));

    const second = await makeUser({ roles: ['reviewer'] });
    // "Application works with new schema" needs the reviewer's note.
    for (const item of items.slice(1)) await signGateItem(second.id, { gateItemId: item.id, note: item.key === 'app-works' ? 'Smoke-tested staging' : undefined });

    const signed = await gateItems();
    expect(signed[0]).toMatchObject({ signedById: reviewer.id, note: 'Rehearsal run #12 green' });
    expect(signed[0].signedAt).toBeInstanceOf(Date);
    expect(signed.slice(1).every((g) => g.signedById === second.id && g.note === (g.key === 'app-works' ? 'Smoke-tested staging' : null))).toBe(true);

    const gate = await db().task.findFirstOrThrow({ where: { requestId, isGate: true } });
    expect(gate.status).toBe('completed');
    const request = await db().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request).toMatchObject({ currentStep: 8, currentSubject: 'Deploy migration', completedSteps: 7 });
    expect(await db().auditLog.count({ where: { requestId, action: 'gate.signed' } })).toBe(6);
    await refused('conflict', signGateItem(reviewer.id, { gateItemId: items[1].id }));
  });

  it('completes the request when the last two steps are done', async () => {
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    await completeStep(dba.id, requestId, 8);
    await completeStep(dba.id, requestId, 9);
    const request = await db().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
    expect(request).toMatchObject({ status: 'completed', completedSteps: 9 });
  });
});
