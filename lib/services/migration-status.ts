import { getDb } from '../db/client';
import { DomainError, forbidden, notFound } from '../domain/errors';
import { canFileRequest, hasRole, isAdmin, type Actor } from '../domain/permissions';
import { readTar, readZip } from '../engine/archive';
import { migrationsFromArchive, type MigrationFile } from '../engine/prisma-migrations';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { loadActor } from '../auth/actor';
import { QUEUES, enqueueInTransaction } from '../jobs/queue';
import { recordAudit } from './audit';
import { fileRequest } from './file-request';
import { saveMigrationRevision } from './migration-revisions';

export const MAX_ARCHIVE_BYTES = 10 * 1024 * 1024;

const canCheckMigrations = (a: Actor) => isAdmin(a) || hasRole(a, 'lead') || a.agentRoles.includes('database-administrator');

/** Reads an uploaded .tar.gz, .tar or .zip by its first bytes, whatever its name says. */
function readArchive(bytes: Buffer) {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return readZip(bytes);
  if ((bytes[0] === 0x1f && bytes[1] === 0x8b) || bytes.subarray(257, 262).toString() === 'ustar') return readTar(bytes);
  throw new DomainError('invalid', 'Upload a .tar.gz, .tar or .zip of a Prisma migrations folder.', 'archive');
}

/** Imports a Prisma migrations folder (as an archive) to compare targets with. */
export async function importMigrationFolder(actorId: string, input: { fileName: string; bytes: Buffer }) {
  if (input.bytes.length === 0) throw new DomainError('invalid', 'Choose an archive to upload.', 'archive');
  if (input.bytes.length > MAX_ARCHIVE_BYTES) throw new DomainError('invalid', 'Archives can be at most 10 MB.', 'archive');
  let migrations: MigrationFile[];
  try {
    migrations = migrationsFromArchive(readArchive(input.bytes));
  } catch (err) {
    if (err instanceof DomainError) throw err;
    throw new DomainError('invalid', `The archive could not be read: ${(err as Error).message}`, 'archive');
  }
  if (migrations.length === 0) {
    throw new DomainError('invalid', 'No Prisma migrations in this archive (expected <timestamp>_<name>/migration.sql folders).', 'archive');
  }
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canCheckMigrations(actor)) throw forbidden('Importing migrations needs the database-administrator, lead or admin role.');
    const folder = await tx.migrationFolder.create({
      data: { name: input.fileName.slice(0, 200) || 'migrations', migrations: migrations as unknown as InputJsonValue, importedById: actor.id },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: 'migrations.imported', entityType: 'MigrationFolder', entityId: folder.id,
      after: { name: folder.name, migrations: migrations.length },
    });
    return { id: folder.id, migrations: migrations.length };
  });
}

/** Queues a status check of the folder against every PostgreSQL target, one run each. */
export async function requestStatusCheck(actorId: string, input: { folderId: string }) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canCheckMigrations(actor)) throw forbidden('Checking migration status needs the database-administrator, lead or admin role.');
    const folder = await tx.migrationFolder.findUnique({ where: { id: input.folderId }, select: { id: true } });
    if (!folder) throw notFound('Migrations folder');
    const targets = await tx.targetDatabase.findMany({ where: { engine: 'postgresql' }, select: { id: true } });
    for (const t of targets) {
      const run = await tx.run.create({ data: { kind: 'status', targetId: t.id, folderId: folder.id, requestedById: actor.id, phase: 'queued' } });
      await enqueueInTransaction(tx, QUEUES.status, { runId: run.id });
    }
    return { runs: targets.length };
  });
}

/**
 * "A pending one can become a migration request in one click": files the request against the
 * target and, when the migration has a down.sql and the person may write migrations, saves it
 * as the request's first revision.
 */
export async function requestFromPendingMigration(actorId: string, input: { folderId: string; migrationName: string; targetId: string }) {
  const db = getDb();
  const actor = await loadActor(db, actorId);
  if (!canFileRequest(actor)) throw forbidden('Filing migration requests needs the engineer, lead or admin role.');
  const folder = await db.migrationFolder.findUnique({ where: { id: input.folderId } });
  if (!folder) throw notFound('Migrations folder');
  const migration = (folder.migrations as unknown as MigrationFile[]).find((m) => m.name === input.migrationName);
  if (!migration) throw notFound(`Migration ${input.migrationName}`);
  const target = await db.targetDatabase.findUnique({ where: { id: input.targetId }, select: { name: true } });
  if (!target) throw notFound('Target database');
  const { id } = await fileRequest(actor.id, {
    title: `Apply ${migration.name} to ${target.name}`.slice(0, 200),
    kind: 'schema_change',
    targetId: input.targetId,
    description: `Pending on ${target.name} in the imported folder "${folder.name}" (checksum ${migration.checksum}).`,
    priority: 'HIGH',
  });
  const canWrite = isAdmin(actor) || actor.agentRoles.includes('database-administrator');
  if (canWrite && migration.downSql?.trim()) {
    // Keep the folder's own name (lower-cased as revision names are) so the target records it as Prisma would.
    const name = migration.name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 100);
    await saveMigrationRevision(actor.id, { requestId: id, name, upSql: migration.sql, downSql: migration.downSql });
  }
  return { requestId: id };
}
