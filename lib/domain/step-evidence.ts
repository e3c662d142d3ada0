import { z } from 'zod';
import type { EvidenceKindName } from './evidence-schemas';

/**
 * Steps that wait for their evidence (issue 8, item 3): which checklist items of which step
 * Cutover ticks from what it ran or received, and the verdict on each from the facts the service
 * gathered. Items not in the table stay manual. Pure: no I/O, no clock (`now` comes in the facts).
 */

/** The schema after up as the rehearsal saw it, engine-neutral at its edges (the app-schema comparison reads it). */
export const SchemaShapeEvidenceSchema = z.looseObject({
  schemas: z.array(z.string()).optional(),
  tables: z.record(z.string(), z.looseObject({
    columns: z.array(z.looseObject({ name: z.string(), type: z.string(), nullable: z.boolean(), default: z.string().nullable() })),
  })),
  enums: z.record(z.string(), z.array(z.string())).optional(),
});
export type SchemaShapeEvidence = z.infer<typeof SchemaShapeEvidenceSchema>;

/** Evidence detail of a rehearsal: per-phase status, schema hashes, the sample, the data-loss verdict and the shape after up. */
export const RehearsalEvidenceSchema = z.looseObject({
  revision: z.number().int(),
  ok: z.boolean(),
  error: z.string().optional(),
  phases: z.array(z.looseObject({
    phase: z.string(),
    label: z.string(),
    status: z.enum(['ok', 'failed']),
    durationMs: z.number(),
    detail: z.string().optional(),
    hash: z.string().optional(),
    changes: z.array(z.string()).optional(),
  })),
  hashes: z.looseObject({ before: z.string().optional(), afterUp: z.string().optional(), afterDown: z.string().optional(), afterRedo: z.string().optional() }),
  sampleRows: z.number().int(),
  dataLoss: z.looseObject({ passed: z.boolean(), summary: z.string() }).nullable(),
  /** null when up did not get that far. */
  afterUpShape: SchemaShapeEvidenceSchema.nullable(),
  server: z.string().optional(),
  durationMs: z.number().optional(),
});
export type RehearsalEvidence = z.infer<typeof RehearsalEvidenceSchema>;

/** Evidence detail of a saved revision (the Create migration step): it parsed and passed the fence when saved. */
export const RevisionEvidenceSchema = z.looseObject({
  revision: z.number().int(),
  name: z.string(),
  /** Statements of migration.sql (up and data transformation). */
  statements: z.number().int(),
  downStatements: z.number().int(),
  hasDown: z.boolean(),
});
export type RevisionEvidence = z.infer<typeof RevisionEvidenceSchema>;

/** The phases that prove the way back: down, the schema after it equal to the original, and up again. */
export const ROLLBACK_PHASES = ['down', 'verify-rollback', 'redo'] as const;
/**
 * The phases a passing rehearsal needs: the copy, up, the schema check, down, the rollback proof
 * and redo. The data-loss check has its own evidence (and gate item); dropping the copy is clean-up.
 */
export const REHEARSAL_REQUIRED_PHASES = ['clone', 'snapshot', 'up', 'verify-schema', 'down', 'verify-rollback', 'redo'] as const;

/** A rehearsal's verdict from its phases: passed when every required phase ran and passed; the failed ones in words. */
export function rehearsalOutcome(phases: readonly { phase: string; label: string; status: 'ok' | 'failed'; detail?: string }[]): { passed: boolean; failed: string[] } {
  const failed = phases.filter((p) => p.status === 'failed' && p.phase !== 'data-loss' && p.phase !== 'drop').map((p) => `${p.label}${p.detail ? ` (${p.detail})` : ''}`);
  const missing = REHEARSAL_REQUIRED_PHASES.filter((n) => !phases.some((p) => p.phase === n));
  return { passed: failed.length === 0 && missing.length === 0, failed: failed.length ? failed : missing.map((n) => `${n} did not run`) };
}

/** What ticks an item: an evidence kind, a snapshot of the target, or a field of the request. */
export type Coverage = EvidenceKindName | 'snapshot' | 'desired_changes' | 'migration_strategy';

