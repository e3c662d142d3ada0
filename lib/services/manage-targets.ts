import { getDb } from '../db/client';
import { secretKey } from '../db/settings';
import { DomainError, forbidden, notFound } from '../domain/errors';
import { canManageTargets, type Actor } from '../domain/permissions';
import { checkPostgresConnection, type ConnectionCheck, type PgTargetSettings, decryptSecret, encryptSecret } from '../engine';
import { loadActor } from '../auth/actor';
import type { TargetInput, UpdateTargetInput } from '../validation/admin';
import { recordAudit } from './audit';
import type { TargetDatabase } from '../generated/prisma/client';

function assertAdmin(actor: Actor) {
  if (!canManageTargets(actor)) throw forbidden('Managing target databases needs the admin role.');
}

/**
 * What an audit row may say about a target: never the password or the rehearsal server's URL
 * (it holds a password too), only whether one is set.
 */
function auditView(t: Pick<TargetDatabase, 'name' | 'engine' | 'environment' | 'host' | 'port' | 'filePath' | 'database' | 'username' | 'sslMode' | 'passwordEncrypted' | 'runDeadlineMs' | 'allowedStatementKinds' | 'rehearsalServerEncrypted' | 'lockImpactThresholdMs'>) {
  return {
    name: t.name, engine: t.engine, environment: t.environment, host: t.host, port: t.port, filePath: t.filePath,
    database: t.database, username: t.username, sslMode: t.sslMode, hasPassword: t.passwordEncrypted !== null,
    runDeadlineMs: t.runDeadlineMs, allowedStatementKinds: t.allowedStatementKinds, hasRehearsalServer: t.rehearsalServerEncrypted !== null,
    lockImpactThresholdMs: t.lockImpactThresholdMs,
  };
}

/** The stored rehearsal server: a new URL replaces it, the clear box forgets it, empty keeps it (undefined). */
function rehearsalServerUpdate(input: { rehearsalServer?: string; clearRehearsalServer?: boolean }): string | null | undefined {
  if (input.rehearsalServer) return encryptSecret(input.rehearsalServer, secretKey());
  return input.clearRehearsalServer ? null : undefined;
}

/** The fence, deadline and rehearsal-server fields may be left out by callers other than the form (they keep what is stored). */
type FenceFields = 'runDeadlineMs' | 'allowedStatementKinds' | 'clearRehearsalServer' | 'lockImpactThresholdMs';
type TargetServiceInput = Omit<TargetInput, FenceFields> & Partial<Pick<TargetInput, FenceFields>>;
type UpdateTargetServiceInput = Omit<UpdateTargetInput, FenceFields> & Partial<Pick<UpdateTargetInput, FenceFields>>;

function uniqueNameError(err: unknown): never {
  if ((err as { code?: string }).code === 'P2002') throw new DomainError('invalid', 'A target with this name already exists.', 'name');
  throw err;
}

export async function createTarget(actorId: string, input: TargetServiceInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const target = await tx.targetDatabase
      .create({
        data: {
          name: input.name, engine: input.engine, environment: input.environment,
          // Server engines have host, port and user; file-based ones (SQLite, later) a file path.
          host: input.host ?? null, port: input.port ?? null, username: input.username ?? null, filePath: input.filePath ?? null,
          database: input.database, sslMode: input.sslMode, connectTimeoutMs: input.connectTimeoutMs,
          lockTimeoutMs: input.lockTimeoutMs, statementTimeoutMs: input.statementTimeoutMs,
          runDeadlineMs: input.runDeadlineMs, allowedStatementKinds: input.allowedStatementKinds, lockImpactThresholdMs: input.lockImpactThresholdMs,
          passwordEncrypted: input.password ? encryptSecret(input.password, secretKey()) : null,
          rehearsalServerEncrypted: rehearsalServerUpdate(input) ?? null,
          createdById: actor.id,
        },
      })
      .catch(uniqueNameError);
    await recordAudit(tx, { actorId: actor.id, action: 'target.created', entityType: 'TargetDatabase', entityId: target.id, after: auditView(target) });
    return { id: target.id };
  });
}

export async function updateTarget(actorId: string, input: UpdateTargetServiceInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    assertAdmin(actor);
    const before = await tx.targetDatabase.findUnique({ where: { id: input.id } });
    if (!before) throw notFound('Target database');
    const after = await tx.targetDatabase
      .update({
        where: { id: input.id },
        data: {
          name: input.name, engine: input.engine, environment: input.environment,
          // Server engines have host, port and user; file-based ones (SQLite, later) a file path.
          host: input.host ?? null, port: input.port ?? null, username: input.username ?? null, filePath: input.filePath ?? null,
          database: input.database, sslMode: input.sslMode, connectTimeoutMs: input.connectTimeoutMs,
          lockTimeoutMs: input.lockTimeoutMs, statementTimeoutMs: input.statementTimeoutMs,
          runDeadlineMs: input.runDeadlineMs, allowedStatementKinds: input.allowedStatementKinds, lockImpactThresholdMs: input.lockImpactThresholdMs,
          // An empty password field keeps the stored one.
          passwordEncrypted: input.password ? encryptSecret(input.password, secretKey()) : undefined,
          rehearsalServerEncrypted: rehearsalServerUpdate(input),
        },
      })
      .catch(uniqueNameError);
    await recordAudit(tx, {
      actorId: actor.id, action: 'target.updated', entityType: 'TargetDatabase', entityId: after.id,
      before: auditView(before), after: auditView(after),
    });
    // Letting a refused kind of statement through is a decision of its own: findable in the audit log by its action.
    const kinds = (t: { allowedStatementKinds: string[] }) => [...t.allowedStatementKinds].sort().join(',');
    if (kinds(before) !== kinds(after)) {
      await recordAudit(tx, {
        actorId: actor.id, action: 'target.fence_allowances_changed', entityType: 'TargetDatabase', entityId: after.id,
        before: { allowedStatementKinds: before.allowedStatementKinds }, after: { allowedStatementKinds: after.allowedStatementKinds },
      });
    }
    return { id: after.id };
  });
}

/** Decrypts a stored target's settings for the engine; the password stays inside the server. */
export function targetSettings(t: TargetDatabase): PgTargetSettings {
  if (!t.host || !t.port || !t.username) throw new DomainError('invalid', `Target ${t.name} has no host, port or user.`);
  return {
    host: t.host, port: t.port, database: t.database, username: t.username, sslMode: t.sslMode, connectTimeoutMs: t.connectTimeoutMs,
    password: t.passwordEncrypted ? decryptSecret(t.passwordEncrypted, secretKey()) : null,
  };
}

/**
 * The rehearsal server an admin named for the target (a postgresql:// URL with its password), or
 * null for Cutover's own sandbox. Decrypted for the worker only; never sent to a page or a log.
 */
export function targetRehearsalServerUrl(t: Pick<TargetDatabase, 'rehearsalServerEncrypted'>): string | null {
  return t.rehearsalServerEncrypted ? decryptSecret(t.rehearsalServerEncrypted, secretKey()) : null;
}

/** Connects to the target for real; bounded by its connect timeout. */
export async function testTargetConnection(actorId: string, targetId: string): Promise<ConnectionCheck> {
  const db = getDb();
  const actor = await loadActor(db, actorId);
  assertAdmin(actor);
  const target = await db.targetDatabase.findUnique({ where: { id: targetId } });
  if (!target) throw notFound('Target database');
  if (target.engine !== 'postgresql') return { ok: false, error: `Connecting to ${target.engine} targets is not supported yet.` };
  return checkPostgresConnection(targetSettings(target));
}
