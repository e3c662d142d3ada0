import { getDb } from '../db/client';
import { DomainError, forbidden, notFound } from '../domain/errors';
import { canFileRequest } from '../domain/permissions';
import { canCheckMigrationStatus } from '../domain/run-rules';
import { ArchiveLimitError, DEFAULT_ARCHIVE_LIMITS, readArchive, type ArchiveLimits, migrationChecksum, migrationsFromArchive, type MigrationFile, SYNTAX_KIND, describeRefusal, findFenceViolations } from '../engine';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { loadActor } from '../auth/actor';
import { queueRunInTransaction } from './runs';
import { recordAudit } from './audit';
import { fileRequestInTransaction } from './file-request';
import { checkRevisionFiles, insertRevision } from './migration-revisions';
import { fenceAllowancesForTarget, importFenceAllowances } from './app-settings';
import { MAX_SQL_BYTES, MIGRATION_NAME } from '../validation/migration';

export const MAX_ARCHIVE_BYTES = DEFAULT_ARCHIVE_LIMITS.maxArchiveBytes;

/** An upload is unpacked within these caps; one file may hold what the editor accepts. */
export const IMPORT_LIMITS: ArchiveLimits = { ...DEFAULT_ARCHIVE_LIMITS, maxFileBytes: MAX_SQL_BYTES };

const IMPORT_REFUSAL = 'Importing migrations needs the database-administrator, lead or admin role.';

/**
 * The role check for an upload, made before a byte of it is read (POST /api/v1/migration-folders calls it first;
 * importMigrationFolder checks again before unpacking, and once more in its transaction).
 */
export async function assertCanImportMigrations(actorId: string): Promise<void> {
  if (!canCheckMigrationStatus(await loadActor(getDb(), actorId))) throw forbidden(IMPORT_REFUSAL);
}

/** Imports a Prisma migrations folder (as an archive) to compare targets with. */
export async function importMigrationFolder(actorId: string, input: { fileName: string; bytes: Buffer }) {
  await assertCanImportMigrations(actorId);
  if (input.bytes.length === 0) throw new DomainError('invalid', 'Choose an archive to upload.', 'archive');
  if (input.bytes.length > MAX_ARCHIVE_BYTES) throw new DomainError('invalid', 'Archives can be at most 10 MB.', 'archive');
  let migrations: MigrationFile[];
  try {
    const files = readArchive(input.bytes, IMPORT_LIMITS);
    if (!files) throw new DomainError('invalid', 'Upload a .tar.gz, .tar or .zip of a Prisma migrations folder.', 'archive');
    migrations = migrationsFromArchive(files);
  } catch (err) {
    if (err instanceof DomainError) throw err;
    if (err instanceof ArchiveLimitError) throw new DomainError('invalid', err.message, 'archive');
    throw new DomainError('invalid', `The archive could not be read: ${(err as Error).message}`, 'archive');
  }
  if (migrations.length === 0) {
    throw new DomainError('invalid', 'No Prisma migrations in this archive (expected <timestamp>_<name>/migration.sql folders).', 'archive');
  }
  // The SQL fence: an archive naming a migration that reaches beyond its database is refused whole, nothing stored.
  const fence = await importFenceAllowances();
  for (const m of migrations) {
    for (const [file, sql] of [['migration.sql', m.sql], ['down.sql', m.downSql]] as const) {
      // A file that does not parse is not refused here: it is only compared, and saving it as a revision refuses it.
      const violations = sql === undefined ? [] : (await findFenceViolations(sql, fence)).filter((v) => v.kind !== SYNTAX_KIND);
      if (violations.length) throw new DomainError('invalid', describeRefusal(`${m.name}/${file}`, violations), 'archive');
    }
  }
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canCheckMigrationStatus(actor)) throw forbidden(IMPORT_REFUSAL);
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
    if (!canCheckMigrationStatus(actor)) throw forbidden('Checking migration status needs the database-administrator, lead or admin role.');
    const folder = await tx.migrationFolder.findUnique({ where: { id: input.folderId }, select: { id: true } });
    if (!folder) throw notFound('Migrations folder');
    const targets = await tx.targetDatabase.findMany({ where: { engine: 'postgresql' }, select: { id: true } });
    for (const t of targets) await queueRunInTransaction(tx, actor, { kind: 'status', folderId: folder.id, targetId: t.id });
    return { runs: targets.length };
  });
}