/** The table (decision 009): step key → checklist label → what covers it. Items not listed are ticked by hand. */
export const STEP_COVERAGE: Readonly<Record<string, Readonly<Record<string, Coverage>>>> = {
  analysis: {
    'Understand current schema': 'snapshot',
    'Document desired changes': 'desired_changes',
    'Identify data impact': 'analysis',
    'Plan migration strategy': 'migration_strategy',
  },
  'create-migration': { 'Write Prisma migration': 'revision', 'Include up and down paths': 'revision' },
  'test-locally': { 'Run migration on local database': 'rehearsal', 'Verify schema changes': 'rehearsal', 'Verify rollback works': 'rehearsal' },
  'update-app-code': { 'Update Prisma schema': 'app_schema' },
  'test-app': { 'Run all tests': 'test_report' },
  'create-backup': { 'Test backup/restore': 'drill' },
  deploy: {
    'Commit migration files': 'deploy', 'Bump patch version': 'deploy', 'Push to master': 'deploy',
    'Monitor deployment logs': 'deploy', 'Verify migration runs in production': 'deploy', 'Test production application': 'deploy',
  },
  'post-deployment': { 'Run verification queries': 'verification', 'Check application health': 'health_check' },
};

/** An evidence record as the verdicts read it (lib/services/evidence.ts EvidenceView has these fields). */
export interface EvidenceFact {
  id: string;
  kind: EvidenceKindName;
  targetId: string;
  runId: string | null;
  revisionId: string | null;
  passed: boolean;
  summary: string;
  detail: unknown;
  createdAt: Date;
  staleBecause: string | null;
}

/** What the service gathered about a request for the verdicts. */
export interface StepFacts {
  now: Date;
  revision: { id: string; revision: number } | null;
  snapshot: { id: string; takenAt: Date; runId: string | null } | null;
  desiredChanges: string | null;
  migrationStrategy: string | null;
  /** The request's project and its production environment (its last); null for requests filed before projects. */
  project: { name: string; backupMaxAgeHours: number; minGateReviewers: number } | null;
  production: { name: string; targetId: string; healthCheckUrl: string | null } | null;
  /** Environments before production with a health-check URL: "Application works" needs a check against one. */
  preProductionHealthTargets: { name: string; targetId: string }[];
  /** The target whose backup "Backup procedure ready" rests on: production's, or the request's own without a project. */
  backupTarget: { id: string; name: string };
  /**
   * The latest record of each kind in its scope (the current revision where the kind has one,
   * production's target for deploys and post-deployment checks, the backup target for drills),
   * or else the latest of the kind at all (its staleBecause says why it does not count).
   */
  latest: Partial<Record<EvidenceKindName, EvidenceFact>>;
  /** The latest health check of the current revision against an environment before production. */
  preProductionHealth: EvidenceFact | null;
  /** When the backup the latest drill restored was taken (null: no drill, or its backup is gone). */
  drilledBackupTakenAt: Date | null;
}

export interface Verdict {
  satisfied: boolean;
  evidenceId: string | null;
  runId: string | null;
  /** Why not, in words a person can act on (null when satisfied). */
  reason: string | null;
}

const KIND_WORDS: Record<EvidenceKindName, string> = {
  analysis: 'an impact analysis', lock_impact: 'a lock impact measurement', backup: 'a backup', drill: 'a verified restore drill',
  data_loss: 'a data-loss check', drift: 'a drift check', rehearsal: 'a passing rehearsal', revision: 'a saved revision',
  test_report: 'a test report without failures', app_schema: "an app-schema comparison that agrees", deploy: 'a deploy',
  verification: 'passing verification queries', health_check: 'a passing health check',
};
export const evidenceKindWords = (kind: EvidenceKindName) => KIND_WORDS[kind];

const ok = (fact: EvidenceFact): Verdict => ({ satisfied: true, evidenceId: fact.id, runId: fact.runId, reason: null });
const no = (reason: string, fact?: EvidenceFact | null): Verdict => ({ satisfied: false, evidenceId: fact?.id ?? null, runId: fact?.runId ?? null, reason });

/** Passed, not stale, and (for kinds bound to a revision) on the current revision. */
export function holds(fact: EvidenceFact | null | undefined, revisionId: string | null): fact is EvidenceFact {
  return !!fact && fact.passed && !fact.staleBecause && (fact.revisionId === null || fact.revisionId === revisionId);
}

function revisionWords(facts: StepFacts) {
  return facts.revision ? `revision ${facts.revision.revision}` : 'the migration (none saved yet)';
}

/** A record of a kind on the current revision: holds, or why not. */
function revisionBound(kind: EvidenceKindName, facts: StepFacts, failedWords?: (f: EvidenceFact) => string): Verdict {
  if (!facts.revision) return no(kind === 'revision' ? 'Save the migration (Create migration).' : `Save the migration first: ${KIND_WORDS[kind]} needs a saved revision.`);
  const fact = facts.latest[kind];
  if (!fact) return no(`Waiting for ${KIND_WORDS[kind]} of ${revisionWords(facts)}.`);
  if (fact.staleBecause) return no(`Waiting for ${KIND_WORDS[kind]} of ${revisionWords(facts)}: ${fact.staleBecause}`, fact);
  if (!fact.passed) return no(failedWords ? failedWords(fact) : `The latest ${kind.replace('_', ' ')} of ${revisionWords(facts)} failed: ${fact.summary}`, fact);
  return ok(fact);
}

