import { randomUUID } from 'node:crypto';
import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDb } from '@/lib/db/client';
import { loadActor } from '@/lib/auth/actor';
import { getRequestDetail } from '@/lib/data/requests';
import { approveDeployment } from '@/lib/services/deploy';
import { fileRequest } from '@/lib/services/file-request';
import { createAgent, issueAgentToken, revokeAgentToken, setAgentPaused } from '@/lib/services/agent-accounts';
import { claimTask, exportWorkflow, listMyReadyTasks, listTasks } from '@/lib/services/agent-tasks';
import { addTaskNote, transitionTask } from '@/lib/services/work-task';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { callRoute, type RouteCall } from '../support/api-routes';
import { completeStepWithEvidence, satisfyStepEvidence } from '../support/step-evidence';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig<object>()), ...(await import('../support/api-routes')).sessionMock() }));

const tasksRoute = await import('@/app/api/v1/tasks/route');
const taskRoute = await import('@/app/api/v1/tasks/[id]/route');
const claimRoute = await import('@/app/api/v1/tasks/[id]/claim/route');
const completeRoute = await import('@/app/api/v1/tasks/[id]/complete/route');
const blockRoute = await import('@/app/api/v1/tasks/[id]/block/route');
const transitionsRoute = await import('@/app/api/v1/tasks/[id]/transitions/route');
const releaseRoute = await import('@/app/api/v1/tasks/[id]/release/route');
const exportRoute = await import('@/app/api/v1/requests/[id]/tasks/route');
const signaturesRoute = await import('@/app/api/v1/gate-items/[id]/signatures/route');

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let alice: Awaited<ReturnType<typeof makeUser>>;
let targetId: string;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
  alice = await makeUser({ roles: ['engineer'], name: 'Alice Smith' });
  targetId = (await makeTarget()).id;
});

afterAll(async () => {
  await store?.close();
});

const file = async (title = `Agents ${randomUUID().slice(0, 6)}`) =>
  (await fileRequest(admin.id, { title, kind: 'schema_change', targetId, description: 'Agents work this.', priority: 'LOW' })).id;

async function agent(name: string, agentRoles: string[]) {
  const { id } = await createAgent(admin.id, { name, agentRoles: agentRoles as never, ownerId: alice.id });
  const token = await issueAgentToken(admin.id, { agentId: id, name: 'main' });
  return { id, name, token: token.secret, tokenId: token.id };
}

