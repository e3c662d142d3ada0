import { getDb, type Tx } from '../db/client';
import { DomainError, forbidden, notFound } from '../domain/errors';
import { NO_ROLE_MESSAGE, canWorkTask, holdsAnyRole } from '../domain/permissions';
import { SqlSyntaxError, planSql, summarizePlan, migrationChecksum, describeRefusal, findFenceViolations, predicateProblem, type FenceAllowances } from '../engine';
import { fenceAllowancesFor } from './app-settings';
import { loadActor } from '../auth/actor';
import { queueRun } from './runs';
import type { SaveRevisionInput } from '../validation/migration';
import { DeclaredChangesSchema, type DeclaredChanges } from '../validation/declared-changes';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { recordAudit } from './audit';
import { recordEvidence } from './evidence';
import { voidGateSignatures } from './void-gate-signatures';
import { voidEarlierApprovals } from './deploy';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

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

/**
 * The SQL fence (sql-guard.ts): a statement that reaches beyond the target's database is refused
 * on the field, with its line and the reason, and nothing is saved.
 */
async function assertFenced(field: 'upSql' | 'downSql' | 'dataSql', file: string, sql: string | undefined, fence: FenceAllowances) {
  if (!sql?.trim()) return;
  const violations = await findFenceViolations(sql, fence);
  if (violations.length === 0) return;
  throw new DomainError('invalid', describeRefusal(file, violations), field);
}

/** The fence allowances of a request's target (its allowed kinds and the app-wide extension list). */
export async function fenceAllowancesOfRequest(requestId: string): Promise<FenceAllowances> {
  const request = await getDb().migrationRequest.findUnique({ where: { id: requestId }, select: { target: { select: { allowedStatementKinds: true } } } });
  if (!request) throw notFound('Migration request');
  return fenceAllowancesFor(request.target);
}

async function stepFor(requestId: string, position: number) {
  const task = await getDb().task.findUnique({
    where: { requestId_position: { requestId, position } },
    select: { subject: true, eligibleRoles: true, isGate: true },
  });
  if (!task) throw notFound('Migration request');
  return task;
}

/** The files of a revision, exactly as they will be stored and exported (no trimming, no line-ending changes). */
export interface RevisionFiles {
  name: string;
  upSql: string;
  /** '' when the way back is still to write (an imported migration without down.sql). */
  downSql: string;
  dataSql?: string | null;
  /** What the migration declares it changes in the data (the data-loss check); none when absent. */
  declaredChanges?: DeclaredChanges | null;
}

/**
 * A declared row condition runs only in the sandbox's copy, yet it must be a plain expression
 * (PostgreSQL's parser says so, see predicateProblem): refused on the field, nothing saved.
 */
async function assertDeclaredChanges(declared: DeclaredChanges | null | undefined) {
  for (const t of declared?.tables ?? []) {
    const predicate = t.rows?.predicate;
    const problem = predicate ? await predicateProblem(predicate) : null;
    if (problem) throw new DomainError('invalid', `${t.table} rows where ${predicate}: the condition is refused: ${problem}.`, 'declaredChanges');
  }
}

/** A revision's stored declarations (null when none or unreadable). */
export function declaredChangesOf(revision: { declaredChanges: unknown }): DeclaredChanges | null {
  const parsed = DeclaredChangesSchema.safeParse(revision.declaredChanges);
  return parsed.success && parsed.data.tables.length ? parsed.data : null;
}

/**
 * The checks every new revision passes, however it is made (typed, loaded, imported from a
 * folder): each file parsed with PostgreSQL's parser, refused with its line and column.
 */
export async function checkRevisionFiles(files: RevisionFiles, fence: FenceAllowances) {
  await assertParses('upSql', 'migration.sql', files.upSql);
  await assertParses('downSql', 'down.sql', files.downSql);
  await assertParses('dataSql', 'data transformation', files.dataSql ?? undefined);
  await assertFenced('upSql', 'migration.sql', files.upSql, fence);
  await assertFenced('downSql', 'down.sql', files.downSql, fence);
  await assertFenced('dataSql', 'data transformation', files.dataSql ?? undefined, fence);
}

/**
 * Writes the next revision of a request inside the caller's transaction, with its audit row.
 * The checksum is the sha256 of the migration.sql the revision exports, byte for byte.
 */