/** The phases of a rehearsal record that failed, in words (empty when they all passed). */
export function failedRehearsalPhases(detail: unknown, names: readonly string[] = REHEARSAL_REQUIRED_PHASES): string[] {
  const parsed = RehearsalEvidenceSchema.safeParse(detail);
  if (!parsed.success) return ['the rehearsal record is unreadable'];
  const failed = parsed.data.phases.filter((p) => names.includes(p.phase) && p.status === 'failed').map((p) => `${p.label}${p.detail ? ` (${p.detail})` : ''}`);
  const missing = names.filter((n) => !parsed.data.phases.some((p) => p.phase === n)).map((n) => `${n} did not run`);
  return [...failed, ...missing];
}

/** Whether the rehearsal's phases in `names` all passed: the rollback proof reads down, verify-rollback and redo. */
export function rehearsalPhasesVerdict(facts: StepFacts, names: readonly string[]): Verdict {
  const base = revisionBound('rehearsal', facts, (f) => `The latest rehearsal of ${revisionWords(facts)} failed: ${f.summary}`);
  const fact = facts.latest.rehearsal;
  if (!fact || fact.staleBecause || fact.revisionId !== facts.revision?.id) return base;
  const failed = failedRehearsalPhases(fact.detail, names);
  if (failed.length) return no(`The latest rehearsal of ${revisionWords(facts)} did not pass: ${failed.join('; ')}.`, fact);
  return base;
}

/** A verified drill of a backup of the backup target, younger than the project's limit. */
export function drillVerdict(facts: StepFacts): Verdict {
  const fact = facts.latest.drill;
  const where = facts.backupTarget.name;
  if (!fact) return no(`Waiting for a verified restore drill of a backup of ${where}.`);
  if (fact.targetId !== facts.backupTarget.id) return no(`The latest drill is of another target; drill a backup of ${where}.`, fact);
  if (fact.staleBecause) return no(`Drill a new backup of ${where}: ${fact.staleBecause}`, fact);
  if (!fact.passed) return no(`The latest restore drill of ${where} failed: ${fact.summary}`, fact);
  const maxHours = facts.project?.backupMaxAgeHours ?? 24;
  if (!facts.drilledBackupTakenAt) return no(`The backup the latest drill restored is gone; back up ${where} and drill it again.`, fact);
  const ageHours = (facts.now.getTime() - facts.drilledBackupTakenAt.getTime()) / 3_600_000;
  if (ageHours > maxHours) return no(`The drilled backup of ${where} is ${Math.floor(ageHours)} h old; the limit is ${maxHours} h. Back up and drill again.`, fact);
  return ok(fact);
}

function deployVerdict(facts: StepFacts, kind: 'deploy' | 'verification' | 'health_check'): Verdict {
  if (!facts.project || !facts.production) return no('Deploy needs a project: ask an admin to set up the application and its environments, then choose it on the request.');
  const fact = facts.latest[kind];
  const env = facts.production.name;
  if (!facts.revision) return no('Save the migration first.');
  if (!fact || fact.targetId !== facts.production.targetId) return no(`Waiting for ${KIND_WORDS[kind]} of ${revisionWords(facts)} in ${env}.`);
  if (fact.staleBecause) return no(`Waiting for ${KIND_WORDS[kind]} of ${revisionWords(facts)} in ${env}: ${fact.staleBecause}`, fact);
  if (!fact.passed) return no(`The latest ${kind.replace('_', ' ')} in ${env} failed: ${fact.summary}`, fact);
  return ok(fact);
}

/** Does the record say nothing undeclared was lost? (passed is that verdict; the report is the proof.) */
function dataLossVerdict(facts: StepFacts): Verdict {
  if (facts.revision && !facts.latest.data_loss && holds(facts.latest.rehearsal, facts.revision.id)) {
    return no(`The rehearsal of ${revisionWords(facts)} ran without a data sample: rehearse with a sample to check for data loss.`);
  }
  return revisionBound('data_loss', facts, (f) => `The data-loss check of ${revisionWords(facts)} found changes nobody declared: ${f.summary}`);
}