const json = (token: string, body: unknown): RouteCall => ({ token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const taskOf = (requestId: string, key: string) => getDb().task.findFirstOrThrow({ where: { requestId, key }, include: { checklist: { orderBy: { position: 'asc' } } } });
const claim = (taskId: string, token: string) => callRoute(claimRoute.POST, 'POST', `/api/v1/tasks/${taskId}/claim`, { id: taskId }, json(token, {}));
const list = (token: string, query: Record<string, string>) => callRoute(tasksRoute.GET, 'GET', '/api/v1/tasks', {}, { token, query });
const writes = async () => ({ audit: await getDb().auditLog.count(), notes: await getDb().taskNote.count(), signatures: await getDb().gateSignature.count() });

describe('the task API in TaskCreate shape', () => {
  it('lists an agent\'s ready tasks, claims, ticks, notes, completes, and exports the workflow', async () => {
    const requestId = await file();
    const dba = await agent(`dba-${randomUUID().slice(0, 6)}`, ['database-optimizer', 'database-administrator']);

    const ready = await list(dba.token, { ready: 'true', requestId });
    expect(ready.status).toBe(200);
    // Only the first step is ready: every other waits for the one before.
    expect(ready.body.data.tasks.map((t: { subject: string }) => t.subject)).toEqual(['Analyze database change']);
    const analysis = ready.body.data.tasks[0];
    expect(analysis).toMatchObject({
      subject: 'Analyze database change', status: 'pending', owner: null, blockedBy: [], activeForm: expect.any(String), description: expect.any(String),
      blocks: [expect.any(String)],
      metadata: { requestId, step: 'analysis', position: 1, ready: true, isGate: false, assignee: null, role: expect.any(String),
        links: { request: `/requests/${requestId}`, step: `/requests/${requestId}/steps/analysis` } },
    });
    expect(analysis.metadata.checklist.length).toBeGreaterThan(0);
    // Lists do not judge the evidence: null, not [] (which would read as "waits for nothing").
    expect(analysis.metadata.waitingFor).toBeNull();

    const claimed = await claim(analysis.id, dba.token);
    expect(claimed.status).toBe(200);
    expect(claimed.body.data).toMatchObject({ status: 'in_progress', owner: dba.name, metadata: { ready: false, assignee: { id: dba.id, kind: 'agent', owner: 'Alice Smith' } } });
    // Claiming again (a retry) changes nothing.
    expect((await claim(analysis.id, dba.token)).status).toBe(200);
    expect(await getDb().auditLog.count({ where: { entityId: analysis.id, action: 'task.start' } })).toBe(1);

    const mine = await list(dba.token, { mine: 'true' });
    expect(mine.body.data.tasks.map((t: { id: string }) => t.id)).toEqual([analysis.id]);

    // Completing is refused while the evidence waits, naming what for.
    const early = await callRoute(completeRoute.POST, 'POST', '', { id: analysis.id }, json(dba.token, {}));
    expect(early).toMatchObject({ status: 409, body: { error: { message: expect.stringMatching(/waits for its evidence/) } } });
    const got = await callRoute(taskRoute.GET, 'GET', '', { id: analysis.id }, { token: dba.token });
    expect(got.body.data.metadata.waitingFor.length).toBeGreaterThan(0);

    await satisfyStepEvidence(requestId, 'analysis', dba.id);
    const row = await taskOf(requestId, 'analysis');
    const evidenceItems = new Set(got.body.data.metadata.checklist.filter((c: { coveredBy: string | null }) => c.coveredBy).map((c: { id: string }) => c.id));
    const manual = row.checklist.filter((c) => !evidenceItems.has(c.id));
    // An item the evidence ticks is not ticked by hand; the note sent with it is not saved either (all or nothing).
    const covered = row.checklist.find((c) => evidenceItems.has(c.id))!;
    const beforeRefusal = await writes();
    const byHand = await callRoute(taskRoute.PATCH, 'PATCH', '', { id: analysis.id }, json(dba.token, { checklist: [{ itemId: covered.id, done: true }], note: 'ticked' }));
    expect(byHand).toMatchObject({ status: 409, body: { error: { message: expect.stringMatching(/is ticked by evidence/) } } });
    expect(await writes()).toEqual(beforeRefusal);
    const patch = await callRoute(taskRoute.PATCH, 'PATCH', '', { id: analysis.id }, json(dba.token, {
      ...(manual.length ? { checklist: manual.map((c) => ({ itemId: c.id, done: true })) } : {}), note: 'Snapshot taken; strategy written.',
    }));
    expect(patch.status).toBe(200);
    expect(await getDb().taskNote.count({ where: { taskId: analysis.id, authorId: dba.id } })).toBe(1);

    const done = await callRoute(completeRoute.POST, 'POST', '', { id: analysis.id }, json(dba.token, {}));
    expect(done.status).toBe(200);
    expect(done.body.data).toMatchObject({ status: 'completed', metadata: { waitingFor: [] } });
    expect(done.body.data.metadata.checklist.every((c: { done: boolean }) => c.done)).toBe(true);

    // The next step is ready now, and named in what Analysis blocks.
    const next = await list(dba.token, { ready: 'true', requestId });
    expect(next.body.data.tasks.map((t: { subject: string }) => t.subject)).toEqual(['Create migration']);
    expect(next.body.data.tasks[0].blockedBy).toEqual([analysis.id]);
    expect(analysis.blocks).toEqual([next.body.data.tasks[0].id]);

    const exported = await callRoute(exportRoute.GET, 'GET', '', { id: requestId }, { token: dba.token });
    expect(exported.status).toBe(200);
    const shapes = exported.body.data as { subject: string; status: string; metadata: { position: number } }[];
    expect(shapes.length).toBe(await getDb().task.count({ where: { requestId } }));
    expect(shapes.map((t) => t.metadata.position)).toEqual([...shapes.keys()].map((i) => i + 1));
    expect(shapes[0].status).toBe('completed');
    expect(await exportWorkflow(dba.id, requestId)).toEqual(exported.body.data);

    // The audit names the agent; its owner comes with the account.
    const audit = await getDb().auditLog.findMany({ where: { requestId, actorId: dba.id }, include: { actor: { include: { owner: true } } } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['task.start', 'task.note_added', 'task.complete']));
    expect(audit[0].actor).toMatchObject({ kind: 'agent', owner: { name: 'Alice Smith' } });
    // The request page names the agent with its owner, in the audit log and on the task card.
    const detail = await getRequestDetail(await loadActor(getDb(), admin.id), requestId);
    const label = `${dba.name} (agent of Alice Smith)`;
    expect(detail.tasks[0].assignee).toBe(label);
    expect(detail.audit.filter((a) => a.action === 'task.complete').map((a) => a.actor)).toEqual([label]);
    expect(detail.audit.find((a) => a.action === 'request.filed' || a.actor === 'Ada Admin')?.actor).toBe('Ada Admin');
  });

  it('pages with a cursor, filters by role and status, and refuses a made-up cursor', async () => {
    const requests = [await file(), await file(), await file()];
    const opt = await agent(`opt-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await listTasks(opt.id, { role: 'database-optimizer', status: 'pending', limit: 1, ...(cursor ? { cursor } : {}) });
      expect(page.tasks.length).toBeLessThanOrEqual(1);
      seen.push(...page.tasks.map((t) => t.id));
      cursor = page.nextCursor;
    } while (cursor);
    const expected = await getDb().task.findMany({ where: { eligibleRoles: { has: 'database-optimizer' }, status: 'pending' }, select: { id: true } });
    expect(new Set(seen)).toEqual(new Set(expected.map((t) => t.id)));
    expect(seen.length).toBe(expected.length);
    for (const r of requests) expect(seen).toContain((await taskOf(r, 'analysis')).id);

    // Without a role, an agent sees the tasks of the roles it holds.
    const own = await listTasks(opt.id, { limit: 200 });
    expect(own.tasks.every((t) => t.metadata.eligibleRoles.includes('database-optimizer'))).toBe(true);

    const bad = await list(opt.token, { cursor: 'bm90LWEtY3Vyc29y' });
    expect(bad).toMatchObject({ status: 422, body: { error: { code: 'invalid' } } });
    expect((await list(opt.token, { limit: '500' })).status).toBe(422);
    expect((await list(opt.token, { status: 'done' })).status).toBe(422);
  });

  it('blocks a task with a reason, and refuses a blank one', async () => {
    const requestId = await file();
    const dba = await agent(`blk-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    const blank = await callRoute(blockRoute.POST, 'POST', '', { id: analysis.id }, json(dba.token, { reason: ' ' }));
    expect(blank.status).toBe(422);
    const blocked = await callRoute(blockRoute.POST, 'POST', '', { id: analysis.id }, json(dba.token, { reason: 'The target is unreachable from the agent.' }));
    expect(blocked).toMatchObject({ status: 200, body: { data: { status: 'blocked', metadata: { blockedReason: 'The target is unreachable from the agent.' } } } });
  });
});

describe('claims', () => {
  it('two agents claiming one task at once: exactly one wins, the other is told who holds it', async () => {
    const requestId = await file();
    const one = await agent(`one-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const two = await agent(`two-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    const results = await Promise.all([claim(analysis.id, one.token), claim(analysis.id, two.token)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 409]);
    const winner = results[0].status === 200 ? one : two;
    const loser = results.find((r) => r.status === 409)!;
    expect(loser.body.error?.message).toBe(`"Analyze database change" is already claimed by ${winner.name} (agent of Alice Smith) (in progress).`);
    const row = await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } });
    expect(row).toMatchObject({ status: 'in_progress', assigneeId: winner.id });
    expect(await getDb().auditLog.count({ where: { entityId: analysis.id, action: 'task.start' } })).toBe(1);
  });

  it('a claim gives the holder the task: another agent with its role is refused note, tick, block, resume and complete, nothing written', async () => {
    const requestId = await file();
    const holder = await agent(`hold-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const other = await agent(`othr-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    expect((await claim(analysis.id, holder.token)).status).toBe(200);
    // Evidence holds, so completing would pass every other check: only the claim stands in the way.
    await satisfyStepEvidence(requestId, 'analysis', holder.id);
    const refused = { status: 409, body: { error: { code: 'conflict', message: `"Analyze database change" is held by ${holder.name} (agent of Alice Smith); claim a ready task of your own.` } } };
    const path = (route: string) => `/api/v1/tasks/${analysis.id}${route}`;
    const byOther = {
      note: () => callRoute(taskRoute.PATCH, 'PATCH', path(''), { id: analysis.id }, json(other.token, { note: 'Taking this over.' })),
      tick: () => callRoute(taskRoute.PATCH, 'PATCH', path(''), { id: analysis.id }, json(other.token, { checklist: [{ itemId: analysis.checklist[0].id, done: true }] })),
      block: () => callRoute(blockRoute.POST, 'POST', path('/block'), { id: analysis.id }, json(other.token, { reason: 'Someone else is on it.' })),
      complete: () => callRoute(completeRoute.POST, 'POST', path('/complete'), { id: analysis.id }, json(other.token, {})),
      resume: () => callRoute(transitionsRoute.POST, 'POST', path('/transitions'), { id: analysis.id }, json(other.token, { transition: 'resume' })),
    };
    const before = await writes();
    for (const act of [byOther.note, byOther.tick, byOther.block, byOther.complete]) expect(await act()).toMatchObject(refused);
    expect(await writes()).toEqual(before);
    expect(await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).toMatchObject({ status: 'in_progress', assigneeId: holder.id, blockedReason: null });

    // The holder blocks it; the other agent may not resume it either.
    expect((await callRoute(blockRoute.POST, 'POST', path('/block'), { id: analysis.id }, json(holder.token, { reason: 'Waiting for the DBA.' }))).status).toBe(200);
    const beforeResume = await writes();
    expect(await byOther.resume()).toMatchObject(refused);
    expect(await writes()).toEqual(beforeResume);
    expect((await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).status).toBe('blocked');

    // The holder works it to the end.
    expect((await callRoute(transitionsRoute.POST, 'POST', path('/transitions'), { id: analysis.id }, json(holder.token, { transition: 'resume' }))).status).toBe(200);
    expect((await callRoute(taskRoute.PATCH, 'PATCH', path(''), { id: analysis.id }, json(holder.token, { note: 'Unblocked.' }))).status).toBe(200);
    expect(await callRoute(completeRoute.POST, 'POST', path('/complete'), { id: analysis.id }, json(holder.token, {}))).toMatchObject({ status: 200, body: { data: { status: 'completed' } } });
    expect(await getDb().auditLog.count({ where: { requestId, actorId: other.id } })).toBe(0);
  });

  it('a task an agent holds is worked by its owner or an admin, not by other people; people share tasks people hold as before', async () => {
    const requestId = await file();
    const olga = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'], name: `Olga ${randomUUID().slice(0, 6)}` });
    const bob = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'] });
    const { id: agentId, name } = await createAgent(admin.id, { name: `olg-${randomUUID().slice(0, 6)}`, agentRoles: ['database-optimizer'], ownerId: olga.id });
    const analysis = await taskOf(requestId, 'analysis');
    await claimTask(agentId, analysis.id);
    const before = await writes();
    await expect(addTaskNote(bob.id, { taskId: analysis.id, body: 'Mine now.' })).rejects.toMatchObject({
      code: 'conflict', message: `"Analyze database change" is held by ${name} (agent of ${olga.name}); only the agent's owner or an admin can work it while the agent holds it.`,
    });
    await expect(transitionTask(bob.id, { taskId: analysis.id, transition: 'block', reason: 'Stuck.' })).rejects.toMatchObject({ code: 'conflict' });
    expect(await writes()).toEqual(before);
    await addTaskNote(olga.id, { taskId: analysis.id, body: 'The owner looks in.' });
    await transitionTask(admin.id, { taskId: analysis.id, transition: 'block', reason: 'An admin stops it.' });
    expect(await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).toMatchObject({ status: 'blocked', assigneeId: agentId });

    // A task a person holds: another person with its role still works it (the browser's behaviour).
    const shared = await taskOf(await file(), 'analysis');
    await transitionTask(bob.id, { taskId: shared.id, transition: 'start' });
    await addTaskNote(olga.id, { taskId: shared.id, body: 'Helping Bob.' });
    // But an agent does not work a task a person holds.
    await expect(addTaskNote(agentId, { taskId: shared.id, body: 'Helping too.' })).rejects.toMatchObject({
      code: 'conflict', message: `"Analyze database change" is held by ${bob.name}; claim a ready task of your own.`,
    });
  });

  it('a task is claimed only when ready: its blocker completed', async () => {
    const requestId = await file();
    const dba = await agent(`rdy-${randomUUID().slice(0, 6)}`, ['database-optimizer', 'postgres-pro', 'database-administrator']);
    const create = await taskOf(requestId, 'create-migration');
    const before = await writes();
    const res = await claim(create.id, dba.token);
    expect(res).toMatchObject({ status: 409, body: { error: { message: '"Create migration" waits for "Analyze database change" to be completed.' } } });
    expect(await writes()).toEqual(before);
  });
});

describe('refusals: each with a clear error and nothing written', () => {
  it('an agent without the task\'s role', async () => {
    const requestId = await file();
    const tester = await agent(`tst-${randomUUID().slice(0, 6)}`, ['test-automator']);
    const analysis = await taskOf(requestId, 'analysis');
    const before = await writes();
    const res = await claim(analysis.id, tester.token);
    expect(res).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: expect.stringMatching(/^Only holders of .* can work "Analyze database change"\.$/) } } });
    const patch = await callRoute(taskRoute.PATCH, 'PATCH', '', { id: analysis.id }, json(tester.token, { note: 'sneaky' }));
    expect(patch.status).toBe(403);
    expect(await writes()).toEqual(before);
    expect((await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).status).toBe('pending');
  });

  it('a paused agent: its tokens are refused at once, and work in flight when the service reloads it; resuming restores them', async () => {
    const requestId = await file();
    const dba = await agent(`psd-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    await setAgentPaused(admin.id, { agentId: dba.id, paused: true });
    const before = await writes();
    const res = await claim(analysis.id, dba.token);
    expect(res).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated', message: expect.stringMatching(/^This agent account was paused on \d{4}-\d\d-\d\d by an admin\. Ask /) } } });
    expect((await list(dba.token, {})).status).toBe(401);
    // A call already past authentication is refused where the service loads who is asking.
    await expect(claimTask(dba.id, analysis.id)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(/paused/) });
    expect(await writes()).toEqual({ ...before, audit: before.audit });
    await setAgentPaused(admin.id, { agentId: dba.id, paused: false });
    expect((await claim(analysis.id, dba.token)).status).toBe(200);
    expect((await getDb().auditLog.findMany({ where: { entityId: dba.id }, orderBy: { createdAt: 'asc' } })).map((a) => a.action)).toEqual(['agent.created', 'agent.paused', 'agent.resumed']);
  });

  it('a revoked token (the agent and its other tokens keep working) and an expired one', async () => {
    const requestId = await file();
    const dba = await agent(`rvk-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const spare = await issueAgentToken(admin.id, { agentId: dba.id, name: 'spare' });
    await revokeAgentToken(admin.id, { tokenId: dba.tokenId });
    const analysis = await taskOf(requestId, 'analysis');
    const before = await writes();
    const revoked = await claim(analysis.id, dba.token);
    expect(revoked).toMatchObject({ status: 401, body: { error: { message: expect.stringMatching(/revoked on/) } } });
    expect(await writes()).toEqual(before);
    expect((await getDb().user.findUniqueOrThrow({ where: { id: dba.id } })).active).toBe(true);

    const short = await issueAgentToken(admin.id, { agentId: dba.id, name: 'short', expiresInDays: 1 });
    await getDb().apiToken.update({ where: { id: short.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const beforeExpired = await writes();
    const expired = await claim(analysis.id, short.secret);
    expect(expired).toMatchObject({ status: 401, body: { error: { message: expect.stringMatching(/expired on/) } } });
    expect(await writes()).toEqual(beforeExpired);
    expect((await claim(analysis.id, spare.secret)).status).toBe(200);
  });

  it('an agent holding every role signs no gate item and approves no production deploy', async () => {
    const requestId = await file();
    const all = await agent(`all-${randomUUID().slice(0, 6)}`, ['database-optimizer', 'postgres-pro', 'database-administrator', 'language-specialist', 'test-automator']);
    // Even an agent account whose row was given person roles (a tampered store) is refused: it is not a person.
    await getDb().user.update({ where: { id: all.id }, data: { roles: ['reviewer', 'lead'] } });
    const gateItem = await getDb().gateItem.findFirstOrThrow({ where: { requestId } });
    const before = await writes();
    const sign = await callRoute(signaturesRoute.POST, 'POST', '', { id: gateItem.id }, json(all.token, { note: 'LGTM' }));
    expect(sign).toMatchObject({ status: 403, body: { error: { message: 'Quality-gate signatures and production approvals are for people, not tokens.' } } });
    await expect(approveDeployment(all.id, { requestId, environmentId: randomUUID() }))
      .rejects.toMatchObject({ code: 'forbidden', message: 'Quality-gate signatures and production approvals are for people, not tokens.' });
    expect(await writes()).toEqual(before);
  });

  it('a caller with no role reads nothing; an unknown task is 404', async () => {
    const nobody = await makeUser({ roles: [] });
    await expect(listTasks(nobody.id, {})).rejects.toMatchObject({ code: 'forbidden' });
    const dba = await agent(`nf-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const id = randomUUID();
    expect((await callRoute(taskRoute.GET, 'GET', '', { id }, { token: dba.token })).status).toBe(404);
    expect((await callRoute(taskRoute.GET, 'GET', '', { id: 'nope' }, { token: dba.token })).status).toBe(422);
    expect((await callRoute(exportRoute.GET, 'GET', '', { id }, { token: dba.token })).status).toBe(404);
  });
});

describe('handing a task back (release), resuming it, and TaskUpdate statuses', () => {
  const release = (taskId: string, token: string, body: unknown = {}) => callRoute(releaseRoute.POST, 'POST', `/api/v1/tasks/${taskId}/release`, { id: taskId }, json(token, body));
  const patch = (taskId: string, token: string, body: unknown) => callRoute(taskRoute.PATCH, 'PATCH', `/api/v1/tasks/${taskId}`, { id: taskId }, json(token, body));
  const readyEvents = (taskId: string) => getDb().agentEvent.count({ where: { taskId, type: 'task.ready' } });

  it('the holder hands a claimed task back: pending, no assignee, audited with who and why, announced ready again, claimable by another agent', async () => {
    const requestId = await file();
    const holder = await agent(`rel-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const next = await agent(`nxt-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    expect(await readyEvents(analysis.id)).toBe(1); // filed
    expect((await claim(analysis.id, holder.token)).status).toBe(200);
    // Claiming a held task again stays refused: the way out is release.
    expect(await claim(analysis.id, next.token)).toMatchObject({ status: 409, body: { error: { message: expect.stringMatching(/already claimed by/) } } });

    const released = await release(analysis.id, holder.token, { reason: 'The agent is being restarted.' });
    expect(released).toMatchObject({ status: 200, body: { data: { status: 'pending', owner: null, metadata: { assignee: null, ready: true } } } });
    expect(await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).toMatchObject({ status: 'pending', assigneeId: null, startedAt: null });
    const audit = await getDb().auditLog.findFirstOrThrow({ where: { entityId: analysis.id, action: 'task.released' } });
    expect(audit).toMatchObject({ actorId: holder.id, before: { status: 'in_progress', holder: `${holder.name} (agent of Alice Smith)` }, after: { status: 'pending', reason: 'The agent is being restarted.' } });
    expect(await readyEvents(analysis.id)).toBe(2);

    expect(await claim(analysis.id, next.token)).toMatchObject({ status: 200, body: { data: { owner: next.name } } });
    // Releasing a task nobody holds says so.
    const create = await taskOf(requestId, 'create-migration');
    expect(await release(create.id, next.token)).toMatchObject({ status: 403 }); // not its role either
    const unheld = await taskOf(await file(), 'analysis');
    expect(await release(unheld.id, next.token)).toMatchObject({ status: 409, body: { error: { message: '"Analyze database change" is pending and held by nobody: there is nothing to hand back.' } } });
  });

  it("the agent's owner hands back a paused agent's blocked task without the task's role; other agents and people with the role may not", async () => {
    const requestId = await file();
    const stuck = await agent(`stk-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const rival = await agent(`rvl-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const bob = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'] });
    const analysis = await taskOf(requestId, 'analysis');
    expect((await claim(analysis.id, stuck.token)).status).toBe(200);
    expect((await callRoute(blockRoute.POST, 'POST', '', { id: analysis.id }, json(stuck.token, { reason: 'Cannot reach the target.' }))).status).toBe(200);
    await setAgentPaused(admin.id, { agentId: stuck.id, paused: true });

    const before = await writes();
    expect(await release(analysis.id, rival.token)).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: `"Analyze database change" is held by ${stuck.name} (agent of Alice Smith); only its holder, the agent's owner or an admin can hand it back.` } } });
    const { releaseTask } = await import('@/lib/services/work-task');
    await expect(releaseTask(bob.id, { taskId: analysis.id })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await writes()).toEqual(before);

    // Alice owns the agent and holds no role: she may not note it, but she may hand it back.
    await expect(addTaskNote(alice.id, { taskId: analysis.id, body: 'Looking.' })).rejects.toMatchObject({ code: 'forbidden' });
    await releaseTask(alice.id, { taskId: analysis.id, reason: 'Its agent is paused.' });
    expect(await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).toMatchObject({ status: 'pending', assigneeId: null, blockedReason: null });
    expect(await getDb().auditLog.findFirstOrThrow({ where: { entityId: analysis.id, action: 'task.released' } })).toMatchObject({ actorId: alice.id, after: { reason: 'Its agent is paused.' } });
    expect((await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } })).status).toBe('open');
    expect((await claim(analysis.id, rival.token)).status).toBe(200);
  });

  it('PATCH status: in_progress claims a ready task and resumes a blocked one, pending hands it back; the transitions route takes release', async () => {
    const requestId = await file();
    const dba = await agent(`pst-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    expect(await patch(analysis.id, dba.token, { status: 'in_progress', note: 'Starting.' })).toMatchObject({ status: 200, body: { data: { status: 'in_progress', owner: dba.name } } });
    expect(await getDb().taskNote.count({ where: { taskId: analysis.id, authorId: dba.id } })).toBe(1);
    expect((await callRoute(blockRoute.POST, 'POST', '', { id: analysis.id }, json(dba.token, { reason: 'Waiting for access.' }))).status).toBe(200);
    // Claiming one's own blocked task says how to go on.
    expect(await claim(analysis.id, dba.token)).toMatchObject({ status: 409, body: { error: { message: '"Analyze database change" is blocked and already yours: resume it (resume_task, or PATCH {"status": "in_progress"}) or hand it back (release).' } } });
    expect(await patch(analysis.id, dba.token, { status: 'in_progress' })).toMatchObject({ status: 200, body: { data: { status: 'in_progress', owner: dba.name, metadata: { blockedReason: null } } } });
    expect(await getDb().auditLog.count({ where: { entityId: analysis.id, action: 'task.resume' } })).toBe(1);

    // pending: the note is the reason, in the audit log.
    expect(await patch(analysis.id, dba.token, { status: 'pending', note: 'Handing it to a person.' })).toMatchObject({ status: 200, body: { data: { status: 'pending', owner: null } } });
    expect(await getDb().auditLog.findFirstOrThrow({ where: { entityId: analysis.id, action: 'task.released' } })).toMatchObject({ after: { reason: 'Handing it to a person.' } });
    expect(await getDb().taskNote.count({ where: { taskId: analysis.id } })).toBe(1);

    // Announced again once (the release above); a second release within the minute stays quiet.
    const announced = () => getDb().agentEvent.count({ where: { taskId: analysis.id, type: 'task.ready' } });
    expect(await announced()).toBe(2);

    // The browser's transitions, with release among them.
    expect((await claim(analysis.id, dba.token)).status).toBe(200);
    const viaTransitions = await callRoute(transitionsRoute.POST, 'POST', '', { id: analysis.id }, json(dba.token, { transition: 'release', reason: 'Done for today.' }));
    expect(viaTransitions).toMatchObject({ status: 200, body: { data: { status: 'pending' } } });
    expect(await announced()).toBe(2);

    // Statuses with routes of their own, and all or nothing: a refused release writes no note.
    const completed = await patch(analysis.id, dba.token, { status: 'completed' });
    expect(completed).toMatchObject({ status: 422, body: { error: { fieldErrors: { status: [expect.stringMatching(/\/complete/)] } } } });
    const before = await writes();
    expect(await patch(analysis.id, dba.token, { status: 'pending', note: 'Again.' })).toMatchObject({ status: 409 });
    expect(await writes()).toEqual(before);
  });

  it('resuming a task blocked before anyone claimed it takes it: it is never in progress with no holder', async () => {
    const requestId = await file();
    const first = await agent(`blk-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const second = await agent(`blk-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    expect((await callRoute(blockRoute.POST, 'POST', '', { id: analysis.id }, json(first.token, { reason: 'No access yet.' }))).status).toBe(200);
    expect(await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).toMatchObject({ status: 'blocked', assigneeId: null });
    expect(await patch(analysis.id, first.token, { status: 'in_progress' })).toMatchObject({ status: 200, body: { data: { status: 'in_progress', owner: first.name } } });
    expect((await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).startedAt).toBeInstanceOf(Date);
    // It is the first agent's now: the other is refused, and it shows among agents at work.
    expect((await patch(analysis.id, second.token, { note: 'Mine?' })).status).toBe(409);
  });

  it('PATCH names an unknown field (and an empty update) in fieldErrors instead of dropping it', async () => {
    const requestId = await file();
    const dba = await agent(`unk-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    const analysis = await taskOf(requestId, 'analysis');
    const before = await writes();
    const typo = await patch(analysis.id, dba.token, { statuss: 'in_progress', note: 'Starting.' });
    expect(typo).toMatchObject({ status: 422, body: { error: { code: 'invalid', fieldErrors: { statuss: ['Unknown field "statuss".'] } } } });
    const empty = await patch(analysis.id, dba.token, {});
    expect(empty).toMatchObject({ status: 422, body: { error: { fieldErrors: { checklist: ['Send checklist changes, a note, a status, or several.'] } } } });
    expect(await writes()).toEqual(before);
    expect((await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).status).toBe('pending');
  });

  it('a completion refused for unticked items names them', async () => {
    const requestId = await file();
    const dba = await agent(`nam-${randomUUID().slice(0, 6)}`, ['database-administrator']);
    await completeStepWithEvidence(admin.id, requestId, 1);
    const create = await taskOf(requestId, 'create-migration');
    expect((await claim(create.id, dba.token)).status).toBe(200);
    await satisfyStepEvidence(requestId, 'create-migration', dba.id);
    const got = await callRoute(taskRoute.GET, 'GET', '', { id: create.id }, { token: dba.token });
    const manual = (got.body.data.metadata.checklist as { label: string; done: boolean; coveredBy: string | null }[]).filter((c) => !c.coveredBy && !c.done).map((c) => `"${c.label}"`);
    expect(manual.length).toBeGreaterThan(0);
    const refused = await callRoute(completeRoute.POST, 'POST', '', { id: create.id }, json(dba.token, {}));
    expect(refused).toMatchObject({ status: 409, body: { error: { message: `"Create migration" still has ${manual.length} unchecked checklist item${manual.length === 1 ? '' : 's'}: ${manual.join(', ')}.` } } });
  });

  it("my ready tasks refuse a role I do not hold (an agent holds agent roles only), and 401s carry a bearer challenge", async () => {
    const opt = await agent(`rol-${randomUUID().slice(0, 6)}`, ['database-optimizer']);
    await expect(listMyReadyTasks(opt.id, { role: 'reviewer' })).rejects.toMatchObject({ code: 'invalid', field: 'role', message: 'role: You do not hold reviewer; yours: database-optimizer. Leave role out to list every role you hold.' });
    await expect(listMyReadyTasks(opt.id, { role: 'database-administrator' })).rejects.toMatchObject({ code: 'invalid' });
    expect((await listMyReadyTasks(opt.id, { role: 'database-optimizer' })).tasks.every((t) => t.metadata.ready)).toBe(true);
    // An admin may look at any role's ready tasks.
    await expect(listMyReadyTasks(admin.id, { role: 'reviewer' })).resolves.toBeTruthy();

    const taskId = (await taskOf(await file(), 'analysis')).id;
    const res = await taskRoute.PATCH(new NextRequest(`http://cutover.test/api/v1/tasks/${taskId}`, {
      method: 'PATCH', headers: { authorization: 'Bearer cut_not-a-token', 'content-type': 'application/json' }, body: '{"note":"x"}',
    }), { params: Promise.resolve({ id: taskId }) });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="cutover", error="invalid_token", error_description="[^"]+"$/);
  });
});
