import { compareWithShape, parsePrismaSchema, PrismaSchemaParseError, type SchemaDifference, type ShapeForComparison } from '../app-schema';
import { getDb, type Db, type Tx } from '../db/client';
import { appSchemaAgrees, appSchemaSummary, carriedOverIntended, markPreExisting, openDifferences, type AppSchemaDifference, type AppSchemaEvidence } from '../domain/app-schema';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask } from '../domain/permissions';
import { readFileAtRef } from '../git/repository';
import { loadActor, type LoadedActor } from '../auth/actor';
import type { IntendDifferencesInput } from '../validation/project';
import { recordAudit } from './audit';
import { latestEvidence, recordEvidence } from './evidence';
import { passingRehearsal } from './step-evidence';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

const STEP_KEY = 'update-app-code';

/** Holders of Update app code (or admins) compare and explain, under its claim; the refusal names the role or the holder. */
async function assertStepHolder(db: Db | Tx, actor: LoadedActor, requestId: string) {
  const step = await db.task.findFirst({ where: { requestId, key: STEP_KEY }, select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS } });
  if (!step) throw notFound('The Update app code step of this request');
  if (!canWorkTask(actor, step)) {
    throw forbidden(`Only holders of ${step.eligibleRoles.join(' or ')} (or admins) can compare the app's schema on "${step.subject}".`);
  }
  await assertStepClaimAllows(db, actor, step);
}

/** What a comparison needs: the project, the branch, the current revision and its passing rehearsal's schema after up. */
async function comparisonBasis(db: Db | Tx, requestId: string) {
  const request = await db.migrationRequest.findUnique({
    where: { id: requestId },
    select: { id: true, targetId: true, appBranch: true, project: { select: { id: true, name: true, repositoryUrl: true, repositoryUsername: true, repositoryCredentialEncrypted: true, schemaPath: true, deployBranch: true } } },
  });
  if (!request) throw notFound('Migration request');
  if (!request.project) throw conflict("This request has no project yet: choose the application's project and its branch on the request first.");
  if (!request.appBranch) throw conflict("Name the app branch that carries the code change (on the request) first.");
  const revision = await db.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, checksum: true } });
  if (!revision) throw conflict('Save a migration (Create migration) and rehearse it first: the comparison needs the schema the rehearsal produced.');
  const rehearsal = await passingRehearsal(db, requestId, revision.id);
  const shape = rehearsal?.detail?.afterUpShape ?? null;
  if (!rehearsal) throw conflict(`Revision ${revision.revision} has no passing rehearsal yet (Test migration locally): the comparison needs the schema it produced.`);
  if (!shape) throw conflict(`The rehearsal of revision ${revision.revision} did not keep the schema after up (an older rehearsal): rehearse it again, then compare.`);
  return {
    request, project: request.project, branch: request.appBranch, revision, rehearsalId: rehearsal.id, shape: shape as ShapeForComparison,
    beforeHash: rehearsal.detail?.hashes.before ?? null,
  };
}

/**
 * The differences that were there before the migration: schema.prisma on the deploy branch (the app as
 * deployed) against the target's schema the rehearsal started from (a stored snapshot with the same hash
 * as the rehearsal's "before"). null when either is missing, or when the app branch is the deploy branch
 * itself (then "before" would already carry the change): every difference then counts as this migration's.
 */
async function differencesBefore(basis: Awaited<ReturnType<typeof comparisonBasis>>, branchCommit: string) {
  if (!basis.beforeHash || basis.project.deployBranch === basis.branch) return null;
  const snapshot = await getDb().schemaSnapshot.findFirst({
    where: { targetId: basis.request.targetId, hash: basis.beforeHash }, orderBy: { takenAt: 'desc' }, select: { shape: true, hash: true },
  });
  if (!snapshot) return null;
  const base = await readFileAtRef(basis.project, basis.project.deployBranch, basis.project.schemaPath).catch((err) => {
    // No schema.prisma on the deploy branch yet (a new app) is not an error here: nothing was deployed to differ.
    if (err instanceof DomainError) return null;
    throw err;
  });
  if (!base || base.commit === branchCommit) return null;
  let differences: SchemaDifference[];
  try {
    differences = compareWithShape(parsePrismaSchema(base.content), snapshot.shape as unknown as ShapeForComparison);
  } catch (err) {
    if (err instanceof PrismaSchemaParseError) return null;
    throw err;
  }
  return { differences, baseline: { branch: basis.project.deployBranch, commit: base.commit, snapshotHash: snapshot.hash } };
}

/**
 * Step 4's check: reads schema.prisma at the request's app branch (git fetch, outside any transaction),
 * compares it with the schema the passing rehearsal of the current revision produced, and records
 * `app_schema` evidence with the differences. Notes that a difference is intended carry over from the
 * previous comparison when the same difference is found again on the same branch.
 */
