import { createHash } from 'node:crypto';
import { readTogether, type Db, type Tx } from '../db/client';
import { conflict, notFound } from '../domain/errors';
import { boundPayload, evaluateGateItem, isGateItemKey, maxItemsPerSigner } from '../domain/gate';
import { unacknowledgedDestructiveOperations } from './analysis';
import type { EvidenceView } from './evidence';
import { loadRequestFacts, type RequestFacts } from './step-evidence';

export interface GateSignatureView {
  id: string;
  signedById: string;
  by: string;
  at: Date;
  note: string | null;
  revisionSha256: string | null;
  boundDigest: string;
}

export interface VoidedSignatureView {
  id: string;
  by: string;
  signedAt: Date;
  at: Date;
  reason: string;
}

export interface GateItemState {
  id: string;
  key: string;
  label: string;
  /** The records the item rests on now (what a signature would be bound to). */
  evidence: EvidenceView[];
  satisfied: boolean;
  /** Why the evidence does not hold yet (null when it does). */
  reason: string | null;
  /** "Application works" needs a reviewer's note with the signature. */
  needsNote: boolean;
  /** The current valid signature, or null. */
  signature: GateSignatureView | null;
  /** Signatures voided by a new revision or by failing evidence, newest first. */
  voided: VoidedSignatureView[];
}

export interface GateState {
  /** Every step before the gate is completed and the gate is not blocked: reviewers may sign. */
  open: boolean;
  /** The gate step is completed with every item validly signed by enough reviewers. */
  passed: boolean;
  /** What the gate waits for, in words. */
  waitingFor: string[];
  minReviewers: number;
  maxItemsPerSigner: number;
  distinctSigners: number;
  /** Destructive operations of the current revision nobody acknowledged: they block the gate. */
  unacknowledged: string[];
  revision: { id: string; revision: number; checksum: string } | null;
  gateTask: { id: string; status: string } | null;
  items: GateItemState[];
}

/** sha256 of what an evidence record says (kind, verdict, revision, settings, hashes, detail): a signature binds to it. */
export function evidenceDigest(e: EvidenceView): string {
  const payload = JSON.stringify({
    id: e.id, kind: e.kind, passed: e.passed, revisionSha256: e.revisionSha256, targetSettingsVersion: e.targetSettingsVersion, hashes: e.hashes, detail: e.detail,
  });
  return createHash('sha256').update(payload).digest('hex');
}

/** What a signature of an item with this evidence on this revision is bound to: the list stored and its digest. */
export function bindingOf(revisionSha256: string | null, evidence: readonly EvidenceView[]) {
  const list = evidence.map((e) => ({ id: e.id, kind: e.kind, passed: e.passed, sha256: evidenceDigest(e) }));
  return { evidence: list, boundDigest: createHash('sha256').update(boundPayload(revisionSha256, list)).digest('hex') };
}

/**
 * The quality gate of a request as the evidence and signatures stand: each item's evidence and
 * verdict, its current signature and voided ones, whether the gate is open and passed, and what
 * it waits for. No access check (lib/data/gate.ts checks the viewer); services call it in their
 * transaction.
 */
