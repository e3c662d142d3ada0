import { getDb } from '../db/client';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { signCountRefusal } from '../domain/gate';
import { checkCanSignGate } from '../domain/permissions';
import { assertGateOpen } from '../domain/workflow';
import { loadActor, revisionAuthorsOf } from '../auth/actor';
import type { SignGateItemInput } from '../validation/task';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { recordAudit } from './audit';
import { bindingOf, getGateState } from './gate';
import { lockWorkflow, previousTask, refreshProgress } from './workflow-state';

/**
 * A reviewer signs one quality-gate item, on evidence: the reviewer is a person (not a token) who
 * did not file the request nor write any of its revisions (nor own an agent that wrote one),
 * the gate is open (steps 1-6 completed), the item's evidence holds for the current revision,
 * "Application works" carries a note, and the signature leaves room for the project's minimum of
 * distinct reviewers. The signature row is bound to the revision's sha256 and the digest of the
 * evidence the item rests on; GateItem mirrors it. The last signature completes the gate, unless
 * a destructive operation is still unacknowledged. State, signature and audit in one transaction.
 */
export async function signGateItem(actorId: string, input: SignGateItemInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const item = await tx.gateItem.findUnique({ where: { id: input.gateItemId } });
    if (!item) throw notFound('Gate item');
    const workflow = await lockWorkflow(tx, item.requestId);
    // Two people: the signer filed nothing and wrote no revision of what they sign.
    const revisions = await tx.migrationRevision.findMany({ where: { requestId: item.requestId }, select: { createdById: true, authorOwnerId: true } });
    const revisionAuthors = await revisionAuthorsOf(tx, revisions);
    const verdict = checkCanSignGate(actor, { authorId: workflow.request.authorId, revisionAuthors });
    if (!verdict.ok) throw forbidden(verdict.reason);

    const gate = workflow.tasks.find((t) => t.isGate);
    if (!gate) throw conflict('This workflow has no quality gate.');
    assertGateOpen(gate, previousTask(workflow.tasks, gate));

    // Read under the request's lock: a concurrent signature or a new revision is either before or after this.
    const state = await getGateState(tx, item.requestId);
    const current = state.items.find((i) => i.id === item.id);
    if (!current) throw notFound('Gate item');
    if (current.signature) throw conflict(`"${item.label}" was already signed by ${current.signature.by}.`);
    if (!state.revision) throw conflict('Save the migration (Create migration) before signing its gate.');
    if (!current.satisfied) throw conflict(`"${item.label}" cannot be signed yet: ${current.reason}`);
    const note = input.note?.trim() || null;
    if (current.needsNote && !note) throw new DomainError('invalid', `"${item.label}" needs your note: say what you checked.`, 'note');
    const signers = state.items.flatMap((i) => (i.signature ? [i.signature.signedById] : []));
    const countRefusal = signCountRefusal({ totalItems: state.items.length, minReviewers: state.minReviewers, signers, actorId: actor.id });
    if (countRefusal) throw conflict(countRefusal);

    const remaining = state.items.filter((i) => !i.signature).length - 1;
    if (remaining === 0 && state.unacknowledged.length) {
      // The signature that would pass the gate waits for every destructive operation to be acknowledged.
      const open = state.unacknowledged;
      throw conflict(`The gate cannot pass while ${open.length} destructive operation(s) of the migration are unacknowledged (Analysis step): ${open.slice(0, 3).join('; ')}${open.length > 3 ? '; …' : ''}.`);
    }

    const now = new Date();
    const binding = bindingOf(state.revision.checksum, current.evidence);
    const signature = await tx.gateSignature.create({
      data: {
        gateItemId: item.id, requestId: item.requestId, signedById: actor.id, note, signedAt: now,
        revisionId: state.revision.id, revisionSha256: state.revision.checksum,
        evidence: binding.evidence as unknown as InputJsonValue, boundDigest: binding.boundDigest,
      },
    });
    await tx.gateItem.update({ where: { id: item.id }, data: { signedById: actor.id, signedAt: now, note } });

    const gateStatus = remaining === 0 ? 'completed' : 'in_progress';
    if (gateStatus !== gate.status) {
      await tx.task.update({
        where: { id: gate.id },
        data: {
          status: gateStatus,
          assigneeId: gate.assigneeId ?? actor.id,
          startedAt: gate.status === 'pending' ? now : undefined,
          completedAt: gateStatus === 'completed' ? now : undefined,
        },
      });
    }
    const tasks = workflow.tasks.map((t) => (t.id === gate.id ? { ...t, status: gateStatus as typeof t.status } : t));
    const progress = await refreshProgress(tx, item.requestId, tasks);
    await recordAudit(tx, {
      actorId: actor.id,
      requestId: item.requestId,
      action: 'gate.signed',
      entityType: 'GateItem',
      entityId: item.id,
      before: { label: item.label, signed: false, gateStatus: gate.status },
      after: {
        label: item.label, signed: true, note, gateStatus, remaining, signatureId: signature.id,
        revision: state.revision.revision, revisionSha256: state.revision.checksum, evidence: binding.evidence.map((e) => e.id), boundDigest: binding.boundDigest,
      },
    });
    return { gateItemId: item.id, signatureId: signature.id, remaining, gateStatus, request: progress };
  });
}
