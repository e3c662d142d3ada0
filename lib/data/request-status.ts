import 'server-only';
import { getDb } from '../db/client';
import { notFound } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import { readRunResult } from '../domain/run-results';
import { getGateState } from '../services/gate';
import { getStepEvidence, loadRequestFacts } from '../services/step-evidence';
import { assertCanRead } from './access';
import { runHeader, runTextRedactor } from './runs';
import { LABELLED_ACCOUNT } from './account-label';

/**
 * What CI and agents read through /api/v1: a request's state, steps and gate in one answer, and
 * a run's progress and log (the gate in full: lib/data/gate.ts getGateView). Same access as the pages: anyone who holds a role; addresses
 * redacted for those who may not manage targets.
 */

/** GET /api/v1/requests/:id/status */
export async function getRequestStatus(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const r = await getDb().migrationRequest.findUnique({
    where: { id: requestId },
    select: {
      id: true, number: true, title: true, status: true, currentStep: true, completedSteps: true, totalSteps: true, updatedAt: true,
      target: { select: { name: true, environment: true } },
      revisions: { orderBy: { revision: 'desc' }, take: 1, select: { revision: true, checksum: true, createdAt: true } },
      tasks: {
        orderBy: { position: 'asc' },
        select: { key: true, position: true, subject: true, status: true, blockedReason: true, owner: true, eligibleRoles: true, isGate: true, assignee: { select: { name: true } } },
      },
    },
  });
  if (!r) throw notFound('Migration request');
  // One read of the request's evidence for both the steps and the gate.
  const db = getDb();
  const facts = await loadRequestFacts(db, requestId);
  const [stepEvidence, gate] = await Promise.all([getStepEvidence(db, requestId, facts), getGateState(db, requestId, facts)]);
  return {
    id: r.id, number: r.number, title: r.title, status: r.status, currentStep: r.currentStep, completedSteps: r.completedSteps, totalSteps: r.totalSteps,
    updatedAt: r.updatedAt, target: r.target,
    revision: r.revisions[0] ?? null,
    steps: r.tasks.map((t) => ({
      key: t.key, position: t.position, subject: t.subject, status: t.status, blockedReason: t.blockedReason, owner: t.owner,
      eligibleRoles: t.eligibleRoles, assignee: t.assignee?.name ?? null,
      waitingFor: r.tasks.find((p) => p.position === t.position - 1 && p.status !== 'completed')?.subject ?? null,
      // What Cutover checks of the step: whether its evidence holds, and what it still waits for.
      evidence: stepEvidence[t.key]
        ? { checkable: stepEvidence[t.key].checkable, satisfied: stepEvidence[t.key].satisfied, waitingFor: stepEvidence[t.key].waitingFor }
        : null,
    })),
    gate: {
      open: gate.open, passed: gate.passed, waitingFor: gate.waitingFor, minReviewers: gate.minReviewers, distinctSigners: gate.distinctSigners,
      items: gate.items.map((i) => ({ key: i.key, label: i.label, satisfied: i.satisfied, reason: i.reason, signedBy: i.signature?.by ?? null, signedAt: i.signature?.at ?? null })),
    },
  };
}

/** How many log lines a run answer carries at most (the newest). */
export const RUN_LOG_LINES = 1000;

/** GET /api/v1/runs/:id: the run's header, phase, phases so far and log, as its panel shows them. */
export async function getRunStatus(actor: Actor, runId: string) {
  assertCanRead(actor);
  const run = await getDb().run.findUnique({
    where: { id: runId },
    include: { requestedBy: LABELLED_ACCOUNT, target: { select: { name: true, host: true, port: true } }, revision: { select: { revision: true } } },
  });
  if (!run) throw notFound('Run');
  const redact = runTextRedactor(actor);
  const result = readRunResult(run.kind, run.result, run.id) as { ok?: boolean; log?: string[]; phases?: { phase: string; label: string; status: string; durationMs: number; detail?: string }[] } | null;
  return {
    ...runHeader(run, redact, run.target),
    kind: run.kind, requestId: run.requestId, revision: run.revision?.revision ?? null, target: run.target.name,
    startedAt: run.startedAt, ok: result?.ok ?? null,
    phases: (result?.phases ?? []).map((p) => ({ phase: p.phase, label: p.label, status: p.status, durationMs: p.durationMs, detail: redact(p.detail, run.target) ?? null })),
    log: (result?.log ?? []).slice(-RUN_LOG_LINES).map((line) => redact(line, run.target)),
  };
}
