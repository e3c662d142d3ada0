import { describe, expect, it } from 'vitest';
import { accountLabel, isReady, toTaskShape, type TaskRow } from './task-shape';

const row = (over: Partial<TaskRow> = {}): TaskRow => ({
  id: 't2', requestId: 'r1', requestTitle: 'Add orders.note', key: 'create-migration', position: 2, subject: 'Create migration',
  description: 'Write it.', activeForm: 'Creating migration', status: 'pending', owner: 'database-administrator',
  eligibleRoles: ['database-administrator'], isGate: false, blockedReason: null, blockedById: 't1', blockerStatus: 'completed',
  blocks: ['t3'], assignee: null, checklist: [{ id: 'c1', label: 'Write Prisma migration', done: false, coveredBy: 'revision' }], waitingFor: [],
  ...over,
});

describe('TaskCreate shape', () => {
  it('maps a task to TaskCreate/TaskUpdate fields, with the request, step, roles and links in metadata', () => {
    expect(toTaskShape(row())).toEqual({
      id: 't2', subject: 'Create migration', description: 'Write it.', activeForm: 'Creating migration', status: 'pending', owner: null,
      blockedBy: ['t1'], blocks: ['t3'],
      metadata: {
        requestId: 'r1', requestTitle: 'Add orders.note', step: 'create-migration', position: 2, role: 'database-administrator',
        eligibleRoles: ['database-administrator'], ready: true, isGate: false, blockedReason: null, assignee: null,
        checklist: [{ id: 'c1', label: 'Write Prisma migration', done: false, coveredBy: 'revision' }], waitingFor: [],
        links: { request: '/requests/r1', step: '/requests/r1/steps/create-migration' },
      },
    });
  });

  it('owner is the assignee\'s name; the first step has no blocker', () => {
    const shape = toTaskShape(row({ blockedById: null, blockerStatus: null, status: 'in_progress', assignee: { id: 'a', name: 'dba-agent', kind: 'agent', owner: 'Alice Smith' } }));
    expect(shape.owner).toBe('dba-agent');
    expect(shape.blockedBy).toEqual([]);
    expect(shape.metadata.ready).toBe(false);
  });

  it('ready: pending and its blocker completed (or none)', () => {
    expect(isReady({ status: 'pending', blockerStatus: null })).toBe(true);
    expect(isReady({ status: 'pending', blockerStatus: 'completed' })).toBe(true);
    expect(isReady({ status: 'pending', blockerStatus: 'in_progress' })).toBe(false);
    expect(isReady({ status: 'blocked', blockerStatus: 'completed' })).toBe(false);
    expect(isReady({ status: 'in_progress', blockerStatus: null })).toBe(false);
    expect(isReady({ status: 'completed', blockerStatus: null })).toBe(false);
  });

  it('names agents with the person who answers for them; people and automation by name', () => {
    expect(accountLabel({ name: 'dba-agent', kind: 'agent', owner: 'Alice Smith' })).toBe('dba-agent (agent of Alice Smith)');
    expect(accountLabel({ name: 'dba-agent', kind: 'agent', owner: null })).toBe('dba-agent (agent)');
    expect(accountLabel({ name: 'Alice Smith', kind: 'person', owner: null })).toBe('Alice Smith');
    expect(accountLabel({ name: 'CI (API token)', kind: 'automation' })).toBe('CI (API token)');
  });
});
