import { z } from 'zod';
import { hasRole, isAdmin, samePersonAs, type Actor, type Party } from './permissions';
import { DRIFT_ADVICE } from './drift';

/**
 * The Analysis step's evidence (issue 7): the impact analysis of a migration revision against its
 * target's catalog (lib/engine/postgres/impact.ts) with squawk's findings beside it, as stored in
 * an analysis run's result and in its evidence record. Loose objects: a field added later keeps
 * older rows readable.
 */

export const RiskLevelSchema = z.enum(['low', 'medium', 'high']);
export type RiskLevelName = z.infer<typeof RiskLevelSchema>;

export const StatementImpactSchema = z.looseObject({
  index: z.number().int(),
  line: z.number().int(),
  column: z.number().int(),
  kind: z.string(),
  sql: z.string(),
  summary: z.string(),
  classified: z.boolean(),
  objects: z.array(z.looseObject({ kind: z.string(), name: z.string(), created: z.boolean().optional() })),
  /** A lock mode (ACCESS EXCLUSIVE, ...), 'none' or 'unknown'. */
  lock: z.string(),
  lockEffect: z.string(),
  locks: z.array(z.looseObject({ object: z.string(), objectKind: z.string(), mode: z.string(), newObject: z.boolean() })),
  rewrites: z.array(z.looseObject({ table: z.string(), reason: z.string() })),
  scans: z.array(z.looseObject({ table: z.string(), reason: z.string() })),
  transactional: z.boolean(),
  risk: RiskLevelSchema,
  riskReasons: z.array(z.string()),
  notes: z.array(z.string()),
});

export const DestructiveOperationSchema = z.looseObject({
  operationKey: z.string().min(1),
  kind: z.string(),
  object: z.string(),
  statementIndex: z.number().int(),
  line: z.number().int(),
  description: z.string(),
});
export type DestructiveOperationView = z.infer<typeof DestructiveOperationSchema>;

export const SaferStrategySchema = z.looseObject({
  kind: z.string(),
  statementIndex: z.number().int(),
  line: z.number().int(),
  title: z.string(),
  why: z.string(),
  sql: z.string(),
});

export const TableSizeSchema = z.looseObject({
  name: z.string(),
  kind: z.string(),
  rows: z.number().nullable(),
  rowsExact: z.boolean(),
  rowsNote: z.string().optional(),
  bytes: z.number().nullable(),
});

export const ImpactAnalysisSchema = z.looseObject({
  statements: z.array(StatementImpactSchema),
  destructive: z.array(DestructiveOperationSchema),
  risk: z.looseObject({ level: RiskLevelSchema, reasons: z.array(z.string()) }),
  strategies: z.array(SaferStrategySchema),
  tables: z.array(TableSizeSchema),
  unknownStatements: z.number().int(),
  atomic: z.boolean(),
  catalogRead: z.boolean(),
  serverVersion: z.string().nullable(),
  thresholds: z.looseObject({ mediumRows: z.number(), mediumBytes: z.number(), largeRows: z.number(), largeBytes: z.number() }),
});
export type ImpactAnalysisView = z.infer<typeof ImpactAnalysisSchema>;

export const SquawkFindingSchema = z.looseObject({
  rule: z.string(),
  level: z.enum(['warning', 'error']),
  message: z.string(),
  help: z.string().nullable(),
  line: z.number().int(),
  column: z.number().int(),
  endLine: z.number().int().optional(),
  endColumn: z.number().int().optional(),
  docsUrl: z.string(),
});

export const SquawkReportSchema = z.looseObject({
  version: z.string(),
  findings: z.array(SquawkFindingSchema),
  error: z.string().nullable(),
});

/** What an analysis run stores beside its outcome (run-results.ts adds ok/error/log). */
export const AnalysisRunFields = {
  /** The revision number analysed. */
  revision: z.number().int().optional(),
  durationMs: z.number().optional(),
  impact: ImpactAnalysisSchema.optional(),
  squawk: SquawkReportSchema.optional(),
};

/**
 * The analysis evidence record: what the gate needs (risk, destructive operations, sizes, counts)
 * without the statement-by-statement detail, which the run's result keeps.
 */
export const AnalysisEvidenceSchema = z.looseObject({
  revision: z.number().int(),
  risk: z.looseObject({ level: RiskLevelSchema, reasons: z.array(z.string()) }),
  destructive: z.array(DestructiveOperationSchema),
  tables: z.array(TableSizeSchema),
  statements: z.number().int(),
  unknownStatements: z.number().int(),
  strategies: z.number().int(),
  /** The strongest lock of any statement. */
  strongestLock: z.string(),
  rewrites: z.number().int(),
  scans: z.number().int(),
  catalogRead: z.boolean(),
  serverVersion: z.string().nullable(),
  squawk: z.looseObject({ version: z.string(), error: z.string().nullable(), findings: z.number().int(), rules: z.record(z.string(), z.number().int()) }),
});
export type AnalysisEvidenceDetail = z.infer<typeof AnalysisEvidenceSchema>;

const LOCK_ORDER = ['none', 'ACCESS SHARE', 'ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE', 'unknown'];

