import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import type { AgentRole } from '@/lib/domain/roles';
import { stopBoss } from '@/lib/jobs/queue';
import { createAgent, issueAgentToken } from '@/lib/services/agent-accounts';
import { claimTask } from '@/lib/services/agent-tasks';
import { acknowledgeDestructiveOperation, requestAnalysis, saveAnalysisFields } from '@/lib/services/analysis';
import { compareAppSchema, intendDifferences } from '@/lib/services/app-schema';
import { requestBackup, requestDrill } from '@/lib/services/backups';
import { fileRequest } from '@/lib/services/file-request';
import { requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { requestDriftCheck } from '@/lib/services/drift';
import { documentIssues } from '@/lib/services/post-deploy';
import { checkClaimedRun, requestSnapshot } from '@/lib/services/runs';
import { addVerificationQuery } from '@/lib/services/verification-queries';
import { releaseTask } from '@/lib/services/work-task';
import { attachTestReport } from '@/lib/services/test-reports';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { callRoute } from '../support/api-routes';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig<object>()), ...(await import('../support/api-routes')).sessionMock() }));
const testReportsRoute = await import('@/app/api/v1/requests/[id]/test-reports/route');

/**
 * A claim covers the step's evidence: while agent A holds a step, another agent cannot write what
 * the step rests on (analysis, revision, snapshot, analysis run, rehearsal, app-schema comparison
 * and its explanations, test report, backup, drill, drift check, acknowledgements, verification
 * queries, issue notes), and nothing is written; a run queued before the step changed hands does
 * not start for its former holder; the
 * holder, its owner and admins can. People keep sharing steps people hold.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let olive: Awaited<ReturnType<typeof makeUser>>;
let targetId: string;
const ALL_ROLES: AgentRole[] = ['database-optimizer', 'postgres-pro', 'database-administrator', 'language-specialist', 'test-automator'];

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
  // The agents' owner holds the roles too: owning is not what lets her work a step, her roles are.
  olive = await makeUser({ roles: ['engineer'], agentRoles: ALL_ROLES, name: 'Olive Owner' });
  targetId = (await makeTarget()).id;
});
afterAll(async () => {
  await stopBoss();
  await store?.close();
});

async function agent(name: string) {
  const { id } = await createAgent(admin.id, { name, agentRoles: ALL_ROLES, ownerId: olive.id });
  return { id, name, token: (await issueAgentToken(admin.id, { agentId: id, name: 'main' })).secret };
}

async function refused(call: Promise<unknown>): Promise<DomainError> {
  const err = await call.then(() => null, (e) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

/** Everything a refused call could have written. */
const writes = async (requestId: string) => ({
  audit: await getDb().auditLog.count({ where: { requestId } }),
  runs: await getDb().run.count({ where: { requestId } }),
  revisions: await getDb().migrationRevision.count({ where: { requestId } }),
  evidence: await getDb().evidence.count({ where: { requestId } }),
  verificationQueries: await getDb().verificationQuery.count({ where: { requestId } }),
  issueNotes: await getDb().issueNote.count({ where: { requestId } }),
  acknowledgements: await getDb().destructiveAcknowledgement.count({ where: { requestId } }),
  request: await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { desiredChanges: true, migrationStrategy: true } }),
});

/** Holds a step as a claim leaves it (steps past the first are not ready to claim on a fresh request). */
const hold = (requestId: string, key: string, holderId: string) =>
  getDb().task.updateMany({ where: { requestId, key }, data: { assigneeId: holderId, status: 'in_progress', startedAt: new Date() } });

