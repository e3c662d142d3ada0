import { DomainError } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import type { Role } from '../domain/roles';
import { getPool, type Db, type Tx } from '../db/client';

/** kind: automation and agent accounts act through API tokens (never sign the gate nor approve production). */
export type AccountKind = 'person' | 'automation' | 'agent';
export type LoadedActor = Actor & { name: string; email: string; kind: AccountKind };

interface UserRow {
  id: string;
  name: string;
  email: string;
  roles: string[];
  agentRoles: string[];
  active: boolean;
  kind: AccountKind;
  pausedAt?: Date | null;
}

/** Why a paused agent account is refused, on its tokens and on work already in flight, and whom to ask (its owner, when known). */
export const pausedMessage = (pausedAt: Date, owner?: string | null) =>
  `This agent account was paused on ${pausedAt.toISOString().slice(0, 10)} by an admin. ` +
  `Ask ${owner ? `its owner, ${owner}, or an admin` : 'an admin'} to resume it (Admin > Agents).`;

/** A deleted or deactivated user is no longer anyone. */
function toActor(user: UserRow | null | undefined): LoadedActor {
  if (!user || !user.active) throw new DomainError('unauthenticated', 'Your account is not active; sign in again.');
  if (user.pausedAt) throw new DomainError('unauthenticated', pausedMessage(user.pausedAt));
  return { id: user.id, name: user.name, email: user.email, roles: user.roles as Role[], agentRoles: user.agentRoles, kind: user.kind };
}

/** Who is asking, read inside the caller's transaction (services). */
export async function loadActor(db: Db | Tx, userId: string | null | undefined): Promise<LoadedActor> {
  if (!userId) throw new DomainError('unauthenticated', 'Sign in first.');
  const user = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, email: true, roles: true, agentRoles: true, active: true, kind: true, pausedAt: true, ownerId: true },
  });
  // A paused agent is told whom to ask: the owner's name is read only then, off the path of every other call.
  if (user?.active && user.pausedAt) {
    const owner = user.ownerId ? await db.user.findUnique({ where: { id: user.ownerId }, select: { name: true } }) : null;
    throw new DomainError('unauthenticated', pausedMessage(user.pausedAt, owner?.name));
  }
  return toActor(user);
}

/** Who is asking, for every page view: one indexed read straight on the pool. */
export async function loadSessionActor(userId: string): Promise<LoadedActor> {
  const { rows } = await getPool().query<UserRow>(
    `SELECT id, name, email, roles::text[] AS roles, agent_roles AS "agentRoles", active, kind::text AS kind, paused_at AS "pausedAt" FROM users WHERE id = $1::uuid`,
    [userId],
  );
  return toActor(rows[0]);
}
