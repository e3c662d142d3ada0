import { DomainError } from '../domain/errors';
import { authorThenAndNow, type Actor, type Party } from '../domain/permissions';
import type { Role } from '../domain/roles';
import { getPool, type Db, type Tx } from '../db/client';

/** kind: automation and agent accounts act through API tokens (never sign the gate nor approve production). */
export type AccountKind = 'person' | 'automation' | 'agent';
/** ownerId: the person an agent answers to (null for everyone else), who counts as the same person in the two-person rules. */
export type LoadedActor = Actor & { name: string; email: string; kind: AccountKind; ownerId: string | null };

interface UserRow {
  id: string;
  name: string;
  email: string;
  roles: string[];
  agentRoles: string[];
  active: boolean;
  kind: AccountKind;
  pausedAt?: Date | null;
  ownerId: string | null;
  ownerName: string | null;
  ownerActive: boolean | null;
}

/** Why a paused agent account is refused, on its tokens and on work already in flight, and whom to ask (its owner, when known). */
export const pausedMessage = (pausedAt: Date, owner?: string | null) =>
  `This agent account was paused on ${pausedAt.toISOString().slice(0, 10)} by an admin. ` +
  `Ask ${owner ? `its owner, ${owner}, or an admin` : 'an admin'} to resume it (Admin > Agents).`;

/**
 * Why an agent whose owner is gone or no longer active may not act, or null: nobody answers for
 * it (deactivating an owner pauses their agents, but not those deactivated before that, nor races).
 */
export function ownerlessAgentMessage(agent: { name: string; kind: string; ownerId: string | null; ownerName: string | null; ownerActive: boolean | null }): string | null {
  if (agent.kind !== 'agent' || (agent.ownerId && agent.ownerActive)) return null;
  const whom = agent.ownerId ? `${agent.ownerName}, who is no longer active` : 'nobody';
  return `${agent.name} answers to ${whom}: an admin must give it an active owner (Admin > Agents).`;
}

/** A deleted or deactivated user is no longer anyone. */
function toActor(user: UserRow | null | undefined): LoadedActor {
  if (!user || !user.active) throw new DomainError('unauthenticated', 'Your account is not active; sign in again.');
  if (user.pausedAt) throw new DomainError('unauthenticated', pausedMessage(user.pausedAt, user.ownerName));
  const ownerless = ownerlessAgentMessage(user);
  if (ownerless) throw new DomainError('unauthenticated', ownerless);
  return {
    id: user.id, name: user.name, email: user.email, roles: user.roles as Role[], agentRoles: user.agentRoles, kind: user.kind,
    ownerId: user.kind === 'agent' ? user.ownerId : null,
  };
}

/** The account and the owner it answers to, in one statement (services and page views alike). */
const ACTOR_SQL = `SELECT u.id, u.name, u.email, u.roles::text[] AS roles, u.agent_roles AS "agentRoles", u.active, u.kind::text AS kind, u.paused_at AS "pausedAt",
         u.owner_id AS "ownerId", o.name AS "ownerName", o.active AS "ownerActive"
  FROM users u LEFT JOIN users o ON o.id = u.owner_id WHERE u.id = $1::uuid`;

/** Who is asking, read inside the caller's transaction (services). */
export async function loadActor(db: Db | Tx, userId: string | null | undefined): Promise<LoadedActor> {
  if (!userId) throw new DomainError('unauthenticated', 'Sign in first.');
  const rows = await db.$queryRawUnsafe<UserRow[]>(ACTOR_SQL, userId);
  return toActor(rows[0]);
}

/** Who is asking, for every page view: one indexed read straight on the pool. */
export async function loadSessionActor(userId: string): Promise<LoadedActor> {
  const { rows } = await getPool().query<UserRow>(ACTOR_SQL, [userId]);
  return toActor(rows[0]);
}

/**
 * The accounts behind ids as the two-person rules see them (name, and the owner an agent answers
 * to), in one flat read: nested relation reads inside a transaction make Prisma's adapter overlap queries.
 */
export async function partiesOf(db: Db | Tx, ids: readonly string[]): Promise<Party[]> {
  if (ids.length === 0) return [];
  return db.user.findMany({ where: { id: { in: [...new Set(ids)] } }, select: { id: true, name: true, ownerId: true } });
}

/** The authors of revisions as the two-person rules see them (authorThenAndNow: the owner then, migration_revisions.author_owner_id, and now). */
export async function revisionAuthorsOf(db: Db | Tx, revisions: readonly { createdById: string; authorOwnerId: string | null }[]): Promise<Party[]> {
  const now = new Map((await partiesOf(db, revisions.map((r) => r.createdById))).map((p) => [p.id, p]));
  return revisions.flatMap((r) => authorThenAndNow(now.get(r.createdById) ?? { id: r.createdById }, r.authorOwnerId));
}