/** The evidence record of an analysis (see AnalysisEvidenceSchema). */
export function analysisEvidence(revision: number, impact: ImpactAnalysisView, squawk: z.infer<typeof SquawkReportSchema>): AnalysisEvidenceDetail {
  const rules: Record<string, number> = {};
  for (const f of squawk.findings) rules[f.rule] = (rules[f.rule] ?? 0) + 1;
  const strongestLock = impact.statements.reduce((best, s) => (LOCK_ORDER.indexOf(s.lock) > LOCK_ORDER.indexOf(best) ? s.lock : best), 'none');
  return {
    revision,
    risk: impact.risk,
    destructive: impact.destructive,
    tables: impact.tables,
    statements: impact.statements.length,
    unknownStatements: impact.unknownStatements,
    strategies: impact.strategies.length,
    strongestLock,
    rewrites: impact.statements.filter((s) => s.rewrites.length > 0).length,
    scans: impact.statements.filter((s) => s.scans.length > 0).length,
    catalogRead: impact.catalogRead,
    serverVersion: impact.serverVersion,
    squawk: { version: squawk.version, error: squawk.error, findings: squawk.findings.length, rules },
  };
}

/** One line for lists: "risk high: 2 destructive operations, 3 squawk findings". */
export function analysisSummary(impact: ImpactAnalysisView, squawkFindings: number): string {
  const parts = [
    `${impact.statements.length} statement${impact.statements.length === 1 ? '' : 's'}`,
    ...(impact.destructive.length ? [`${impact.destructive.length} destructive operation${impact.destructive.length === 1 ? '' : 's'}`] : []),
    ...(impact.unknownStatements ? [`${impact.unknownStatements} not classified`] : []),
    `${squawkFindings} squawk finding${squawkFindings === 1 ? '' : 's'}`,
  ];
  return `risk ${impact.risk.level}: ${parts.join(', ')}`;
}

/** Statements that only set up the session or the transaction: not changes anyone desires. */
const SESSION_KINDS = new Set(['TransactionStmt', 'VariableSetStmt', 'VariableShowStmt', 'DiscardStmt']);

/** "Document desired changes", prefilled: what each statement changes, in words, with its line. */
export function desiredChangesFromAnalysis(impact: ImpactAnalysisView): string {
  return impact.statements
    .filter((s) => !SESSION_KINDS.has(s.kind))
    .map((s) => `- ${s.summary} (line ${s.line})`)
    .join('\n');
}

/** "Plan migration strategy", prefilled: how it will run, and each safer strategy with its SQL. */
export function migrationStrategyFromAnalysis(impact: ImpactAnalysisView): string {
  const head = [
    `Risk ${impact.risk.level}.`,
    impact.atomic ? 'The migration runs in one transaction: every lock it takes is held until it commits.' : 'The migration runs in parts: statements that cannot run in a transaction run on their own.',
  ];
  const strategies = impact.strategies.map((s) => `Line ${s.line}: ${s.title}.\n${s.why}\n${s.sql}`);
  return [head.join(' '), ...(strategies.length ? strategies : ['No safer strategy applies: the statements take no long lock on existing data.'])].join('\n\n');
}

/** Who may acknowledge a destructive operation: database-administrator, lead, reviewer, or admin. */
export function canAcknowledgeDestructive(actor: Actor): boolean {
  return isAdmin(actor) || hasRole(actor, 'lead') || hasRole(actor, 'reviewer') || actor.agentRoles.includes('database-administrator');
}
export const ACKNOWLEDGE_REFUSAL = 'Acknowledging a destructive operation needs the database-administrator, lead, reviewer or admin role.';

/**
 * Why `actor` may not acknowledge the destructive operations of a request's revision, or null.
 * Besides the role, a second person: neither who filed the request nor who wrote the revision
 * (admins included), nor an agent answering to them or their owner, may acknowledge what their
 * own migration destroys.
 */
export function acknowledgeRefusal(actor: Actor & Party, work: { filedBy: Party; revisionAuthors: readonly Party[] }): string | null {
  if (!canAcknowledgeDestructive(actor)) return ACKNOWLEDGE_REFUSAL;
  const someoneElse = 'someone else (database-administrator, lead, reviewer or admin) must acknowledge its destructive operations.';
  const filed = samePersonAs(actor, [work.filedBy], 'filed this request');
  if (filed) return `${filed}: ${someoneElse}`;
  const wrote = samePersonAs(actor, work.revisionAuthors, 'wrote this revision of the migration');
  if (wrote) return `${wrote}: ${someoneElse}`;
  return null;
}

/**
 * The analysis's risk raised by what other evidence found on the same target and revision: a
 * drifted target, or a rehearsal statement that blocked the probe workload past the target's
 * threshold, makes the risk high and says why.
 */
export function raiseRisk(
  risk: { level: 'low' | 'medium' | 'high'; reasons: string[] },
  findings: { drift?: { summary: string } | null; lockImpact?: { summary: string } | null },
): { level: 'low' | 'medium' | 'high'; reasons: string[]; raisedBy: string[] } {
  const raisedBy = [
    ...(findings.drift ? [`The target has drifted from its migrations (${findings.drift.summary}). ${DRIFT_ADVICE}`] : []),
    ...(findings.lockImpact ? [`The rehearsal measured blocking past the target's threshold: ${findings.lockImpact.summary}`] : []),
  ];
  return { level: raisedBy.length ? 'high' : risk.level, reasons: [...risk.reasons, ...raisedBy], raisedBy };
}
