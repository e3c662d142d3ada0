import { getDb } from '../db/client';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask, isAdmin } from '../domain/permissions';
import { SqlSyntaxError, planSql, summarizePlan } from '../engine/postgres/sql-plan';
import { migrationChecksum } from '../engine/prisma-migrations';
import { loadActor } from '../auth/actor';
import { QUEUES, enqueueInTransaction } from '../jobs/queue';
import type { SaveRevisionInput } from '../validation/migration';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { recordAudit } from './audit';

/** The migration.sql a revision stands for: the up path, then its data transformation. */
export function migrationSqlOf(r: { upSql: string; dataSql: string | null }): string {
  return r.dataSql?.trim() ? `${r.upSql.trimEnd()}\n\n-- Data transformation\n${r.dataSql.trim()}\n` : r.upSql;
}

async function assertParses(field: 'upSql' | 'downSql' | 'dataSql', file: string, sql: string | undefined) {
  if (!sql?.trim()) return;
  try {
    await planSql(sql);
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw new DomainError('invalid', `${file}: ${err.message}`, field);
    throw err;
  }
}

async function stepFor(requestId: string, position: number) {
  const task = await getDb().task.findUnique({
    where: { requestId_position: { requestId, position } },
    select: { subject: true, eligibleRoles: true, isGate: true },
  });
  if (!task) throw notFound('Migration request');
  return task;
}

/**
 * "Create migration": saves a new revision of the request's migration after parsing every file
 * with PostgreSQL's parser; a syntax error is refused with its line and column and nothing is saved.
 */
export async function saveMigrationRevision(actorId: string, input: SaveRevisionInput) {
  await assertParses('upSql', 'migration.sql', input.upSql);
  await assertParses('downSql', 'down.sql', input.downSql);
  await assertParses('dataSql', 'data transformation', input.dataSql);
  const step = await stepFor(input.requestId, 2);
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canWorkTask(actor, step)) throw forbidden(`Only holders of ${step.eligibleRoles.join(' or ')} (or admins) can write the migration.`);
    await tx.$executeRaw`SELECT 1 FROM migration_requests WHERE id = ${input.requestId}::uuid FOR UPDATE`;
    const last = await tx.migrationRevision.findFirst({ where: { requestId: input.requestId }, orderBy: { revision: 'desc' } });
    const dataSql = input.dataSql?.trim() ? input.dataSql : null;
    const checksum = migrationChecksum(migrationSqlOf({ upSql: input.upSql, dataSql }));
    const plan = { up: await summarizePlan(migrationSqlOf({ upSql: input.upSql, dataSql })), down: await summarizePlan(input.downSql) };
    const saved = await tx.migrationRevision.create({
      data: {
        requestId: input.requestId, revision: (last?.revision ?? 0) + 1, name: input.name, upSql: input.upSql,
        downSql: input.downSql, dataSql, checksum, plan: plan as unknown as InputJsonValue, createdById: actor.id,
      },
    });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'migration.revision_saved', entityType: 'MigrationRevision', entityId: saved.id,
      before: last ? { revision: last.revision, checksum: last.checksum } : null,
      after: { revision: saved.revision, name: saved.name, checksum },
    });
    return { id: saved.id, revision: saved.revision, checksum };
  });
}

/** "Test migration locally": queue a rehearsal of the latest revision, with its job, in one transaction. */
export async function requestRehearsal(actorId: string, input: { requestId: string; sampleRows?: number }) {
  const step = await stepFor(input.requestId, 3);
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canWorkTask(actor, step)) throw forbidden(`Only holders of ${step.eligibleRoles.join(' or ')} (or admins) can rehearse the migration.`);
    const request = await tx.migrationRequest.findUniqueOrThrow({ where: { id: input.requestId }, select: { targetId: true } });
    const revision = await tx.migrationRevision.findFirst({ where: { requestId: input.requestId }, orderBy: { revision: 'desc' } });
    if (!revision) throw conflict('Save the migration (Create migration) before rehearsing it.');
    const busy = await tx.run.findFirst({ where: { requestId: input.requestId, kind: 'rehearsal', status: { in: ['queued', 'running'] } } });
    if (busy) throw conflict('A rehearsal of this request is already queued or running.');
    const run = await tx.run.create({
      data: { kind: 'rehearsal', targetId: request.targetId, requestId: input.requestId, revisionId: revision.id, requestedById: actor.id, phase: 'queued' },
    });
    await enqueueInTransaction(tx, QUEUES.rehearsal, { runId: run.id, sampleRows: input.sampleRows ?? 0 });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'run.queued', entityType: 'Run', entityId: run.id,
      after: { kind: 'rehearsal', revision: revision.revision, sampleRows: input.sampleRows ?? 0 },
    });
    return { runId: run.id };
  });
}

