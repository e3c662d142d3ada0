import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { getBoard } from '@/lib/data/board';
import { getRequestDetail, listRequestAudit } from '@/lib/data/requests';
import { listMyTasks } from '@/lib/data/tasks';
import { fileRequest } from '@/lib/services/file-request';
import { blockTask, transitionTask } from '@/lib/services/work-task';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';

/**
 * The lead's board and the request page's reads, on fixtures written straight into the store:
 * deployments, approvals and gate states are other areas' to produce; here only what the board
 * makes of them is under test.
 */
let store: Awaited<ReturnType<typeof openTestAppStore>>;
type U = Awaited<ReturnType<typeof makeUser>>;
let author: U, lead: U, otherLead: U, reviewer: U, dba: U, optimizer: U, engineer: U;
let staging: { id: string }, production: { id: string };
const req: Record<string, string> = {};
const rev: Record<string, string> = {};
const now = new Date();
const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);

async function file(title: string, who: U = author) {
  const r = await fileRequest(who.id, { title, kind: 'schema_change', targetId: (await makeTarget()).id, description: 'A description that is long enough.', priority: 'HIGH' });
  return r.id;
}

/** Puts a request at `step` with the steps before it completed (what the services would have done). */
async function advanceTo(requestId: string, step: number) {
  const db = getDb();
  const tasks = await db.task.findMany({ where: { requestId }, orderBy: { position: 'asc' } });
  for (const t of tasks) {
    if (t.position < step) await db.task.update({ where: { id: t.id }, data: { status: 'completed', startedAt: hoursAgo(20 - t.position), completedAt: hoursAgo(19 - t.position) } });
    if (t.position === step) await db.task.update({ where: { id: t.id }, data: { status: 'in_progress', startedAt: hoursAgo(1), assigneeId: t.isGate ? null : dba.id } });
  }
  const current = tasks.find((t) => t.position === step)!;
  await db.migrationRequest.update({
    where: { id: requestId },
    data: { status: 'in_progress', currentStep: step, currentSubject: current.subject, currentOwner: current.owner, completedSteps: step - 1 },
  });
}

async function revision(requestId: string) {
  return (await getDb().migrationRevision.create({
    data: { requestId, revision: 1, name: 'add_points', upSql: 'SELECT 1;', downSql: 'SELECT 1;', checksum: 'c'.repeat(64), createdById: dba.id },
  })).id;
}

async function deploy(key: string, environmentId: string, targetId: string, status: 'succeeded' | 'failed' | 'running' | 'recovered', extra: Record<string, unknown> = {}) {
  return getDb().deployment.create({
    data: {
      requestId: req[key], environmentId, targetId, revisionId: rev[key], revisionSha256: 'c'.repeat(64), status, requestedById: dba.id,
      phase: status === 'running' ? 'apply' : null, createdAt: hoursAgo(2), finishedAt: status === 'running' ? null : hoursAgo(1), ...extra,
    },
  });
}