export async function insertRevision(
  tx: Tx,
  actor: { id: string },
  requestId: string,
  files: RevisionFiles,
  audit: { action: string; detail?: Record<string, unknown> } = { action: 'migration.revision_saved' },
) {
  await tx.$executeRaw`SELECT 1 FROM migration_requests WHERE id = ${requestId}::uuid FOR UPDATE`;
  const last = await tx.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' } });
  const dataSql = files.dataSql?.trim() ? files.dataSql : null;
  const migrationSql = migrationSqlOf({ upSql: files.upSql, dataSql });
  const checksum = migrationChecksum(migrationSql);
  const plan = { up: await summarizePlan(migrationSql), down: files.downSql.trim() ? await summarizePlan(files.downSql) : null };
  // The owner an agent answers to now is kept with what it wrote (the two-person rules check both).
  const author = await tx.user.findUniqueOrThrow({ where: { id: actor.id }, select: { kind: true, ownerId: true } });
  const saved = await tx.migrationRevision.create({
    data: {
      requestId, revision: (last?.revision ?? 0) + 1, name: files.name, upSql: files.upSql,
      downSql: files.downSql, dataSql, checksum, plan: plan as unknown as InputJsonValue, createdById: actor.id,
      authorOwnerId: author.kind === 'agent' ? author.ownerId : null,
      ...(files.declaredChanges?.tables.length ? { declaredChanges: files.declaredChanges as unknown as InputJsonValue } : {}),
    },
  });
  await recordAudit(tx, {
    actorId: actor.id, requestId, action: audit.action, entityType: 'MigrationRevision', entityId: saved.id,
    before: last ? { revision: last.revision, checksum: last.checksum } : null,
    after: {
      revision: saved.revision, name: saved.name, checksum, ...(files.downSql.trim() ? {} : { downSql: 'still to write' }),
      ...(files.declaredChanges?.tables.length ? { declaredTables: files.declaredChanges.tables.map((t) => t.table) } : {}), ...audit.detail,
    },
  });
  // The Create migration step's evidence: every caller parsed and fenced the files (checkRevisionFiles) before this.
  const { targetId } = await tx.migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { targetId: true } });
  await recordEvidence(tx, {
    kind: 'revision', targetId, requestId, revision: { id: saved.id, checksum }, passed: true,
    summary: `revision ${saved.revision} (${files.name}) parses and passes the fence: ${plan.up?.statements ?? 0} statement(s) up, ${plan.down ? `${plan.down.statements} down` : 'down.sql still to write'}`,
    detail: { revision: saved.revision, name: files.name, statements: plan.up?.statements ?? 0, downStatements: plan.down?.statements ?? 0, hasDown: files.downSql.trim().length > 0 },
    hashes: { migration: checksum },
  });
  // Signatures are bound to the revision they saw: a new one voids them all.
  await voidGateSignatures(tx, requestId, { reason: `Revision ${saved.revision} of the migration was saved after this signature.` });
  // And a lead's approvals of earlier revisions (lib/services/deploy.ts).
  await voidEarlierApprovals(tx, requestId, saved);
  return { id: saved.id, revision: saved.revision, checksum };
}

/**
 * "Create migration": saves a new revision of the request's migration after parsing every file
 * with PostgreSQL's parser; a syntax error is refused with its line and column and nothing is saved.
 */
export async function saveMigrationRevision(actorId: string, input: SaveRevisionInput) {
  await checkRevisionFiles(input, await fenceAllowancesOfRequest(input.requestId));
  await assertDeclaredChanges(input.declaredChanges);
  const step = await stepFor(input.requestId, 2);
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canWorkTask(actor, step)) throw forbidden(`Only holders of ${step.eligibleRoles.join(' or ')} (or admins) can write the migration.`);
    await assertStepClaimAllows(tx, actor, await tx.task.findUnique({ where: { requestId_position: { requestId: input.requestId, position: 2 } }, select: STEP_CLAIM_FIELDS }));
    return insertRevision(tx, actor, input.requestId, input);
  });
}

/** "Test migration locally": queue a rehearsal of the latest revision (see queueRun). */
export async function requestRehearsal(actorId: string, input: { requestId: string; sampleRows?: number }) {
  // Callers say the sample; people get DEFAULT_SAMPLE_ROWS from the form and its action (RequestRehearsalSchema).
  return queueRun(actorId, { kind: 'rehearsal', requestId: input.requestId, sampleRows: input.sampleRows ?? 0 });
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
  return queueRun(actorId, { kind: input.direction === 'up' ? 'apply' : 'down', requestId: input.requestId });
}

/**
 * The request's migration as a Prisma migrations folder: `prisma/migrations/<timestamp>_<name>/`
 * with migration.sql (its checksum is the revision's) and down.sql, plus migration_lock.toml.
 */
export async function exportMigrationFolder(actorId: string, input: { requestId: string; revision?: number }) {
  const db = getDb();
  // SQL is for people who hold a role (see holdsAnyRole).
  if (!holdsAnyRole(await loadActor(db, actorId))) throw forbidden(NO_ROLE_MESSAGE);
  const request = await db.migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true, number: true, createdAt: true } });
  if (!request) throw notFound('Migration request');
  const revision = await db.migrationRevision.findFirst({
    where: { requestId: request.id, ...(input.revision ? { revision: input.revision } : {}) },
    orderBy: { revision: 'desc' },
  });
  if (!revision) throw notFound(input.revision ? `Revision ${input.revision}` : 'A saved migration');
  const folder = `prisma/migrations/${migrationFolderName(request.createdAt, revision.name)}`;
  const migrationSql = migrationSqlOf(revision);
  return {
    fileName: `request-${request.number}-${revision.name}-r${revision.revision}.tar.gz`,
    files: [
      { path: 'prisma/migrations/migration_lock.toml', content: '# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"\n' },
      { path: `${folder}/migration.sql`, content: migrationSql },
      // A revision whose way back is still to write exports no down.sql, as a Prisma folder has none.
      ...(revision.downSql.trim() ? [{ path: `${folder}/down.sql`, content: revision.downSql }] : []),
    ],
    // The checksum of exactly the file exported; equal to the revision's (tests hold it to that).
    checksum: migrationChecksum(migrationSql),
  };
}
