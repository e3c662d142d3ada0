import { z } from 'zod';
import { BackupRunFields, DrillTableSchema } from './backups';
import { AnalysisRunFields } from './analysis';
import { DriftRunFields } from './drift';
import { DeployEvidenceSchema, DeployPhasesSchema } from './deploy';
import type { RunKindName } from './run-rules';
import { VerificationQueryResultSchema } from './verification';

/**
 * What each kind of run stores in runs.result, as zod schemas: parsed when written
 * (lib/services/runs.ts: completeEvidenceRun, completeSnapshotRun, recordRunEvidence) and when
 * read (lib/data/*: readRunResult). A run's result is also written while it runs (partial:
 * phases so far and log lines) and when it is cancelled or times out (what it had, with
 * `aborted` and `abortedDuring`), so fields other than the kind's own are optional.
 * Loose objects: a field added later does not make older rows unreadable.
 */

/** Fields every kind's result may carry. */
const outcome = {
  /** Absent while the run is still going (partial results). */
  ok: z.boolean().optional(),
  error: z.string().optional(),
  /** true from the engine (it stopped on its signal); 'cancelled' | 'timed_out' once the run is recorded so. */
  aborted: z.union([z.boolean(), z.enum(['cancelled', 'timed_out'])]).optional(),
  abortedDuring: z.string().nullable().optional(),
  /** The run's log lines (LiveProgress). */
  log: z.array(z.string()).optional(),
};

export const StatementEvidenceSchema = z.looseObject({
  index: z.number().int().optional(),
  line: z.number().int(),
  kind: z.string(),
  sql: z.string().optional(),
  transactional: z.boolean(),
  status: z.string(),
  durationMs: z.number().nullable(),
  notices: z.array(z.string()).optional(),
  error: z.looseObject({ message: z.string(), code: z.string().optional(), line: z.number().optional(), column: z.number().optional() }).optional(),
});

export const ScriptResultSchema = z.looseObject({
  ok: z.boolean(),
  statements: z.array(StatementEvidenceSchema),
  durationMs: z.number(),
  committedBeforeFailure: z.number().optional(),
  error: z.string().optional(),
  aborted: z.boolean().optional(),
});

export const PhaseEvidenceSchema = z.looseObject({
  phase: z.string(),
  label: z.string(),
  status: z.enum(['ok', 'failed']),
  durationMs: z.number(),
  detail: z.string().optional(),
  script: ScriptResultSchema.optional(),
  changes: z.array(z.string()).optional(),
  hash: z.string().optional(),
});

const FenceViolationSchema = z.looseObject({ kind: z.string(), line: z.number(), column: z.number(), statement: z.string(), reason: z.string() });

export const SnapshotResultSchema = z.looseObject({
  ...outcome,
  snapshotId: z.string().optional(),
  hash: z.string().optional(),
  tables: z.number().int().optional(),
  previousSnapshotId: z.string().nullable().optional(),
  /** What changed on the target since its previous snapshot, in words; null for the first. */
  changesSincePrevious: z.array(z.string()).nullable().optional(),
});

/** Lock impact measured in a rehearsal with a data sample: a probe workload per statement (lib/engine/postgres/lock-probe.ts). */
const HeldLockSchema = z.looseObject({ mode: z.string(), relation: z.string(), fromMs: z.number().optional(), untilMs: z.number().optional(), heldMs: z.number() });
export const LockImpactStatementSchema = z.looseObject({
  phase: z.enum(['up', 'down']),
  index: z.number().int(),
  line: z.number().int(),
  sql: z.string(),
  startedMs: z.number(),
  durationMs: z.number(),
  probeBlockedMs: z.looseObject({ max: z.number(), total: z.number() }),
  blockedKinds: z.array(z.enum(['read', 'write'])).optional(),
  blockedBy: z.looseObject({ mode: z.string(), relation: z.string() }).optional(),
  longestLock: HeldLockSchema.nullable(),
  /** Absent in evidence records (the run's result keeps them). */
  samples: z
    .array(z.looseObject({ tMs: z.number(), latencyMs: z.number(), kind: z.enum(['read', 'write']), blocked: z.boolean(), waitedMs: z.number().optional(), table: z.string().optional(), error: z.string().optional() }))
    .optional(),
});
export const LockImpactSchema = z.looseObject({
  thresholdMs: z.number(),
  statements: z.array(LockImpactStatementSchema),
  exceeded: z.array(z.looseObject({ phase: z.enum(['up', 'down']), index: z.number().int(), line: z.number().int(), sql: z.string(), blockedMs: z.number() })),
  tables: z.array(z.string()).optional(),
  sessions: z.looseObject({ readers: z.number().int(), writers: z.number().int() }).optional(),
  monitorIntervalMs: z.number().optional(),
  probeLockTimeoutMs: z.number().optional(),
  error: z.string().optional(),
});
export type LockImpactView = z.infer<typeof LockImpactSchema>;

export const RehearsalResultSchema = z.looseObject({
  ...outcome,
  scratchDatabase: z.string().optional(),
  server: z.string().optional(),
  phases: z.array(PhaseEvidenceSchema).optional(),
  hashes: z.looseObject({ before: z.string().optional(), afterUp: z.string().optional(), afterDown: z.string().optional(), afterRedo: z.string().optional() }).optional(),
  durationMs: z.number().optional(),
  timings: z.record(z.string(), z.number()).optional(),
  /** The revision number rehearsed. */
  revision: z.number().int().optional(),
  lockImpact: LockImpactSchema.optional(),
});