export async function compareAppSchema(actorId: string, requestId: string) {
  const db = getDb();
  // Early refusals before the repository is read; everything is checked again where it is written.
  await assertStepHolder(db, await loadActor(db, actorId), requestId);
  const basis = await comparisonBasis(db, requestId);
  const file = await readFileAtRef(basis.project, basis.branch, basis.project.schemaPath);
  let differences: AppSchemaDifference[];
  try {
    differences = compareWithShape(parsePrismaSchema(file.content), basis.shape);
  } catch (err) {
    if (err instanceof PrismaSchemaParseError) {
      throw new DomainError('invalid', `${file.path} on branch "${basis.branch}" (commit ${file.commit.slice(0, 12)}): ${err.message}`);
    }
    throw err;
  }
  const before = differences.length ? await differencesBefore(basis, file.commit) : null;
  if (before) differences = markPreExisting(differences, before.differences);

  return db.$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    await tx.$queryRaw`SELECT id FROM migration_requests WHERE id = ${requestId}::uuid FOR UPDATE`;
    await assertStepHolder(tx, actor, requestId);
    const now = await comparisonBasis(tx, requestId);
    if (now.revision.id !== basis.revision.id || now.rehearsalId !== basis.rehearsalId || now.branch !== basis.branch || now.project.id !== basis.project.id) {
      throw conflict('The migration, its rehearsal or the app branch changed while the schema was being compared; compare again.');
    }
    const previous = await latestEvidence(requestId, 'app_schema', tx);
    const detail: AppSchemaEvidence = {
      repository: file.repository, projectId: basis.project.id, branch: basis.branch, commit: file.commit, schemaPath: file.path, rehearsalEvidenceId: basis.rehearsalId,
      differences,
      intended: carriedOverIntended(previous?.detail ?? null, { branch: basis.branch, differences }),
      baseline: before?.baseline ?? null,
    };
    const passed = appSchemaAgrees(detail);
    const evidence = await recordEvidence(tx, {
      kind: 'app_schema', targetId: basis.request.targetId, requestId, revision: { id: basis.revision.id, checksum: basis.revision.checksum },
      passed, summary: appSchemaSummary(detail), detail, hashes: { commit: file.commit },
    });
    await recordAudit(tx, {
      actorId: actor.id, requestId, action: 'app_schema.compared', entityType: 'Evidence', entityId: evidence.id,
      after: {
        project: basis.project.name, branch: basis.branch, commit: file.commit, revision: basis.revision.revision,
        differences: differences.length, preExisting: differences.filter((d) => d.preExisting).length, carriedOver: detail.intended.length, passed,
      },
    });
    return { evidenceId: evidence.id, passed, differences: differences.length, open: openDifferences(detail).length, preExisting: differences.filter((d) => d.preExisting).length };
  });
}

/**
 * A holder of Update app code records why differences of the latest comparison are intended. The
 * comparison must still hold (same revision); the result is a new evidence row, passed once nothing is left unexplained.
 */
export async function intendDifferences(actorId: string, input: IntendDifferencesInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM migration_requests WHERE id = ${input.requestId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound('Migration request');
    await assertStepHolder(tx, actor, input.requestId);
    const latest = await latestEvidence(input.requestId, 'app_schema', tx);
    if (!latest || !latest.detail) throw conflict('Compare the app schema first.');
    if (latest.id !== input.evidenceId) throw conflict('A newer comparison was recorded meanwhile; look at its differences and explain them there.');
    if (latest.staleBecause) throw conflict(`This comparison no longer holds (${latest.staleBecause}); compare again.`);
    const detail = latest.detail;
    const known = new Map(detail.differences.map((d) => [d.key, d]));
    const already = new Set(detail.intended.map((i) => i.key));
    const keys = [...new Set(input.keys)];
    const unknown = keys.filter((k) => !known.has(k));
    if (unknown.length) throw new DomainError('invalid', `Not a difference of this comparison: ${unknown.slice(0, 3).join(', ')}.`, 'keys');
    const fresh = keys.filter((k) => !already.has(k));
    if (fresh.length === 0) throw conflict('Those differences are already recorded as intended.');
    const at = new Date().toISOString();
    const next: AppSchemaEvidence = {
      ...detail,
      intended: [...detail.intended, ...fresh.map((key) => ({ key, note: input.note, by: actor.name, byId: actor.id, at }))],
    };
    const passed = appSchemaAgrees(next);
    const revision = latest.revisionId ? await tx.migrationRevision.findUnique({ where: { id: latest.revisionId }, select: { id: true, checksum: true } }) : null;
    const evidence = await recordEvidence(tx, {
      kind: 'app_schema', targetId: latest.targetId, requestId: input.requestId, revision, passed, summary: appSchemaSummary(next), detail: next, hashes: latest.hashes,
    });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'app_schema.difference_intended', entityType: 'Evidence', entityId: evidence.id,
      after: { differences: fresh.map((k) => known.get(k)!.description), note: input.note, replaces: latest.id, passed },
    });
    return { evidenceId: evidence.id, passed };
  });
}
