import type { Tx } from '../db/client';
import { recordAudit } from './audit';
import { lockWorkflow, refreshProgress } from './workflow-state';

/**
 * Voids the current gate signatures of a request (all items, or those in `itemKeys`) inside the
 * caller's transaction: each keeps its row with voidedAt and the reason, the item's mirror
 * (GateItem.signedById) is cleared, and a passed gate is reopened. A new revision voids every
 * item; a failing record of a kind voids the items resting on it. Returns how many were voided.
 * Kept apart from the gate's reads so that recordEvidence can call it without an import cycle.
 */
export async function voidGateSignatures(
  tx: Tx,
  requestId: string,
  /** `unlessDeployed`: leave the gate as it is once the step after it (Deploy) is completed: it is history then. */
  opts: { reason: string; itemKeys?: readonly string[]; unlessDeployed?: boolean },
): Promise<number> {
  const items = await tx.gateItem.findMany({
    where: { requestId, ...(opts.itemKeys ? { key: { in: [...opts.itemKeys] } } : {}) },
    select: { id: true, key: true, label: true },
  });
  if (items.length === 0) return 0;
  const current = await tx.gateSignature.findMany({ where: { gateItemId: { in: items.map((i) => i.id) }, voidedAt: null }, select: { id: true, gateItemId: true } });
  if (current.length === 0) return 0;
  const workflow = await lockWorkflow(tx, requestId);
  const gate = workflow.tasks.find((t) => t.isGate);
  const afterGate = gate && workflow.tasks.find((t) => t.position === gate.position + 1);
  if (opts.unlessDeployed && afterGate?.status === 'completed') return 0;
  const now = new Date();
  await tx.gateSignature.updateMany({ where: { id: { in: current.map((s) => s.id) } }, data: { voidedAt: now, voidReason: opts.reason.slice(0, 1000) } });
  const touched = items.filter((i) => current.some((s) => s.gateItemId === i.id));
  await tx.gateItem.updateMany({ where: { id: { in: touched.map((i) => i.id) } }, data: { signedById: null, signedAt: null, note: null } });
  let reopened = false;
  if (gate && gate.status === 'completed') {
    await tx.task.update({ where: { id: gate.id }, data: { status: 'in_progress', completedAt: null } });
    await refreshProgress(tx, requestId, workflow.tasks.map((t) => (t.id === gate.id ? { ...t, status: 'in_progress' as const } : t)));
    reopened = true;
  }
  await recordAudit(tx, {
    actorId: null, requestId, action: 'gate.signatures_voided', entityType: 'MigrationRequest', entityId: requestId,
    after: { reason: opts.reason, items: touched.map((i) => i.label), signatures: current.length, gateReopened: reopened },
  });
  return current.length;
}