export async function getGateState(db: Db | Tx, requestId: string, preloaded?: RequestFacts): Promise<GateState> {
  const [facts, tasks, gateItems, signatures] = await readTogether(db, [
    () => (preloaded ? Promise.resolve(preloaded) : loadRequestFacts(db, requestId)),
    () => db.task.findMany({ where: { requestId }, orderBy: { position: 'asc' }, select: { id: true, position: true, subject: true, status: true, isGate: true } }),
    () => db.gateItem.findMany({ where: { requestId }, orderBy: { position: 'asc' }, select: { id: true, key: true, label: true } }),
    () => db.gateSignature.findMany({ where: { requestId }, orderBy: { signedAt: 'desc' }, include: { signedBy: { select: { name: true } } } }),
  ]);
  if (tasks.length === 0) throw notFound('Migration request');
  const gateTask = tasks.find((t) => t.isGate) ?? null;
  const before = gateTask ? tasks.filter((t) => t.position < gateTask.position && t.status !== 'completed') : [];
  const open = !!gateTask && before.length === 0 && gateTask.status !== 'blocked';
  const minReviewers = Math.max(1, facts.project?.minGateReviewers ?? 2);
  const unacknowledged = facts.revision ? await unacknowledgedDestructiveOperations(db as Tx, requestId) : [];

  const items = gateItems.map((g): GateItemState => {
    const verdict = isGateItemKey(g.key) ? evaluateGateItem(g.key, facts) : null;
    const mine = signatures.filter((s) => s.gateItemId === g.id);
    const valid = mine.find((s) => !s.voidedAt) ?? null;
    return {
      id: g.id, key: g.key, label: g.label,
      evidence: (verdict?.evidence ?? []) as EvidenceView[],
      satisfied: verdict?.satisfied ?? false,
      reason: verdict ? verdict.reason : `"${g.label}" is not an item Cutover knows how to check.`,
      needsNote: verdict?.needsNote ?? false,
      signature: valid && {
        id: valid.id, signedById: valid.signedById, by: valid.signedBy.name, at: valid.signedAt, note: valid.note,
        revisionSha256: valid.revisionSha256, boundDigest: valid.boundDigest,
      },
      voided: mine.filter((s) => s.voidedAt).map((s) => ({ id: s.id, by: s.signedBy.name, signedAt: s.signedAt, at: s.voidedAt!, reason: s.voidReason ?? 'voided' })),
    };
  });
  const signers = new Set(items.flatMap((i) => (i.signature ? [i.signature.signedById] : [])));
  const waitingFor: string[] = [];
  if (!gateTask) waitingFor.push('This workflow has no quality gate.');
  for (const t of before) waitingFor.push(`"${t.subject}" to be completed.`);
  if (gateTask?.status === 'blocked') waitingFor.push('The quality gate is blocked.');
  if (!facts.revision) waitingFor.push('A saved migration (Create migration).');
  for (const i of items) {
    if (!i.satisfied) waitingFor.push(`${i.label}: ${i.reason}`);
    else if (!i.signature) waitingFor.push(`${i.label}: a reviewer's signature${i.needsNote ? ' with a note' : ''}.`);
  }
  if (signers.size < minReviewers) waitingFor.push(`Signatures of ${minReviewers} distinct reviewers (${signers.size} so far).`);
  if (unacknowledged.length) waitingFor.push(`Acknowledgement of ${unacknowledged.length} destructive operation(s) (Analysis step): ${unacknowledged.slice(0, 3).join('; ')}${unacknowledged.length > 3 ? '; …' : ''}.`);
  const allSigned = items.length > 0 && items.every((i) => i.signature && i.signature.revisionSha256 === (facts.revision?.checksum ?? null));
  // Every item's evidence must still hold (a drill ages past the backup's maximum age): a stale gate is not passed.
  const passed = gateTask?.status === 'completed' && allSigned && items.every((i) => i.satisfied) && signers.size >= minReviewers && unacknowledged.length === 0;

  return {
    open, passed, waitingFor: passed ? [] : waitingFor, minReviewers, maxItemsPerSigner: maxItemsPerSigner(items.length, minReviewers),
    distinctSigners: signers.size, unacknowledged, revision: facts.revision, gateTask: gateTask && { id: gateTask.id, status: gateTask.status }, items,
  };
}

/**
 * Refuses (conflict, listing what is missing) unless the gate is passed: the gate step completed,
 * every item signed on the current revision, enough distinct reviewers, nothing destructive left
 * unacknowledged. Deploys to environments that need approval call it when queued and when started.
 */
export async function assertGatePassed(db: Db | Tx, requestId: string): Promise<GateState> {
  const state = await getGateState(db, requestId);
  if (state.passed) return state;
  const missing = [...state.waitingFor];
  for (const i of state.items) {
    if (i.signature && i.signature.revisionSha256 !== (state.revision?.checksum ?? null)) missing.push(`${i.label}: signed on another revision.`);
  }
  if (state.gateTask?.status !== 'completed') missing.unshift('The quality gate step is not completed.');
  throw conflict(`The quality gate is not passed: ${[...new Set(missing)].slice(0, 8).join(' ')}`);
}
