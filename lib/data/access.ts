import 'server-only';
import { DomainError } from '../domain/errors';
import { NO_ROLE_MESSAGE, holdsAnyRole, type Actor } from '../domain/permissions';

/** Every read of requests, runs, snapshots, SQL and audit entries starts here. */
export function assertCanRead(actor: Actor): void {
  if (!holdsAnyRole(actor)) throw new DomainError('forbidden', NO_ROLE_MESSAGE);
}
