import bcrypt from 'bcryptjs';
import { getDb, type Tx } from '../db/client';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canManageUsers } from '../domain/permissions';
import { loadActor } from '../auth/actor';
import type { CreateUserInput, UpdateUserRolesInput } from '../validation/admin';
import { recordAudit } from './audit';

const BCRYPT_COST = 12;

export const hashPassword = (password: string) => bcrypt.hash(password, BCRYPT_COST);

export async function createUser(actorId: string, input: CreateUserInput) {
  const passwordHash = await hashPassword(input.password); // outside the transaction: ~200 ms of CPU
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canManageUsers(actor)) throw forbidden('Managing people needs the admin role.');
    const user = await tx.user
      .create({ data: { email: input.email, name: input.name, passwordHash, roles: input.roles, agentRoles: input.agentRoles } })
      .catch((err: { code?: string }) => {
        if (err.code === 'P2002') throw new DomainError('invalid', 'Someone with this email already exists.', 'email');
        throw err;
      });
    await recordAudit(tx, {
      actorId: actor.id, action: 'user.created', entityType: 'User', entityId: user.id,
      after: { email: user.email, name: user.name, roles: user.roles, agentRoles: user.agentRoles },
    });
    return { id: user.id };
  });
}

// Transaction-scoped advisory lock ("CU", 1) serialising changes to who is an active admin.
const ADMIN_SET_LOCK = [21845, 1] as const;

export async function updateUserRoles(actorId: string, input: UpdateUserRolesInput) {
  return getDb().$transaction(async (tx) => {
    // "At least one active admin" holds under concurrency: two admins demoting each other at once
    // take turns here, and the second sees the first's change (and may no longer be an admin).
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(${ADMIN_SET_LOCK[0]}::int, ${ADMIN_SET_LOCK[1]}::int)`;
    const actor = await loadActor(tx, actorId);
    if (!canManageUsers(actor)) throw forbidden('Managing people needs the admin role.');
    const before = await tx.user.findUnique({ where: { id: input.userId } });
    if (!before) throw notFound('User');
    // A token's account holds exactly the token's role ("a token of one role cannot act as another").
    if (before.kind === 'agent') throw conflict('This is an agent account: change its roles, owner or state on Admin > Agents.');
    if (before.kind !== 'person') throw conflict('This is an API token\'s account: it holds its token\'s role only. Issue a new token for another role, or revoke this one (Admin > API tokens).');
    const losesAdmin = before.roles.includes('admin') && before.active && (!input.roles.includes('admin') || !input.active);
    if (losesAdmin) {
      const admins = await tx.user.count({ where: { active: true, roles: { has: 'admin' } } });
      if (admins <= 1) throw conflict('Cutover needs at least one active admin; make someone else admin first.');
    }
    const after = await tx.user.update({
      where: { id: input.userId },
      data: { roles: input.roles, agentRoles: input.agentRoles, active: input.active },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: 'user.roles_changed', entityType: 'User', entityId: after.id,
      before: { roles: before.roles, agentRoles: before.agentRoles, active: before.active },
      after: { roles: after.roles, agentRoles: after.agentRoles, active: after.active },
    });
    // An agent answers to its owner: nobody answers for it once the owner is gone, so it stops too.
    const pausedAgents = before.active && !after.active ? await pauseAgentsOf(tx, actor.id, after) : [];
    return { id: after.id, pausedAgents };
  });
}

/** Pauses the running agents `owner` answers for, each audited with the reason; returns their names. */
async function pauseAgentsOf(tx: Tx, actorId: string, owner: { id: string; name: string }): Promise<string[]> {
  const agents = await tx.user.findMany({ where: { ownerId: owner.id, kind: 'agent', pausedAt: null }, select: { id: true, name: true }, orderBy: { name: 'asc' } });
  if (agents.length === 0) return [];
  const pausedAt = new Date();
  await tx.user.updateMany({ where: { id: { in: agents.map((a) => a.id) } }, data: { pausedAt } });
  for (const agent of agents) {
    await recordAudit(tx, {
      actorId, action: 'agent.paused', entityType: 'User', entityId: agent.id,
      before: { name: agent.name, pausedAt: null },
      after: { name: agent.name, pausedAt: pausedAt.toISOString(), reason: `Its owner ${owner.name} was deactivated.` },
    });
  }
  return agents.map((a) => a.name);
}
