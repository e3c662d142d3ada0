import { z } from 'zod';

/**
 * Post-deployment verification (issue 8, item 7): what a verification query must return, how a
 * result is compared with it, the evidence records of the checks (`verification`, `health_check`),
 * alerts, and the procedure's five success criteria. Pure: no I/O, no clock.
 */

export const COUNT_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
export type CountOp = (typeof COUNT_OPS)[number];
export const COUNT_OP_WORDS: Record<CountOp, string> = { '=': 'equal to', '!=': 'other than', '<': 'less than', '<=': 'at most', '>': 'more than', '>=': 'at least' };

/** VerificationQuery.expectation: what the query must return. */
export const VerificationExpectationSchema = z.discriminatedUnion('kind', [
  /** The query returns one number (`SELECT count(*) ...`) compared with `value`. */
  z.object({ kind: z.literal('count'), op: z.enum(COUNT_OPS), value: z.number().int() }),
  /** The query's first row's first column, as text, equals `value` (numbers and booleans compared as such). */
  z.object({ kind: z.literal('value'), value: z.string() }),
  /** The column exists on the table (the query is generated from the catalog). */
  z.object({ kind: z.literal('column_exists'), table: z.string().min(1), column: z.string().min(1) }),
  /** The query returns no rows (e.g. rows that would break an invariant). */
  z.object({ kind: z.literal('no_rows') }),
]);
export type VerificationExpectation = z.infer<typeof VerificationExpectationSchema>;
export type ExpectationKind = VerificationExpectation['kind'];

/** The expectation in words, for lists and evidence. */
export function describeExpectation(e: VerificationExpectation): string {
  switch (e.kind) {
    case 'count':
      return `returns a number ${COUNT_OP_WORDS[e.op]} ${e.value}`;
    case 'value':
      return `returns ${JSON.stringify(e.value)}`;
    case 'column_exists':
      return `column ${e.column} exists on ${e.table}`;
    case 'no_rows':
      return 'returns no rows';
  }
}

/** schema and table of "schema.table" or "table" (public). */
export function splitTableName(table: string): { schema: string; table: string } {
  const dot = table.indexOf('.');
  return dot > 0 ? { schema: table.slice(0, dot), table: table.slice(dot + 1) } : { schema: 'public', table };
}

const literal = (s: string) => `'${s.replaceAll("'", "''")}'`;

/** The catalog query a column_exists expectation runs: a row when the column is there. */
export function columnExistsSql(tableName: string, column: string): string {
  const { schema, table } = splitTableName(tableName);
  return [
    'SELECT a.attname FROM pg_catalog.pg_attribute a',
    'JOIN pg_catalog.pg_class c ON c.oid = a.attrelid',
    'JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace',
    `WHERE n.nspname = ${literal(schema)} AND c.relname = ${literal(table)} AND a.attname = ${literal(column)}`,
    'AND a.attnum > 0 AND NOT a.attisdropped',
  ].join('\n');
}

/** What running one query gave (at most a few rows are fetched). */
export interface QueryOutcome {
  /** Rows fetched; `truncated` when there were more. */
  rowCount: number;
  truncated: boolean;
  columns: string[];
  /** The first row, values as the driver returned them. */
  firstRow: unknown[] | null;
}

export interface Comparison {
  passed: boolean;
  /** What came back, in words ("3", "no rows", "12 rows"). */
  actual: string;
  /** Why it does not match, or null. */
  reason: string | null;
}

/** A value as text the way a person reads it in psql. */
export function valueText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

const rowsText = (o: QueryOutcome) => (o.rowCount === 0 ? 'no rows' : `${o.rowCount}${o.truncated ? '+' : ''} row${o.rowCount === 1 && !o.truncated ? '' : 's'}`);

function asBoolean(s: string): boolean | null {
  const t = s.trim().toLowerCase();
  if (['t', 'true', 'yes', 'on'].includes(t)) return true;
  if (['f', 'false', 'no', 'off'].includes(t)) return false;
  return null;
}

/** Equal as numbers when both read as numbers, as booleans when both read as booleans, else as trimmed text. */
export function sameValue(actual: unknown, expected: string): boolean {
  const a = valueText(actual).trim();
  const e = expected.trim();
  if (a === e) return true;
  const an = Number(a);
  const en = Number(e);
  if (a !== '' && e !== '' && Number.isFinite(an) && Number.isFinite(en)) return an === en;
  const ab = typeof actual === 'boolean' ? actual : asBoolean(a);
  const eb = asBoolean(e);
  return ab !== null && eb !== null && ab === eb;
}

function compareCount(op: CountOp, actual: number, value: number): boolean {
  switch (op) {
    case '=': return actual === value;
    case '!=': return actual !== value;
    case '<': return actual < value;
    case '<=': return actual <= value;
    case '>': return actual > value;
    case '>=': return actual >= value;
  }
}