describe('a claim covers the step\'s evidence', () => {
  it('another agent is refused (409 naming the holder) every evidence of a held step, writing nothing', async () => {
    const a = await agent('holder-a');
    const b = await agent('intruder-b');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Claimed evidence', kind: 'schema_change', targetId, description: 'A holds it.', priority: 'LOW' });
    const analysisStep = await getDb().task.findFirstOrThrow({ where: { requestId, key: 'analysis' } });
    await claimTask(a.id, analysisStep.id);
    for (const key of ['create-migration', 'test-locally', 'update-app-code', 'test-app', 'create-backup', 'post-deployment']) await hold(requestId, key, a.id);
    const before = await writes(requestId);

    const heldBy = (subject: string) => `"${subject}" is held by holder-a (agent of Olive Owner); claim a ready task of your own.`;
    const subjects = Object.fromEntries((await getDb().task.findMany({ where: { requestId } })).map((t) => [t.key, t.subject]));
    const attempts: [string, string, () => Promise<unknown>][] = [
      ['save_analysis', 'analysis', () => saveAnalysisFields(b.id, { requestId, desiredChanges: 'B decides', migrationStrategy: 'B decides too' })],
      ['take_snapshot', 'analysis', () => requestSnapshot(b.id, { requestId })],
      ['analyze', 'analysis', () => requestAnalysis(b.id, { requestId })],
      ['acknowledge_destructive', 'analysis', () => acknowledgeDestructiveOperation(b.id, { requestId, operationKey: 'drop_column:public.orders.note', note: 'B says it is fine.' })],
      ['save_migration_revision', 'create-migration', () => saveMigrationRevision(b.id, SaveRevisionSchema.parse({ requestId, name: 'b_rev', upSql: 'ALTER TABLE orders ADD COLUMN b text;', downSql: 'ALTER TABLE orders DROP COLUMN b;' }))],
      ['rehearse', 'test-locally', () => requestRehearsal(b.id, { requestId })],
      ['compare_app_schema', 'update-app-code', () => compareAppSchema(b.id, requestId)],
      ['record_intended_difference', 'update-app-code', () => intendDifferences(b.id, { requestId, evidenceId: requestId, keys: ['x'], note: 'B intends it.' })],
      ['attach_test_report', 'test-app', () => attachTestReport(b.id, { requestId, text: '{"tests": 1, "failures": 0}', format: 'json', mediaType: 'application/json' })],
      ['backup', 'create-backup', () => requestBackup(b.id, { requestId })],
      ['drill', 'create-backup', () => requestDrill(b.id, { requestId })],
      // B holds database-administrator, which checks drift on any request; its record is the Analysis step's.
      ['check_drift', 'analysis', () => requestDriftCheck(b.id, { requestId })],
      ['add_verification_query', 'post-deployment', () => addVerificationQuery(b.id, { requestId, name: 'B checks', kind: 'no_rows', sql: 'SELECT 1 WHERE false' })],
      ['document_issues', 'post-deployment', () => documentIssues(b.id, { requestId, body: 'B saw nothing.' })],
    ];
    for (const [tool, key, call] of attempts) {
      const err = await refused(call());
      expect({ tool, code: err.code, message: err.message }).toEqual({ tool, code: 'conflict', message: heldBy(subjects[key]) });
    }
    // Over the API: 409, naming the holder.
    const res = await callRoute(testReportsRoute.POST, 'POST', `/api/v1/requests/${requestId}/test-reports`, { id: requestId }, {
      token: b.token, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ tests: 1, failures: 0 }),
    });
    expect(res).toMatchObject({ status: 409, body: { error: { code: 'conflict', message: heldBy(subjects['test-app']) } } });
    expect(await writes(requestId)).toEqual(before);
  });

  it('the holder, its owner and an admin write it; a person who neither owns the agent nor is an admin does not; a step nobody holds takes anyone\'s', async () => {
    const a = await agent('holder-c');
    const b = await agent('intruder-d');
    const pat = await makeUser({ roles: ['engineer'], agentRoles: ALL_ROLES, name: 'Pat Person' });
    const { id: requestId } = await fileRequest(admin.id, { title: 'Claimed evidence, allowed', kind: 'schema_change', targetId, description: 'C holds it.', priority: 'LOW' });
    const fields = (who: string) => ({ requestId, desiredChanges: `${who} writes the desired changes`, migrationStrategy: `${who} plans it` });
    const revision = (name: string) => SaveRevisionSchema.parse({ requestId, name, upSql: 'ALTER TABLE orders ADD COLUMN c text;', downSql: 'ALTER TABLE orders DROP COLUMN c;' });

    // Nobody holds the steps yet: any agent with the role writes.
    expect(await saveAnalysisFields(b.id, fields('D'))).toEqual({ changed: true });
    const step = await getDb().task.findFirstOrThrow({ where: { requestId, key: 'analysis' } });
    await claimTask(a.id, step.id);
    await hold(requestId, 'create-migration', a.id);

    expect(await saveAnalysisFields(a.id, fields('C'))).toEqual({ changed: true });
    await saveMigrationRevision(a.id, revision('c_rev'));
    expect(await requestSnapshot(a.id, { requestId })).toMatchObject({ runId: expect.any(String) });
    expect(await saveAnalysisFields(olive.id, fields('Olive'))).toEqual({ changed: true });
    await saveMigrationRevision(olive.id, revision('olive_rev'));
    expect(await saveAnalysisFields(admin.id, fields('Ada'))).toEqual({ changed: true });
    await saveMigrationRevision(admin.id, revision('ada_rev'));
    const onlyOwner = `"${step.subject}" is held by holder-c (agent of Olive Owner); only the agent's owner or an admin can work it while the agent holds it.`;
    expect(await refused(saveAnalysisFields(pat.id, fields('Pat')))).toMatchObject({ code: 'conflict', message: onlyOwner });
    expect(await getDb().migrationRevision.count({ where: { requestId } })).toBe(3);
    expect((await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } })).desiredChanges).toBe('Ada writes the desired changes');

    // People share steps people hold, as the browser always let them.
    const { id: shared } = await fileRequest(admin.id, { title: 'Shared by people', kind: 'schema_change', targetId, description: 'People.', priority: 'LOW' });
    await hold(shared, 'analysis', olive.id);
    expect(await saveAnalysisFields(pat.id, { ...fields('Pat'), requestId: shared })).toEqual({ changed: true });
    // An agent does not work a step a person holds.
    expect(await refused(saveAnalysisFields(b.id, { ...fields('D'), requestId: shared }))).toMatchObject({ code: 'conflict' });
  });
});