/** apply and down. */
export const ChangeResultSchema = z.looseObject({
  ...outcome,
  migration: z.string().optional(),
  revision: z.number().int().optional(),
  script: ScriptResultSchema.nullable().optional(),
  note: z.string().optional(),
  violations: z.array(FenceViolationSchema).optional(),
});

export const StatusResultSchema = z.looseObject({
  ...outcome,
  entries: z
    .array(z.looseObject({
      name: z.string(),
      state: z.enum(['applied', 'pending', 'failed', 'modified', 'missing_locally']),
      fileChecksum: z.string().nullable(),
      appliedChecksum: z.string().nullable(),
    }))
    .optional(),
});

// Placeholders: each vertical replaces its own kind's schema (keep `...outcome`).
/** An impact analysis (lib/jobs/handlers/analysis.ts): the analysis and squawk's findings, on the revision analysed. */
export const AnalysisResultSchema = z.looseObject({ ...outcome, ...AnalysisRunFields });
/** A backup (lib/jobs/handlers/backup.ts): while it runs, the stage and table; at the end, what was stored. */
export const BackupResultSchema = z.looseObject({ ...outcome, ...BackupRunFields });
/** A restore drill (lib/jobs/handlers/drill.ts): the step it is at; at the end, parity per table. */
export const DrillResultSchema = z.looseObject({
  ...outcome,
  step: z.string().optional(),
  table: z.string().optional(),
  artifactId: z.string().optional(),
  backupSha256: z.string().optional(),
  failedStep: z.string().optional(),
  server: z.string().optional(),
  scratchDatabase: z.string().optional(),
  pgRestoreVersion: z.string().optional(),
  archive: z.looseObject({ format: z.string(), tocEntries: z.number(), dumpedFrom: z.string(), dumpedBy: z.string() }).optional(),
  integrityMs: z.number().optional(),
  restoreMs: z.number().optional(),
  verifyMs: z.number().optional(),
  durationMs: z.number().optional(),
  tables: z.array(DrillTableSchema).optional(),
  differing: z.array(z.string()).optional(),
});
/** A drift check (lib/jobs/handlers/drift.ts): the live schema against the replayed applied migrations. */
export const DriftResultSchema = z.looseObject({ ...outcome, ...DriftRunFields });

/** A deploy (lib/jobs/handlers/deploy.ts): the phases so far; the Deployment row holds the rest. */
export const DeployResultSchema = z.looseObject({ ...outcome, deploymentId: z.string().optional(), phases: DeployPhasesSchema.optional(), evidence: DeployEvidenceSchema.optional() });
/** Post-deployment checks (lib/jobs/handlers/verify.ts). */
export const VerifyResultSchema = z.looseObject({
  ...outcome,
  deploymentId: z.string().optional(),
  checkNumber: z.number().int().optional(),
  queries: z.array(VerificationQueryResultSchema).optional(),
  health: z.looseObject({ url: z.string(), ok: z.boolean(), status: z.number().nullable(), latencyMs: z.number(), error: z.string().nullable() }).nullable().optional(),
  /** Why the run did not check anything (its deployment recovered or replaced). */
  skipped: z.string().optional(),
});
/** A restore of the pre-deploy backup onto the environment's target (lib/jobs/handlers/restore.ts): parity per table after it. */
export const RestoreResultSchema = z.looseObject({
  ...outcome,
  deploymentId: z.string().optional(),
  artifactId: z.string().optional(),
  step: z.string().optional(),
  tables: z.array(DrillTableSchema).optional(),
  differing: z.array(z.string()).optional(),
});

export const RUN_RESULT_SCHEMAS = {
  snapshot: SnapshotResultSchema,
  rehearsal: RehearsalResultSchema,
  apply: ChangeResultSchema,
  down: ChangeResultSchema,
  status: StatusResultSchema,
  analysis: AnalysisResultSchema,
  backup: BackupResultSchema,
  drill: DrillResultSchema,
  drift: DriftResultSchema,
  deploy: DeployResultSchema,
  verify: VerifyResultSchema,
  restore: RestoreResultSchema,
} as const satisfies Record<RunKindName, z.ZodType>;

export type RunResultOf<K extends RunKindName> = z.infer<(typeof RUN_RESULT_SCHEMAS)[K]>;

/** Thrown when a handler tries to store a result its kind's schema refuses (a bug, recorded as the run's failure). */
export class RunResultError extends Error {
  constructor(kind: RunKindName, error: z.ZodError) {
    super(`The ${kind} run's result does not match its schema: ${error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(result)'}: ${i.message}`).join('; ')}`);
    this.name = 'RunResultError';
  }
}

/** Parses a result before it is written; throws RunResultError when it does not match. */
export function parseRunResult<K extends RunKindName>(kind: K, value: unknown): RunResultOf<K> {
  const parsed = RUN_RESULT_SCHEMAS[kind].safeParse(value);
  if (!parsed.success) throw new RunResultError(kind, parsed.error);
  return parsed.data as RunResultOf<K>;
}

/**
 * A stored result as its kind's schema reads it, for pages: null when there is none, or when a
 * row does not match (written by an older version, say): the page shows no result rather than
 * fail, and the server log says which run.
 */
export function readRunResult<K extends RunKindName>(kind: K, value: unknown, runId?: string): RunResultOf<K> | null {
  if (value === null || value === undefined) return null;
  const parsed = RUN_RESULT_SCHEMAS[kind].safeParse(value);
  if (parsed.success) return parsed.data as RunResultOf<K>;
  console.error(`[cutover] the stored result of ${kind} run ${runId ?? '?'} does not match its schema:`, parsed.error.issues.slice(0, 3));
  return null;
}