beforeAll(async () => {
  store = await openTestAppStore();
  author = await makeUser({ roles: ['engineer'], name: 'Ada Author' });
  lead = await makeUser({ roles: ['lead'], name: 'Lee Lead' });
  otherLead = await makeUser({ roles: ['lead', 'engineer'], name: 'Lou Lead' });
  reviewer = await makeUser({ roles: ['reviewer'], name: 'Rita Reviewer' });
  dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'], name: 'Dana DBA' });
  optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'], name: 'Otto Optimizer' });
  engineer = await makeUser({ roles: ['engineer'], name: 'Eve Engineer' });
  const db = getDb();
  staging = await makeTarget('Shop staging');
  production = await db.targetDatabase.create({ data: { name: 'Shop prod', environment: 'production', host: 'h', port: 5432, database: 'd', username: 'u' } });
  const project = await db.project.create({
    data: {
      name: 'Shop', repositoryUrl: '/tmp/shop.git',
      environments: { create: [
        { position: 1, name: 'staging', targetId: staging.id },
        { position: 2, name: 'production', targetId: production.id, requiresApproval: true },
      ] },
    },
    include: { environments: { orderBy: { position: 'asc' } } },
  });
  const [stagingEnv, prodEnv] = project.environments;

  // deployed: on staging, gate passed, waits for production's approval.
  req.deployed = await file('Loyalty points');
  // inflight: deploying to staging now. failed: its staging deploy failed. recovered: failed then restored.
  req.inflight = await file('Wishlists');
  req.failed = await file('Drop legacy orders');
  req.recovered = await file('Rename sku');
  // own: Lou filed it himself, so it never waits for his approval.
  req.own = await file('Lou’s own change', otherLead);
  for (const key of ['deployed', 'inflight', 'failed', 'recovered', 'own']) {
    await db.migrationRequest.update({ where: { id: req[key] }, data: { projectId: project.id } });
    await advanceTo(req[key], 8);
    rev[key] = await revision(req[key]);
  }
  await deploy('deployed', stagingEnv.id, staging.id, 'succeeded', { appVersion: '1.4.3' });
  await deploy('inflight', stagingEnv.id, staging.id, 'running');
  await deploy('failed', stagingEnv.id, staging.id, 'failed', { error: 'push rejected: the branch moved' });
  await deploy('recovered', stagingEnv.id, staging.id, 'recovered', { error: 'health check failed', recovery: 'restore' });
  await deploy('own', stagingEnv.id, staging.id, 'succeeded');
  // A failed post-deployment check on the deployed request: an alert.
  await db.evidence.create({
    data: { kind: 'verification', targetId: staging.id, requestId: req.deployed, targetSettingsVersion: 'v', passed: false, summary: '1 of 2 verification queries failed', detail: {} },
  });

  // gate: at the quality gate, 2 of 6 items signed by someone else.
  req.gate = await file('Index orders');
  await advanceTo(req.gate, 7);
  const items = await db.gateItem.findMany({ where: { requestId: req.gate }, orderBy: { position: 'asc' } });
  for (const it of items.slice(0, 2)) await db.gateItem.update({ where: { id: it.id }, data: { signedById: lead.id, signedAt: now } });

  // open: filed, nobody started. blocked: analysis blocked with a reason.
  req.open = await file('Add customer notes');
  req.blocked = await file('Partition events');
  const analysis = await db.task.findFirstOrThrow({ where: { requestId: req.blocked, position: 1 } });
  await transitionTask(optimizer.id, { taskId: analysis.id, transition: 'start' });
  await blockTask(optimizer.id, { taskId: analysis.id, reason: 'waiting for the events owner to agree' });
  // An old open request, for the age chart.
  await db.migrationRequest.update({ where: { id: req.open }, data: { createdAt: hoursAgo(24 * 10) } });
  void prodEnv;
});
afterAll(() => store.close());

