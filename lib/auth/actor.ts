import { DomainError } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import type { Role } from '../domain/roles';
import type { Db, Tx } from '../db/client';

/** Loads who is asking from the store; a deleted or deactivated user is no longer anyone. */
export async function loadActor(db: Db | Tx, userId: string | null | undefined): Promise<Actor & { name: string; email: string }> {
  if (!userId) throw new DomainError('unauthenticated', 'Sign in first.');
  const user = await db.user.findUnique({
    where: { id: userId },
    select: { id: true, name: true, email: true, roles: true, agentRoles: true, active: true },
  });
  if (!user || !user.active) throw new DomainError('unauthenticated', 'Your account is not active; sign in again.');
  return { id: user.id, name: user.name, email: user.email, roles: user.roles as Role[], agentRoles: user.agentRoles };
}
