import 'server-only';
import { DomainError } from '../domain/errors';
import { canManageTargets, canViewOverview } from '../domain/permissions';
import { requireUser, requireUserOrRedirect } from '../auth/session';

/** The signed-in person for pages (redirects to sign-in when there is none). */
export const getViewer = requireUserOrRedirect;

/** The signed-in person, or null: for the layout, which also renders the sign-in page. */
export async function findViewer() {
  try {
    const actor = await requireUser();
    return { ...actor, canAdmin: canManageTargets(actor), canOverview: canViewOverview(actor) };
  } catch (err) {
    if (err instanceof DomainError && err.code === 'unauthenticated') return null;
    throw err;
  }
}
