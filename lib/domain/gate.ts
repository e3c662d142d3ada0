import type { EvidenceKindName } from './evidence-schemas';
import {
  ROLLBACK_PHASES, REHEARSAL_REQUIRED_PHASES, coverageVerdict, drillVerdict, rehearsalPhasesVerdict,
  type EvidenceFact, type StepFacts, type Verdict,
} from './step-evidence';

/**
 * The quality gate on evidence (issue 8, item 4): what each of the six items rests on, the
 * verdict on it, and the rules for signing. Pure: the service gathers the facts and hashes.
 */

export type GateItemKey = 'migration-runs' | 'rollback-tested' | 'tests-pass' | 'no-data-loss' | 'app-works' | 'backup-ready';

/** The evidence kinds each item rests on: a failing record of one of them voids the item's signature. */
export const GATE_ITEM_KINDS: Readonly<Record<GateItemKey, readonly EvidenceKindName[]>> = {
  'migration-runs': ['rehearsal'],
  'rollback-tested': ['rehearsal'],
  'tests-pass': ['test_report'],
  'no-data-loss': ['data_loss'],
  'app-works': ['app_schema', 'health_check'],
  'backup-ready': ['drill'],
};

export const isGateItemKey = (key: string): key is GateItemKey => key in GATE_ITEM_KINDS;

/** The items resting on a kind of evidence. */
export function gateItemsRestingOn(kind: EvidenceKindName): GateItemKey[] {
  return (Object.keys(GATE_ITEM_KINDS) as GateItemKey[]).filter((k) => GATE_ITEM_KINDS[k].includes(kind));
}

export interface GateItemVerdict extends Verdict {
  /** The records the item rests on (what a signature is bound to). */
  evidence: EvidenceFact[];
  /** The item needs a reviewer's note with the signature. */
  needsNote: boolean;
}

function withEvidence(v: Verdict, evidence: (EvidenceFact | null | undefined)[], needsNote = false): GateItemVerdict {
  return { ...v, evidence: evidence.filter((e): e is EvidenceFact => !!e), needsNote };
}

/** The verdict on one gate item from the request's facts. */
export function evaluateGateItem(key: GateItemKey, facts: StepFacts): GateItemVerdict {
  switch (key) {
    case 'migration-runs':
      return withEvidence(rehearsalPhasesVerdict(facts, REHEARSAL_REQUIRED_PHASES), [facts.latest.rehearsal]);
    case 'rollback-tested':
      return withEvidence(rehearsalPhasesVerdict(facts, ROLLBACK_PHASES), [facts.latest.rehearsal]);
    case 'tests-pass':
      return withEvidence(coverageVerdict('test_report', facts), [facts.latest.test_report]);
    case 'no-data-loss':
      return withEvidence(coverageVerdict('data_loss', facts), [facts.latest.data_loss]);
    case 'backup-ready':
      return withEvidence(drillVerdict(facts), [facts.latest.drill]);
    case 'app-works': {
      const schema = coverageVerdict('app_schema', facts);
      if (!schema.satisfied) return withEvidence(schema, [facts.latest.app_schema], true);
      if (facts.preProductionHealthTargets.length === 0) return withEvidence(schema, [facts.latest.app_schema], true);
      const health = facts.preProductionHealth;
      const where = facts.preProductionHealthTargets.map((t) => t.name).join(' or ');
      const rev = facts.revision ? `revision ${facts.revision.revision}` : 'the migration';
      if (!health) {
        return withEvidence({ ...schema, satisfied: false, reason: `Waiting for a passing health check against a deployment of ${rev} in ${where}.` }, [facts.latest.app_schema], true);
      }
      if (!health.passed || health.staleBecause || health.revisionId !== facts.revision?.id) {
        const why = health.staleBecause ?? (health.passed ? 'it is of another revision' : health.summary);
        return withEvidence({ satisfied: false, evidenceId: health.id, runId: health.runId, reason: `The latest health check in ${where} does not count: ${why}` }, [facts.latest.app_schema, health], true);
      }
      return withEvidence(schema, [facts.latest.app_schema, health], true);
    }
  }
}

/** At most this many items per reviewer, so that at least `minReviewers` distinct reviewers sign. */
export function maxItemsPerSigner(totalItems: number, minReviewers: number): number {
  return Math.max(1, totalItems - (Math.max(1, minReviewers) - 1));
}

/**
 * Whether one more signature by `actorId` keeps the gate passable by at least `minReviewers`
 * distinct reviewers: the cap per reviewer, and enough unsigned items left for the reviewers
 * still missing. `signers` holds the signer of each currently signed item.
 */
export function signCountRefusal(opts: { totalItems: number; minReviewers: number; signers: readonly string[]; actorId: string }): string | null {
  const { totalItems, minReviewers, signers, actorId } = opts;
  const cap = maxItemsPerSigner(totalItems, minReviewers);
  const mine = signers.filter((s) => s === actorId).length;
  if (mine + 1 > cap) {
    return `You already signed ${mine} of the ${totalItems} items; one reviewer signs at most ${cap}, so that at least ${minReviewers} reviewers sign this gate. Ask another reviewer.`;
  }
  const distinctAfter = new Set([...signers, actorId]).size;
  const unsignedAfter = totalItems - signers.length - 1;
  if (unsignedAfter < minReviewers - distinctAfter) {
    return `This gate needs ${minReviewers} distinct reviewers; with your signature only ${unsignedAfter} item(s) would be left for the ${minReviewers - distinctAfter} still missing. Ask another reviewer.`;
  }
  return null;
}

/** What a signature is bound to, before hashing: the revision's sha256 and the evidence list, in a fixed order. */
export function boundPayload(revisionSha256: string | null, evidence: readonly { id: string; kind: string; passed: boolean; sha256: string }[]): string {
  const list = [...evidence].sort((a, b) => a.id.localeCompare(b.id)).map((e) => ({ id: e.id, kind: e.kind, passed: e.passed, sha256: e.sha256 }));
  return JSON.stringify({ revisionSha256, evidence: list });
}