/**
 * The Prisma migrations folder name of a request's migration: stable across its revisions. A
 * name that already is a folder name (an imported migration) is kept, so the target records it
 * under the name the team's repository uses.
 */
export function migrationFolderName(requestCreatedAt: Date, name: string): string {
  if (/^\d{14}_/.test(name)) return name;
  const ts = requestCreatedAt.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return `${ts}_${name}`;
}

/**
 * Apply (or roll back) the latest revision on the request's target, from the run page. Only
 * database-administrators and admins, and never on production: that is the Deploy step's job,
 * behind the quality gate.
 */
export async function requestApply(actorId: string, input: { requestId: string; direction: 'up' | 'down' }) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!isAdmin(actor) && !actor.agentRoles.includes('database-administrator')) {
      throw forbidden('Applying migrations to a target needs the database-administrator role (or admin).');
    }
    const request = await tx.migrationRequest.findUnique({ where: { id: input.requestId }, include: { target: true } });
    if (!request) throw notFound('Migration request');
    if (request.target.environment === 'production') {
      throw forbidden(`${request.target.name} is a production target: production changes go through the Deploy step after the quality gate.`);
    }
    const revision = await tx.migrationRevision.findFirst({ where: { requestId: request.id }, orderBy: { revision: 'desc' } });
    if (!revision) throw conflict('Save the migration (Create migration) before applying it.');
    // One change at a time per target, whichever request asked for it.
    const busy = await tx.run.findFirst({ where: { targetId: request.targetId, kind: { in: ['apply', 'down'] }, status: { in: ['queued', 'running'] } } });
    if (busy) throw conflict(`Another run (${busy.kind}, queued ${busy.queuedAt.toISOString()}) is changing ${request.target.name}; wait for it to finish.`);
    const kind = input.direction === 'up' ? 'apply' : 'down';
    const run = await tx.run.create({
      data: { kind, targetId: request.targetId, requestId: request.id, revisionId: revision.id, requestedById: actor.id, phase: 'queued' },
    });
    await enqueueInTransaction(tx, QUEUES.apply, { runId: run.id });
    await recordAudit(tx, {
      actorId: actor.id, requestId: request.id, action: 'run.queued', entityType: 'Run', entityId: run.id,
      after: { kind, revision: revision.revision, target: request.target.name },
    });
    return { runId: run.id };
  });
}

/**
 * The request's migration as a Prisma migrations folder: `prisma/migrations/<timestamp>_<name>/`
 * with migration.sql (its checksum is the revision's) and down.sql, plus migration_lock.toml.
 */
export async function exportMigrationFolder(actorId: string, input: { requestId: string; revision?: number }) {
  const db = getDb();
  await loadActor(db, actorId);
  const request = await db.migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true, number: true, createdAt: true } });
  if (!request) throw notFound('Migration request');
  const revision = await db.migrationRevision.findFirst({
    where: { requestId: request.id, ...(input.revision ? { revision: input.revision } : {}) },
    orderBy: { revision: 'desc' },
  });
  if (!revision) throw notFound(input.revision ? `Revision ${input.revision}` : 'A saved migration');
  const folder = `prisma/migrations/${migrationFolderName(request.createdAt, revision.name)}`;
  return {
    fileName: `request-${request.number}-${revision.name}-r${revision.revision}.tar.gz`,
    files: [
      { path: 'prisma/migrations/migration_lock.toml', content: '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n' },
      { path: `${folder}/migration.sql`, content: migrationSqlOf(revision) },
      { path: `${folder}/down.sql`, content: revision.downSql },
    ],
    checksum: revision.checksum,
  };
}
