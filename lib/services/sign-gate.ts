import { getDb } from '../db/client';
import { conflict, forbidden, notFound } from '../domain/errors';
import { checkCanSignGate } from '../domain/permissions';
import { assertGateOpen } from '../domain/workflow';
import { loadActor } from '../auth/actor';
import type { SignGateItemInput } from '../validation/task';
import { unacknowledgedDestructiveOperations } from './analysis';
import { recordAudit } from './audit';
import { lockWorkflow, previousTask, refreshProgress } from './workflow-state';

/**
 * A reviewer signs one quality-gate item. The first signature opens the gate step;
 * the last one completes it, which lets the request move on to Deploy.
 */
export async function signGateItem(actorId: string, input: SignGateItemInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const item = await tx.gateItem.findUnique({ where: { id: input.gateItemId } });
    if (!item) throw notFound('Gate item');
    const workflow = await lockWorkflow(tx, item.requestId);
    const verdict = checkCanSignGate(actor, workflow.request);
    if (!verdict.ok) throw forbidden(verdict.reason);

    const gate = workflow.tasks.find((t) => t.isGate);
    if (!gate) throw conflict('This workflow has no quality gate.');
    assertGateOpen(gate, previousTask(workflow.tasks, gate));

    // Re-read under the lock: a concurrent signature must not be overwritten.
    const current = await tx.gateItem.findUniqueOrThrow({ where: { id: item.id }, include: { signedBy: { select: { name: true } } } });
    if (current.signedById) throw conflict(`"${item.label}" was already signed by ${current.signedBy?.name ?? 'someone'}.`);

    const now = new Date();
    await tx.gateItem.update({
      where: { id: item.id },
      data: { signedById: actor.id, signedAt: now, note: input.note || null },
    });
    const unsigned = await tx.gateItem.count({ where: { requestId: item.requestId, signedById: null } });
    if (unsigned === 0) {
      // The signature that would pass the gate waits for every destructive operation to be acknowledged.
      const open = await unacknowledgedDestructiveOperations(tx, item.requestId);
      if (open.length) {
        throw conflict(`The gate cannot pass while ${open.length} destructive operation(s) of the migration are unacknowledged (Analysis step): ${open.slice(0, 3).join('; ')}${open.length > 3 ? '; …' : ''}.`);
      }
    }
    const gateStatus = unsigned === 0 ? 'completed' : 'in_progress';
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
      after: { label: item.label, signed: true, note: input.note || null, gateStatus, remaining: unsigned },
    });
    return { gateItemId: item.id, remaining: unsigned, gateStatus, request: progress };
  });
}
