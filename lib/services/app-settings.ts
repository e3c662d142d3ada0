import { getDb, type Db, type Tx } from '../db/client';
import { forbidden, notFound } from '../domain/errors';
import { ALLOWED_EXTENSIONS_SETTING, DEFAULT_ALLOWED_EXTENSIONS, allowedExtensionsFrom } from '../domain/fence';
import { isAdmin } from '../domain/permissions';
import type { FenceAllowances } from '../engine';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { loadActor } from '../auth/actor';
import type { FenceSettingsInput } from '../validation/admin';
import { recordAudit } from './audit';

/** The app-wide extension allow list of the SQL fence; PostgreSQL's trusted extensions until an admin changes it. */
export async function getAllowedExtensions(db: Db | Tx = getDb()): Promise<string[]> {
  const row = await db.appSetting.findUnique({ where: { key: ALLOWED_EXTENSIONS_SETTING } });
  return allowedExtensionsFrom(row?.value);
}

/**
 * What the SQL fence lets through on one target: the kinds an admin allowed for it, and the
 * app-wide extension allow list. Every runner and every save asks this, so both hold everywhere.
 */
export async function fenceAllowancesFor(target: { allowedStatementKinds: string[] }, db: Db | Tx = getDb()): Promise<FenceAllowances> {
  return { allowedKinds: [...target.allowedStatementKinds], allowedExtensions: await getAllowedExtensions(db) };
}

/** The allowances of a target by id (refused as not found when it does not exist). */
export async function fenceAllowancesForTarget(targetId: string, db: Db | Tx = getDb()): Promise<FenceAllowances> {
  const target = await db.targetDatabase.findUnique({ where: { id: targetId }, select: { allowedStatementKinds: true } });
  if (!target) throw notFound('Target database');
  return fenceAllowancesFor(target, db);
}

/**
 * The allowances for a folder import, which is compared with every target: the kinds that at
 * least one PostgreSQL target allows (a migration no target allows can never run anywhere).
 * Saving it as a request's revision then checks it against that request's own target.
 */
export async function importFenceAllowances(db: Db | Tx = getDb()): Promise<FenceAllowances> {
  const targets = await db.targetDatabase.findMany({ where: { engine: 'postgresql' }, select: { allowedStatementKinds: true } });
  return { allowedKinds: [...new Set(targets.flatMap((t) => t.allowedStatementKinds))], allowedExtensions: await getAllowedExtensions(db) };
}

/** Changes the extension allow list (or puts the defaults back): admins only, audited, in one transaction. */
export async function updateFenceSettings(actorId: string, input: FenceSettingsInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!isAdmin(actor)) throw forbidden('Settings are managed by admins.');
    // One change at a time, even before the row exists: two admins saving together are ordered.
    await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext(${ALLOWED_EXTENSIONS_SETTING}))`;
    const before = await getAllowedExtensions(tx);
    const after = input.reset ? [...DEFAULT_ALLOWED_EXTENSIONS].sort() : input.allowedExtensions;
    await tx.appSetting.upsert({
      where: { key: ALLOWED_EXTENSIONS_SETTING },
      create: { key: ALLOWED_EXTENSIONS_SETTING, value: after as unknown as InputJsonValue, updatedById: actor.id },
      update: { value: after as unknown as InputJsonValue, updatedById: actor.id },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: 'settings.fence_extensions_changed', entityType: 'AppSetting', entityId: ALLOWED_EXTENSIONS_SETTING,
      before: { allowedExtensions: before }, after: { allowedExtensions: after },
    });
    return { allowedExtensions: after };
  });
}