describe('a claim covers the runs queued for the step', () => {
  it('a run queued before its step changed hands does not start for the former holder; its owner\'s run does', async () => {
    const a = await agent('run-holder-a');
    const b = await agent('run-holder-b');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Run across a release', kind: 'schema_change', targetId, description: 'A queues, B takes over.', priority: 'LOW' });
    const step = await getDb().task.findFirstOrThrow({ where: { requestId, key: 'analysis' } });
    await claimTask(a.id, step.id);
    const { runId } = await requestSnapshot(a.id, { requestId });
    expect(await checkClaimedRun(runId)).toBeNull();

    await releaseTask(a.id, { taskId: step.id });
    await claimTask(b.id, step.id);
    expect(await checkClaimedRun(runId)).toBe(
      `run-holder-a, who queued this run, may no longer start it: "${step.subject}" is held by run-holder-b (agent of Olive Owner); claim a ready task of your own. Queue it again.`,
    );

    // The holder's owner works the step with it: a run she queued starts.
    await getDb().run.update({ where: { id: runId }, data: { status: 'failed', finishedAt: new Date() } });
    const { runId: ownersRun } = await requestSnapshot(olive.id, { requestId });
    expect(await checkClaimedRun(ownersRun)).toBeNull();
  });

  it('the holder of Post-deployment, its owner and an admin document issues while it is held', async () => {
    const a = await agent('post-holder-a');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Post-deployment held', kind: 'schema_change', targetId, description: 'A watches production.', priority: 'LOW' });
    await hold(requestId, 'post-deployment', a.id);
    expect(await documentIssues(a.id, { requestId, body: 'A: nothing yet.' })).toMatchObject({ id: expect.any(String) });
    expect(await documentIssues(olive.id, { requestId, body: 'Olive: still nothing.' })).toMatchObject({ id: expect.any(String) });
    expect(await documentIssues(admin.id, { requestId, body: 'Ada: all quiet.' })).toMatchObject({ id: expect.any(String) });
    expect(await getDb().issueNote.count({ where: { requestId } })).toBe(3);
  });
});