/** The revision name of an imported migration: its folder name as is, so the target records it under the name the repository uses. */
function revisionNameOf(folderName: string): string {
  if (folderName.length <= 100 && MIGRATION_NAME.test(folderName)) return folderName;
  return folderName.toLowerCase().replace(/[^a-z0-9_]+/g, '_').slice(0, 100);
}

const FILE_REFUSAL = 'Filing migration requests needs the engineer, lead or admin role.';
const isUniqueViolation = (err: unknown) => (err as { code?: string }).code === 'P2002';

/**
 * "A pending one can become a migration request in one click": files the request against the
 * target with the migration as revision 1 (its migration.sql byte for byte; its down.sql, or none
 * yet: the way back is then still to write), in one transaction with their audit rows. Asking
 * again for the same migration on the same target opens the request made the first time.
 */
export async function requestFromPendingMigration(actorId: string, input: { folderId: string; migrationName: string; targetId: string }) {
  const db = getDb();
  // Who is asking comes first: an account that may not file learns nothing of folders, migrations
  // or fence verdicts. (Checked again inside the transaction.)
  if (!canFileRequest(await loadActor(db, actorId))) throw forbidden(FILE_REFUSAL);
  const folder = await db.migrationFolder.findUnique({ where: { id: input.folderId } });
  if (!folder) throw notFound('Migrations folder');
  const migration = (folder.migrations as unknown as MigrationFile[]).find((m) => m.name === input.migrationName);
  if (!migration) throw notFound(`Migration ${input.migrationName}`);
  // The folder's checksum is of the file's bytes; a file that is not UTF-8 text cannot be kept exactly.
  if (migrationChecksum(migration.sql) !== migration.checksum) {
    throw new DomainError('invalid', `${migration.name}/migration.sql is not UTF-8 text, so Cutover cannot keep its exact bytes.`);
  }
  const files = { name: revisionNameOf(migration.name), upSql: migration.sql, downSql: migration.downSql ?? '' };
  await checkRevisionFiles(files, await fenceAllowancesForTarget(input.targetId));
  const existing = () =>
    db.migrationRequest.findUnique({ where: { targetId_sourceMigration: { targetId: input.targetId, sourceMigration: migration.name } }, select: { id: true } });
  try {
    return await db.$transaction(async (tx) => {
      const actor = await loadActor(tx, actorId);
      if (!canFileRequest(actor)) throw forbidden(FILE_REFUSAL);
      const target = await tx.targetDatabase.findUnique({ where: { id: input.targetId }, select: { name: true } });
      if (!target) throw notFound('Target database');
      const made = await tx.migrationRequest.findUnique({
        where: { targetId_sourceMigration: { targetId: input.targetId, sourceMigration: migration.name } },
        select: { id: true },
      });
      if (made) return { requestId: made.id, existing: true };
      const { id } = await fileRequestInTransaction(
        tx,
        actor,
        {
          title: `Apply ${migration.name} to ${target.name}`.slice(0, 200),
          kind: 'schema_change',
          targetId: input.targetId,
          description: `Pending on ${target.name} in the imported folder "${folder.name}" (checksum ${migration.checksum}).`,
          priority: 'HIGH',
        },
        { sourceMigration: migration.name },
      );
      // Revision 1 is the team's own file, not something this person wrote, so filing the request
      // is enough to record it (importing the folder needed the database-administrator, lead or admin role).
      await insertRevision(tx, actor, id, files, { action: 'migration.revision_imported', detail: { folder: folder.name, migration: migration.name } });
      return { requestId: id, existing: false };
    });
  } catch (err) {
    // Two people (or two clicks) at once: the unique (target, source migration) lets one request be
    // made; the other opens it.
    if (isUniqueViolation(err)) {
      const made = await existing();
      if (made) return { requestId: made.id, existing: true };
    }
    throw err;
  }
}
