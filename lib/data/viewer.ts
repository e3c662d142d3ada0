import 'server-only';
import { redirect } from 'next/navigation';
import { getDb } from '../db/client';
import { DomainError } from '../domain/errors';
import { canManageTargets, canViewOverview, holdsAnyRole } from '../domain/permissions';
import { requireUser, requireUserOrRedirect } from '../auth/session';

/**
 * The signed-in person for pages: redirects to sign-in when there is none, and to the
 * explanation page when the account holds no role yet (the reads refuse it anyway).
 */
export async function getViewer() {
  const actor = await requireUserOrRedirect();
  if (!holdsAnyRole(actor)) redirect('/no-role');
  return actor;
}

/**
 * For the explanation page: the signed-in person without a role, and who may give one (active
 * admins, names only). Someone who holds a role is sent on to the requests.
 */
export async function getRolelessViewer() {
  const actor = await requireUserOrRedirect();
  if (holdsAnyRole(actor)) redirect('/requests');
  const admins = await getDb().user.findMany({ where: { active: true, roles: { has: 'admin' } }, orderBy: { name: 'asc' }, select: { name: true, email: true }, take: 20 });
  return { name: actor.name, email: actor.email, admins };
}

/** The signed-in person, or null: for the layout, which also renders the sign-in page. */
export async function findViewer() {
  try {
    const actor = await requireUser();
    return { ...actor, canAdmin: canManageTargets(actor), canOverview: canViewOverview(actor), hasRole: holdsAnyRole(actor) };
  } catch (err) {
    if (err instanceof DomainError && err.code === 'unauthenticated') return null;
    throw err;
  }
}
