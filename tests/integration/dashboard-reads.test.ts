import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { listRequests, getRequestDetail } from '@/lib/data/requests';
import { listMyTasks } from '@/lib/data/tasks';
import { getOverview } from '@/lib/data/overview';
import { DomainError } from '@/lib/domain/errors';
import { fileRequest } from '@/lib/services/file-request';
import { transitionTask } from '@/lib/services/work-task';
import { ListRequestsSchema } from '@/lib/validation/request';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
type U = Awaited<ReturnType<typeof makeUser>>;
let alice: U, bob: U, optimizer: U, lead: U;
let staging: { id: string }, production: { id: string };
const ids: Record<string, string> = {};

beforeAll(async () => {
  store = await openTestAppStore();
  alice = await makeUser({ roles: ['engineer'], name: 'Alice' });
  bob = await makeUser({ roles: ['engineer'], name: 'Bob' });
  optimizer = await makeUser({ roles: ['engineer'], agentRoles: ['database-optimizer'], name: 'Otto' });
  lead = await makeUser({ roles: ['lead'] });
  staging = await makeTarget('Orders staging');
  production = await getDb().targetDatabase.create({ data: { name: 'Orders prod', environment: 'production', host: 'h', port: 5432, database: 'd', username: 'u' } });
  const file = (author: U, title: string, kind: 'schema_change' | 'index_optimization', targetId: string) =>
    fileRequest(author.id, { title, kind, targetId, description: 'A description that is long enough.', priority: 'HIGH' });
  ids.a1 = (await file(alice, 'Alice schema', 'schema_change', staging.id)).id;
  ids.a2 = (await file(alice, 'Alice index', 'index_optimization', production.id)).id;
  ids.b1 = (await file(bob, 'Bob schema', 'schema_change', production.id)).id;
  // Otto starts the analysis of Bob's request: it becomes "mine" for Otto, and in progress.
  const analysis = await getDb().task.findFirstOrThrow({ where: { requestId: ids.b1, position: 1 } });
  await transitionTask(optimizer.id, { taskId: analysis.id, transition: 'start' });
});
afterAll(() => store.close());

const list = (actor: U, query: Record<string, string> = {}) => listRequests(actor, ListRequestsSchema.parse(query));
const titles = async (actor: U, query: Record<string, string> = {}) => (await list(actor, query)).rows.map((r) => r.title);

describe('the requests list', () => {
  it('lists newest first with target, environment, author and progress', async () => {
    const { rows, total } = await list(alice);
    expect(total).toBe(3);
    expect(rows.map((r) => r.title)).toEqual(['Bob schema', 'Alice index', 'Alice schema']);
    expect(rows[0]).toMatchObject({
      status: 'in_progress', currentStep: 1, currentSubject: 'Analyze database change', currentOwner: 'database-optimizer',
      completedSteps: 0, totalSteps: 9, targetName: 'Orders prod', environment: 'production', authorName: 'Bob', kind: 'schema_change',
    });
    expect(rows[0].createdAt).toBeInstanceOf(Date);
  });

  it('filters by status, kind, target and the role that acts next', async () => {
    expect(await titles(alice, { status: 'in_progress' })).toEqual(['Bob schema']);
    expect(await titles(alice, { status: 'open' })).toEqual(['Alice index', 'Alice schema']);
    expect(await titles(alice, { kind: 'index_optimization' })).toEqual(['Alice index']);
    expect(await titles(alice, { targetId: production.id })).toEqual(['Bob schema', 'Alice index']);
    expect(await titles(alice, { agentRole: 'database-optimizer', targetId: staging.id })).toEqual(['Alice schema']);
    expect(await titles(alice, { agentRole: 'test-automator' })).toEqual([]);
  });

  it('"mine" means filed by me or assigned to me', async () => {
    expect(await titles(alice, { mine: 'true' })).toEqual(['Alice index', 'Alice schema']);
    expect(await titles(optimizer, { mine: 'true' })).toEqual(['Bob schema']);
    expect(await titles(lead, { mine: 'true' })).toEqual([]);
  });

  it('pages with a stable order and the full total', async () => {
    const p1 = await list(alice, { pageSize: '2', page: '1' });
    const p2 = await list(alice, { pageSize: '2', page: '2' });
    expect(p1.total).toBe(3);
    expect([...p1.rows, ...p2.rows].map((r) => r.title)).toEqual(['Bob schema', 'Alice index', 'Alice schema']);
    expect((await list(alice, { pageSize: '2', page: '9' })).rows).toEqual([]);
  });
});

describe('the request page', () => {
  it('shows the workflow with what the viewer may do, and never a password', async () => {
    const detail = await getRequestDetail(optimizer, ids.b1);
    expect(detail.tasks).toHaveLength(9);
    expect(detail.tasks[0]).toMatchObject({ status: 'in_progress', assignee: 'Otto', canWork: true, blockedByPosition: null });
    expect(detail.tasks[1]).toMatchObject({ canWork: false, blockedByPosition: 1 });
    expect(detail.gate).toMatchObject({ canSign: false, refusal: 'Only reviewers can sign quality gate items.' });
    expect(detail.gate.items).toHaveLength(6);
    expect(detail.audit.map((a) => a.action)).toEqual(['task.start', 'request.filed']);
    expect(JSON.stringify(detail)).not.toMatch(/password/i);
  });

  it('says not found for an unknown id', async () => {
    const err = await getRequestDetail(alice, '0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4').catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err.code).toBe('not_found');
  });
});

describe('my tasks and the overview', () => {
  it('groups open tasks by the roles I hold, marking the ones that are up next', async () => {
    const { groups, heldRoles } = await listMyTasks(optimizer);
    expect(heldRoles).toEqual(['database-optimizer']);
    const items = groups[0].items;
    expect(items.map((t) => t.request.title).sort()).toEqual(['Alice index', 'Alice schema', 'Bob schema']);
    expect(items.every((t) => t.subject === 'Analyze database change' && t.ready)).toBe(true);
    expect((await listMyTasks(bob)).groups).toEqual([]);
  });

  it('counts per status and per environment for leads, and refuses engineers', async () => {
    const overview = await getOverview(lead);
    expect(overview.statusCounts).toEqual({ open: 2, in_progress: 1, blocked: 0, completed: 0 });
    const prod = overview.environments.find((e) => e.environment === 'production')!;
    expect(prod.counts).toMatchObject({ open: 1, in_progress: 1 });
    expect(prod.inFlight.map((r) => r.title)).toEqual(['Bob schema']);
    const err = await getOverview(alice).catch((e) => e);
    expect(err).toMatchObject({ code: 'forbidden' });
  });
});
