import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { loadActor } from '@/lib/auth/actor';
import { getBoard } from '@/lib/data/board';
import { getRequestDetail } from '@/lib/data/requests';
import { getMigrationPanel, getSnapshotPanel } from '@/lib/data/runs';
import { createAgent } from '@/lib/services/agent-accounts';
import { claimTask } from '@/lib/services/agent-tasks';
import { fileRequest } from '@/lib/services/file-request';
import { addTaskNote } from '@/lib/services/work-task';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';

/**
 * An agent is named with the person who answers for it wherever its work is shown: the notes on a
 * task card, the revision list, the snapshot line and the board's "on whom" column.
 */
let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let lead: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
  lead = await makeUser({ roles: ['lead'], name: 'Lee Lead' });
});

afterAll(async () => {
  await store?.close();
});

describe('agents named with their owner', () => {
  it('in notes, revisions, the snapshot line and the board; people keep their plain name', async () => {
    const dan = await makeUser({ roles: ['engineer'], name: 'Dan Owner' });
    const agent = await createAgent(admin.id, { name: 'opt-agent', agentRoles: ['database-optimizer'], ownerId: dan.id });
    const target = await makeTarget();
    const request = await fileRequest(dan.id, { title: 'Index orders', kind: 'index_optimization', targetId: target.id, description: 'Orders by customer are slow to list.', priority: 'HIGH' });
    const analysis = await getDb().task.findFirstOrThrow({ where: { requestId: request.id, key: 'analysis' } });
    await claimTask(agent.id, analysis.id);
    await addTaskNote(agent.id, { taskId: analysis.id, body: 'Looking at the orders table.' });
    await addTaskNote(admin.id, { taskId: analysis.id, body: 'Thanks.' });
    await getDb().migrationRevision.create({
      data: { requestId: request.id, revision: 1, name: 'orders_by_customer', upSql: 'SELECT 1;', downSql: 'SELECT 1;', checksum: 'c'.repeat(64), createdById: agent.id },
    });
    await getDb().run.create({ data: { kind: 'snapshot', status: 'queued', requestId: request.id, targetId: target.id, requestedById: agent.id } });

    const label = 'opt-agent (agent of Dan Owner)';
    const viewer = await loadActor(getDb(), admin.id);
    const detail = await getRequestDetail(viewer, request.id);
    const card = detail.tasks.find((t) => t.key === 'analysis')!;
    expect(card.notes.map((n) => n.author)).toEqual([label, 'Ada Admin']);
    expect(card.assignee).toBe(label);
    expect((await getMigrationPanel(viewer, request.id)).revisions.map((r) => r.author)).toEqual([label]);
    expect((await getSnapshotPanel(viewer, request.id))?.requestedBy).toBe(label);

    const board = await getBoard(await loadActor(getDb(), lead.id), new Date());
    const row = board.openRequests.rows.find((r) => r.id === request.id)!;
    expect(row.waiting).toMatchObject({ role: 'database-optimizer', people: [label] });
  });
});
