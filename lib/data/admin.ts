import 'server-only';
import { getDb } from '../db/client';
import { DomainError } from '../domain/errors';
import { canManageTargets, canManageUsers, type Actor } from '../domain/permissions';

/** Targets as the browser may see them: connection settings without the password. */
export async function listTargets(actor: Actor) {
  if (!canManageTargets(actor)) throw new DomainError('forbidden', 'Target databases are managed by admins.');
  const targets = await getDb().targetDatabase.findMany({ orderBy: { name: 'asc' } });
  return targets.map((t) => ({
    id: t.id, name: t.name, engine: t.engine, environment: t.environment, host: t.host, port: t.port, filePath: t.filePath, database: t.database,
    username: t.username, sslMode: t.sslMode, connectTimeoutMs: t.connectTimeoutMs, lockTimeoutMs: t.lockTimeoutMs,
    statementTimeoutMs: t.statementTimeoutMs, hasPassword: t.passwordEncrypted !== null,
    // The rehearsal server's URL holds a password: only whether one is set leaves the server.
    runDeadlineMs: t.runDeadlineMs, allowedStatementKinds: t.allowedStatementKinds, hasRehearsalServer: t.rehearsalServerEncrypted !== null,
    lockImpactThresholdMs: t.lockImpactThresholdMs,
  }));
}
export type TargetView = Awaited<ReturnType<typeof listTargets>>[number];

/** Names for pickers and filters; open to every signed-in person. */
export async function listTargetOptions() {
  return getDb().targetDatabase.findMany({ orderBy: { name: 'asc' }, select: { id: true, name: true, environment: true } });
}

export async function listUsers(actor: Actor) {
  if (!canManageUsers(actor)) throw new DomainError('forbidden', 'People are managed by admins.');
  return getDb().user.findMany({
    where: { kind: 'person' }, // API tokens' accounts are listed with their tokens (Admin > API tokens)
    orderBy: { name: 'asc' },
    select: { id: true, name: true, email: true, roles: true, agentRoles: true, active: true, createdAt: true },
  });
}