describe('the lead’s board', () => {
  it('is for leads and admins only', async () => {
    await expect(getBoard(engineer)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(getBoard(reviewer)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('shows per environment what is deployed, in flight, failed and waiting, and on whom', async () => {
    const board = await getBoard(lead, now);
    const [stg, prod] = board.lanes;
    expect([stg.environment, prod.environment]).toEqual(['staging', 'production']);
    expect(prod.requiresApproval).toBe(true);
    expect(stg.deployed.map((e) => e.title).sort()).toEqual(['Lou’s own change', 'Loyalty points']);
    expect(stg.deployed.find((e) => e.title === 'Loyalty points')).toMatchObject({ revision: 1, detail: 'version 1.4.3' });
    expect(stg.inFlight).toMatchObject([{ title: 'Wishlists', detail: 'apply' }]);
    expect(stg.failed.map((e) => [e.title, e.detail]).sort()).toEqual([
      ['Drop legacy orders', 'push rejected: the branch moved'],
      ['Rename sku', 'failed, recovered by restore'],
    ]);
    // Recovered: it failed, was restored, and waits for staging again.
    expect(stg.waiting.map((e) => [e.title, e.detail])).toEqual([['Rename sku', 'deploy by database-administrator']]);
    // Production: everything at the Deploy step waits, with its approval and its people.
    expect(prod.deployed).toEqual([]);
    const loyalty = prod.waiting.find((e) => e.title === 'Loyalty points')!;
    expect(loyalty.detail).toBe('needs a lead’s approval, then database-administrator');
    expect(loyalty.waiting).toMatchObject({ role: 'database-administrator', people: ['Dana DBA'] });
    expect(board.active).toEqual({ runs: 0, deployments: 1 });

    // A post-deployment check queued for later is not work in progress (the board would refresh for its whole window).
    const later = await getDb().run.create({ data: { kind: 'verify', status: 'queued', targetId: staging.id, requestedById: dba.id, queuedAt: new Date(Date.now() + 10 * 60_000) } });
    const due = await getDb().run.create({ data: { kind: 'verify', status: 'queued', targetId: staging.id, requestedById: dba.id } });
    try {
      expect((await getBoard(lead, now)).active).toEqual({ runs: 1, deployments: 1 });
    } finally {
      await getDb().run.deleteMany({ where: { id: { in: [later.id, due.id] } } });
    }
  });

  it('lists open requests too, blocked first with the reason, and on whom each waits', async () => {
    const { rows, total } = (await getBoard(lead, now)).openRequests;
    expect(total).toBe(8);
    expect(rows[0]).toMatchObject({ title: 'Partition events', status: 'blocked' });
    expect(rows[0].waiting).toMatchObject({ role: 'database-optimizer', people: ['Otto Optimizer'], blockedReason: 'waiting for the events owner to agree' });
    const open = rows.find((r) => r.title === 'Add customer notes')!;
    expect(open).toMatchObject({ status: 'open', currentSubject: 'Analyze database change', project: null });
    expect(open.waiting.people).toEqual(['Otto Optimizer']);
    expect(open.steps).toHaveLength(9);
    const gate = rows.find((r) => r.title === 'Index orders')!;
    expect(gate.waiting.text).toBe('In progress: Pass quality gate. On reviewers (any of Rita Reviewer).');
    // Its timeline: the six steps before the gate took an hour each.
    expect(gate.steps.filter((s) => s.completedAt).length).toBe(6);
  });

  it('says what needs the lead: approvals (never for their own request), failed deploys and alerts', async () => {
    const mine = (await getBoard(lead, now)).needsMe;
    expect(mine.approvals.map((a) => a.title).sort()).toEqual(['Drop legacy orders', 'Lou’s own change', 'Loyalty points', 'Rename sku', 'Wishlists']);
    expect(mine.approvals[0]).toMatchObject({ environment: 'production', project: 'Shop', revision: 1 });
    expect(mine.failedDeployments).toMatchObject([{ title: 'Drop legacy orders', environment: 'staging', error: 'push rejected: the branch moved' }]);
    expect(mine.alerts).toMatchObject([{ title: 'Loyalty points', kind: 'verification', summary: '1 of 2 verification queries failed' }]);
    expect(mine.blocked).toBe(1);
    const lou = (await getBoard(otherLead, now)).needsMe;
    expect(lou.approvals.map((a) => a.title)).not.toContain('Lou’s own change');
  });

  it('drops an approval from the list once a lead approves the current revision', async () => {
    const db = getDb();
    const prodEnv = await db.projectEnvironment.findFirstOrThrow({ where: { name: 'production' } });
    const approval = await db.deploymentApproval.create({
      data: { requestId: req.deployed, environmentId: prodEnv.id, revisionId: rev.deployed, revisionSha256: 'c'.repeat(64), approvedById: otherLead.id },
    });
    expect((await getBoard(lead, now)).needsMe.approvals.map((a) => a.title)).not.toContain('Loyalty points');
    // A voided approval counts as none.
    await db.deploymentApproval.update({ where: { id: approval.id }, data: { voidedAt: now, voidReason: 'new revision' } });
    expect((await getBoard(lead, now)).needsMe.approvals.map((a) => a.title)).toContain('Loyalty points');
  });

  it('gives the charts their figures', async () => {
    const { charts } = await getBoard(lead, now);
    const analysis = charts.timePerStep.find((s) => s.position === 1)!;
    expect(analysis).toMatchObject({ subject: 'Analyze database change', medianHours: 1, meanHours: 1, n: 6 });
    expect(charts.deploysOverTime).toHaveLength(30);
    const today = charts.deploysOverTime.find((d) => d.day === hoursAgo(1).toISOString().slice(0, 10))!;
    expect(today).toEqual({ day: today.day, succeeded: 2, failed: 2, rolledBack: 1 });
    expect(charts.ageOfOpen.find((a) => a.bucket === '1-2 weeks')).toEqual({ bucket: '1-2 weeks', open: 1, blocked: 0 });
    expect(charts.ageOfOpen.find((a) => a.bucket === '< 1 day')).toEqual({ bucket: '< 1 day', open: 6, blocked: 1 });
  });
});

describe('my tasks for people without an agent role', () => {
  it('lists a lead’s approvals instead of saying they lack an agent role', async () => {
    const tasks = await listMyTasks(lead);
    expect(tasks.heldRoles).toEqual([]);
    expect(tasks.lead).toBe(true);
    expect(tasks.approvals.map((a) => a.title)).toContain('Wishlists');
  });

  it('lists the gates a reviewer can sign, not their own requests', async () => {
    const { signatures } = await listMyTasks(reviewer);
    expect(signatures).toEqual([{ id: req.gate, number: expect.any(Number), title: 'Index orders', unsigned: 4, signedByMe: 0 }]);
    expect((await listMyTasks(engineer)).approvals).toEqual([]);
  });
});

describe('the request page’s audit log', () => {
  it('pages newest first and filters by action prefix', async () => {
    const id = req.blocked;
    const all = await listRequestAudit(dba, id, { page: 1, pageSize: 2 });
    expect(all.total).toBe(3);
    expect(all.pages).toBe(2);
    expect(all.entries.map((e) => e.action)).toEqual(['task.block', 'task.start']);
    expect((await listRequestAudit(dba, id, { page: 2, pageSize: 2 })).entries.map((e) => e.action)).toEqual(['request.filed']);
    expect(all.actions).toEqual(['request.filed', 'task.block', 'task.start']);
    const tasksOnly = await listRequestAudit(dba, id, { action: 'task.', page: 1, pageSize: 20 });
    expect(tasksOnly.entries.map((e) => e.action)).toEqual(['task.block', 'task.start']);
    expect(tasksOnly.total).toBe(2);
  });

  it('is read without the audit in the detail when the page asks so, and refuses those without a role', async () => {
    expect((await getRequestDetail(dba, req.blocked, { audit: false })).audit).toEqual([]);
    const roleless = await makeUser({ roles: [] });
    await expect(listRequestAudit(roleless, req.blocked, { page: 1, pageSize: 20 })).rejects.toMatchObject({ code: 'forbidden' });
    await expect(listRequestAudit(dba, '0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4', { page: 1, pageSize: 20 })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('agents at work on the lead’s board', () => {
  const minutesAgo = (m: number) => new Date(now.getTime() - m * 60_000);
  const makeAgent = (name: string, ownerId: string, pausedAt: Date | null = null) =>
    getDb().user.create({ data: { email: `${name}@agents.cutover.invalid`, name, passwordHash: '!agent', kind: 'agent', agentRoles: ['database-optimizer'], ownerId, pausedAt } });
  /** Files a request and has `agentId` hold its step `position` since `since` (steps before it completed). */
  async function held(title: string, agentId: string, since: Date, position = 1) {
    const id = await file(title);
    const db = getDb();
    await db.task.updateMany({ where: { requestId: id, position: { lt: position } }, data: { status: 'completed', startedAt: hoursAgo(30), completedAt: hoursAgo(29) } });
    await db.task.updateMany({ where: { requestId: id, position }, data: { status: 'in_progress', assigneeId: agentId, startedAt: since } });
    return id;
  }

  it('lists every task an agent holds, longest first, with its owner, elapsed time, possibly-stuck flag, counts per agent and paused holders', async () => {
    const before = (await getBoard(lead, now)).agentsAtWork;
    // The fixtures above: people hold tasks in progress, no agent does.
    expect(before).toEqual({ tasks: [], total: 0, agents: [], stuck: 0 });

    const dbaAgent = await makeAgent('board-dba-agent', author.id);
    const pgAgent = await makeAgent('board-pg-agent', lead.id, hoursAgo(1));
    const quick = await held('Agent: quick one', dbaAgent.id, minutesAgo(10));
    const slow = await held('Agent: slow one', dbaAgent.id, minutesAgo(95), 2);
    const paused = await held('Agent: paused holder', pgAgent.id, minutesAgo(40));
    // Not held: an agent's completed task, and a pending one.
    const done = await held('Agent: done', dbaAgent.id, hoursAgo(5));
    await getDb().task.updateMany({ where: { requestId: done, position: 1 }, data: { status: 'completed', completedAt: hoursAgo(4) } });

    const board = (await getBoard(lead, now)).agentsAtWork;
    expect(board.total).toBe(3);
    expect(board.stuck).toBe(2);
    expect(board.tasks.map((t) => [t.title, t.agent, t.owner, t.step, t.position, t.elapsedMs / 60_000, t.possiblyStuck, t.paused])).toEqual([
      ['Agent: slow one', 'board-dba-agent', 'Ada Author', 'create-migration', 2, 95, true, false],
      ['Agent: paused holder', 'board-pg-agent', 'Lee Lead', 'analysis', 1, 40, true, true],
      ['Agent: quick one', 'board-dba-agent', 'Ada Author', 'analysis', 1, 10, false, false],
    ]);
    expect(board.tasks.map((t) => t.id)).toEqual([slow, paused, quick]);
    expect(board.tasks[0].since).toEqual(minutesAgo(95));
    expect(board.agents).toEqual([
      { id: dbaAgent.id, name: 'board-dba-agent', owner: 'Ada Author', paused: false, held: 2, longestMs: 95 * 60_000 },
      { id: pgAgent.id, name: 'board-pg-agent', owner: 'Lee Lead', paused: true, held: 1, longestMs: 40 * 60_000 },
    ]);
    // Only leads and admins see it, like the rest of the board.
    await expect(getBoard(engineer, now)).rejects.toMatchObject({ code: 'forbidden' });
  });

  it('keeps the counts per agent whole when the list is cut at 50 rows', async () => {
    const busy = await makeAgent('board-busy-agent', author.id);
    const late = await makeAgent('board-late-agent', author.id);
    for (let i = 0; i < 50; i++) await held(`Agent: busy ${i}`, busy.id, hoursAgo(10 + i));
    await held('Agent: the newest', late.id, minutesAgo(1));
    const board = (await getBoard(lead, now)).agentsAtWork;
    expect(board.total).toBe(54);
    expect(board.tasks).toHaveLength(50);
    expect(board.tasks[0].title).toBe('Agent: busy 49');
    expect(board.tasks.map((t) => t.title)).not.toContain('Agent: the newest');
    expect(board.agents.map((a) => [a.name, a.held])).toEqual([
      ['board-busy-agent', 50], ['board-dba-agent', 2], ['board-pg-agent', 1], ['board-late-agent', 1],
    ]);
  });
});
