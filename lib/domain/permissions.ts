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

/**
 * An account as the two-person rules see it: an agent answers to its owner, everyone else to
 * themselves. name (of the other party) is for the refusal's words.
 */
export interface Party {
  id: string;
  name?: string;
  ownerId?: string | null;
}
export const answererOf = (party: Party) => party.ownerId ?? party.id;

/**
 * An author as the two-person rules see it: with the owner it answers to now and, when that
 * changed since it wrote, once more with the owner it answered to then (handing an agent to
 * someone else clears nobody).
 */
export function authorThenAndNow(author: Party, ownerThen: string | null | undefined): Party[] {
  return ownerThen && ownerThen !== author.ownerId ? [author, { ...author, ownerId: ownerThen }] : [author];
}

/**
 * Why `actor` counts as the same person as one of `others`, who `did` something ("filed this
 * request"), in words naming how (their own agent, their owner, a fellow agent); null when none is.
 */
export function samePersonAs(actor: Party, others: readonly (Party | null | undefined)[], did: string): string | null {
  const person = answererOf(actor);
  const other = others.find((o) => o && answererOf(o) === person);
  if (!other) return null;
  if (other.id === actor.id) return `You ${did}`;
  if (other.ownerId === actor.id) return `${other.name ?? 'Your agent'} answers to you and ${did}`;
  if (actor.ownerId === other.id) return `You answer to ${other.name ?? 'your owner'}, who ${did}`;
  return `You answer to the same person as ${other.name ?? 'another agent'}, which ${did}`;
}

export type GateSignCheck = { ok: true } | { ok: false; reason: string };

/**
 * Reviewers who are people sign gate items; nobody signs a request they filed or a migration they
 * (or an agent answering to them) wrote a revision of, admins included (revisionAuthors omitted where not loaded).
 */
export function checkCanSignGate(actor: Actor & Party & { kind?: string }, request: { authorId: string; revisionAuthors?: readonly Party[] }): GateSignCheck {
  // Fails closed: an actor whose kind is not known to be a person does not sign.
  if (actor.kind !== 'person') return { ok: false, reason: PEOPLE_ONLY_MESSAGE };
  if (!hasRole(actor, 'reviewer')) return { ok: false, reason: 'Only reviewers can sign quality gate items.' };
  const filed = samePersonAs(actor, [{ id: request.authorId }], 'filed this request');
  if (filed) return { ok: false, reason: `${filed}, so you cannot sign its quality gate.` };
  const wrote = samePersonAs(actor, request.revisionAuthors ?? [], 'wrote a revision of this migration');
  if (wrote) return { ok: false, reason: `${wrote}, so you cannot sign its quality gate: another reviewer signs it.` };
  return { ok: true };
}
