import { describe, expect, it } from 'vitest';
import {
  canFileRequest,
  canManageTargets,
  canManageUsers,
  canViewOverview,
  canWorkTask,
  checkCanSignGate,
  samePersonAs,
  type Actor,
} from './permissions';
import type { Role } from './roles';

const actor = (roles: Role[], agentRoles: string[] = [], id = 'u1'): Actor & { kind: 'person' } => ({ id, roles, agentRoles, kind: 'person' });
const analysis = { eligibleRoles: ['database-optimizer', 'postgres-pro'], isGate: false };
const gate = { eligibleRoles: ['reviewer'], isGate: true };

describe('permissions per role', () => {
  it.each<[string, Actor, boolean, boolean, boolean, boolean]>([
    // who, actor, file request, overview, targets, users
    ['engineer', actor(['engineer']), true, false, false, false],
    ['reviewer', actor(['reviewer']), false, false, false, false],
    ['lead', actor(['lead']), true, true, false, false],
    ['admin', actor(['admin']), true, true, true, true],
    ['nobody', actor([]), false, false, false, false],
  ])('%s', (_who, a, file, overview, targets, users) => {
    expect(canFileRequest(a)).toBe(file);
    expect(canViewOverview(a)).toBe(overview);
    expect(canManageTargets(a)).toBe(targets);
    expect(canManageUsers(a)).toBe(users);
  });

  it('lets holders of any of a step\'s agent roles, and admins, work it', () => {
    expect(canWorkTask(actor(['engineer'], ['database-optimizer']), analysis)).toBe(true);
    expect(canWorkTask(actor(['engineer'], ['postgres-pro']), analysis)).toBe(true);
    expect(canWorkTask(actor(['admin']), analysis)).toBe(true);
    expect(canWorkTask(actor(['engineer'], ['database-administrator']), analysis)).toBe(false);
    expect(canWorkTask(actor(['engineer', 'lead', 'reviewer']), analysis)).toBe(false);
  });

  it('keeps the gate for reviewers, admins included only when they are reviewers', () => {
    expect(canWorkTask(actor(['reviewer']), gate)).toBe(true);
    expect(canWorkTask(actor(['admin']), gate)).toBe(false);
    expect(canWorkTask(actor(['engineer'], ['database-administrator']), gate)).toBe(false);
  });

  it('refuses gate signatures from non-reviewers and from the request author', () => {
    expect(checkCanSignGate(actor(['reviewer'], [], 'r1'), { authorId: 'a1' })).toEqual({ ok: true });
    expect(checkCanSignGate(actor(['engineer'], [], 'e1'), { authorId: 'a1' })).toEqual({ ok: false, reason: 'Only reviewers can sign quality gate items.' });
    expect(checkCanSignGate(actor(['admin'], [], 'x1'), { authorId: 'a1' }).ok).toBe(false);
    expect(checkCanSignGate(actor(['reviewer', 'admin'], [], 'a1'), { authorId: 'a1' })).toEqual({
      ok: false,
      reason: 'You filed this request, so you cannot sign its quality gate.',
    });
  });

  it('gate signers are people who wrote no revision of the migration', () => {
    expect(checkCanSignGate({ ...actor(['reviewer'], [], 'r1'), kind: 'automation' }, { authorId: 'a1' }))
      .toEqual({ ok: false, reason: 'Quality-gate signatures and production approvals are for people, not tokens.' });
    expect(checkCanSignGate(actor(['reviewer'], [], 'r1'), { authorId: 'a1', revisionAuthors: [{ id: 'd1' }, { id: 'r1' }] }))
      .toEqual({ ok: false, reason: 'You wrote a revision of this migration, so you cannot sign its quality gate: another reviewer signs it.' });
    expect(checkCanSignGate({ ...actor(['reviewer'], [], 'r1'), kind: 'person' }, { authorId: 'a1', revisionAuthors: [{ id: 'd1' }] })).toEqual({ ok: true });
  });

  it('an agent and its owner are one person: the owner does not sign what the agent wrote', () => {
    expect(checkCanSignGate(actor(['reviewer'], [], 'r1'), { authorId: 'a1', revisionAuthors: [{ id: 'g1', name: 'dba-agent', ownerId: 'r1' }] }))
      .toEqual({ ok: false, reason: 'dba-agent answers to you and wrote a revision of this migration, so you cannot sign its quality gate: another reviewer signs it.' });
    expect(checkCanSignGate(actor(['reviewer'], [], 'r1'), { authorId: 'a1', revisionAuthors: [{ id: 'g1', name: 'dba-agent', ownerId: 'o2' }] })).toEqual({ ok: true });
  });

  it('samePersonAs says how two accounts answer to one person', () => {
    const alice = { id: 'alice', name: 'Alice' };
    const agentA = { id: 'g1', name: 'alice-dba', ownerId: 'alice' };
    const agentB = { id: 'g2', name: 'alice-dba-2', ownerId: 'alice' };
    expect(samePersonAs(alice, [alice], 'filed this request')).toBe('You filed this request');
    expect(samePersonAs(alice, [agentA], 'wrote it')).toBe('alice-dba answers to you and wrote it');
    expect(samePersonAs(agentB, [alice], 'filed this request')).toBe('You answer to Alice, who filed this request');
    expect(samePersonAs(agentB, [agentA], 'wrote it')).toBe('You answer to the same person as alice-dba, which wrote it');
    expect(samePersonAs(agentB, [{ id: 'bob' }, null, { id: 'g3', ownerId: 'bob' }], 'wrote it')).toBeNull();
  });
});
