import type { Role } from './roles';

/** Who is asking: loaded fresh from the store on every call, so role changes apply at once. */
export interface Actor {
  id: string;
  roles: readonly Role[];
  agentRoles: readonly string[];
}

export const hasRole = (actor: Actor, role: Role) => actor.roles.includes(role);
export const isAdmin = (actor: Actor) => hasRole(actor, 'admin');

/** Agent roles and the reviewer role are both "held"; a task names the ones that may work it. */
export function holdsAnyOf(actor: Actor, eligibleRoles: readonly string[]): boolean {
  return eligibleRoles.some((r) => actor.agentRoles.includes(r) || (actor.roles as readonly string[]).includes(r));
}

/**
 * Reading requests, runs, snapshots, SQL and audit entries takes at least one role (a person
 * role or an agent role): a new account sees an explanation until an admin gives it one.
 */
export const holdsAnyRole = (actor: Actor) => actor.roles.length > 0 || actor.agentRoles.length > 0;
export const NO_ROLE_MESSAGE = 'Your account has no role yet; ask an admin to give you one on the People page.';

export const canManageTargets = isAdmin;
export const canManageUsers = isAdmin;
export const canViewOverview = (a: Actor) => hasRole(a, 'lead') || isAdmin(a);
export const canFileRequest = (a: Actor) => hasRole(a, 'engineer') || hasRole(a, 'lead') || isAdmin(a);

/** Working a step (start, tick, note, complete, block) takes one of its roles, or admin. */
export function canWorkTask(actor: Actor, task: { eligibleRoles: readonly string[]; isGate: boolean }): boolean {
  if (task.isGate) return hasRole(actor, 'reviewer');
  return isAdmin(actor) || holdsAnyOf(actor, task.eligibleRoles);
}

/** Why an automation account (an API token) may not sign the gate nor approve a production deploy. */
export const PEOPLE_ONLY_MESSAGE = 'Quality-gate signatures and production approvals are for people, not tokens.';

export type GateSignCheck = { ok: true } | { ok: false; reason: string };

/**
 * Reviewers who are people sign gate items; nobody signs a request they filed or a migration they
 * wrote a revision of, admins included (revisionAuthorIds omitted where not loaded).
 */
export function checkCanSignGate(actor: Actor & { kind?: string }, request: { authorId: string; revisionAuthorIds?: readonly string[] }): GateSignCheck {
  // Fails closed: an actor whose kind is not known to be a person does not sign.
  if (actor.kind !== 'person') return { ok: false, reason: PEOPLE_ONLY_MESSAGE };
  if (!hasRole(actor, 'reviewer')) return { ok: false, reason: 'Only reviewers can sign quality gate items.' };
  if (actor.id === request.authorId) return { ok: false, reason: 'You filed this request, so you cannot sign its quality gate.' };
  if (request.revisionAuthorIds?.includes(actor.id)) return { ok: false, reason: 'You wrote a revision of this migration, so you cannot sign its quality gate: another reviewer signs it.' };
  return { ok: true };
}
