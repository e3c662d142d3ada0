import 'server-only';
import type { EvidenceKindName } from '../domain/evidence-schemas';
import { checkCanSignGate, type Actor } from '../domain/permissions';
import type { StepEvidence } from '../domain/step-evidence';
import type { GateState } from '../services/gate';
import { assertCanRead } from './access';
import { requestFacts, requestGateState, requestStepEvidence } from './request-facts';

/** The step whose page shows the run that produced each kind of evidence (links from the gate). */
const STEP_OF_KIND: Record<EvidenceKindName, string> = {
  analysis: 'analysis', lock_impact: 'test-locally', backup: 'create-backup', drill: 'create-backup', data_loss: 'test-locally', drift: 'analysis',
  rehearsal: 'test-locally', revision: 'create-migration', test_report: 'test-app', app_schema: 'update-app-code', deploy: 'deploy',
  verification: 'post-deployment', health_check: 'post-deployment',
};

/** An evidence record as the gate lists it: what, when, its verdict and where its run is shown (never its full detail). */
export interface GateEvidenceDto {
  id: string;
  kind: EvidenceKindName;
  summary: string;
  passed: boolean;
  staleBecause: string | null;
  runId: string | null;
  createdAt: Date;
  href: string;
}

export interface GateItemDto {
  id: string;
  key: string;
  label: string;
  satisfied: boolean;
  reason: string | null;
  needsNote: boolean;
  evidence: GateEvidenceDto[];
  signature: { by: string; at: Date; note: string | null; boundDigest: string; revisionSha256: string | null } | null;
  voided: { by: string; signedAt: Date; at: Date; reason: string }[];
}

export interface GateView extends Pick<GateState, 'open' | 'passed' | 'waitingFor' | 'minReviewers' | 'maxItemsPerSigner' | 'distinctSigners'> {
  requestId: string;
  revision: number | null;
  /** Whether the viewer may sign at all (a reviewer who did not file the request), and why not. */
  canSign: boolean;
  refusal: string | null;
  /** How many items the viewer signed (the cap is maxItemsPerSigner). */
  signedByViewer: number;
  items: GateItemDto[];
}

/** The quality gate for the request page and the API: anyone with a role may read it. */
export async function getGateView(viewer: Actor, requestId: string): Promise<GateView> {
  assertCanRead(viewer);
  // The facts carry the request's author (and throw not_found for an unknown id); the state, each item's valid signature.
  const [facts, state] = await Promise.all([requestFacts(requestId), requestGateState(requestId)]);
  const verdict = checkCanSignGate(viewer, facts.request);
  const signedByViewer = state.items.filter((i) => i.signature?.signedById === viewer.id).length;
  return {
    requestId, open: state.open, passed: state.passed, waitingFor: state.waitingFor, minReviewers: state.minReviewers,
    maxItemsPerSigner: state.maxItemsPerSigner, distinctSigners: state.distinctSigners, revision: state.revision?.revision ?? null,
    canSign: verdict.ok, refusal: verdict.ok ? null : verdict.reason, signedByViewer,
    items: state.items.map((i) => ({
      id: i.id, key: i.key, label: i.label, satisfied: i.satisfied, reason: i.reason, needsNote: i.needsNote,
      evidence: i.evidence.map((e) => ({
        id: e.id, kind: e.kind, summary: e.summary, passed: e.passed, staleBecause: e.staleBecause, runId: e.runId, createdAt: e.createdAt,
        href: `/requests/${requestId}/steps/${STEP_OF_KIND[e.kind]}`,
      })),
      signature: i.signature && { by: i.signature.by, at: i.signature.at, note: i.signature.note, boundDigest: i.signature.boundDigest, revisionSha256: i.signature.revisionSha256 },
      voided: i.voided.map((v) => ({ by: v.by, signedAt: v.signedAt, at: v.at, reason: v.reason })),
    })),
  };
}

export interface StepEvidenceView extends StepEvidence {
  /** Where each covered item's evidence is shown, by label. */
  links: Record<string, string>;
}

/** What one step's checklist rests on, for the evidence beside the step. */
export async function getStepEvidenceView(viewer: Actor, requestId: string, stepKey: string): Promise<StepEvidenceView | null> {
  assertCanRead(viewer);
  const evidence = (await requestStepEvidence(requestId))[stepKey];
  if (!evidence) return null;
  const links: Record<string, string> = {};
  for (const i of evidence.items) {
    if (!i.coveredBy) continue;
    const step = i.coveredBy === 'snapshot' || i.coveredBy === 'desired_changes' || i.coveredBy === 'migration_strategy' ? 'analysis' : STEP_OF_KIND[i.coveredBy];
    links[i.label] = `/requests/${requestId}/steps/${step}`;
  }
  return { ...evidence, links };
}
