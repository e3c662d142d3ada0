import { getDb, type Tx } from '../db/client';
import { ACKNOWLEDGE_REFUSAL, AnalysisEvidenceSchema, acknowledgeRefusal, canAcknowledgeDestructive } from '../domain/analysis';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask } from '../domain/permissions';
import { RUN_STEP_POSITION } from '../domain/run-rules';
import { loadActor, partiesOf, revisionAuthorsOf } from '../auth/actor';
import type { AcknowledgeDestructiveInput, AnalysisFieldsInput, AnalysisRunInput } from '../validation/analysis';
import { recordAudit } from './audit';
import { queueRun } from './runs';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

/** An Analysis-step holder (or a database-administrator) asks for an impact analysis of the latest saved revision. */
export async function requestAnalysis(actorId: string, input: AnalysisRunInput) {
  return queueRun(actorId, { kind: 'analysis', requestId: input.requestId });
}

/** The request's latest revision and the destructive operations of its latest analysis (null: not analysed yet). */
async function latestAnalysedRevision(tx: Tx, requestId: string) {
  const revision = await tx.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, createdById: true, authorOwnerId: true } });
  if (!revision) return null;
  const evidence = await tx.evidence.findFirst({ where: { requestId, kind: 'analysis', revisionId: revision.id }, orderBy: { createdAt: 'desc' }, select: { detail: true } });
  const detail = evidence ? AnalysisEvidenceSchema.safeParse(evidence.detail) : null;
  return { revision, destructive: detail?.success ? detail.data.destructive : null };
}

/**
 * The destructive operations of the current revision's latest analysis that nobody has
 * acknowledged yet, in words; the quality gate cannot be passed while any is left.
 */
export async function unacknowledgedDestructiveOperations(tx: Tx, requestId: string): Promise<string[]> {
  const analysed = await latestAnalysedRevision(tx, requestId);
  if (!analysed?.destructive?.length) return [];
  const acknowledged = await tx.destructiveAcknowledgement.findMany({ where: { revisionId: analysed.revision.id }, select: { operationKey: true } });
  const done = new Set(acknowledged.map((a) => a.operationKey));
  return analysed.destructive.filter((d) => !done.has(d.operationKey)).map((d) => d.description);
}

/**
 * Acknowledges one destructive operation of the latest analysis of the current revision, with a
 * note: database-administrator, lead, reviewer or admin. Only operations that analysis found can
 * be acknowledged, once each per revision (a new revision needs new acknowledgements). The
 * acknowledgement and its audit row share one transaction.
 */
export async function acknowledgeDestructiveOperation(actorId: string, input: AcknowledgeDestructiveInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canAcknowledgeDestructive(actor)) throw forbidden(ACKNOWLEDGE_REFUSAL);
    // One acknowledgement at a time per request: the existence check below holds under concurrency.
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM migration_requests WHERE id = ${input.requestId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound('Migration request');
    // Agents acknowledge on the Analysis step they hold; people (reviewers, leads) are the second pair of eyes on it whoever holds it.
    if (actor.kind === 'agent') {
      await assertStepClaimAllows(tx, actor, await tx.task.findUnique({
        where: { requestId_position: { requestId: input.requestId, position: RUN_STEP_POSITION.analysis! } }, select: STEP_CLAIM_FIELDS,
      }));
    }
    const analysed = await latestAnalysedRevision(tx, input.requestId);
    if (!analysed) throw conflict('Save the migration (Create migration) and analyse it before acknowledging anything.');
    const { authorId } = await tx.migrationRequest.findUniqueOrThrow({ where: { id: input.requestId }, select: { authorId: true } });
    const [filedBy] = await partiesOf(tx, [authorId]);
    const revisionAuthors = await revisionAuthorsOf(tx, [analysed.revision]);
    const selfRefusal = acknowledgeRefusal(actor, { filedBy: filedBy ?? { id: authorId }, revisionAuthors });
    if (selfRefusal) throw forbidden(selfRefusal);
    if (!analysed.destructive) throw conflict(`Revision ${analysed.revision.revision} has not been analysed yet: run the impact analysis first.`);
    const operation = analysed.destructive.find((d) => d.operationKey === input.operationKey);
    if (!operation) {
      throw new DomainError('invalid', `"${input.operationKey.slice(0, 120)}" is not a destructive operation of the latest analysis of revision ${analysed.revision.revision}.`, 'operationKey');
    }
    const existing = await tx.destructiveAcknowledgement.findUnique({
      where: { revisionId_operationKey: { revisionId: analysed.revision.id, operationKey: operation.operationKey } },
      include: { acknowledgedBy: { select: { name: true } } },
    });
    if (existing) throw conflict(`${existing.acknowledgedBy.name} already acknowledged this operation for revision ${analysed.revision.revision}.`);
    const ack = await tx.destructiveAcknowledgement.create({
      data: {
        requestId: input.requestId, revisionId: analysed.revision.id, operationKey: operation.operationKey,
        description: operation.description, note: input.note, acknowledgedById: actor.id,
      },
    });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'analysis.destructive_acknowledged', entityType: 'DestructiveAcknowledgement', entityId: ack.id,
      after: { revision: analysed.revision.revision, operationKey: operation.operationKey, description: operation.description, note: input.note },
    });
    return { id: ack.id };
  });
}

/**
 * Saves the Analysis step's "Document desired changes" and "Plan migration strategy" (prefilled
 * on the page from the latest analysis): holders of the Analysis step, or admins. Audited with
 * what they said before.
 */
export async function saveAnalysisFields(actorId: string, input: AnalysisFieldsInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const locked = await tx.$queryRaw<{ id: string }[]>`SELECT id FROM migration_requests WHERE id = ${input.requestId}::uuid FOR UPDATE`;
    if (locked.length === 0) throw notFound('Migration request');
    const step = await tx.task.findUnique({
      where: { requestId_position: { requestId: input.requestId, position: RUN_STEP_POSITION.analysis! } },
      select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS },
    });
    if (!step || !canWorkTask(actor, step)) {
      throw forbidden(`Only holders of ${step?.eligibleRoles.join(' or ') ?? 'the Analysis step'} (or admins) can write the analysis of "${step?.subject ?? 'this request'}".`);
    }
    await assertStepClaimAllows(tx, actor, step);
    const before = await tx.migrationRequest.findUniqueOrThrow({ where: { id: input.requestId }, select: { desiredChanges: true, migrationStrategy: true } });
    const after = { desiredChanges: input.desiredChanges || null, migrationStrategy: input.migrationStrategy || null };
    if (before.desiredChanges === after.desiredChanges && before.migrationStrategy === after.migrationStrategy) return { changed: false };
    await tx.migrationRequest.update({ where: { id: input.requestId }, data: after });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'request.analysis_saved', entityType: 'MigrationRequest', entityId: input.requestId,
      before, after,
    });
    return { changed: true };
  });
}