/** Whether a query's outcome meets its expectation, with what came back and why not. */
export function compareOutcome(e: VerificationExpectation, o: QueryOutcome): Comparison {
  switch (e.kind) {
    case 'count': {
      if (o.rowCount !== 1 || !o.firstRow || o.firstRow.length === 0) {
        return { passed: false, actual: rowsText(o), reason: `A count query returns one row with one number (SELECT count(*) ...); this one returned ${rowsText(o)}.` };
      }
      const text = valueText(o.firstRow[0]);
      const n = Number(text);
      if (text.trim() === '' || !Number.isFinite(n)) return { passed: false, actual: text, reason: `Expected a number, got ${JSON.stringify(text)}.` };
      const passed = compareCount(e.op, n, e.value);
      return { passed, actual: text, reason: passed ? null : `Expected a number ${COUNT_OP_WORDS[e.op]} ${e.value}, got ${text}.` };
    }
    case 'value': {
      if (o.rowCount === 0 || !o.firstRow || o.firstRow.length === 0) {
        return { passed: false, actual: 'no rows', reason: `Expected ${JSON.stringify(e.value)}, but the query returned no rows.` };
      }
      const text = valueText(o.firstRow[0]);
      const passed = sameValue(o.firstRow[0], e.value);
      return { passed, actual: text, reason: passed ? null : `Expected ${JSON.stringify(e.value)}, got ${JSON.stringify(text)}.` };
    }
    case 'column_exists': {
      const passed = o.rowCount > 0;
      return { passed, actual: passed ? 'column found' : 'no such column', reason: passed ? null : `Column ${e.column} does not exist on ${e.table}.` };
    }
    case 'no_rows': {
      const passed = o.rowCount === 0;
      const sample = o.firstRow ? ` (first: ${o.firstRow.map(valueText).join(', ').slice(0, 200)})` : '';
      return { passed, actual: rowsText(o), reason: passed ? null : `Expected no rows, got ${rowsText(o)}${sample}.` };
    }
  }
}

// ---- evidence --------------------------------------------------------------------------------

/** One query's result inside `verification` evidence. */
export const VerificationQueryResultSchema = z.looseObject({
  queryId: z.string(),
  name: z.string(),
  sql: z.string(),
  expectation: VerificationExpectationSchema,
  passed: z.boolean(),
  actual: z.string().nullable(),
  /** Why it failed: the comparison, or the error the query raised (timeout, refused write, ...). */
  reason: z.string().nullable(),
  durationMs: z.number(),
});
export type VerificationQueryResult = z.infer<typeof VerificationQueryResultSchema>;

/** `verification` evidence: every active query of the request run once against the deployment's target. */
export const VerificationEvidenceSchema = z.looseObject({
  deploymentId: z.string(),
  environment: z.string(),
  target: z.string(),
  /** 1 for the check right after the deploy, then 2, 3, ... on the schedule; 0 for one asked for by hand. */
  checkNumber: z.number().int(),
  queries: z.array(VerificationQueryResultSchema),
  /** Set when no query could run (the target unreachable): every query then failed with it. */
  error: z.string().nullable().optional(),
});
export type VerificationEvidence = z.infer<typeof VerificationEvidenceSchema>;

/** `health_check` evidence: one poll of the environment's health-check URL. */
export const HealthCheckEvidenceSchema = z.looseObject({
  deploymentId: z.string(),
  environment: z.string(),
  url: z.string(),
  status: z.number().int().nullable(),
  latencyMs: z.number(),
  error: z.string().nullable(),
  checkNumber: z.number().int(),
});
export type HealthCheckEvidence = z.infer<typeof HealthCheckEvidenceSchema>;

/** Verification passes when there is at least one query and every one passed. */
export function verificationPassed(results: readonly { passed: boolean }[]): boolean {
  return results.length > 0 && results.every((r) => r.passed);
}

export function verificationSummary(results: readonly { passed: boolean; name: string }[], environment: string): string {
  if (results.length === 0) return `No verification queries on ${environment} yet: write them on Post-deployment, and the scheduled checks run them.`;
  const failed = results.filter((r) => !r.passed);
  return failed.length === 0
    ? `All ${results.length} verification quer${results.length === 1 ? 'y' : 'ies'} passed on ${environment}.`
    : `${failed.length} of ${results.length} verification quer${results.length === 1 ? 'y' : 'ies'} failed on ${environment}: ${failed.map((r) => r.name).join(', ').slice(0, 300)}.`;
}

// ---- the schedule ------------------------------------------------------------------------------

/** At most this many scheduled checks per deployment, whatever the project's interval and window say. */
export const MAX_SCHEDULED_CHECKS = 100;

/**
 * When the post-deployment checks of a deployment run: one at `from` (right after the deploy),
 * then every interval while before the end of the window. Too many (a tiny interval over a long
 * window) are spread evenly over the window instead.
 */
export function verificationSchedule(from: Date, intervalSeconds: number, windowMinutes: number): { times: Date[]; until: Date } {
  const windowMs = Math.max(0, windowMinutes) * 60_000;
  const until = new Date(from.getTime() + windowMs);
  let stepMs = Math.max(1, intervalSeconds) * 1000;
  if (windowMs / stepMs + 1 > MAX_SCHEDULED_CHECKS) stepMs = windowMs / (MAX_SCHEDULED_CHECKS - 1);
  const times: Date[] = [];
  for (let t = from.getTime(); t <= until.getTime() && times.length < MAX_SCHEDULED_CHECKS; t += stepMs) times.push(new Date(Math.round(t)));
  return { times, until };
}

// ---- success criteria ----------------------------------------------------------------------------

export const SUCCESS_CRITERIA = [
  { key: 'applied', label: 'Migration applied successfully' },
  { key: 'no-data-loss', label: 'No data loss' },
  { key: 'app-works', label: 'Application works correctly' },
  { key: 'rollback-ready', label: 'Rollback plan ready' },
  { key: 'deployed-safely', label: 'Deployed safely' },
] as const;
export type SuccessCriterionKey = (typeof SUCCESS_CRITERIA)[number]['key'];