/** The verdict on one coverage for one step. */
export function coverageVerdict(coverage: Coverage, facts: StepFacts, label?: string): Verdict {
  switch (coverage) {
    case 'snapshot':
      return facts.snapshot
        ? { satisfied: true, evidenceId: null, runId: facts.snapshot.runId, reason: null }
        : no('Waiting for a schema snapshot of the target (Take snapshot).');
    case 'desired_changes':
      return facts.desiredChanges?.trim() ? { satisfied: true, evidenceId: null, runId: null, reason: null } : no('Write the desired changes on the Analysis step.');
    case 'migration_strategy':
      return facts.migrationStrategy?.trim() ? { satisfied: true, evidenceId: null, runId: null, reason: null } : no('Write the migration strategy on the Analysis step.');
    case 'revision': {
      const v = revisionBound('revision', facts);
      if (!v.satisfied || label !== 'Include up and down paths') return v;
      const detail = RevisionEvidenceSchema.safeParse(facts.latest.revision?.detail);
      return detail.success && detail.data.hasDown ? v : no(`down.sql of ${revisionWords(facts)} is still to write.`, facts.latest.revision);
    }
    case 'rehearsal':
      if (label === 'Verify rollback works') return rehearsalPhasesVerdict(facts, ROLLBACK_PHASES);
      return rehearsalPhasesVerdict(facts, REHEARSAL_REQUIRED_PHASES);
    case 'drill':
      return drillVerdict(facts);
    case 'deploy':
    case 'verification':
    case 'health_check':
      return deployVerdict(facts, coverage);
    case 'data_loss':
      return dataLossVerdict(facts);
    case 'test_report':
      return revisionBound('test_report', facts, (f) => `The latest test report of ${revisionWords(facts)} has failures: ${f.summary}`);
    case 'app_schema':
      return revisionBound('app_schema', facts, (f) => `The app's schema.prisma differs from the schema after the migration: ${f.summary}`);
    case 'analysis': {
      // An analysis that found risk still identified the data impact: its destructive operations are
      // acknowledged on the Analysis step and block the gate, not this step.
      const fact = facts.latest.analysis;
      if (fact && !fact.staleBecause && fact.revisionId === facts.revision?.id) return ok(fact);
      return revisionBound('analysis', facts);
    }
    default:
      return revisionBound(coverage, facts);
  }
}

/** What covers a checklist item here, or null when it is ticked by hand. A health check needs production to have a URL. */
export function coverageOf(stepKey: string, label: string, facts: Pick<StepFacts, 'production'>): Coverage | null {
  const coverage = STEP_COVERAGE[stepKey]?.[label] ?? null;
  if (coverage === 'health_check' && !facts.production?.healthCheckUrl) return null;
  return coverage;
}

export interface StepEvidenceItem {
  label: string;
  /** What ticks it (null: ticked by hand). */
  coveredBy: Coverage | null;
  satisfied: boolean;
  evidenceId: string | null;
  runId: string | null;
  reason: string | null;
}

export interface StepEvidence {
  /** Whether Cutover checks any of the step's items. */
  checkable: boolean;
  /** Every covered item holds. */
  satisfied: boolean;
  /** What the step still waits for, in words (one line per distinct reason). */
  waitingFor: string[];
  items: StepEvidenceItem[];
}

/**
 * The step's checklist with the evidence verdict on each covered item. Manual items carry
 * `satisfied` from their tick (`done`), so the list reads as one checklist.
 */
export function evaluateStep(stepKey: string, checklist: readonly { label: string; done: boolean }[], facts: StepFacts): StepEvidence {
  const items = checklist.map((c): StepEvidenceItem => {
    const coveredBy = coverageOf(stepKey, c.label, facts);
    if (!coveredBy) return { label: c.label, coveredBy: null, satisfied: c.done, evidenceId: null, runId: null, reason: null };
    const v = coverageVerdict(coveredBy, facts, c.label);
    return { label: c.label, coveredBy, ...v };
  });
  const covered = items.filter((i) => i.coveredBy);
  const waitingFor = [...new Set(covered.filter((i) => !i.satisfied).map((i) => i.reason ?? `${i.label}: waiting for its evidence.`))];
  return { checkable: covered.length > 0, satisfied: covered.every((i) => i.satisfied), waitingFor, items };
}

/** The refusal when someone ticks an item that evidence ticks. */
export function tickRefusal(label: string, coverage: Coverage): string {
  const what = coverage === 'snapshot' ? 'a schema snapshot of the target'
    : coverage === 'desired_changes' ? 'the desired changes written on the Analysis step'
      : coverage === 'migration_strategy' ? 'the migration strategy written on the Analysis step'
        : KIND_WORDS[coverage];
  return `"${label}" is ticked by evidence (${what}), not by hand.`;
}
