import { scanSync } from 'libpg-query';
import type { Client, QueryResult } from 'pg';
import {
  ALTER_TABLE_LOCKS,
  addConstraintLock,
  blocksReads,
  blocksWrites,
  lockEffect,
  lockModeFromNumber,
  lockRank,
  relOptionsLock,
  strongest,
  type LockLevel,
  type LockMode,
} from './lock-levels';
import { runSquawk, squawkPgVersion, SQUAWK_VERSION, type SquawkFinding, type SquawkOptions } from '../squawk';
import { parseFile, planSql, type PlannedStatement, type SqlPlan } from './sql-plan';
import { formatBytes } from '../../domain/format-bytes';

/**
 * Impact analysis (issue 7, the Analysis step): for every statement of a migration, from
 * PostgreSQL's own parse tree and the target's live catalog (read through a read-only session),
 * which objects it touches, the lock it takes, whether it rewrites or scans a table and how big
 * those tables are, which operations destroy data, an overall risk with its reasons, and the
 * safer way to do the same where there is one. Statements it cannot classify say "unknown".
 *
 * The migration is followed statement by statement over a model of the catalog: a table created
 * earlier in the same file is new (nobody else holds it, it holds no rows), a column added
 * earlier has the type the file gave it, and a CHECK (col IS NOT NULL) validated earlier lets
 * SET NOT NULL skip its scan, as PostgreSQL does.
 */

export type RiskLevel = 'low' | 'medium' | 'high';

/**
 * Size thresholds of the risk. A statement that rewrites a table under ACCESS EXCLUSIVE, or
 * scans it under a lock that blocks writes, is high risk on a large table (at least
 * `largeRows` rows or `largeBytes` bytes, indexes and TOAST included) and medium on a
 * medium-sized one (at least `mediumRows` or `mediumBytes`); below that it is over in moments.
 * A table whose size cannot be read counts as medium: Cutover does not guess it is small.
 */
export interface RiskThresholds {
  mediumRows: number;
  mediumBytes: number;
  largeRows: number;
  largeBytes: number;
}

export const DEFAULT_RISK_THRESHOLDS: RiskThresholds = {
  mediumRows: 10_000,
  mediumBytes: 16 * 1024 * 1024,
  largeRows: 1_000_000,
  largeBytes: 1024 * 1024 * 1024,
};

/**
 * Row counts: a table's reltuples is exact when its last ANALYZE read it whole and nothing changed
 * since (pg_stat n_mod_since_analyze 0, same size); otherwise tables whose heap is at most this big
 * are counted (count(*), one query for all), and bigger ones get the planner's estimate.
 */
export const EXACT_COUNT_MAX_BYTES = 8 * 1024 * 1024;

export type ImpactObjectKind =
  | 'table'
  | 'partitioned table'
  | 'foreign table'
  | 'view'
  | 'materialized view'
  | 'index'
  | 'sequence'
  | 'column'
  | 'constraint'
  | 'trigger'
  | 'policy'
  | 'rule'
  | 'type'
  | 'schema'
  | 'function'
  | 'extension'
  | 'statistics'
  | 'other';

export interface ObjectRef {
  kind: ImpactObjectKind;
  name: string;
  /** Created by this statement. */
  created?: boolean;
}

export interface LockTaken {
  object: string;
  objectKind: ImpactObjectKind;
  mode: LockMode;
  /** The object was created earlier in this migration: no other session holds it yet. */
  newObject: boolean;
}

export interface TableEffect {
  table: string;
  reason: string;
}

export interface StatementImpact {
  index: number;
  line: number;
  column: number;
  /** The parse tree's node type (AlterTableStmt, IndexStmt, ...). */
  kind: string;
  /** The statement, cut to 300 characters. */
  sql: string;
  /** What it does, in words. */
  summary: string;
  /** false: Cutover cannot classify it; its lock is 'unknown'. */
  classified: boolean;
  objects: ObjectRef[];
  /** The strongest lock it takes on any existing object. */
  lock: LockLevel;
  /** What that lock stops, in words. */
  lockEffect: string;
  locks: LockTaken[];
  rewrites: TableEffect[];
  scans: TableEffect[];
  /** false for statements PostgreSQL refuses inside a transaction block (CONCURRENTLY, VACUUM). */
  transactional: boolean;
  risk: RiskLevel;
  riskReasons: string[];
  notes: string[];
}

export type DestructiveKind =
  | 'drop_table'
  | 'drop_column'
  | 'drop_index'
  | 'drop_schema'
  | 'drop_view'
  | 'drop_materialized_view'
  | 'drop_sequence'
  | 'drop_type'
  | 'drop_extension'
  | 'narrow_type'
  | 'truncate'
  | 'delete_all'
  | 'update_all'
  /** A statement whose effect Cutover cannot tell (a DO block, CALL, a call of a function that may write): it may destroy anything. */
  | 'unknown_effect';

export interface DestructiveOperation {
  /** Stable across analyses of the same SQL, e.g. "drop_column:public.orders.note": what an acknowledgement names. */
  operationKey: string;
  kind: DestructiveKind;
  object: string;
  statementIndex: number;
  line: number;
  description: string;
}

export type StrategyKind =
  | 'create_index_concurrently'
  | 'drop_index_concurrently'
  | 'reindex_concurrently'
  | 'constraint_not_valid'
  | 'unique_via_concurrent_index'
  | 'not_null_via_check'
  | 'expand_contract_rename'
  | 'expand_contract_type'
  | 'add_column_then_backfill'
  | 'batched_backfill'
  | 'refresh_concurrently';

export interface SaferStrategy {
  kind: StrategyKind;
  statementIndex: number;
  line: number;
  title: string;
  why: string;
  sql: string;
}

export interface TableSize {
  name: string;
  kind: ImpactObjectKind;
  /** Exact when `rowsExact`, else the planner's estimate; null when the table was never analysed. */
  rows: number | null;
  rowsExact: boolean;
  /** Why `rows` is an estimate where an exact count was tried (the target refused it). */
  rowsNote?: string;
  /** pg_total_relation_size: heap, indexes and TOAST. */
  bytes: number | null;
}

export interface ImpactAnalysis {
  statements: StatementImpact[];
  destructive: DestructiveOperation[];
  risk: { level: RiskLevel; reasons: string[] };
  strategies: SaferStrategy[];
  /** Existing tables the migration touches, with their sizes. */
  tables: TableSize[];
  /** Statements Cutover could not classify. */
  unknownStatements: number;
  /** The file runs in one transaction (SqlPlan.atomic): every lock is held until it commits. */
  atomic: boolean;
  /** Whether the target's catalog was read (without it, sizes and types are unknown). */
  catalogRead: boolean;
  serverVersion: string | null;
  thresholds: RiskThresholds;
}

export interface ImpactOptions {
  /** A read-only session on the target (readOnlySession); without it the analysis uses the parse tree alone. */
  client?: Client;
  thresholds?: Partial<RiskThresholds>;
}

// ---------------------------------------------------------------------------------------------
// Names

type Node = Record<string, unknown>;

const SIMPLE_IDENT = /^[a-z_][a-z0-9_$]*$/;
const keywordCache = new Map<string, boolean>();

/** Whether a lower-case name is a keyword quote_ident would quote (anything but unreserved). */
function isQuotedKeyword(name: string): boolean {
  // PostgreSQL's keywords are short and have no digits: most names need no look-up.
  if (name.length > 20 || /\d/.test(name)) return false;
  let hit = keywordCache.get(name);
  if (hit === undefined) {
    const token = scanSync(name).tokens[0];
    hit = Boolean(token && token.keywordKind > 1);
    keywordCache.set(name, hit);
  }
  return hit;
}

/** An identifier as PostgreSQL's quote_ident writes it. */
export function quoteIdent(name: string): string {
  return SIMPLE_IDENT.test(name) && !isQuotedKeyword(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const qualified = new Map<string, Map<string, string>>();
/** schema.name, each part quoted as needed: the key of every relation in the analysis. */
export function qualify(schema: string, name: string): string {
  let names = qualified.get(schema);
  if (!names) qualified.set(schema, (names = new Map()));
  let key = names.get(name);
  if (key === undefined) {
    key = `${quoteIdent(schema)}.${quoteIdent(name)}`;
    // Bounded: a long-lived worker analyses many files.
    if (names.size < 100_000) names.set(name, key);
  }
  return key;
}

const str = (n: unknown): string | undefined => ((n as Node | undefined)?.String as { sval?: string } | undefined)?.sval;
const nameList = (list: unknown): string[] => (Array.isArray(list) ? list.map(str).filter((s): s is string => s !== undefined) : []);
const listItems = (n: unknown): unknown[] => ((n as Node | undefined)?.List as { items?: unknown[] } | undefined)?.items ?? [];

interface RangeVar {
  schemaname?: string;
  relname: string;
}

const rangeVar = (n: unknown): RangeVar | undefined => {
  const r = ((n as Node | undefined)?.RangeVar as RangeVar | undefined) ?? (n as RangeVar | undefined);
  return r && typeof r.relname === 'string' ? r : undefined;
};

/** Calls `fn` on every object under `v` (a parse tree), depth first, without allocating. */
function walk(v: unknown, fn: (o: Node) => void): void {
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) walk(v[i], fn);
    return;
  }
  fn(v as Node);
  for (const k in v as Node) walk((v as Node)[k], fn);
}

/** Every RangeVar under a node (tables a query reads), without the names of its CTEs. */
function relationsIn(node: unknown): RangeVar[] {
  const found: RangeVar[] = [];
  const ctes = new Set<string>();
  walk(node, (o) => {
    const cte = o.CommonTableExpr as Node | undefined;
    if (cte && typeof cte.ctename === 'string') ctes.add(cte.ctename);
    const rv = o.RangeVar as RangeVar | undefined;
    if (rv && typeof rv.relname === 'string') found.push(rv);
  });
  return found.filter((r) => r.schemaname || !ctes.has(r.relname));
}

/** Every function name called under a node (defaults, generated columns). */
function functionsIn(node: unknown): string[][] {
  const found: string[][] = [];
  walk(node, (o) => {
    const call = o.FuncCall as Node | undefined;
    if (call) found.push(nameList(call.funcname));
  });
  return found;
}

/** INSERT, UPDATE, DELETE and MERGE statements inside WITH clauses under a node (data-modifying CTEs). */
function dataModifyingCtes(node: unknown): { kind: string; node: Node }[] {
  const found: { kind: string; node: Node }[] = [];
  walk(node, (o) => {
    const query = (o.CommonTableExpr as Node | undefined)?.ctequery as Node | undefined;
    for (const kind of ['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']) {
      if (query?.[kind]) found.push({ kind, node: query[kind] as Node });
    }
  });
  return found;
}

/** An expression without location fields, for comparing two of them. */
const shapeOf = (node: unknown) => JSON.stringify(node, (k, v) => (k === 'location' ? undefined : v));

const hasNode = (node: unknown, kind: string) => {
  let found = false;
  walk(node, (o) => (found ||= kind in o));
  return found;
};

/**
 * The value of a constant condition as far as it can be worked out without a server (true,
 * false, null), or undefined: literals, casts to boolean, AND/OR/NOT, comparisons of literals,
 * IS [NOT] NULL and IS [NOT] TRUE/FALSE/UNKNOWN.
 */
function constantValue(node: unknown): boolean | number | string | null | undefined {
  const n = node as Node | undefined;
  if (!n || typeof n !== 'object') return undefined;
  const c = n.A_Const as Node | undefined;
  if (c) {
    if (c.isnull) return null;
    if (c.boolval) return Boolean((c.boolval as Node).boolval);
    if (c.ival) return Number((c.ival as Node).ival ?? 0);
    if (c.fval) return Number((c.fval as Node).fval);
    if (c.sval) return String((c.sval as Node).sval ?? '');
    return undefined;
  }
  const cast = n.TypeCast as Node | undefined;
  if (cast) {
    const v = constantValue(cast.arg);
    const type = nameList((cast.typeName as Node | undefined)?.names).pop()?.toLowerCase();
    if (v === undefined || v === null) return v;
    if (type === 'bool' || type === 'boolean') {
      const word = String(v).trim().toLowerCase();
      if (typeof v === 'boolean') return v;
      if (['t', 'tr', 'tru', 'true', 'y', 'ye', 'yes', 'on', '1'].includes(word)) return true;
      if (['f', 'fa', 'fal', 'fals', 'false', 'n', 'no', 'of', 'off', '0'].includes(word)) return false;
      return undefined;
    }
    if (['int2', 'int4', 'int8', 'smallint', 'integer', 'bigint', 'numeric', 'float4', 'float8', 'real'].includes(type ?? '')) return Number.isFinite(Number(v)) ? Number(v) : undefined;
    if (['text', 'varchar', 'bpchar', 'name'].includes(type ?? '')) return String(v);
    return undefined;
  }
  const bool = n.BoolExpr as Node | undefined;
  if (bool) {
    const args = (Array.isArray(bool.args) ? bool.args : []).map(constantValue);
    if (bool.boolop === 'NOT_EXPR') return typeof args[0] === 'boolean' ? !args[0] : args[0] === null ? null : undefined;
    const [absorbing, neutral] = bool.boolop === 'AND_EXPR' ? [false, true] : [true, false];
    if (args.includes(absorbing)) return absorbing;
    if (args.every((v) => v === neutral)) return neutral;
    return args.includes(undefined) ? undefined : null;
  }
  const expr = n.A_Expr as Node | undefined;
  if (expr && expr.kind === 'AEXPR_OP') {
    const op = nameList(expr.name).pop();
    const [l, r] = [constantValue(expr.lexpr), constantValue(expr.rexpr)];
    if (l === undefined || r === undefined) return undefined;
    if (l === null || r === null) return null;
    const numeric = (typeof l === 'number' || typeof r === 'number') && Number.isFinite(Number(l)) && Number.isFinite(Number(r));
    const [a, b] = numeric ? [Number(l), Number(r)] : [l, r];
    if (!numeric && typeof a !== typeof b) return undefined;
    if (op === '=') return a === b;
    if (op === '<>' || op === '!=') return a !== b;
    // Text order depends on the collation: only numbers are ordered here.
    if (!numeric) return undefined;
    if (op === '<') return a < b;
    if (op === '>') return a > b;
    if (op === '<=') return a <= b;
    if (op === '>=') return a >= b;
    return undefined;
  }
  const test = n.NullTest as Node | undefined;
  if (test) {
    const v = constantValue(test.arg);
    return v === undefined ? undefined : test.nulltesttype === 'IS_NULL' ? v === null : v !== null;
  }
  const boolTest = n.BooleanTest as Node | undefined;
  if (boolTest) {
    const v = constantValue(boolTest.arg);
    if (v === undefined) return undefined;
    return ({ IS_TRUE: v === true, IS_NOT_TRUE: v !== true, IS_FALSE: v === false, IS_NOT_FALSE: v !== false, IS_UNKNOWN: v === null, IS_NOT_UNKNOWN: v !== null } as Record<string, boolean>)[String(boolTest.booltesttype)];
  }
  return undefined;
}

/**
 * Whether a WHERE (or a MERGE's join condition) lets every row through, as no WHERE at all does:
 * none; one that names no column (true, 1 = 1, 'a' = 'a', NOT false, EXISTS (SELECT 1), random() < 2:
 * the same for every row, so all of them or none) unless it is certainly false or null; an OR
 * with such a branch or with x IS NULL beside x IS NOT NULL; an AND of such conditions; and a
 * column compared with itself (id = id, id IS NOT DISTINCT FROM id).
 */
function holdsForEveryRow(where: unknown): boolean {
  if (where === undefined || where === null) return true;
  if (!hasNode(where, 'ColumnRef') && !hasNode(where, 'CurrentOfExpr')) {
    const v = constantValue(where);
    return v !== false && v !== null;
  }
  const n = where as Node;
  const bool = n.BoolExpr as Node | undefined;
  if (bool) {
    const args = Array.isArray(bool.args) ? (bool.args as Node[]) : [];
    if (bool.boolop === 'AND_EXPR') return args.every(holdsForEveryRow);
    if (bool.boolop === 'OR_EXPR') {
      if (args.some(holdsForEveryRow)) return true;
      const tests = args.map((x) => x.NullTest as Node | undefined).filter((x): x is Node => !!x);
      const tested = (type: string) => new Set(tests.filter((t) => t.nulltesttype === type).map((t) => shapeOf(t.arg)));
      const isNull = tested('IS_NULL');
      return [...tested('IS_NOT_NULL')].some((x) => isNull.has(x));
    }
    return false;
  }
  const expr = n.A_Expr as Node | undefined;
  if (expr && !hasNode(expr, 'FuncCall') && !hasNode(expr, 'SubLink')) {
    const op = nameList(expr.name).pop();
    const same = shapeOf(expr.lexpr) === shapeOf(expr.rexpr);
    if (expr.kind === 'AEXPR_NOT_DISTINCT' && same) return true;
    // Every row whose value is not NULL: as good as all of them.
    if (expr.kind === 'AEXPR_OP' && same && (op === '=' || op === '<=' || op === '>=')) return true;
  }
  const boolTest = n.BooleanTest as Node | undefined;
  if (boolTest && (boolTest.booltesttype === 'IS_TRUE' || boolTest.booltesttype === 'IS_NOT_FALSE')) return holdsForEveryRow(boolTest.arg);
  return false;
}

/** The action a MERGE takes on every matched row (a WHEN MATCHED without AND ...), as the statement kind it amounts to. */
function mergeActionOnEveryMatch(node: Node): 'DeleteStmt' | 'UpdateStmt' | undefined {
  for (const w of Array.isArray(node.mergeWhenClauses) ? (node.mergeWhenClauses as Node[]) : []) {
    const clause = w.MergeWhenClause as Node | undefined;
    if (!clause || clause.condition) continue;
    const matched = clause.matchKind ? clause.matchKind === 'MERGE_WHEN_MATCHED' : clause.matched === true;
    if (!matched) continue;
    if (clause.commandType === 'CMD_DELETE') return 'DeleteStmt';
    if (clause.commandType === 'CMD_UPDATE') return 'UpdateStmt';
    return undefined;
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Types

interface TypeRef {
  names: string[];
  /** The name as written, quoted, typmod left out (serial detection). */
  lookup: string;
  /** As written, for words and generated SQL. */
  display: string;
  /** The last part of the name, lower case (varchar, numeric, ...). */
  base: string;
  mods: number[];
  array: boolean;
}

const SERIAL_TYPES = new Set(['serial', 'serial4', 'bigserial', 'serial8', 'smallserial', 'serial2']);
const DISPLAY_NAMES: Record<string, string> = {
  int2: 'smallint',
  int4: 'integer',
  int8: 'bigint',
  float4: 'real',
  float8: 'double precision',
  bool: 'boolean',
  bpchar: 'char',
  varchar: 'varchar',
  timestamptz: 'timestamptz',
};

function typeRef(node: unknown): TypeRef | undefined {
  const t = ((node as Node | undefined)?.TypeName as Node | undefined) ?? (node as Node | undefined);
  if (!t || !Array.isArray(t.names)) return undefined;
  const names = nameList(t.names);
  const mods = (Array.isArray(t.typmods) ? t.typmods : []).map((m) => {
    const c = (m as Node).A_Const as Node | undefined;
    const ival = c?.ival as { ival?: number } | undefined;
    return ival ? (ival.ival ?? 0) : Number.NaN;
  });
  const array = Array.isArray(t.arrayBounds) && t.arrayBounds.length > 0;
  const base = names[names.length - 1]?.toLowerCase() ?? '';
  const shown = names[0] === 'pg_catalog' ? (DISPLAY_NAMES[base] ?? base) : names.map(quoteIdent).join('.');
  const modsText = mods.length ? `(${mods.map((m) => (Number.isNaN(m) ? '?' : String(m))).join(',')})` : '';
  return {
    names,
    lookup: names.map((n) => `"${n.replace(/"/g, '""')}"`).join('.') + (array ? '[]' : ''),
    display: shown + modsText + (array ? '[]' : ''),
    base,
    mods,
    array,
  };
}

/** The typmod PostgreSQL stores for a type name's modifiers (-1: none); NaN when Cutover cannot tell. */
function typmodOf(base: string, mods: number[]): number {
  if (mods.length === 0) return -1;
  if (mods.some((m) => Number.isNaN(m))) return Number.NaN;
  switch (base) {
    case 'varchar':
    case 'bpchar':
      return mods[0] + 4;
    case 'numeric':
      return ((mods[0] << 16) | (mods[1] ?? 0)) + 4;
    case 'bit':
    case 'varbit':
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
      return mods[0];
    default:
      return Number.NaN;
  }
}

/** Types whose typmod PostgreSQL can relax without touching the rows (their support functions). */
function typmodChangeIsFree(base: string, from: number, to: number): boolean {
  if (from === to || to === -1) return true;
  if (from === -1) return false;
  switch (base) {
    case 'varchar':
    case 'varbit':
      return to >= from;
    case 'numeric': {
      // Same scale and no less precision: the stored values fit as they are.
      const [fp, fs] = [((from - 4) >> 16) & 0xffff, (from - 4) & 0xffff];
      const [tp, ts] = [((to - 4) >> 16) & 0xffff, (to - 4) & 0xffff];
      return ts === fs && tp >= fp;
    }
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
      return to >= from;
    default:
      return false;
  }
}

/** Whether values of `base` may be cut, rounded or refused when the typmod goes from `from` to `to`. */
function typmodNarrows(base: string, from: number, to: number): boolean {
  if (to === -1 || from === to) return false;
  if (from === -1) return ['varchar', 'bpchar', 'bit', 'varbit', 'numeric', 'time', 'timetz', 'timestamp', 'timestamptz'].includes(base);
  switch (base) {
    case 'varchar':
    case 'bpchar':
    case 'bit':
    case 'varbit':
    case 'time':
    case 'timetz':
    case 'timestamp':
    case 'timestamptz':
      return to < from;
    case 'numeric': {
      const [fp, fs] = [((from - 4) >> 16) & 0xffff, (from - 4) & 0xffff];
      const [tp, ts] = [((to - 4) >> 16) & 0xffff, (to - 4) & 0xffff];
      return ts < fs || tp - ts < fp - fs;
    }
    default:
      return true;
  }
}

const UTC_ZONES = new Set(['utc', 'etc/utc', 'uct', 'etc/uct', 'gmt', 'etc/gmt', 'gmt0', 'etc/gmt0', 'universal', 'etc/universal', 'zulu', 'etc/zulu', 'greenwich', 'etc/greenwich']);

const TYPMOD_FAMILIES = new Set(['varchar', 'bpchar', 'bit', 'varbit', 'numeric', 'time', 'timetz', 'timestamp', 'timestamptz']);

// ---------------------------------------------------------------------------------------------
// The target's catalog, read in a few batched queries

interface CatalogColumn {
  name: string;
  type: number;
  typmod: number;
  format: string;
  notNull: boolean;
  /** The base type's name (a domain's base type for domains) and whether it is a domain with constraints. */
  baseName: string;
  base: number;
  domainChecks: boolean;
}

interface CatalogConstraint {
  name: string;
  type: string;
  validated: boolean;
  definition: string;
  columns: string[] | null;
  references: number;
  /** A foreign key's ON DELETE action: a (no action), r (restrict), c (cascade), n (set null), d (set default). */
  onDelete: string;
}

interface CatalogRelation {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  rows: number | null;
  rowsExact: boolean;
  rowsNote?: string;
  bytes: number;
  indexOf: number | null;
  columns: CatalogColumn[];
  constraints: CatalogConstraint[];
  referencedBy: number[];
}

interface ResolvedType {
  oid: number;
  name: string;
  /** Its array type's oid (0: none). */
  array: number;
  base: number;
  baseName: string;
  category: string;
  domainChecks: boolean;
}

interface Catalog {
  available: boolean;
  serverVersion: string | null;
  serverVersionNum: number | null;
  /** The TimeZone a migration's session starts with. */
  timeZone: string | null;
  searchPath: string[];
  byOid: Map<number, CatalogRelation>;
  byName: Map<string, CatalogRelation[]>;
  schemas: Set<string>;
  /** "schema.name" -> type */
  types: Map<string, ResolvedType>;
  typesByOid: Map<number, ResolvedType>;
  /** "source:target" -> castmethod and castcontext */
  casts: Map<string, { method: string; context: string }>;
  /** function name (lower case) -> the most volatile of its overloads */
  volatility: Map<string, string>;
  /** Function names with an overload outside pg_catalog (one that may shadow a builtin's). */
  userFunctions: Set<string>;
}

const EMPTY_CATALOG = (): Catalog => ({
  available: false,
  serverVersion: null,
  serverVersionNum: null,
  timeZone: null,
  searchPath: ['public'],
  byOid: new Map(),
  byName: new Map(),
  schemas: new Set(),
  types: new Map(),
  typesByOid: new Map(),
  casts: new Map(),
  volatility: new Map(),
  userFunctions: new Set(),
});

/**
 * Every name the SQL could use (identifiers, lower-cased unless quoted; keywords and words in
 * strings too): a superset of what the parse tree names, found without parsing, so the catalog
 * read can be on its way while the file is parsed.
 */
function namesIn(sql: string): string[] {
  const names = new Set<string>(sql.toLowerCase().match(/[a-z_\u0080-\uffff][\w$\u0080-\uffff]*/g));
  if (sql.includes('"')) for (const m of sql.matchAll(/"((?:[^"]|"")+)"/g)) names.add(m[1].replace(/""/g, '"'));
  return [...names];
}

/** Names that follow SCHEMA (DROP SCHEMA, REINDEX SCHEMA): their relations are read too. */
function schemasNamedIn(sql: string): string[] {
  const ident = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
  const found = new Set<string>();
  for (const m of sql.matchAll(new RegExp(String.raw`\bschema\s+(?:if\s+exists\s+)?(${ident}(?:\s*,\s*${ident})*)`, 'gi'))) {
    for (const part of m[1].split(/\s*,\s*/)) found.add(part.startsWith('"') ? part.slice(1, -1).replace(/""/g, '"') : part.toLowerCase());
  }
  return [...found];
}

/** A text[] of `values` as a SQL expression (the catalog read is sent as one simple query, so no parameters). */
const textArray = (values: string[]) => `ARRAY(SELECT json_array_elements_text(E'${JSON.stringify(values).replace(/\\/g, '\\\\').replace(/'/g, "''")}'::json))`;

const relationsSql = (names: string, schemas: string) => `
WITH wanted AS (
  SELECT c.oid FROM pg_catalog.pg_class c
  WHERE c.relname = ANY(${names}) AND c.relkind IN ('r', 'p', 'i', 'I', 'v', 'm', 'S', 'f')
  UNION
  SELECT c.oid FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
  WHERE n.nspname = ANY(${schemas}) AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
), related AS (
  SELECT oid FROM wanted
  UNION SELECT i.indrelid FROM pg_catalog.pg_index i JOIN wanted w ON w.oid = i.indexrelid
  UNION SELECT con.confrelid FROM pg_catalog.pg_constraint con JOIN wanted w ON w.oid = con.conrelid WHERE con.contype = 'f'
  UNION SELECT con.conrelid FROM pg_catalog.pg_constraint con JOIN wanted w ON w.oid = con.confrelid WHERE con.contype = 'f'
), sized AS (
  -- Sizes of tables, views and sequences; an index's size is its table's business.
  SELECT c.oid,
    CASE WHEN c.relkind IN ('i', 'I') THEN 0
         WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_catalog.pg_relation_size(t.relid)), 0) FROM pg_catalog.pg_partition_tree(c.oid) t)
         ELSE pg_catalog.pg_relation_size(c.oid) END AS heap_bytes,
    CASE WHEN c.relkind IN ('i', 'I') THEN 0
         WHEN c.relkind = 'p' THEN (SELECT coalesce(sum(pg_catalog.pg_total_relation_size(t.relid)), 0) FROM pg_catalog.pg_partition_tree(c.oid) t)
         ELSE pg_catalog.pg_total_relation_size(c.oid) END AS bytes,
    CASE WHEN c.relkind = 'p' THEN (SELECT sum(greatest(p.reltuples, 0)) FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class p ON p.oid = t.relid WHERE t.isleaf)
         ELSE c.reltuples END AS reltuples,
    CASE WHEN c.relkind = 'p' THEN (SELECT sum(p.relpages) FROM pg_catalog.pg_partition_tree(c.oid) t JOIN pg_catalog.pg_class p ON p.oid = t.relid WHERE t.isleaf)
         ELSE c.relpages END AS relpages
  FROM pg_catalog.pg_class c JOIN related r ON r.oid = c.oid
)
SELECT c.oid::int AS oid, n.nspname AS schema, c.relname AS name, c.relkind AS relkind,
  s.heap_bytes::float8 AS heap_bytes, s.bytes::float8 AS bytes, s.reltuples::float8 AS reltuples, s.relpages::float8 AS relpages,
  (SELECT i.indrelid::int FROM pg_catalog.pg_index i WHERE i.indexrelid = c.oid) AS index_of,
  (SELECT json_agg(json_build_object(
      'name', a.attname, 'type', a.atttypid::int, 'typmod', a.atttypmod, 'format', pg_catalog.format_type(a.atttypid, a.atttypmod),
      'notNull', a.attnotnull, 'base', coalesce(nullif(t.typbasetype, 0), t.oid)::int, 'baseName', bt.typname,
      'domainChecks', t.typtype = 'd' AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint dc WHERE dc.contypid = t.oid))
    ORDER BY a.attnum)
   FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
   JOIN pg_catalog.pg_type bt ON bt.oid = coalesce(nullif(t.typbasetype, 0), t.oid)
   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND c.relkind NOT IN ('i', 'I')) AS columns,
  (SELECT json_agg(json_build_object(
      'name', con.conname, 'type', con.contype, 'validated', con.convalidated,
      -- Only a CHECK's text is read (CHECK (col IS NOT NULL)); deparsing the others costs for nothing.
      'definition', CASE WHEN con.contype = 'c' THEN pg_catalog.pg_get_constraintdef(con.oid) ELSE '' END,
      'references', con.confrelid::int, 'onDelete', con.confdeltype,
      'columns', (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(attnum, ord)
                  JOIN pg_catalog.pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum)))
   FROM pg_catalog.pg_constraint con WHERE con.conrelid = c.oid) AS constraints,
  r.referenced_by,
  pg_catalog.pg_stat_get_mod_since_analyze(c.oid)::float8 AS modified_since_analyze
FROM sized s JOIN pg_catalog.pg_class c ON c.oid = s.oid JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN (SELECT confrelid, array_agg(DISTINCT conrelid::int) AS referenced_by FROM pg_catalog.pg_constraint
           WHERE contype = 'f' AND conrelid <> confrelid GROUP BY confrelid) r ON r.confrelid = c.oid`;

/** Settings, schemas, casts, the volatility of named functions, and types: pg_catalog's and the named ones (with their arrays and base types). */
const settingsSql = (names: string) => `
SELECT current_setting('server_version') AS server_version, current_setting('server_version_num')::int AS server_version_num,
  current_setting('TimeZone') AS time_zone, current_setting('default_statistics_target')::int AS statistics_target, current_user AS role,
  (SELECT boot_val FROM pg_catalog.pg_settings WHERE name = 'search_path') AS default_path,
  (SELECT json_agg(json_build_object('db', s.setdatabase <> 0, 'role', s.setrole <> 0, 'value', substr(cfg, 13)))
   FROM pg_catalog.pg_db_role_setting s, unnest(s.setconfig) cfg
   WHERE cfg LIKE 'search_path=%'
     AND s.setdatabase IN (0, (SELECT oid FROM pg_catalog.pg_database WHERE datname = current_database()))
     AND s.setrole IN (0, (SELECT oid FROM pg_catalog.pg_roles WHERE rolname = current_user))) AS path_settings,
  (SELECT array_agg(nspname::text) FROM pg_catalog.pg_namespace) AS schemas,
  (WITH named AS (SELECT t.oid, t.typarray, t.typbasetype FROM pg_catalog.pg_type t WHERE t.typname = ANY(${names}))
   SELECT json_agg(json_build_array(t.oid::int, n.nspname, t.typname, t.typarray::int, coalesce(nullif(t.typbasetype, 0), t.oid)::int, t.typcategory,
      t.typtype = 'd' AND EXISTS (SELECT 1 FROM pg_catalog.pg_constraint dc WHERE dc.contypid = t.oid)))
   FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON n.oid = t.typnamespace
   WHERE (n.nspname = 'pg_catalog' AND t.typrelid = 0)
      OR t.oid IN (SELECT oid FROM named UNION SELECT typarray FROM named UNION SELECT typbasetype FROM named)) AS types,
  (SELECT json_agg(json_build_array(p.proname, p.provolatile, p.pronamespace = 'pg_catalog'::pg_catalog.regnamespace)) FROM pg_catalog.pg_proc p WHERE p.proname = ANY(${names})) AS functions,
  (SELECT json_agg(json_build_array(castsource::int, casttarget::int, castmethod, castcontext)) FROM pg_catalog.pg_cast) AS casts`;

interface RelationRow {
  oid: number;
  schema: string;
  name: string;
  relkind: string;
  heap_bytes: number;
  bytes: number;
  reltuples: number;
  relpages: number;
  index_of: number | null;
  columns: CatalogColumn[] | null;
  constraints: CatalogConstraint[] | null;
  referenced_by: number[] | null;
  modified_since_analyze: number | null;
}

interface SettingsRow {
  server_version: string;
  server_version_num: number;
  time_zone: string;
  statistics_target: number;
  role: string;
  default_path: string;
  path_settings: { db: boolean; role: boolean; value: string }[] | null;
  schemas: string[];
  /** [oid, schema, name, array type oid, base type oid, category, domain with constraints] */
  types: [number, string, string, number, number, string, boolean][] | null;
  functions: [string, string, boolean][] | null;
  casts: [number, number, string, string][] | null;
}

/** A search_path setting as schema names ("$user" becomes the role). */
function parseSearchPath(value: string, role: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => (s.startsWith('"') ? s.slice(1, -1).replace(/""/g, '"') : s.toLowerCase()))
    .map((s) => (s === '$user' ? role : s));
}

const VOLATILITY_RANK: Record<string, number> = { i: 0, s: 1, v: 2 };

/**
 * Reads what the analysis needs from the target, in one read-only, repeatable-read transaction
 * (sizes and counts from one snapshot) and two round trips: one query for settings, types,
 * casts, functions and every relation the SQL may name (sent before this function first awaits,
 * so it runs on the server while the caller parses the file), then one for the exact counts of
 * small tables. JIT is off: these queries are quick, but the planner's estimates for
 * pg_partition_tree would have PostgreSQL spend seconds compiling them.
 */
async function readCatalog(client: Client, sql: string): Promise<Catalog> {
  const names = textArray(namesIn(sql));
  const first = client.query(
    `BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY; SET LOCAL jit = off; ${settingsSql(names)}; ${relationsSql(names, textArray(schemasNamedIn(sql)))}`,
  ) as unknown as Promise<QueryResult[]>;
  try {
    const results = await first;
    const catalog = await catalogFrom(client, results[2].rows[0] as SettingsRow, results[3].rows as RelationRow[]);
    await client.query('COMMIT');
    return catalog;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function catalogFrom(client: Client, s: SettingsRow, relations: RelationRow[]): Promise<Catalog> {
  // ANALYZE reads a table whole when it has at most 300 x default_statistics_target pages.
  const fullyAnalysedPages = 300 * s.statistics_target;
  // The target's default search_path (the session Cutover reads through pins its own to pg_catalog):
  // a database-and-role setting wins over a role's, a role's over a database's, then the server's.
  const paths = s.path_settings ?? [];
  const setting =
    paths.find((p) => p.db && p.role) ?? paths.find((p) => p.role && !p.db) ?? paths.find((p) => p.db && !p.role) ?? undefined;
  const catalog: Catalog = {
    ...EMPTY_CATALOG(),
    available: true,
    serverVersion: s.server_version,
    serverVersionNum: s.server_version_num,
    timeZone: s.time_zone,
    searchPath: parseSearchPath(setting?.value ?? s.default_path ?? '"$user", public', s.role),
    schemas: new Set(s.schemas),
  };
  const typeRows = new Map((s.types ?? []).map((t) => [t[0], t]));
  for (const [oid, schema, name, array, base, category, domainChecks] of s.types ?? []) {
    const baseRow = typeRows.get(base);
    catalog.types.set(`${schema}.${name}`, { oid, name, array, base, baseName: baseRow?.[2] ?? name, category: baseRow?.[5] ?? category, domainChecks });
  }
  for (const t of catalog.types.values()) catalog.typesByOid.set(t.oid, t);
  for (const [name, volatile, builtin] of s.functions ?? []) {
    if (!builtin) catalog.userFunctions.add(name);
    const was = catalog.volatility.get(name);
    if (was === undefined || VOLATILITY_RANK[volatile] > VOLATILITY_RANK[was]) catalog.volatility.set(name, volatile);
  }
  for (const [source, target, method, context] of s.casts ?? []) catalog.casts.set(`${source}:${target}`, { method, context });

  const toCount: RelationRow[] = [];
  for (const r of relations) {
    const counts = r.relkind === 'r' || r.relkind === 'p' || r.relkind === 'm';
    let rows: number | null = null;
    let rowsExact = false;
    // Statistics that still describe the table: an ANALYZE that read it whole, nothing changed since, same size.
    const current = r.reltuples >= 0 && r.relpages <= fullyAnalysedPages && r.modified_since_analyze === 0 && r.relpages === r.heap_bytes / 8192;
    if (counts && r.heap_bytes === 0) [rows, rowsExact] = [0, true];
    else if (counts && current && r.relkind !== 'p') [rows, rowsExact] = [Math.round(r.reltuples), true];
    else if (counts) {
      // The planner's own estimate: tuples per page at the last ANALYZE times today's pages (what a small table keeps if it cannot be counted).
      if (r.reltuples >= 0) rows = r.relpages > 0 ? Math.round((r.reltuples / r.relpages) * (r.heap_bytes / 8192)) : Math.round(r.reltuples);
      if (r.heap_bytes <= EXACT_COUNT_MAX_BYTES) toCount.push(r);
    }
    const rel: CatalogRelation = {
      oid: r.oid,
      schema: r.schema,
      name: r.name,
      relkind: r.relkind,
      rows,
      rowsExact,
      bytes: r.bytes,
      indexOf: r.index_of,
      columns: r.columns ?? [],
      constraints: r.constraints ?? [],
      referencedBy: r.referenced_by ?? [],
    };
    catalog.byOid.set(rel.oid, rel);
    const list = catalog.byName.get(rel.name) ?? [];
    list.push(rel);
    catalog.byName.set(rel.name, list);
  }
  if (toCount.length) {
    // One query for every small table whose statistics are missing or stale. A partitioned table
    // holds its rows in its partitions: it is counted without ONLY.
    const countSql = (rs: RelationRow[]) => rs
      .map((r) => `SELECT ${r.oid}::int AS oid, count(*)::float8 AS n FROM ${r.relkind === 'p' ? '' : 'ONLY '}${qualify(r.schema, r.name)}`)
      .join(' UNION ALL ');
    for (const { oid, n } of await countRows(client, toCount, countSql)) {
      const rel = catalog.byOid.get(oid);
      if (rel) [rel.rows, rel.rowsExact] = [n, true];
    }
    for (const r of toCount) {
      const rel = catalog.byOid.get(r.oid);
      if (rel && !rel.rowsExact) rel.rowsNote = 'an estimate: the target refused an exact count (row-level security or privileges)';
    }
  }
  return catalog;
}

/**
 * Runs the exact counts inside the catalog's transaction. The session has row_security off (a
 * read-only session), so a table whose policies would apply to Cutover's role refuses the read
 * (42501) rather than running the target's policy functions here, as does a table the role may
 * not read: then each table is counted on its own (behind a savepoint) and those refused keep
 * their estimate.
 */
async function countRows(client: Client, toCount: RelationRow[], countSql: (rs: RelationRow[]) => string): Promise<{ oid: number; n: number }[]> {
  const refused = (err: unknown) => (err as { code?: string }).code === '42501';
  await client.query('SAVEPOINT cutover_count');
  try {
    const { rows } = await client.query<{ oid: number; n: number }>(countSql(toCount));
    await client.query('RELEASE SAVEPOINT cutover_count');
    return rows;
  } catch (err) {
    if (!refused(err)) throw err;
    await client.query('ROLLBACK TO SAVEPOINT cutover_count');
  }
  const out: { oid: number; n: number }[] = [];
  for (const r of toCount) {
    try {
      out.push(...(await client.query<{ oid: number; n: number }>(countSql([r]))).rows);
      await client.query('RELEASE SAVEPOINT cutover_count');
      await client.query('SAVEPOINT cutover_count');
    } catch (err) {
      if (!refused(err)) throw err;
      await client.query('ROLLBACK TO SAVEPOINT cutover_count');
    }
  }
  await client.query('RELEASE SAVEPOINT cutover_count');
  return out;
}

// ---------------------------------------------------------------------------------------------
// The model of the catalog the migration changes as it goes

type RelKind = 'table' | 'partitioned table' | 'foreign table' | 'view' | 'materialized view' | 'index' | 'sequence' | 'other';

const RELKINDS: Record<string, RelKind> = {
  r: 'table',
  p: 'partitioned table',
  f: 'foreign table',
  v: 'view',
  m: 'materialized view',
  i: 'index',
  I: 'index',
  S: 'sequence',
};

interface ModelColumn {
  name: string;
  typeOid: number | null;
  /** The base type (a domain's underlying type). */
  baseOid: number | null;
  typmod: number;
  baseName: string | null;
  format: string;
  notNull: boolean;
  /** Added by this migration. */
  added: boolean;
}

interface ModelCheck {
  name: string | null;
  /** The column a CHECK (col IS NOT NULL) proves not null. */
  notNullOf: string | null;
  type: string;
  validated: boolean;
  references?: ModelRelation;
}

interface ModelRelation {
  schema: string;
  name: string;
  kind: RelKind;
  /** In the target before the migration (false: created by it). */
  existed: boolean;
  catalog?: CatalogRelation;
  /** null: the columns are not known (CREATE TABLE AS, a table the catalog does not have). */
  columns: Map<string, ModelColumn> | null;
  constraints: ModelCheck[];
  /** For an index, its table. */
  table?: ModelRelation;
  /** Not found on the target nor created by the migration: modelled as existing, of unknown size. */
  placeholder?: boolean;
}

const keys = new WeakMap<ModelRelation, string>();
/** A relation's qualified name (kept per model object: a renamed relation is a new object). */
function keyOf(r: ModelRelation): string {
  let key = keys.get(r);
  if (key === undefined) keys.set(r, (key = qualify(r.schema, r.name)));
  return key;
}

/** The IS NOT NULL column of "CHECK ((col IS NOT NULL))" as pg_get_constraintdef prints it. */
function notNullCheckColumn(definition: string): string | null {
  const m = /^CHECK \(\((.+) IS NOT NULL\)\)( NOT VALID)?$/.exec(definition);
  if (!m) return null;
  const col = m[1];
  if (col.startsWith('"') && col.endsWith('"')) return col.slice(1, -1).replace(/""/g, '"');
  return SIMPLE_IDENT.test(col) ? col : null;
}

function notNullTestColumn(expr: unknown): string | null {
  const test = (expr as Node | undefined)?.NullTest as Node | undefined;
  if (!test || test.nulltesttype !== 'IS_NOT_NULL') return null;
  const fields = nameList(((test.arg as Node | undefined)?.ColumnRef as Node | undefined)?.fields);
  return fields.length === 1 ? fields[0] : null;
}

function modelFromCatalog(rel: CatalogRelation): ModelRelation {
  return {
    schema: rel.schema,
    name: rel.name,
    kind: RELKINDS[rel.relkind] ?? 'other',
    existed: true,
    catalog: rel,
    columns: new Map(
      rel.columns.map((c) => [c.name, { name: c.name, typeOid: c.type, baseOid: c.base, typmod: c.typmod, baseName: c.baseName, format: c.format, notNull: c.notNull, added: false }]),
    ),
    constraints: rel.constraints.map((c) => ({
      name: c.name,
      type: c.type,
      validated: c.validated,
      notNullOf: c.type === 'c' ? notNullCheckColumn(c.definition) : null,
      references: undefined,
    })),
    table: undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Statement text (for the SQL of safer strategies)

interface Token {
  start: number;
  end: number;
  text: string;
  upper: string;
  depth: number;
}

/** The statement's tokens with their parenthesis depth; offsets are bytes into `text`. */
function tokensOf(text: string): Token[] {
  let depth = 0;
  try {
    return scanSync(text).tokens.map((t) => {
      if (t.text === ')') depth--;
      const token = { start: t.start, end: t.end, text: t.text, upper: t.text.toUpperCase(), depth };
      if (t.text === '(') depth++;
      return token;
    });
  } catch {
    return [];
  }
}

const withoutSemicolon = (sql: string) => sql.replace(/;\s*$/, '');

// ---------------------------------------------------------------------------------------------
// Analysis of one statement

interface Context {
  stmt: PlannedStatement;
  node: Node;
  /** The file's bytes, and where the statement starts and ends in them (its text is cut only when a strategy needs it). */
  file: Buffer;
  start: number;
  end: number;
}

/** The statement's bytes as the file holds them. */
const statementBytes = (ctx: Context) => ctx.file.subarray(ctx.start, ctx.end);

/** The statement's tokens, scanned only when a strategy needs its text. */
const tokenCache = new WeakMap<Context, Token[]>();
function contextTokens(ctx: Context): Token[] {
  let tokens = tokenCache.get(ctx);
  if (!tokens) tokenCache.set(ctx, (tokens = tokensOf(statementBytes(ctx).toString('utf8'))));
  return tokens;
}

class StatementAnalysis {
  objects: ObjectRef[] = [];
  locks: LockTaken[] = [];
  rewrites: TableEffect[] = [];
  scans: TableEffect[] = [];
  notes: string[] = [];
  summary: string[] = [];
  classified = true;
  lockUnknown = false;
  riskReasons: { level: RiskLevel; reason: string }[] = [];
  lineNo = 0;

  object(kind: ImpactObjectKind, name: string, created = false) {
    if (!this.objects.some((o) => o.kind === kind && o.name === name)) this.objects.push({ kind, name, ...(created ? { created } : {}) });
  }

  lock(rel: ModelRelation | { name: string; kind: ImpactObjectKind; newObject: boolean }, mode: LockMode) {
    const [object, objectKind, newObject] = 'schema' in rel ? [keyOf(rel), relObjectKind(rel.kind), !rel.existed] : [rel.name, rel.kind, rel.newObject];
    const held = this.locks.find((l) => l.object === object);
    if (held) {
      if (lockRank(mode) > lockRank(held.mode)) held.mode = mode;
    } else this.locks.push({ object, objectKind, mode, newObject });
  }

  unknown(why: string) {
    this.classified = false;
    this.lockUnknown = true;
    this.notes.push(why);
  }
}

function relObjectKind(kind: RelKind): ImpactObjectKind {
  return kind === 'other' ? 'other' : kind;
}

/** What ALTER TABLE / INDEX / VIEW / ... names, by the parse tree's objtype. */
const ALTERED_KINDS: Record<string, RelKind> = {
  OBJECT_TABLE: 'table',
  OBJECT_FOREIGN_TABLE: 'foreign table',
  OBJECT_INDEX: 'index',
  OBJECT_VIEW: 'view',
  OBJECT_MATVIEW: 'materialized view',
  OBJECT_SEQUENCE: 'sequence',
  OBJECT_TYPE: 'other',
};

/** "AT_SetStatistics" -> "set statistics". */
const subcommandWords = (subtype: string) => subtype.slice(3).replace(/([a-z])([A-Z])/g, '$1 $2').toLowerCase();

class ImpactAnalyzer {
  private relations = new Map<string, ModelRelation>();
  private searchPath: string[];
  readonly destructive: DestructiveOperation[] = [];
  readonly strategies: SaferStrategy[] = [];
  /** Existing tables touched, by key. */
  readonly touched = new Map<string, ModelRelation>();

  constructor(
    private readonly catalog: Catalog,
    private readonly thresholds: RiskThresholds,
  ) {
    this.searchPath = catalog.searchPath;
    this.setSearchPath(catalog.searchPath);
  }

  // --- names -------------------------------------------------------------------------------

  /** The schemas an unqualified name is looked up in, and the one a new relation goes to. */
  private defaultSchemas: string[] = [];
  private creationSchema = 'public';

  private setSearchPath(path: string[]) {
    this.searchPath = path;
    this.defaultSchemas = [...path, 'public'].filter((s, i, a) => a.indexOf(s) === i);
    this.creationSchema = this.defaultSchemas.find((s) => !this.catalog.available || this.catalog.schemas.has(s)) ?? 'public';
  }

  private schemasFor(schema: string | undefined): string[] {
    return schema ? [schema] : this.defaultSchemas;
  }

  /** The relation a name means now: created by the migration, or in the catalog, by search path. */
  find(schema: string | undefined, name: string): ModelRelation | undefined {
    for (const s of this.schemasFor(schema)) {
      const key = qualify(s, name);
      const known = this.relations.get(key);
      if (known) return known.kind === ('dropped' as RelKind) ? undefined : known;
      const rel = this.catalog.byName.get(name)?.find((r) => r.schema === s);
      if (rel) {
        const model = modelFromCatalog(rel);
        this.relations.set(key, model);
        if (model.kind === 'index' && rel.indexOf !== null) model.table = this.fromOid(rel.indexOf);
        return model;
      }
    }
    return undefined;
  }

  fromOid(oid: number): ModelRelation | undefined {
    const rel = this.catalog.byOid.get(oid);
    return rel ? this.find(rel.schema, rel.name) : undefined;
  }

  /**
   * The relation a statement names. One the target does not have (and the migration did not
   * create) is modelled as an empty placeholder in the first schema of the search path, said in a note.
   */
  relation(rv: RangeVar, a: StatementAnalysis, kind: RelKind = 'table', options: { missingOk?: boolean } = {}): ModelRelation {
    const found = this.find(rv.schemaname, rv.relname);
    if (found) {
      const table = found.kind === 'index' ? found.table : found;
      if (table?.existed && table.catalog) this.touched.set(keyOf(table), table);
      return found;
    }
    const schema = rv.schemaname ?? this.creationSchema;
    const placeholder: ModelRelation = { schema, name: rv.relname, kind, existed: true, placeholder: true, columns: null, constraints: [] };
    const name = qualify(schema, rv.relname);
    this.relations.set(name, placeholder);
    if (this.catalog.available) {
      a.notes.push(
        options.missingOk
          ? `${name} does not exist on the target: the statement does nothing (IF EXISTS).`
          : `${name} was not found on the target: its size is unknown (the statement would fail there unless something else creates it first).`,
      );
    }
    return placeholder;
  }

  created(schema: string | undefined, name: string, kind: RelKind, columns: Map<string, ModelColumn> | null): ModelRelation {
    const s = schema ?? this.creationSchema;
    const rel: ModelRelation = { schema: s, name, kind, existed: false, columns, constraints: [] };
    this.relations.set(keyOf(rel), rel);
    return rel;
  }

  markDropped(rel: ModelRelation) {
    this.relations.set(keyOf(rel), { ...rel, kind: 'dropped' as RelKind });
  }

  // --- sizes and risk ----------------------------------------------------------------------

  /** "large", "medium", "small", or "unknown" (no catalog, never analysed, not found). */
  private sizeClass(rel: ModelRelation): 'large' | 'medium' | 'small' | 'unknown' {
    if (!rel.existed) return 'small';
    const c = rel.catalog;
    if (!c) return 'unknown';
    const t = this.thresholds;
    if ((c.rows ?? 0) >= t.largeRows || c.bytes >= t.largeBytes) return 'large';
    if ((c.rows ?? 0) >= t.mediumRows || c.bytes >= t.mediumBytes) return 'medium';
    if (c.rows === null) return 'unknown';
    return 'small';
  }

  private sizeWords(rel: ModelRelation): string {
    const c = rel.catalog;
    if (!rel.existed) return 'created by this migration';
    if (!c) return 'size unknown';
    const rows = c.rows === null ? 'rows unknown (never analysed)' : `${c.rowsExact ? '' : '~'}${c.rows.toLocaleString('en-US')} rows${c.rowsNote ? ` (${c.rowsNote})` : ''}`;
    return `${rows}, ${formatBytes(c.bytes)}`;
  }

  /** Whether the table holds rows (or may: unknown counts as yes). */
  private mayHoldRows(rel: ModelRelation): boolean {
    if (!rel.existed) return false;
    const rows = rel.catalog?.rows;
    return rows === undefined || rows === null || rows > 0;
  }

  private rewriteRisk(a: StatementAnalysis, rel: ModelRelation, lock: LockMode, what: string) {
    if (!rel.existed) return;
    const size = this.sizeClass(rel);
    const held = blocksReads(lock) ? 'blocking reads and writes' : blocksWrites(lock) ? 'blocking writes' : 'without blocking reads or writes';
    const level: RiskLevel = !blocksWrites(lock) ? 'low' : size === 'large' ? 'high' : size === 'medium' || size === 'unknown' ? 'medium' : 'low';
    if (level !== 'low') a.riskReasons.push({ level, reason: `line ${a.lineNo}: ${what} ${keyOf(rel)} (${this.sizeWords(rel)}) under ${lock}, ${held} until it ends` });
  }

  // --- the statement kinds -----------------------------------------------------------------

  analyze(ctx: Context): StatementImpact {
    const a = new StatementAnalysis();
    a.lineNo = ctx.stmt.line;
    const handler = HANDLERS[ctx.stmt.kind];
    // ALTER TABLE runs the expressions it names (defaults, USING, CHECK) over the rows the table already holds.
    const alteredRv = ctx.stmt.kind === 'AlterTableStmt' ? rangeVar(ctx.node.relation) : undefined;
    const altersExisting = alteredRv ? this.find(alteredRv.schemaname, alteredRv.relname)?.existed !== false : false;
    if (handler) handler.call(this, ctx, ctx.node, a);
    else a.unknown(`Cutover does not classify ${ctx.stmt.kind} statements: check what it locks and changes by hand.`);
    // INSERT, UPDATE and DELETE inside WITH change rows as they would on their own (WITH d AS (DELETE ... RETURNING 1) SELECT ...).
    for (const nested of dataModifyingCtes(ctx.node)) this.dmlNode(ctx, nested.kind, nested.node, a, true);
    this.unknownEffect(ctx, a, altersExisting);

    const existingLocks = a.locks.filter((l) => !l.newObject);
    const lock: LockLevel = a.lockUnknown ? 'unknown' : strongest(existingLocks.map((l) => l.mode));
    const risk = a.riskReasons.reduce<RiskLevel>((r, x) => maxRisk(r, x.level), 'low');
    return {
      index: ctx.stmt.index,
      line: ctx.stmt.line,
      column: ctx.stmt.column,
      kind: ctx.stmt.kind,
      sql: ctx.stmt.sql.length > 300 ? `${ctx.stmt.sql.slice(0, 297)}...` : ctx.stmt.sql,
      summary: a.summary.join('; ') || ctx.stmt.kind,
      classified: a.classified,
      objects: a.objects,
      lock,
      lockEffect: lockEffect(lock),
      locks: a.locks,
      rewrites: a.rewrites,
      scans: a.scans,
      transactional: ctx.stmt.transactional,
      risk,
      riskReasons: a.riskReasons.map((r) => r.reason),
      notes: a.notes,
    };
  }

  private destroy(a: StatementAnalysis, ctx: Context, kind: DestructiveKind, object: string, description: string) {
    let key = `${kind}:${object}`;
    // The same operation twice in one file (two DELETEs without WHERE): each needs its own acknowledgement.
    for (let n = 2; this.destructive.some((d) => d.operationKey === key); n++) key = `${kind}:${object}#${n}`;
    this.destructive.push({ operationKey: key, kind, object, statementIndex: ctx.stmt.index, line: ctx.stmt.line, description });
    a.riskReasons.push({ level: 'high', reason: `line ${ctx.stmt.line}: ${description}` });
  }

  /**
   * A statement Cutover cannot classify, or one that calls a function that may write (a user's
   * volatile function, one Cutover cannot look up, a builtin such as lo_unlink), may drop or
   * overwrite anything: it counts as a destructive operation of unknown effect, which someone
   * must acknowledge like the others, rather than a note that is easy to pass over.
   */
  private unknownEffect(ctx: Context, a: StatementAnalysis, altersExisting: boolean) {
    const kind = ctx.stmt.kind;
    let what: string | undefined;
    if (!a.classified) {
      const called = (ctx.node.funccall as Node | undefined)?.funcname;
      what =
        kind === 'DoStmt' ? 'DO block'
        : kind === 'CallStmt' ? `CALL ${nameList(called).join('.')}`
        : kind === 'ExecuteStmt' ? `EXECUTE ${String(ctx.node.name ?? '')}`
        : kind;
    } else if (RUNS_EXPRESSIONS.has(kind) && (kind !== 'AlterTableStmt' || altersExisting)) {
      // SET DEFAULT only stores its expression.
      const cmds = Array.isArray(ctx.node.cmds) ? (ctx.node.cmds as Node[]) : [];
      const runs = kind === 'AlterTableStmt' ? cmds.filter((c) => (c.AlterTableCmd as Node | undefined)?.subtype !== 'AT_ColumnDefault') : ctx.node;
      const calls = [...new Set(functionsIn(runs).filter((fn) => this.functionMayWrite(fn)).map((fn) => fn.join('.')))];
      if (calls.length) what = `${kind.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase()} calling ${calls.slice(0, 3).join(', ')}${calls.length > 3 ? ', ...' : ''}`;
    }
    if (!what) return;
    this.destroy(
      a, ctx, 'unknown_effect', `line ${ctx.stmt.line}`,
      `effect unknown: ${what} at line ${ctx.stmt.line}: Cutover cannot tell which data it changes or drops; review it by hand`,
    );
  }

  /**
   * Whether calling a function may change data: PostgreSQL refuses writes inside IMMUTABLE and
   * STABLE functions, so only volatile ones (and those Cutover cannot look up) may. A few
   * volatile builtins that touch no table (random, nextval, ...) are fine unless a function of
   * the same name outside pg_catalog could be the one called.
   */
  private functionMayWrite(fn: string[]): boolean {
    const name = fn[fn.length - 1].toLowerCase();
    const schema = fn.length > 1 ? fn[fn.length - 2] : undefined;
    const builtin = schema === undefined || schema === 'pg_catalog';
    const v = this.catalog.volatility.get(name) ?? (builtin ? (BUILTIN_VOLATILITY[name] ?? (READ_ONLY_BUILTINS.has(name) ? 's' : undefined)) : undefined);
    if (v === 'i' || v === 's') return false;
    return !(v === 'v' && builtin && NO_WRITE_VOLATILE_BUILTINS.has(name) && (schema === 'pg_catalog' || !this.catalog.userFunctions.has(name)));
  }

  private strategy(ctx: Context, kind: StrategyKind, title: string, why: string, sql: string) {
    this.strategies.push({ kind, statementIndex: ctx.stmt.index, line: ctx.stmt.line, title, why, sql });
  }

  // ALTER TABLE ----------------------------------------------------------------------------

  alterTable(ctx: Context, node: Node, a: StatementAnalysis) {
    const objtype = String(node.objtype ?? 'OBJECT_TABLE');
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown('ALTER without a relation Cutover can read.');
    const rel = this.relation(rv, a, ALTERED_KINDS[objtype] ?? 'table', { missingOk: Boolean(node.missing_ok) });
    const table = keyOf(rel);
    a.object(relObjectKind(rel.kind), table);
    const cmds = (Array.isArray(node.cmds) ? node.cmds : []).map((c) => (c as Node).AlterTableCmd as Node);
    let mode: LockMode | undefined;
    const raise = (m: LockMode) => {
      if (!mode || lockRank(m) > lockRank(mode)) mode = m;
    };
    // Rewrites and scans are decided per subcommand; the lock they happen under is the statement's.
    const rewrites: string[] = [];
    const scans: string[] = [];
    for (const cmd of cmds) {
      const subtype = String(cmd.subtype);
      let m: LockMode | undefined = ALTER_TABLE_LOCKS[subtype];
      switch (subtype) {
        case 'AT_AddColumn':
        case 'AT_AddColumnToView':
          this.addColumn(ctx, rel, cmd, a, rewrites, scans);
          break;
        case 'AT_DropColumn':
          this.dropColumn(ctx, rel, cmd, a);
          break;
        case 'AT_AlterColumnType':
          this.alterColumnType(ctx, rel, cmd, a, rewrites);
          break;
        case 'AT_SetNotNull':
          this.setNotNull(ctx, rel, String(cmd.name), a, scans);
          break;
        case 'AT_DropNotNull': {
          const col = rel.columns?.get(String(cmd.name));
          if (col) col.notNull = false;
          a.summary.push(`drop NOT NULL on ${table}.${quoteIdent(String(cmd.name))}`);
          break;
        }
        case 'AT_ColumnDefault':
          a.summary.push(`${cmd.def ? 'set' : 'drop'} the default of ${table}.${quoteIdent(String(cmd.name))} (new rows only: no rewrite)`);
          break;
        case 'AT_AddConstraint':
          m = this.addConstraint(ctx, rel, (cmd.def as Node).Constraint as Node, a, scans);
          break;
        case 'AT_ValidateConstraint':
          this.validateConstraint(rel, String(cmd.name), a, scans);
          break;
        case 'AT_DropConstraint': {
          const name = String(cmd.name);
          const con = rel.constraints.find((c) => c.name === name);
          a.object('constraint', `${table}.${quoteIdent(name)}`);
          a.summary.push(`drop constraint ${quoteIdent(name)} of ${table}`);
          const fk = rel.catalog?.constraints.find((c) => c.name === name && c.type === 'f');
          // A foreign key's triggers on the referenced table go too.
          const ref = fk ? this.fromOid(fk.references) : con?.references;
          if (ref) this.lockAndTouch(a, ref, 'ACCESS EXCLUSIVE');
          rel.constraints = rel.constraints.filter((c) => c !== con);
          break;
        }
        case 'AT_SetLogged':
        case 'AT_SetUnLogged':
        case 'AT_SetAccessMethod':
        case 'AT_SetTableSpace': {
          const what = { AT_SetLogged: 'SET LOGGED', AT_SetUnLogged: 'SET UNLOGGED', AT_SetAccessMethod: 'SET ACCESS METHOD', AT_SetTableSpace: 'SET TABLESPACE' }[subtype];
          a.summary.push(`${what} on ${table}`);
          if (rel.kind === 'table' || rel.kind === 'materialized view' || rel.kind === 'index') rewrites.push(`${what} writes a new copy of the relation`);
          break;
        }
        case 'AT_SetRelOptions':
        case 'AT_ResetRelOptions': {
          const names = listItems(cmd.def).map((d) => {
            const el = (d as Node).DefElem as Node;
            return `${el.defnamespace ? `${String(el.defnamespace)}.` : ''}${String(el.defname)}`;
          });
          m = relOptionsLock(names);
          a.summary.push(`${subtype === 'AT_SetRelOptions' ? 'set' : 'reset'} storage parameters (${names.join(', ')}) of ${table}`);
          break;
        }
        case 'AT_AttachPartition':
        case 'AT_DetachPartition': {
          const pc = (cmd.def as Node).PartitionCmd as Node;
          const part = rangeVar(pc.name);
          if (part) {
            const partition = this.relation(part, a);
            a.object(relObjectKind(partition.kind), keyOf(partition));
            const concurrent = subtype === 'AT_DetachPartition' && Boolean(pc.concurrent);
            if (concurrent) m = 'SHARE UPDATE EXCLUSIVE';
            this.lockAndTouch(a, partition, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
            if (subtype === 'AT_AttachPartition') {
              a.summary.push(`attach ${keyOf(partition)} as a partition of ${table}`);
              if (this.mayHoldRows(partition)) {
                a.scans.push({ table: keyOf(partition), reason: 'ATTACH PARTITION checks every row against the bound, unless a valid CHECK constraint proves it' });
                this.rewriteRisk(a, partition, 'ACCESS EXCLUSIVE', 'ATTACH PARTITION scans');
              }
            } else a.summary.push(`detach ${keyOf(partition)} from ${table}${concurrent ? ' concurrently' : ''}`);
          }
          break;
        }
        case 'AT_AddIdentity':
        case 'AT_SetIdentity':
        case 'AT_DropIdentity':
          a.summary.push(`${subcommandWords(subtype)} on ${table}.${quoteIdent(String(cmd.name))}`);
          break;
        case 'AT_ChangeOwner':
          a.summary.push(`change the owner of ${table}`);
          break;
        default:
          if (m) a.summary.push(`${subcommandWords(subtype)} on ${table}`);
      }
      if (!m) {
        a.unknown(`ALTER ... ${subtype} is not in Cutover's lock table.`);
        continue;
      }
      raise(m);
    }
    if (mode) this.lockAndTouch(a, rel, mode);
    const lock = mode ?? 'ACCESS EXCLUSIVE';
    if (rewrites.length && rel.existed && this.mayHoldRows(rel)) {
      a.rewrites.push({ table, reason: rewrites.join('; ') });
      this.rewriteRisk(a, rel, lock, 'rewrites');
    } else if (rewrites.length) a.notes.push(`${table} would be rewritten (${rewrites.join('; ')}), but it ${rel.existed ? 'holds no rows' : 'was created by this migration'}.`);
    if (scans.length && rel.existed && this.mayHoldRows(rel)) {
      a.scans.push({ table, reason: scans.join('; ') });
      if (!rewrites.length) this.rewriteRisk(a, rel, lock, 'scans');
    }
  }

  lockAndTouch(a: StatementAnalysis, rel: ModelRelation, mode: LockMode) {
    a.lock(rel, mode);
    if (rel.existed && rel.catalog && rel.kind !== 'index') this.touched.set(keyOf(rel), rel);
  }

  private columnType(node: unknown): { ref: TypeRef | undefined; resolved: ResolvedType | null | undefined; typmod: number } {
    const ref = typeRef(node);
    if (!ref) return { ref, resolved: undefined, typmod: -1 };
    const resolved = this.resolveType(ref);
    return { ref, resolved, typmod: typmodOf(resolved?.baseName ?? ref.base, ref.mods) };
  }

  private resolveType(ref: TypeRef): ResolvedType | null | undefined {
    if (!this.catalog.available) return undefined;
    const [schema, name] = ref.names.length > 1 ? ref.names.slice(-2) : [undefined, ref.names[0]];
    for (const s of schema ? [schema] : ['pg_catalog', ...this.searchPath]) {
      const t = this.catalog.types.get(`${s}.${name}`);
      if (t) return ref.array ? (this.catalog.typesByOid.get(t.array) ?? null) : t;
    }
    return null;
  }


  private isVolatile(expr: unknown): { volatile: boolean; unknown: string[] } {
    const unknown: string[] = [];
    let volatile = false;
    for (const fn of functionsIn(expr)) {
      const name = fn[fn.length - 1].toLowerCase();
      const v = this.catalog.volatility.get(name) ?? BUILTIN_VOLATILITY[name];
      if (v === undefined) unknown.push(name);
      else if (v === 'v') volatile = true;
    }
    return { volatile, unknown };
  }

  private addColumn(ctx: Context, rel: ModelRelation, cmd: Node, a: StatementAnalysis, rewrites: string[], scans: string[]) {
    const def = (cmd.def as Node).ColumnDef as Node;
    const name = String(def.colname);
    const table = keyOf(rel);
    const column = `${table}.${quoteIdent(name)}`;
    const { ref, resolved, typmod } = this.columnType(def.typeName);
    a.object('column', column, true);
    a.summary.push(`add column ${quoteIdent(name)} ${ref?.display ?? ''} to ${table}`.replace(/ +/g, ' '));
    if (cmd.missing_ok && rel.columns?.has(name)) {
      a.notes.push(`${column} exists already: ADD COLUMN IF NOT EXISTS does nothing.`);
      return;
    }
    const constraints = (Array.isArray(def.constraints) ? def.constraints : []).map((c) => (c as Node).Constraint as Node);
    const defaultExpr = constraints.find((c) => c.contype === 'CONSTR_DEFAULT')?.raw_expr;
    const generated = constraints.find((c) => c.contype === 'CONSTR_GENERATED');
    const identity = constraints.find((c) => c.contype === 'CONSTR_IDENTITY');
    const notNull = constraints.some((c) => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY');
    const serial = ref && SERIAL_TYPES.has(ref.base) && (!ref.lookup.includes('.') || ref.lookup.startsWith('"pg_catalog"'));
    rel.columns?.set(name, {
      name,
      typeOid: resolved?.oid ?? null,
      baseOid: resolved?.base ?? null,
      typmod,
      baseName: resolved?.baseName ?? null,
      format: ref?.display ?? '?',
      notNull,
      added: true,
    });
    // PostgreSQL 11+ stores a non-volatile default once, in the catalog; a volatile one is computed per row.
    if (defaultExpr !== undefined) {
      const v = this.isVolatile(defaultExpr);
      if (v.volatile) {
        rewrites.push(`the default of ${quoteIdent(name)} is volatile, so every row gets its own value`);
        if (rel.existed) this.addColumnThenBackfill(ctx, rel, def, name, ref?.display ?? '<type>', notNull);
      } else if (v.unknown.length) {
        a.notes.push(`The default of ${column} calls ${v.unknown.join(', ')}, which Cutover could not look up: if volatile, the table is rewritten.`);
      }
    }
    if (generated?.generated_kind === 's' || (generated && generated.generated_kind === undefined)) rewrites.push(`${quoteIdent(name)} is a stored generated column, computed for every row`);
    if (identity) rewrites.push(`${quoteIdent(name)} is an identity column, numbered row by row`);
    if (serial) rewrites.push(`${quoteIdent(name)} is ${ref?.base}, numbered row by row from its sequence`);
    if (resolved?.domainChecks) rewrites.push(`${quoteIdent(name)} has a domain type with constraints, checked on every row`);
    if (notNull && defaultExpr === undefined && !identity && !serial && !generated) {
      scans.push(`${quoteIdent(name)} is NOT NULL without a default`);
      if (rel.existed && rel.catalog?.rows) a.notes.push(`ADD COLUMN ${quoteIdent(name)} NOT NULL without a default fails: ${table} holds ${rel.catalog.rows.toLocaleString('en-US')} rows.`);
    }
    if (resolved === null && ref) a.notes.push(`The type ${ref.display} was not found on the target.`);
    for (const c of constraints) {
      if (c.contype === 'CONSTR_CHECK') scans.push(`the CHECK on new column ${quoteIdent(name)} is checked on every row`);
      if (c.contype === 'CONSTR_PRIMARY' || c.contype === 'CONSTR_UNIQUE') scans.push(`${c.contype === 'CONSTR_PRIMARY' ? 'PRIMARY KEY' : 'UNIQUE'} on ${quoteIdent(name)} builds an index`);
      if (c.contype === 'CONSTR_FOREIGN') {
        const pk = rangeVar(c.pktable);
        if (pk) {
          const refRel = this.relation(pk, a);
          a.object(relObjectKind(refRel.kind), keyOf(refRel));
          this.lockAndTouch(a, refRel, 'SHARE ROW EXCLUSIVE');
          // A new column's foreign key has nothing to check unless the column gets a default.
          if (!c.skip_validation && defaultExpr !== undefined) scans.push(`the foreign key on ${quoteIdent(name)} is checked on every row`);
        }
      }
    }
  }

  private addColumnThenBackfill(ctx: Context, rel: ModelRelation, def: Node, name: string, type: string, notNull: boolean) {
    const table = keyOf(rel);
    const check = quoteIdent(`${rel.name}_${name}_not_null`.slice(0, 63));
    const expr = this.defaultText(ctx, def) ?? '<default expression>';
    const col = quoteIdent(name);
    this.strategy(
      ctx,
      'add_column_then_backfill',
      `Add ${table}.${col} without its volatile default, then backfill`,
      'A volatile default makes ADD COLUMN rewrite the whole table under ACCESS EXCLUSIVE. Added without it, the column is instant; the default then applies to new rows, and existing rows are filled in batches that each hold row locks briefly.',
      [
        `ALTER TABLE ${table} ADD COLUMN ${col} ${type};`,
        `ALTER TABLE ${table} ALTER COLUMN ${col} SET DEFAULT ${expr};`,
        `-- Then fill existing rows in batches (outside a transaction block):`,
        this.batchLoop(rel, `UPDATE ${table} SET ${col} = ${expr} WHERE ${col} IS NULL`, table),
        ...(notNull
          ? [
              `-- Then NOT NULL without a scan under ACCESS EXCLUSIVE:`,
              `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${col} IS NOT NULL) NOT VALID;`,
              `ALTER TABLE ${table} VALIDATE CONSTRAINT ${check};`,
              `ALTER TABLE ${table} ALTER COLUMN ${col} SET NOT NULL;`,
              `ALTER TABLE ${table} DROP CONSTRAINT ${check};`,
            ]
          : []),
      ].join('\n'),
    );
  }

  /** The text of a column definition's DEFAULT expression, from the statement's tokens. */
  private defaultText(ctx: Context, def: Node): string | undefined {
    const from = typeof def.location === 'number' ? def.location - ctx.start : 0;
    const tokens = contextTokens(ctx);
    const i = tokens.findIndex((t) => t.start >= from && t.upper === 'DEFAULT');
    if (i < 0) return undefined;
    const depth = tokens[i].depth;
    // The expression ends at the column definition's next clause, its comma, or the list's closing parenthesis.
    const stop = new Set(['NOT', 'NULL', 'CHECK', 'REFERENCES', 'UNIQUE', 'PRIMARY', 'CONSTRAINT', 'COLLATE', 'GENERATED', ',', ';']);
    let j = i + 1;
    while (j < tokens.length && tokens[j].depth >= depth && !(tokens[j].depth === depth && stop.has(tokens[j].upper))) j++;
    if (j === i + 1) return undefined;
    return statementBytes(ctx).subarray(tokens[i + 1].start, tokens[j - 1].end).toString('utf8');
  }

  private dropColumn(ctx: Context, rel: ModelRelation, cmd: Node, a: StatementAnalysis) {
    const name = String(cmd.name);
    const table = keyOf(rel);
    const column = `${table}.${quoteIdent(name)}`;
    a.object('column', column);
    a.summary.push(`drop column ${quoteIdent(name)} of ${table}`);
    const col = rel.columns?.get(name);
    if (rel.columns && !col) {
      a.notes.push(cmd.missing_ok ? `${column} does not exist: DROP COLUMN IF EXISTS does nothing.` : `${column} was not found on the target.`);
      if (cmd.missing_ok) return;
    }
    if (rel.existed && !col?.added) {
      const rows = rel.catalog?.rows;
      const held = rows === null || rows === undefined ? 'every row' : `${rows.toLocaleString('en-US')} rows`;
      this.destroy(a, ctx, 'drop_column', column, `drops column ${column} and the values it holds in ${held}`);
    }
    rel.columns?.delete(name);
  }

  private alterColumnType(ctx: Context, rel: ModelRelation, cmd: Node, a: StatementAnalysis, rewrites: string[]) {
    const name = String(cmd.name);
    const table = keyOf(rel);
    const column = `${table}.${quoteIdent(name)}`;
    const def = (cmd.def as Node).ColumnDef as Node;
    const { ref, resolved, typmod } = this.columnType(def.typeName);
    const col = rel.columns?.get(name);
    a.object('column', column);
    a.summary.push(`change the type of ${column}${col ? ` from ${col.format}` : ''} to ${ref?.display ?? '?'}`);
    const using = def.raw_default;
    // USING that only names the column (or casts it) converts as a plain cast would.
    const usingCol = (() => {
      if (!using) return true;
      let e = using as Node;
      if (e.TypeCast) e = (e.TypeCast as Node).arg as Node;
      const f = nameList((e.ColumnRef as Node | undefined)?.fields);
      return f.length >= 1 && f[f.length - 1] === name;
    })();
    let rewrite: boolean | 'unknown';
    let narrowing: string | null = null;
    if (!col || col.typeOid === null || !resolved) {
      rewrite = 'unknown';
    } else {
      const fromBase = col.baseName ?? '';
      const toBase = resolved.baseName;
      const sameBase = col.baseOid === resolved.base;
      if (sameBase && resolved.oid === col.typeOid && !Number.isNaN(typmod)) {
        rewrite = !usingCol || !typmodChangeIsFree(toBase, col.typmod, typmod);
        if (typmodNarrows(toBase, col.typmod, typmod)) narrowing = `${col.format} to ${ref?.display}`;
      } else if (sameBase && !Number.isNaN(typmod)) {
        // A domain over the same base type: the domain's constraints are checked on every row.
        rewrite = !usingCol || !typmodChangeIsFree(toBase, col.typmod, typmod) || resolved.domainChecks;
        if (typmodNarrows(toBase, col.typmod, typmod)) narrowing = `${col.format} to ${ref?.display}`;
      } else {
        const cast = this.catalog.casts.get(`${col.baseOid}:${resolved.base}`);
        const binary = cast?.method === 'b' && usingCol;
        // Binary-coercible, unless the target's length or precision has to be checked on each value.
        rewrite = !binary || (typmod !== -1 && TYPMOD_FAMILIES.has(toBase)) || resolved.domainChecks;
        if (Number.isNaN(typmod)) rewrite = true;
        const toUnboundedString = resolved.category === 'S' && (typmod === -1 || Number.isNaN(typmod)) && toBase !== 'bpchar' && toBase !== 'char';
        if (!toUnboundedString) {
          if (resolved.category === 'S' && typmod !== -1) narrowing = `${col.format} to ${ref?.display}, a bounded string`;
          else if (cast?.context !== 'i') narrowing = `${col.format} to ${ref?.display}, a conversion that is not implicit (values may be cut, rounded or refused)`;
          else if (typmod !== -1 && TYPMOD_FAMILIES.has(toBase)) narrowing = `${col.format} to ${ref?.display}, with a length or precision limit`;
        }
        void fromBase;
      }
      // PostgreSQL 12+ converts between timestamp and timestamptz without touching rows when the time zone is UTC.
      const between = new Set([fromBase, toBase]);
      if (between.has('timestamp') && between.has('timestamptz') && fromBase !== toBase && usingCol && !Number.isNaN(typmod)) {
        const utc = this.catalog.timeZone !== null && UTC_ZONES.has(this.catalog.timeZone.toLowerCase());
        if (utc && typmodChangeIsFree(toBase, col.typmod, typmod) && (this.catalog.serverVersionNum ?? 0) >= 120000) rewrite = false;
        else a.notes.push(`timestamp and timestamptz convert without a rewrite only when the time zone is UTC (the target's is ${this.catalog.timeZone ?? 'unknown'}).`);
      }
    }
    if (rewrite === 'unknown') {
      a.notes.push(`Cutover cannot tell whether changing ${column} to ${ref?.display ?? 'this type'} rewrites the table (${!this.catalog.available ? 'no catalog' : !col ? 'the column was not found' : 'the type was not found'}); assume it does.`);
      rewrites.push(`changing the type of ${quoteIdent(name)} may rewrite every row`);
    } else if (rewrite) rewrites.push(`changing ${quoteIdent(name)} to ${ref?.display} converts every row${usingCol ? '' : ' (USING)'}`);
    else a.notes.push(`${col?.format} to ${ref?.display} is binary-compatible: no rewrite.`);
    if (narrowing && rel.existed && !col?.added) {
      this.destroy(a, ctx, 'narrow_type', column, `narrows ${column} from ${narrowing}`);
    }
    if (rel.existed && !col?.added && rewrite !== false) this.expandContractType(ctx, rel, name, col, ref, using ? this.usingText(ctx, def) : undefined);
    if (col) Object.assign(col, { typeOid: resolved?.oid ?? null, baseOid: resolved?.base ?? null, typmod, baseName: resolved?.baseName ?? null, format: ref?.display ?? '?' });
  }

  private usingText(ctx: Context, def: Node): string | undefined {
    const tokens = contextTokens(ctx);
    const from = typeof def.location === 'number' ? def.location - ctx.start : 0;
    const i = tokens.findIndex((t) => t.start >= from && t.upper === 'USING');
    if (i < 0) return undefined;
    let j = i + 1;
    while (j < tokens.length && !(tokens[j].depth <= tokens[i].depth && (tokens[j].text === ',' || tokens[j].text === ';'))) j++;
    return statementBytes(ctx).subarray(tokens[i + 1].start, tokens[j - 1].end).toString('utf8');
  }

  private expandContractType(ctx: Context, rel: ModelRelation, name: string, col: ModelColumn | undefined, ref: TypeRef | undefined, using: string | undefined) {
    const table = keyOf(rel);
    const old = quoteIdent(name);
    const fresh = quoteIdent(`${name}_new`);
    const type = ref?.display ?? '<new type>';
    const convert = using ? using.replace(new RegExp(`\\b${name}\\b`, 'g'), `NEW.${old}`) : `NEW.${old}::${type}`;
    const fn = qualify(rel.schema, `${rel.name}_${name}_sync`.slice(0, 63));
    const trigger = quoteIdent(`${rel.name}_${name}_sync`.slice(0, 63));
    const check = quoteIdent(`${rel.name}_${name}_new_not_null`.slice(0, 63));
    this.strategy(
      ctx,
      'expand_contract_type',
      `Change ${table}.${old} by expand and contract`,
      `Changing ${old}${col ? ` from ${col.format}` : ''} to ${type} rewrites ${table} under ACCESS EXCLUSIVE. A new column kept in step by a trigger and filled in batches changes it without a long lock; the swap is a quick rename.`,
      [
        `-- 1. Expand: the new column beside the old one, kept in step by a trigger.`,
        `ALTER TABLE ${table} ADD COLUMN ${fresh} ${type};`,
        `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$`,
        `BEGIN`,
        `  NEW.${fresh} := ${convert};`,
        `  RETURN NEW;`,
        `END $$;`,
        `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}();`,
        `-- 2. Backfill existing rows in batches (outside a transaction block):`,
        this.batchLoop(rel, `UPDATE ${table} SET ${fresh} = ${using ?? `${old}::${type}`} WHERE ${fresh} IS NULL AND ${old} IS NOT NULL`, table),
        ...(col?.notNull
          ? [
              `-- ${old} is NOT NULL: prove it for ${fresh} without a scan under ACCESS EXCLUSIVE.`,
              `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${fresh} IS NOT NULL) NOT VALID;`,
              `ALTER TABLE ${table} VALIDATE CONSTRAINT ${check};`,
            ]
          : []),
        `-- 3. Contract in one short transaction (recreate ${old}'s default, indexes and constraints on ${fresh} first):`,
        `BEGIN;`,
        `DROP TRIGGER ${trigger} ON ${table};`,
        `DROP FUNCTION ${fn}();`,
        `ALTER TABLE ${table} DROP COLUMN ${old};`,
        `ALTER TABLE ${table} RENAME COLUMN ${fresh} TO ${old};`,
        ...(col?.notNull ? [`ALTER TABLE ${table} ALTER COLUMN ${old} SET NOT NULL;`, `ALTER TABLE ${table} DROP CONSTRAINT ${check};`] : []),
        `COMMIT;`,
      ].join('\n'),
    );
  }

  private hasNotNullProof(rel: ModelRelation, column: string): boolean {
    return rel.constraints.some((c) => c.type === 'c' && c.validated && c.notNullOf === column);
  }

  private setNotNull(ctx: Context, rel: ModelRelation, name: string, a: StatementAnalysis, scans: string[]) {
    const table = keyOf(rel);
    const column = `${table}.${quoteIdent(name)}`;
    a.object('column', column);
    a.summary.push(`set ${column} NOT NULL`);
    const col = rel.columns?.get(name);
    if (col?.notNull) {
      a.notes.push(`${column} is NOT NULL already: nothing to check.`);
      return;
    }
    if (col) col.notNull = true;
    // PostgreSQL 12+ skips the scan when a validated CHECK (col IS NOT NULL) proves it.
    if (this.hasNotNullProof(rel, name)) {
      a.notes.push(`A validated CHECK (${quoteIdent(name)} IS NOT NULL) proves it: no scan.`);
      return;
    }
    scans.push(`SET NOT NULL checks every row of ${quoteIdent(name)}`);
    if (!rel.existed || !this.mayHoldRows(rel)) return;
    const check = quoteIdent(`${rel.name}_${name}_not_null`.slice(0, 63));
    this.strategy(
      ctx,
      'not_null_via_check',
      `Set ${column} NOT NULL through a validated CHECK`,
      'SET NOT NULL scans the whole table under ACCESS EXCLUSIVE. A CHECK added NOT VALID is instant, VALIDATE scans under SHARE UPDATE EXCLUSIVE (reads and writes go on), and SET NOT NULL then trusts the validated CHECK instead of scanning (PostgreSQL 12+).',
      [
        `ALTER TABLE ${table} ADD CONSTRAINT ${check} CHECK (${quoteIdent(name)} IS NOT NULL) NOT VALID;`,
        `ALTER TABLE ${table} VALIDATE CONSTRAINT ${check};`,
        `ALTER TABLE ${table} ALTER COLUMN ${quoteIdent(name)} SET NOT NULL;`,
        `ALTER TABLE ${table} DROP CONSTRAINT ${check};`,
      ].join('\n'),
    );
  }

  private addConstraint(ctx: Context, rel: ModelRelation, con: Node, a: StatementAnalysis, scans: string[]): LockMode {
    const table = keyOf(rel);
    const contype = String(con.contype);
    const name = typeof con.conname === 'string' ? con.conname : null;
    const notValid = Boolean(con.skip_validation);
    const label = { CONSTR_CHECK: 'CHECK', CONSTR_FOREIGN: 'FOREIGN KEY', CONSTR_PRIMARY: 'PRIMARY KEY', CONSTR_UNIQUE: 'UNIQUE', CONSTR_EXCLUSION: 'EXCLUDE', CONSTR_NOTNULL: 'NOT NULL' }[contype] ?? contype;
    a.summary.push(`add ${label} constraint${name ? ` ${quoteIdent(name)}` : ''} to ${table}${notValid ? ' NOT VALID' : ''}`);
    if (name) a.object('constraint', `${table}.${quoteIdent(name)}`, true);
    const mayHold = rel.existed && this.mayHoldRows(rel);
    switch (contype) {
      case 'CONSTR_CHECK': {
        rel.constraints.push({ name, type: 'c', validated: !notValid, notNullOf: notNullTestColumn(con.raw_expr) });
        if (!notValid) {
          scans.push('the CHECK is checked on every row');
          if (mayHold) this.notValidStrategy(ctx, rel, con, name ?? `${rel.name}_check`);
        }
        break;
      }
      case 'CONSTR_FOREIGN': {
        const pk = rangeVar(con.pktable);
        const refRel = pk ? this.relation(pk, a) : undefined;
        if (refRel) {
          a.object(relObjectKind(refRel.kind), keyOf(refRel));
          this.lockAndTouch(a, refRel, 'SHARE ROW EXCLUSIVE');
        }
        rel.constraints.push({ name, type: 'f', validated: !notValid, notNullOf: null, references: refRel });
        if (!notValid) {
          scans.push(`the foreign key is checked on every row${refRel ? ` against ${keyOf(refRel)}` : ''}`);
          const cols = nameList(con.fk_attrs);
          if (mayHold) this.notValidStrategy(ctx, rel, con, name ?? `${rel.name}_${cols.join('_')}_fkey`);
        }
        break;
      }
      case 'CONSTR_PRIMARY':
      case 'CONSTR_UNIQUE':
      case 'CONSTR_EXCLUSION': {
        const keys = nameList(con.keys);
        if (contype === 'CONSTR_PRIMARY') {
          for (const k of keys) {
            const col = rel.columns?.get(k);
            if (col) col.notNull = true;
          }
        }
        if (typeof con.indexname === 'string') {
          a.notes.push(`Uses the existing index ${quoteIdent(con.indexname)}: no index build.`);
          if (contype === 'CONSTR_PRIMARY') scans.push('PRIMARY KEY USING INDEX checks its columns are NOT NULL');
        } else {
          scans.push(`${label} builds an index`);
          if (mayHold && contype !== 'CONSTR_EXCLUSION') {
            const conName = name ?? (contype === 'CONSTR_PRIMARY' ? `${rel.name}_pkey` : `${rel.name}_${keys.join('_')}_key`);
            const index = quoteIdent(`${conName}_idx`.slice(0, 63));
            this.strategy(
              ctx,
              'unique_via_concurrent_index',
              `Build the index for ${label} ${quoteIdent(conName)} concurrently first`,
              `${label} builds its index under ACCESS EXCLUSIVE, blocking reads and writes for the whole build. CREATE UNIQUE INDEX CONCURRENTLY builds it while they go on; attaching it as the constraint is then instant.`,
              [
                `-- Outside a transaction block:`,
                `CREATE UNIQUE INDEX CONCURRENTLY ${index} ON ${table} (${keys.map(quoteIdent).join(', ')});`,
                `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(conName)} ${label} USING INDEX ${index};`,
              ].join('\n'),
            );
          }
        }
        break;
      }
      case 'CONSTR_NOTNULL': {
        for (const k of nameList(con.keys)) this.setNotNull(ctx, rel, k, a, scans);
        break;
      }
      default:
        a.notes.push(`Constraint kind ${contype} is not analysed beyond its lock.`);
    }
    return addConstraintLock(contype);
  }

  private notValidStrategy(ctx: Context, rel: ModelRelation, con: Node, name: string) {
    const table = keyOf(rel);
    const text = this.constraintText(ctx, con);
    if (!text) return;
    const body = /^CONSTRAINT\s/i.test(text) ? text.replace(/^CONSTRAINT\s+("(?:[^"]|"")+"|\S+)\s+/i, '') : text;
    const fk = con.contype === 'CONSTR_FOREIGN';
    this.strategy(
      ctx,
      'constraint_not_valid',
      `Add ${quoteIdent(name)} NOT VALID, then VALIDATE it`,
      `Adding a ${fk ? 'foreign key' : 'CHECK'} checks every existing row while holding ${fk ? 'SHARE ROW EXCLUSIVE on both tables (writes wait)' : 'ACCESS EXCLUSIVE (reads and writes wait)'}. NOT VALID adds it instantly for new rows; VALIDATE CONSTRAINT then checks the old rows under SHARE UPDATE EXCLUSIVE, which lets reads and writes go on.`,
      [
        `ALTER TABLE ${table} ADD CONSTRAINT ${quoteIdent(name)} ${body} NOT VALID;`,
        `-- In a later transaction:`,
        `ALTER TABLE ${table} VALIDATE CONSTRAINT ${quoteIdent(name)};`,
      ].join('\n'),
    );
  }

  /** A table constraint's text as written, from its location to the end of the subcommand. */
  private constraintText(ctx: Context, con: Node): string | undefined {
    if (typeof con.location !== 'number') return undefined;
    const from = con.location - ctx.start;
    const tokens = contextTokens(ctx);
    const i = tokens.findIndex((t) => t.start >= from);
    if (i < 0) return undefined;
    let j = i;
    while (j + 1 < tokens.length && !(tokens[j + 1].depth <= tokens[i].depth && (tokens[j + 1].text === ',' || tokens[j + 1].text === ';'))) j++;
    return statementBytes(ctx).subarray(tokens[i].start, tokens[j].end).toString('utf8');
  }

  private validateConstraint(rel: ModelRelation, name: string, a: StatementAnalysis, scans: string[]) {
    const table = keyOf(rel);
    a.object('constraint', `${table}.${quoteIdent(name)}`);
    a.summary.push(`validate constraint ${quoteIdent(name)} of ${table}`);
    const con = rel.constraints.find((c) => c.name === name);
    if (con?.validated) {
      a.notes.push(`${quoteIdent(name)} is valid already: nothing to check.`);
      return;
    }
    if (con) con.validated = true;
    scans.push('VALIDATE CONSTRAINT checks every row (reads and writes go on)');
    if (con?.references) a.notes.push(`Reads ${keyOf(con.references)} to check the foreign key.`);
  }

  // Other statements ----------------------------------------------------------------------

  rename(ctx: Context, node: Node, a: StatementAnalysis) {
    const type = String(node.renameType);
    const rv = rangeVar(node.relation);
    const newname = String(node.newname);
    const relKinds: Record<string, RelKind> = {
      OBJECT_TABLE: 'table',
      OBJECT_VIEW: 'view',
      OBJECT_MATVIEW: 'materialized view',
      OBJECT_FOREIGN_TABLE: 'foreign table',
      OBJECT_SEQUENCE: 'sequence',
      OBJECT_INDEX: 'index',
    };
    if (rv && relKinds[type]) {
      const rel = this.relation(rv, a, relKinds[type], { missingOk: Boolean(node.missing_ok) });
      const old = keyOf(rel);
      a.object(relObjectKind(rel.kind), old);
      const mode: LockMode = rel.kind === 'index' ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE';
      this.lockAndTouch(a, rel, mode);
      a.summary.push(`rename ${rel.kind} ${old} to ${quoteIdent(newname)}`);
      this.relations.set(old, { ...rel, kind: 'dropped' as RelKind });
      const renamed = { ...rel, name: newname };
      this.relations.set(keyOf(renamed), renamed);
      if (rel.existed && rel.kind !== 'index') {
        const fresh = qualify(rel.schema, newname);
        this.strategy(
          ctx,
          'expand_contract_rename',
          `Rename ${old} by expand and contract`,
          `Code still running against the old name fails the moment ${old} is renamed. A view under the old name keeps it working (a simple view is updatable) until every client uses ${fresh}; a later migration drops the view.`,
          [
            `BEGIN;`,
            `ALTER ${rel.kind === 'materialized view' ? 'MATERIALIZED VIEW' : rel.kind === 'view' ? 'VIEW' : rel.kind === 'sequence' ? 'SEQUENCE' : 'TABLE'} ${old} RENAME TO ${quoteIdent(newname)};`,
            ...(rel.kind === 'table' || rel.kind === 'partitioned table' || rel.kind === 'view' ? [`CREATE VIEW ${old} AS SELECT * FROM ${fresh};`] : []),
            `COMMIT;`,
            `-- Contract (a later migration, once nothing uses ${old}):`,
            ...(rel.kind === 'table' || rel.kind === 'partitioned table' || rel.kind === 'view' ? [`DROP VIEW ${old};`] : []),
          ].join('\n'),
        );
      }
      return;
    }
    if (rv && type === 'OBJECT_COLUMN') {
      const rel = this.relation(rv, a);
      const table = keyOf(rel);
      const oldName = String(node.subname);
      a.object('column', `${table}.${quoteIdent(oldName)}`);
      this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
      a.summary.push(`rename column ${table}.${quoteIdent(oldName)} to ${quoteIdent(newname)}`);
      const col = rel.columns?.get(oldName);
      if (col && rel.columns) {
        rel.columns.delete(oldName);
        rel.columns.set(newname, { ...col, name: newname });
      }
      if (rel.existed && !col?.added) this.expandContractRename(ctx, rel, oldName, newname, col);
      return;
    }
    if (rv && ['OBJECT_TABCONSTRAINT', 'OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE'].includes(type)) {
      const rel = this.relation(rv, a);
      this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
      a.object(relObjectKind(rel.kind), keyOf(rel));
      a.summary.push(`rename ${type.slice(7).toLowerCase().replace('tabconstraint', 'constraint')} ${quoteIdent(String(node.subname))} of ${keyOf(rel)}`);
      const con = rel.constraints.find((c) => c.name === node.subname);
      if (con) con.name = newname;
      return;
    }
    if (['OBJECT_SCHEMA', 'OBJECT_TYPE', 'OBJECT_DOMAIN', 'OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE', 'OBJECT_AGGREGATE', 'OBJECT_ATTRIBUTE'].includes(type)) {
      a.summary.push(`rename ${type.slice(7).toLowerCase()} to ${quoteIdent(newname)}`);
      a.notes.push('No table lock; SQL and code that use the old name stop working.');
      if (type === 'OBJECT_SCHEMA') a.notes.push(`Every table in schema ${quoteIdent(String(node.subname))} moves with it.`);
      return;
    }
    a.unknown(`Renaming ${type.slice(7).toLowerCase()} is not classified.`);
  }

  expandContractRename(ctx: Context, rel: ModelRelation, oldName: string, newName: string, col: ModelColumn | undefined) {
    const table = keyOf(rel);
    const [o, n] = [quoteIdent(oldName), quoteIdent(newName)];
    const type = col?.format ?? '<type>';
    const fn = qualify(rel.schema, `${rel.name}_${newName}_sync`.slice(0, 63));
    const trigger = quoteIdent(`${rel.name}_${newName}_sync`.slice(0, 63));
    this.strategy(
      ctx,
      'expand_contract_rename',
      `Rename ${table}.${o} by expand and contract`,
      `Code still running reads and writes ${o}, and fails the moment it is renamed. Adding ${n} beside it, kept in step by a trigger, lets old and new code run side by side; ${o} goes in a later migration.`,
      [
        `-- 1. Expand: the new column, kept in step with the old one both ways.`,
        `ALTER TABLE ${table} ADD COLUMN ${n} ${type};`,
        `CREATE FUNCTION ${fn}() RETURNS trigger LANGUAGE plpgsql AS $$`,
        `BEGIN`,
        `  IF TG_OP = 'INSERT' THEN`,
        `    NEW.${n} := coalesce(NEW.${n}, NEW.${o});`,
        `    NEW.${o} := coalesce(NEW.${o}, NEW.${n});`,
        `  ELSIF NEW.${n} IS DISTINCT FROM OLD.${n} THEN`,
        `    NEW.${o} := NEW.${n};`,
        `  ELSE`,
        `    NEW.${n} := NEW.${o};`,
        `  END IF;`,
        `  RETURN NEW;`,
        `END $$;`,
        `CREATE TRIGGER ${trigger} BEFORE INSERT OR UPDATE ON ${table} FOR EACH ROW EXECUTE FUNCTION ${fn}();`,
        `-- 2. Backfill in batches (outside a transaction block), then deploy code that uses ${n}:`,
        this.batchLoop(rel, `UPDATE ${table} SET ${n} = ${o} WHERE ${n} IS DISTINCT FROM ${o}`, table),
        `-- 3. Contract (a later migration, once nothing uses ${o}):`,
        `DROP TRIGGER ${trigger} ON ${table};`,
        `DROP FUNCTION ${fn}();`,
        `ALTER TABLE ${table} DROP COLUMN ${o};`,
      ].join('\n'),
    );
  }

  index(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown('CREATE INDEX without a table.');
    const rel = this.relation(rv, a);
    const table = keyOf(rel);
    const concurrent = Boolean(node.concurrent);
    const name = typeof node.idxname === 'string' ? qualify(rel.schema, node.idxname) : `(unnamed index on ${table})`;
    a.object(relObjectKind(rel.kind), table);
    a.object('index', name, true);
    a.summary.push(`create ${node.unique ? 'unique ' : ''}index ${name} on ${table}${concurrent ? ' concurrently' : ''}`);
    const mode: LockMode = concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE';
    this.lockAndTouch(a, rel, mode);
    if (typeof node.idxname === 'string') {
      const idx = this.created(rel.schema, node.idxname, 'index', null);
      idx.table = rel;
    }
    if (rel.existed && this.mayHoldRows(rel)) {
      a.scans.push({ table, reason: concurrent ? 'CREATE INDEX CONCURRENTLY reads the table twice while reads and writes go on' : 'CREATE INDEX reads the whole table to build the index' });
      this.rewriteRisk(a, rel, mode, 'builds an index on');
      if (!concurrent) {
        const tokens = contextTokens(ctx);
        const at = tokens.find((t) => t.upper === 'INDEX' && t.depth === 0);
        if (at) {
          const sql = `${statementBytes(ctx).subarray(0, at.end).toString('utf8')} CONCURRENTLY${statementBytes(ctx).subarray(at.end).toString('utf8')}`;
          this.strategy(
            ctx,
            'create_index_concurrently',
            `Build ${name} concurrently`,
            'CREATE INDEX holds SHARE on the table for the whole build: every INSERT, UPDATE and DELETE waits. CONCURRENTLY builds it under SHARE UPDATE EXCLUSIVE while writes go on (it takes longer, cannot run inside a transaction block, and leaves an INVALID index to drop if it fails).',
            `-- Outside a transaction block (Cutover then runs the file statement by statement):\n${withoutSemicolon(sql)};`,
          );
        }
      }
    }
    if (concurrent) a.notes.push('CONCURRENTLY cannot run inside a transaction block; if it fails it leaves an INVALID index to drop.');
  }

  drop(ctx: Context, node: Node, a: StatementAnalysis) {
    const type = String(node.removeType);
    const cascade = node.behavior === 'DROP_CASCADE';
    const missingOk = Boolean(node.missing_ok);
    const objects = Array.isArray(node.objects) ? node.objects : [];
    const relKinds: Record<string, [RelKind, DestructiveKind]> = {
      OBJECT_TABLE: ['table', 'drop_table'],
      OBJECT_FOREIGN_TABLE: ['foreign table', 'drop_table'],
      OBJECT_VIEW: ['view', 'drop_view'],
      OBJECT_MATVIEW: ['materialized view', 'drop_materialized_view'],
      OBJECT_SEQUENCE: ['sequence', 'drop_sequence'],
      OBJECT_INDEX: ['index', 'drop_index'],
    };
    if (relKinds[type]) {
      const [kind, destructiveKind] = relKinds[type];
      for (const o of objects) {
        const parts = nameList(listItems(o));
        const rv: RangeVar = parts.length > 1 ? { schemaname: parts[parts.length - 2], relname: parts[parts.length - 1] } : { relname: parts[0] };
        const rel = this.relation(rv, a, kind, { missingOk });
        const name = keyOf(rel);
        a.object(relObjectKind(rel.kind), name);
        a.summary.push(`drop ${kind} ${name}${cascade ? ' cascade' : ''}`);
        if (rel.placeholder && this.catalog.available && missingOk) continue;
        if (kind === 'index') {
          const concurrent = Boolean(node.concurrent);
          const mode: LockMode = concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE';
          if (rel.table) this.lockAndTouch(a, rel.table, mode);
          this.lockAndTouch(a, rel, mode);
          if (rel.existed && !concurrent) {
            this.strategy(
              ctx,
              'drop_index_concurrently',
              `Drop ${name} concurrently`,
              `DROP INDEX takes ACCESS EXCLUSIVE on ${rel.table ? keyOf(rel.table) : 'its table'}, so it waits behind every running query on it and blocks all that come after. CONCURRENTLY waits for them without blocking (outside a transaction block, one index at a time, without CASCADE).`,
              `-- Outside a transaction block:\nDROP INDEX CONCURRENTLY ${missingOk ? 'IF EXISTS ' : ''}${name};`,
            );
          }
        } else {
          this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
          this.dropDependents(a, rel, cascade, 'drop');
        }
        if (rel.existed) {
          const words =
            kind === 'index'
              ? `drops index ${name}${rel.table ? ` of ${keyOf(rel.table)}` : ''} (queries that use it slow down; rebuilding it takes a full build)`
              : kind === 'table' || kind === 'foreign table' || kind === 'materialized view'
                ? `drops ${kind} ${name} and its data (${this.sizeWords(rel)})`
                : `drops ${kind} ${name}`;
          this.destroy(a, ctx, destructiveKind, name, words);
        }
        this.markDropped(rel);
      }
      return;
    }
    if (type === 'OBJECT_SCHEMA') {
      for (const o of objects) {
        const schema = str(o) ?? '';
        a.object('schema', quoteIdent(schema));
        a.summary.push(`drop schema ${quoteIdent(schema)}${cascade ? ' cascade' : ''}`);
        const inside = [...this.catalog.byOid.values()].filter((r) => r.schema === schema && RELKINDS[r.relkind] !== 'index');
        if (this.catalog.available && !this.catalog.schemas.has(schema)) {
          a.notes.push(`Schema ${quoteIdent(schema)} does not exist on the target.`);
          continue;
        }
        for (const r of inside) {
          const rel = this.find(r.schema, r.name);
          if (!rel) continue;
          a.object(relObjectKind(rel.kind), keyOf(rel));
          this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
          this.markDropped(rel);
        }
        if (!cascade && inside.length) a.notes.push(`Without CASCADE this fails: ${quoteIdent(schema)} holds ${inside.length} relations.`);
        const rows = inside.reduce((n, r) => n + (r.rows ?? 0), 0);
        this.destroy(
          a,
          ctx,
          'drop_schema',
          quoteIdent(schema),
          `drops schema ${quoteIdent(schema)}${inside.length ? ` with ${inside.length} relations (${rows.toLocaleString('en-US')} rows)` : ''}${this.catalog.available ? '' : ' and everything in it'}`,
        );
      }
      return;
    }
    if (type === 'OBJECT_TYPE' || type === 'OBJECT_DOMAIN') {
      for (const o of objects) {
        const ref = typeRef(o);
        const name = ref?.display ?? '?';
        a.object('type', name);
        a.summary.push(`drop ${type === 'OBJECT_DOMAIN' ? 'domain' : 'type'} ${name}${cascade ? ' cascade' : ''}`);
        // CASCADE drops every column of the type: data goes with it.
        if (cascade) this.destroy(a, ctx, 'drop_type', name, `drops type ${name} with CASCADE, and with it every column of that type`);
      }
      return;
    }
    if (type === 'OBJECT_EXTENSION') {
      for (const o of objects) {
        const name = str(o) ?? '?';
        a.object('extension', quoteIdent(name));
        a.summary.push(`drop extension ${quoteIdent(name)}${cascade ? ' cascade' : ''}`);
        if (cascade) this.destroy(a, ctx, 'drop_extension', quoteIdent(name), `drops extension ${quoteIdent(name)} with CASCADE, and with it every column and object that uses its types or functions`);
      }
      return;
    }
    if (['OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE'].includes(type)) {
      for (const o of objects) {
        const parts = nameList(listItems(o));
        const rv: RangeVar = parts.length > 2 ? { schemaname: parts[0], relname: parts[1] } : { relname: parts[0] };
        const rel = this.relation(rv, a);
        a.object(relObjectKind(rel.kind), keyOf(rel));
        a.object(type === 'OBJECT_TRIGGER' ? 'trigger' : type === 'OBJECT_POLICY' ? 'policy' : 'rule', `${keyOf(rel)}.${quoteIdent(parts[parts.length - 1])}`);
        this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
        a.summary.push(`drop ${type.slice(7).toLowerCase()} ${quoteIdent(parts[parts.length - 1])} on ${keyOf(rel)}`);
      }
      return;
    }
    if (['OBJECT_FUNCTION', 'OBJECT_PROCEDURE', 'OBJECT_ROUTINE', 'OBJECT_AGGREGATE', 'OBJECT_CAST', 'OBJECT_OPERATOR', 'OBJECT_COLLATION', 'OBJECT_STATISTIC_EXT', 'OBJECT_PUBLICATION', 'OBJECT_CONVERSION', 'OBJECT_TSCONFIGURATION', 'OBJECT_TSDICTIONARY'].includes(type)) {
      a.summary.push(`drop ${type.slice(7).toLowerCase().replace('_ext', '')}${cascade ? ' cascade' : ''}`);
      if (type === 'OBJECT_STATISTIC_EXT') a.notes.push('Dropping statistics takes no lock that blocks reads or writes.');
      if (cascade) a.notes.push('CASCADE also drops what depends on it (defaults, triggers, views): Cutover does not list those.');
      return;
    }
    a.unknown(`DROP ${type.slice(7)} is not classified.`);
  }

  /** Tables whose foreign keys reference `rel`: CASCADE drops those keys (ACCESS EXCLUSIVE), without it the drop fails. */
  private dropDependents(a: StatementAnalysis, rel: ModelRelation, cascade: boolean, verb: 'drop' | 'truncate') {
    const c = rel.catalog;
    if (!c) return;
    for (const oid of c.referencedBy) {
      const other = this.fromOid(oid);
      if (!other || other === rel) continue;
      if (cascade) {
        this.lockAndTouch(a, other, 'ACCESS EXCLUSIVE');
        a.object(relObjectKind(other.kind), keyOf(other));
        a.notes.push(verb === 'drop' ? `CASCADE drops the foreign key of ${keyOf(other)} that references ${keyOf(rel)}.` : `CASCADE also truncates ${keyOf(other)}, which references ${keyOf(rel)}.`);
      } else a.notes.push(`Fails unless CASCADE: ${keyOf(other)} has a foreign key referencing ${keyOf(rel)}.`);
    }
    // Dropping a table drops its own foreign keys' triggers on the tables they reference.
    if (verb === 'drop') {
      for (const con of c.constraints.filter((x) => x.type === 'f')) {
        const target = this.fromOid(con.references);
        if (target && target !== rel) this.lockAndTouch(a, target, 'ACCESS EXCLUSIVE');
      }
    }
  }

  truncate(ctx: Context, node: Node, a: StatementAnalysis) {
    const cascade = node.behavior === 'DROP_CASCADE';
    for (const r of Array.isArray(node.relations) ? node.relations : []) {
      const rv = rangeVar(r);
      if (!rv) continue;
      const rel = this.relation(rv, a);
      const name = keyOf(rel);
      a.object(relObjectKind(rel.kind), name);
      a.summary.push(`truncate ${name}${cascade ? ' cascade' : ''}`);
      this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
      this.dropDependents(a, rel, cascade, 'truncate');
      if (rel.existed) this.destroy(a, ctx, 'truncate', name, `empties ${name} (${this.sizeWords(rel)})`);
      if (cascade && rel.catalog) {
        for (const oid of rel.catalog.referencedBy) {
          const other = this.fromOid(oid);
          if (other && other !== rel && other.existed) this.destroy(a, ctx, 'truncate', keyOf(other), `empties ${keyOf(other)} too (CASCADE; ${this.sizeWords(other)})`);
        }
      }
    }
  }

  vacuum(ctx: Context, node: Node, a: StatementAnalysis) {
    const options = (Array.isArray(node.options) ? node.options : []).map((o) => String(((o as Node).DefElem as Node).defname));
    const full = options.includes('full');
    const isVacuum = Boolean(node.is_vacuumcmd);
    const verb = isVacuum ? (full ? 'VACUUM FULL' : 'VACUUM') : 'ANALYZE';
    const mode: LockMode = full ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE';
    const rels = (Array.isArray(node.rels) ? node.rels : []).map((r) => rangeVar(((r as Node).VacuumRelation as Node).relation)).filter((r): r is RangeVar => Boolean(r));
    if (!rels.length) {
      a.summary.push(`${verb} every table of the database`);
      a.object('table', '(every table)');
      a.locks.push({ object: '(every table, one at a time)', objectKind: 'table', mode, newObject: false });
      if (full) {
        a.riskReasons.push({ level: 'high', reason: `line ${ctx.stmt.line}: VACUUM FULL rewrites every table of the database, each under ACCESS EXCLUSIVE` });
      }
      return;
    }
    for (const rv of rels) {
      const rel = this.relation(rv, a);
      const name = keyOf(rel);
      a.object(relObjectKind(rel.kind), name);
      a.summary.push(`${verb} ${name}`);
      this.lockAndTouch(a, rel, mode);
      if (!rel.existed || !this.mayHoldRows(rel)) continue;
      if (full) {
        a.rewrites.push({ table: name, reason: 'VACUUM FULL writes a new copy of the table' });
        this.rewriteRisk(a, rel, mode, 'VACUUM FULL rewrites');
      } else a.scans.push({ table: name, reason: isVacuum ? 'VACUUM reads the table (reads and writes go on)' : 'ANALYZE reads a sample of the table' });
    }
  }

  reindex(ctx: Context, node: Node, a: StatementAnalysis) {
    const kind = String(node.kind);
    const concurrent = (Array.isArray(node.params) ? node.params : []).some((p) => ((p as Node).DefElem as Node).defname === 'concurrently');
    const tableMode: LockMode = concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'SHARE';
    const rv = rangeVar(node.relation);
    if ((kind === 'REINDEX_OBJECT_TABLE' || kind === 'REINDEX_OBJECT_INDEX') && rv) {
      const rel = this.relation(rv, a, kind === 'REINDEX_OBJECT_INDEX' ? 'index' : 'table');
      const table = kind === 'REINDEX_OBJECT_INDEX' ? rel.table : rel;
      a.object(relObjectKind(rel.kind), keyOf(rel));
      a.summary.push(`reindex ${rel.kind} ${keyOf(rel)}${concurrent ? ' concurrently' : ''}`);
      if (kind === 'REINDEX_OBJECT_INDEX') a.lock(rel, concurrent ? 'SHARE UPDATE EXCLUSIVE' : 'ACCESS EXCLUSIVE');
      if (table) {
        this.lockAndTouch(a, table, tableMode);
        if (table.existed && this.mayHoldRows(table)) {
          a.scans.push({ table: keyOf(table), reason: 'REINDEX reads the table to rebuild its indexes' });
          this.rewriteRisk(a, table, tableMode, 'rebuilds the indexes of');
        }
      }
      if (!concurrent && rel.existed) {
        const tokens = contextTokens(ctx);
        const at = tokens.find((t) => (t.upper === 'INDEX' || t.upper === 'TABLE') && t.depth === 0);
        if (at) {
          const sql = `${statementBytes(ctx).subarray(0, at.end).toString('utf8')} CONCURRENTLY${statementBytes(ctx).subarray(at.end).toString('utf8')}`;
          this.strategy(ctx, 'reindex_concurrently', `Reindex ${keyOf(rel)} concurrently`, 'REINDEX blocks writes to the table and reads that use the index while it rebuilds. CONCURRENTLY builds a new index beside the old one while both go on (outside a transaction block).', `-- Outside a transaction block:\n${withoutSemicolon(sql)};`);
        }
      }
      return;
    }
    if (kind === 'REINDEX_OBJECT_SCHEMA' && typeof node.name === 'string') {
      const schema = node.name;
      a.summary.push(`reindex schema ${quoteIdent(schema)}`);
      for (const r of [...this.catalog.byOid.values()].filter((x) => x.schema === schema && ['r', 'm', 'p'].includes(x.relkind))) {
        const rel = this.find(r.schema, r.name);
        if (rel) this.lockAndTouch(a, rel, tableMode);
      }
      if (!this.catalog.available) a.unknown('REINDEX SCHEMA: without the catalog Cutover cannot list its tables.');
      return;
    }
    a.summary.push('reindex the whole database');
    a.locks.push({ object: '(every table, one at a time)', objectKind: 'table', mode: tableMode, newObject: false });
    a.riskReasons.push({ level: 'medium', reason: `line ${ctx.stmt.line}: REINDEX of the whole database rebuilds every index` });
  }

  cluster(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown('CLUSTER without a table reclusters every table clustered before: Cutover cannot list them.');
    const rel = this.relation(rv, a);
    a.object(relObjectKind(rel.kind), keyOf(rel));
    a.summary.push(`cluster ${keyOf(rel)}`);
    this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
    if (rel.existed && this.mayHoldRows(rel)) {
      a.rewrites.push({ table: keyOf(rel), reason: 'CLUSTER writes a new, ordered copy of the table' });
      this.rewriteRisk(a, rel, 'ACCESS EXCLUSIVE', 'CLUSTER rewrites');
    }
  }

  refresh(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown('REFRESH without a view.');
    const rel = this.relation(rv, a, 'materialized view');
    const concurrent = Boolean(node.concurrent);
    const mode: LockMode = concurrent ? 'EXCLUSIVE' : 'ACCESS EXCLUSIVE';
    a.object('materialized view', keyOf(rel));
    a.summary.push(`refresh materialized view ${keyOf(rel)}${concurrent ? ' concurrently' : ''}`);
    this.lockAndTouch(a, rel, mode);
    if (rel.existed) {
      a.rewrites.push({ table: keyOf(rel), reason: 'REFRESH runs the view\'s query and writes its result anew' });
      this.rewriteRisk(a, rel, mode, 'REFRESH rewrites');
      if (!concurrent) {
        this.strategy(
          ctx,
          'refresh_concurrently',
          `Refresh ${keyOf(rel)} concurrently`,
          'REFRESH MATERIALIZED VIEW blocks every read of the view until it finishes. CONCURRENTLY lets reads go on (it needs a unique index on the view and takes longer).',
          `REFRESH MATERIALIZED VIEW CONCURRENTLY ${keyOf(rel)};`,
        );
      }
    }
  }

  createTable(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown('CREATE TABLE without a name.');
    const existing = this.find(rv.schemaname, rv.relname);
    if (existing?.existed) {
      a.object(relObjectKind(existing.kind), keyOf(existing));
      a.summary.push(`create table ${keyOf(existing)}`);
      a.notes.push(node.if_not_exists ? `${keyOf(existing)} exists already: CREATE TABLE IF NOT EXISTS does nothing.` : `${keyOf(existing)} exists already on the target: CREATE TABLE fails there.`);
      return;
    }
    const columns = new Map<string, ModelColumn>();
    const elts = Array.isArray(node.tableElts) ? (node.tableElts as Node[]) : [];
    const partitioned = Boolean(node.partspec);
    const rel = this.created(rv.schemaname, rv.relname, partitioned ? 'partitioned table' : 'table', columns);
    const name = keyOf(rel);
    a.object(partitioned ? 'partitioned table' : 'table', name, true);
    a.summary.push(`create ${partitioned ? 'partitioned ' : ''}table ${name}`);
    const references = (con: Node) => {
      const pk = rangeVar(con.pktable);
      if (!pk) return;
      // A self-reference is the new table itself.
      if (pk.relname === rv.relname && (pk.schemaname ?? rel.schema) === rel.schema) return;
      const target = this.relation(pk, a);
      a.object(relObjectKind(target.kind), keyOf(target));
      this.lockAndTouch(a, target, 'SHARE ROW EXCLUSIVE');
    };
    for (const e of elts) {
      const def = e.ColumnDef as Node | undefined;
      if (def) {
        const { ref, resolved, typmod } = this.columnType(def.typeName);
        const constraints = (Array.isArray(def.constraints) ? def.constraints : []).map((c) => (c as Node).Constraint as Node);
        columns.set(String(def.colname), {
          name: String(def.colname),
          typeOid: resolved?.oid ?? null,
          baseOid: resolved?.base ?? null,
          typmod,
          baseName: resolved?.baseName ?? null,
          format: ref?.display ?? '?',
          notNull: constraints.some((c) => c.contype === 'CONSTR_NOTNULL' || c.contype === 'CONSTR_PRIMARY'),
          added: true,
        });
        for (const c of constraints) if (c.contype === 'CONSTR_FOREIGN') references(c);
      }
      const con = e.Constraint as Node | undefined;
      if (con?.contype === 'CONSTR_FOREIGN') references(con);
      if (con?.contype === 'CONSTR_CHECK') rel.constraints.push({ name: (con.conname as string) ?? null, type: 'c', validated: true, notNullOf: notNullTestColumn(con.raw_expr) });
      const like = e.TableLikeClause as Node | undefined;
      const likeRv = like ? rangeVar(like.relation) : undefined;
      if (likeRv) {
        const source = this.relation(likeRv, a);
        a.object(relObjectKind(source.kind), keyOf(source));
        this.lockAndTouch(a, source, 'ACCESS SHARE');
        for (const [k, v] of source.columns ?? []) columns.set(k, { ...v, added: true });
      }
    }
    for (const p of Array.isArray(node.inhRelations) ? node.inhRelations : []) {
      const prv = rangeVar(p);
      if (!prv) continue;
      const parent = this.relation(prv, a);
      a.object(relObjectKind(parent.kind), keyOf(parent));
      // A new partition locks its parent ACCESS EXCLUSIVE; a plain child of INHERITS, SHARE UPDATE EXCLUSIVE.
      this.lockAndTouch(a, parent, node.partbound ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE');
      if (node.partbound) a.summary.push(`as a partition of ${keyOf(parent)}`);
      for (const [k, v] of parent.columns ?? []) if (!columns.has(k)) columns.set(k, { ...v, added: true });
      if (node.partbound && parent.existed) a.notes.push(`If ${keyOf(parent)} has a DEFAULT partition, its rows are scanned to check none belongs in the new one.`);
    }
  }

  createTableAs(ctx: Context, node: Node, a: StatementAnalysis) {
    const into = (node.into as Node | undefined)?.rel;
    const rv = rangeVar(into);
    const matview = node.objtype === 'OBJECT_MATVIEW';
    if (rv) {
      const rel = this.created(rv.schemaname, rv.relname, matview ? 'materialized view' : 'table', null);
      a.object(matview ? 'materialized view' : 'table', keyOf(rel), true);
      a.summary.push(`create ${matview ? 'materialized view' : 'table'} ${keyOf(rel)} from a query`);
    }
    this.readsFrom(node.query, a, 'ACCESS SHARE');
  }

  view(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.view);
    if (rv) {
      const existing = node.replace ? this.find(rv.schemaname, rv.relname) : undefined;
      if (existing) {
        a.object('view', keyOf(existing));
        this.lockAndTouch(a, existing, 'ACCESS EXCLUSIVE');
        a.summary.push(`replace view ${keyOf(existing)}`);
      } else {
        const rel = this.created(rv.schemaname, rv.relname, 'view', null);
        a.object('view', keyOf(rel), true);
        a.summary.push(`create view ${keyOf(rel)}`);
      }
    }
    this.readsFrom(node.query, a, 'ACCESS SHARE', { lockOnly: true });
  }

  /** Tables a query reads: ACCESS SHARE (or ROW SHARE with FOR UPDATE/SHARE). */
  private readsFrom(query: unknown, a: StatementAnalysis, mode: LockMode, options: { except?: RangeVar; lockOnly?: boolean } = {}) {
    for (const r of relationsIn(query)) {
      if (options.except && r === options.except) continue;
      const rel = this.relation(r, a);
      a.object(relObjectKind(rel.kind), keyOf(rel));
      this.lockAndTouch(a, rel, mode);
    }
  }

  trigger(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown('CREATE TRIGGER without a table.');
    const rel = this.relation(rv, a);
    a.object(relObjectKind(rel.kind), keyOf(rel));
    a.object('trigger', `${keyOf(rel)}.${quoteIdent(String(node.trigname))}`, true);
    a.summary.push(`create trigger ${quoteIdent(String(node.trigname))} on ${keyOf(rel)}`);
    this.lockAndTouch(a, rel, 'SHARE ROW EXCLUSIVE');
  }

  onTable(verb: string, mode: LockMode, objectKind?: ImpactObjectKind, nameField?: string) {
    return (ctx: Context, node: Node, a: StatementAnalysis) => {
      const rv = rangeVar(node.relation ?? node.table);
      if (!rv) return a.unknown(`${verb} without a table.`);
      const rel = this.relation(rv, a);
      a.object(relObjectKind(rel.kind), keyOf(rel));
      if (objectKind && nameField && typeof node[nameField] === 'string') a.object(objectKind, `${keyOf(rel)}.${quoteIdent(node[nameField] as string)}`);
      a.summary.push(`${verb} on ${keyOf(rel)}`);
      this.lockAndTouch(a, rel, mode);
    };
  }

  comment(ctx: Context, node: Node, a: StatementAnalysis) {
    const type = String(node.objtype);
    const parts = nameList(listItems(node.object));
    const relTypes: Record<string, RelKind> = { OBJECT_TABLE: 'table', OBJECT_VIEW: 'view', OBJECT_MATVIEW: 'materialized view', OBJECT_INDEX: 'index', OBJECT_SEQUENCE: 'sequence', OBJECT_FOREIGN_TABLE: 'foreign table' };
    let rv: RangeVar | undefined;
    if (relTypes[type] && parts.length) rv = parts.length > 1 ? { schemaname: parts[parts.length - 2], relname: parts[parts.length - 1] } : { relname: parts[0] };
    if (type === 'OBJECT_COLUMN' && parts.length >= 2) rv = parts.length > 2 ? { schemaname: parts[parts.length - 3], relname: parts[parts.length - 2] } : { relname: parts[0] };
    if (['OBJECT_TABCONSTRAINT', 'OBJECT_TRIGGER', 'OBJECT_POLICY', 'OBJECT_RULE'].includes(type) && parts.length >= 2)
      rv = parts.length > 2 ? { schemaname: parts[parts.length - 3], relname: parts[parts.length - 2] } : { relname: parts[0] };
    a.summary.push(`comment on ${type.slice(7).toLowerCase().replace('tabconstraint', 'constraint')} ${parts.map(quoteIdent).join('.')}`);
    if (rv) {
      const rel = this.relation(rv, a, relTypes[type] ?? 'table');
      a.object(relObjectKind(rel.kind), keyOf(rel));
      this.lockAndTouch(a, rel, 'SHARE UPDATE EXCLUSIVE');
    }
  }

  dml(ctx: Context, node: Node, a: StatementAnalysis) {
    this.dmlNode(ctx, ctx.stmt.kind, node, a, false);
  }

  /**
   * INSERT, UPDATE, DELETE, MERGE or COPY FROM: the statement itself, or one inside its WITH
   * (`nested`: its reads are the statement's, and no batched rewrite of the whole statement is offered).
   * A WHERE that holds for every row (WHERE true, 1 = 1, id = id, ...) is no WHERE, and so is a
   * MERGE whose join condition does; a MERGE that deletes or updates every matched row then
   * counts as a DELETE or UPDATE of every row.
   */
  private dmlNode(ctx: Context, stmtKind: string, node: Node, a: StatementAnalysis, nested: boolean) {
    const rv = rangeVar(node.relation);
    if (!rv) return a.unknown(`${stmtKind} without a table.`);
    const rel = this.relation(rv, a);
    const table = keyOf(rel);
    a.object(relObjectKind(rel.kind), table);
    this.lockAndTouch(a, rel, 'ROW EXCLUSIVE');
    const verb = { InsertStmt: 'insert into', UpdateStmt: 'update', DeleteStmt: 'delete from', MergeStmt: 'merge into', CopyStmt: 'copy into' }[stmtKind] ?? stmtKind;
    const everyMatch = stmtKind === 'MergeStmt' && holdsForEveryRow(node.joinCondition) ? mergeActionOnEveryMatch(node) : undefined;
    const kind = everyMatch ?? stmtKind;
    const noWhere = (stmtKind === 'UpdateStmt' || stmtKind === 'DeleteStmt' || everyMatch !== undefined) && holdsForEveryRow(node.whereClause);
    a.summary.push(`${verb} ${table}${noWhere ? ' (every row)' : ''}${nested ? ' (in WITH)' : ''}`);
    if (!nested) {
      // Everything else the statement reads (FROM, USING, subqueries, the source of INSERT ... SELECT).
      const rest = { ...node, relation: undefined };
      this.readsFrom(rest, a, 'ACCESS SHARE');
    }
    this.foreignKeyChecks(a, rel, stmtKind, node);
    if (kind !== 'UpdateStmt' && kind !== 'DeleteStmt') return;
    const size = this.sizeClass(rel);
    if (noWhere && rel.existed) {
      a.scans.push({ table, reason: `${kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} without WHERE reads and writes every row` });
      this.destroy(
        a,
        ctx,
        kind === 'UpdateStmt' ? 'update_all' : 'delete_all',
        table,
        kind === 'UpdateStmt' ? `updates every row of ${table} (${this.sizeWords(rel)}): the old values are overwritten` : `deletes every row of ${table} (${this.sizeWords(rel)})`,
      );
    }
    if (rel.existed && (noWhere || size === 'large') && this.mayHoldRows(rel)) {
      if (size === 'large' || size === 'medium' || size === 'unknown')
        a.riskReasons.push({ level: 'medium', reason: `line ${ctx.stmt.line}: ${kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} of ${noWhere ? 'every row' : 'possibly many rows'} of ${table} (${this.sizeWords(rel)}) in one transaction holds their row locks until it commits and leaves as many dead rows` });
      // The batched form rewrites the statement's own text: not for one inside WITH, nor for MERGE.
      if (nested || stmtKind !== kind) return;
      this.strategy(
        ctx,
        'batched_backfill',
        `${kind === 'UpdateStmt' ? 'Update' : 'Delete from'} ${table} in batches`,
        `One ${kind === 'UpdateStmt' ? 'UPDATE' : 'DELETE'} over ${noWhere ? 'the whole table' : 'many rows'} holds every row lock it takes until it commits, blocks writers of those rows, and leaves its dead rows for VACUUM at once. Batches of 10,000 rows, each committed, keep locks short and let autovacuum keep up.`,
        this.batchLoop(rel, withoutSemicolon(ctx.stmt.sql), table, node),
      );
    }
  }

  /**
   * Foreign-key triggers lock the other side's rows: new or changed keys are checked with
   * SELECT ... FOR KEY SHARE in the referenced table (ROW SHARE); deleted or changed keys of a
   * referenced table check the referencing tables (ROW SHARE), or change their rows with ON
   * DELETE CASCADE / SET NULL / SET DEFAULT (ROW EXCLUSIVE). An UPDATE that leaves the keys alone checks nothing.
   */
  private foreignKeyChecks(a: StatementAnalysis, rel: ModelRelation, kind: string, node: Node) {
    const c = rel.catalog;
    if (!c) return;
    const setColumns = new Set(
      (Array.isArray(node.targetList) ? node.targetList : []).map((t) => String(((t as Node).ResTarget as Node | undefined)?.name ?? '')),
    );
    const touches = (cols: string[] | null) => kind !== 'UpdateStmt' || !cols || cols.some((x) => setColumns.has(x));
    if (kind !== 'DeleteStmt') {
      for (const fk of c.constraints.filter((x) => x.type === 'f' && touches(x.columns))) {
        const target = this.fromOid(fk.references);
        if (target && target !== rel) this.lockAndTouch(a, target, 'ROW SHARE');
      }
    }
    if (kind === 'DeleteStmt' || kind === 'UpdateStmt' || kind === 'MergeStmt') {
      const keys = c.constraints.filter((x) => x.type === 'p' || x.type === 'u').flatMap((x) => x.columns ?? []);
      if (kind === 'UpdateStmt' && !keys.some((k) => setColumns.has(k))) return;
      for (const oid of c.referencedBy) {
        const other = this.fromOid(oid);
        if (!other?.catalog || other === rel) continue;
        const fks = other.catalog.constraints.filter((x) => x.type === 'f' && x.references === c.oid);
        const changes = fks.some((x) => x.onDelete === 'c' || x.onDelete === 'n' || x.onDelete === 'd');
        this.lockAndTouch(a, other, kind === 'DeleteStmt' && changes ? 'ROW EXCLUSIVE' : 'ROW SHARE');
      }
    }
  }

  /**
   * A DO block that runs a statement over key ranges of its table, committing each batch
   * (PostgreSQL 11+ allows COMMIT in DO outside a transaction block). Keyset batches by the
   * single-column primary key terminate whatever the statement does to other columns.
   */
  private batchLoop(rel: ModelRelation, statement: string, table: string, node?: Node): string {
    const pk = rel.catalog?.constraints.find((c) => c.type === 'p' && c.columns?.length === 1);
    const key = pk?.columns?.[0];
    const keyType = key ? rel.columns?.get(key)?.format : undefined;
    // Key columns are qualified as the statement names its table (its alias, or the name as written).
    const written = node?.relation as (RangeVar & { alias?: Node }) | undefined;
    const alias = written?.alias?.aliasname as string | undefined;
    const q = alias ? quoteIdent(alias) : written ? [written.schemaname, written.relname].filter(Boolean).map((x) => quoteIdent(x as string)).join('.') : table;
    const k = key ? quoteIdent(key) : '<key>';
    const range = `(last_key IS NULL OR ${q}.${k} > last_key) AND ${q}.${k} <= next_key`;
    const tokens = tokensOf(statement);
    const where = tokens.find((t) => t.depth === 0 && t.upper === 'WHERE');
    const returning = tokens.find((t) => t.depth === 0 && t.upper === 'RETURNING');
    const bytes = Buffer.from(statement, 'utf8');
    // RETURNING is left out: inside the loop its rows would have nowhere to go.
    const end = returning ? returning.start : bytes.length;
    const head = bytes.subarray(0, where ? where.end : end).toString('utf8').trimEnd();
    const batched = where ? `${head} (${bytes.subarray(where.end, end).toString('utf8').trim()}) AND ${range}` : `${head} WHERE ${range}`;
    return [
      ...(key ? [] : [`-- ${table} has no single-column primary key: choose a unique, ordered key for <key> and its type.`]),
      `DO $batch$`,
      `DECLARE`,
      `  last_key ${keyType ?? '<key type>'};`,
      `  next_key ${keyType ?? '<key type>'};`,
      `BEGIN`,
      `  LOOP`,
      `    SELECT max(k) INTO next_key FROM (`,
      `      SELECT ${k} AS k FROM ${table} WHERE last_key IS NULL OR ${k} > last_key ORDER BY ${k} LIMIT 10000`,
      `    ) batch;`,
      `    EXIT WHEN next_key IS NULL;`,
      `    ${batched.replace(/\n/g, '\n    ')};`,
      `    last_key := next_key;`,
      `    COMMIT;`,
      `  END LOOP;`,
      `END`,
      `$batch$;`,
    ].join('\n');
  }

  select(ctx: Context, node: Node, a: StatementAnalysis) {
    const locking = Array.isArray(node.lockingClause) && node.lockingClause.length > 0;
    a.summary.push(locking ? 'select rows for update/share' : 'select');
    this.readsFrom(node, a, locking ? 'ROW SHARE' : 'ACCESS SHARE');
    if (functionsIn(node).length) a.notes.push('Functions it calls may change data or take locks Cutover does not see.');
  }

  copy(ctx: Context, node: Node, a: StatementAnalysis) {
    if (node.is_from) return this.dml(ctx, node, a);
    const rv = rangeVar(node.relation);
    if (rv) {
      const rel = this.relation(rv, a);
      a.object(relObjectKind(rel.kind), keyOf(rel));
      this.lockAndTouch(a, rel, 'ACCESS SHARE');
    }
    if (node.query) this.readsFrom(node.query, a, 'ACCESS SHARE');
    a.summary.push('copy out');
  }

  lockTable(ctx: Context, node: Node, a: StatementAnalysis) {
    const mode = lockModeFromNumber(Number(node.mode ?? 8)) ?? 'ACCESS EXCLUSIVE';
    for (const r of Array.isArray(node.relations) ? node.relations : []) {
      const rv = rangeVar(r);
      if (!rv) continue;
      const rel = this.relation(rv, a);
      a.object(relObjectKind(rel.kind), keyOf(rel));
      this.lockAndTouch(a, rel, mode);
      a.summary.push(`lock ${keyOf(rel)} in ${mode} mode`);
    }
    a.notes.push('LOCK TABLE holds its lock until the transaction ends.');
  }

  alterEnum(ctx: Context, node: Node, a: StatementAnalysis) {
    const name = nameList(node.typeName).map(quoteIdent).join('.');
    a.object('type', name);
    if (node.oldVal) a.summary.push(`rename value '${String(node.oldVal)}' of ${name}`);
    else a.summary.push(`add value '${String(node.newVal)}' to ${name}`);
    // An object lock on the type (pg_locks locktype 'object'), not on any table.
    a.locks.push({ object: name, objectKind: 'type', mode: 'EXCLUSIVE', newObject: false });
    if (!node.oldVal) a.notes.push('No table is locked or rewritten. The new value cannot be used in the same transaction that adds it.');
  }

  alterSequence(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.sequence);
    if (!rv) return a.unknown('ALTER SEQUENCE without a name.');
    const rel = this.relation(rv, a, 'sequence');
    a.object('sequence', keyOf(rel));
    a.summary.push(`alter sequence ${keyOf(rel)}`);
    this.lockAndTouch(a, rel, 'SHARE ROW EXCLUSIVE');
    for (const o of Array.isArray(node.options) ? node.options : []) {
      const el = (o as Node).DefElem as Node;
      if (el.defname === 'owned_by') {
        const parts = nameList(listItems(el.arg));
        if (parts.length >= 2) {
          const owner = this.relation(parts.length > 2 ? { schemaname: parts[0], relname: parts[1] } : { relname: parts[0] }, a);
          this.lockAndTouch(a, owner, 'ACCESS SHARE');
        }
      }
    }
  }

  setVariable(ctx: Context, node: Node, a: StatementAnalysis) {
    const name = String(node.name ?? '');
    a.summary.push(node.kind === 'VAR_RESET' || node.kind === 'VAR_RESET_ALL' ? `reset ${name || 'all'}` : `set ${name}`);
    if (name === 'search_path' && node.kind === 'VAR_SET_VALUE' && !node.is_local) {
      const values = (Array.isArray(node.args) ? node.args : [])
        .map((x) => ((x as Node).A_Const as Node | undefined)?.sval as { sval?: string } | undefined)
        .map((v) => v?.sval)
        .filter((v): v is string => Boolean(v));
      if (values.length) this.setSearchPath(values.map((v) => v.toLowerCase()));
    }
    if (name === 'search_path' && (node.kind === 'VAR_RESET' || node.kind === 'VAR_SET_DEFAULT')) this.setSearchPath(this.catalog.searchPath);
  }

  createObject(kind: ImpactObjectKind, nameOf: (node: Node) => string | undefined) {
    return (ctx: Context, node: Node, a: StatementAnalysis) => {
      const name = nameOf(node);
      if (name) a.object(kind, name, true);
      a.summary.push(`create ${kind}${name ? ` ${name}` : ''}`);
    };
  }

  createSequence(ctx: Context, node: Node, a: StatementAnalysis) {
    const rv = rangeVar(node.sequence);
    if (!rv) return;
    const rel = this.created(rv.schemaname, rv.relname, 'sequence', null);
    a.object('sequence', keyOf(rel), true);
    a.summary.push(`create sequence ${keyOf(rel)}`);
  }

  createStatistics(ctx: Context, node: Node, a: StatementAnalysis) {
    a.summary.push('create statistics');
    for (const r of relationsIn(node.relations)) {
      const rel = this.relation(r, a);
      a.object(relObjectKind(rel.kind), keyOf(rel));
      this.lockAndTouch(a, rel, 'SHARE UPDATE EXCLUSIVE');
    }
  }

  alterDomain(ctx: Context, node: Node, a: StatementAnalysis) {
    const name = nameList(node.typeName).map(quoteIdent).join('.');
    a.object('type', name);
    const subtype = String(node.subtype);
    // 'C': add constraint, 'O': set NOT NULL, 'V': validate: each checks every column of the domain, in every table.
    if ((subtype === 'C' && !((node.def as Node | undefined)?.Constraint as Node | undefined)?.skip_validation) || subtype === 'O' || subtype === 'V') {
      a.unknown(`ALTER DOMAIN ${name} checks every column of the domain, in every table that uses it, under SHARE: Cutover does not list those tables.`);
      return;
    }
    a.summary.push(`alter domain ${name}`);
  }
}

/** Statements that evaluate the expressions they hold right away (a view's or a default's of a new table wait). */
const RUNS_EXPRESSIONS = new Set(['SelectStmt', 'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'CreateTableAsStmt', 'CopyStmt', 'AlterTableStmt']);

/** Volatile builtins that change no table (a sequence or a setting at most). */
const NO_WRITE_VOLATILE_BUILTINS = new Set([
  'random', 'random_normal', 'setseed', 'clock_timestamp', 'timeofday', 'gen_random_uuid', 'uuid_generate_v1', 'uuid_generate_v4', 'nextval', 'setval',
  'currval', 'lastval', 'txid_current', 'pg_current_xact_id', 'pg_notify', 'pg_sleep', 'set_config', 'pg_advisory_xact_lock', 'pg_try_advisory_xact_lock',
]);

/** Common builtins that only read (for analyses without the catalog, which knows every function's volatility). */
const READ_ONLY_BUILTINS = new Set([
  'count', 'sum', 'min', 'max', 'avg', 'array_agg', 'string_agg', 'json_agg', 'jsonb_agg', 'bool_and', 'bool_or', 'every', 'row_number', 'rank',
  'length', 'char_length', 'octet_length', 'btrim', 'ltrim', 'rtrim', 'substr', 'substring', 'replace', 'concat', 'concat_ws', 'format', 'left', 'right',
  'md5', 'abs', 'round', 'trunc', 'floor', 'ceil', 'ceiling', 'mod', 'date_trunc', 'date_part', 'extract', 'to_char', 'to_date', 'to_timestamp', 'age',
  'generate_series', 'unnest', 'array_length', 'cardinality', 'split_part', 'regexp_replace', 'position', 'strpos', 'make_interval',
  'jsonb_build_object', 'json_build_object', 'jsonb_set', 'to_jsonb', 'to_json', 'coalesce', 'current_setting',
]);

const BUILTIN_VOLATILITY: Record<string, string> = {
  now: 's',
  clock_timestamp: 'v',
  random: 'v',
  gen_random_uuid: 'v',
  nextval: 'v',
  uuid_generate_v4: 'v',
  timeofday: 'v',
  statement_timestamp: 's',
  transaction_timestamp: 's',
  lower: 'i',
  upper: 'i',
  concat: 's',
};

type Handler = (this: ImpactAnalyzer, ctx: Context, node: Node, a: StatementAnalysis) => void;

const P = ImpactAnalyzer.prototype;
const HANDLERS: Record<string, Handler> = {
  AlterTableStmt: P.alterTable,
  RenameStmt: P.rename,
  IndexStmt: P.index,
  DropStmt: P.drop,
  TruncateStmt: P.truncate,
  VacuumStmt: P.vacuum,
  ReindexStmt: P.reindex,
  ClusterStmt: P.cluster,
  RefreshMatViewStmt: P.refresh,
  CreateStmt: P.createTable,
  CreateTableAsStmt: P.createTableAs,
  ViewStmt: P.view,
  CreateTrigStmt: P.trigger,
  RuleStmt: function (ctx, node, a) {
    this.onTable('create rule', 'ACCESS EXCLUSIVE', 'rule', 'rulename').call(this, ctx, node, a);
  },
  CreatePolicyStmt: function (ctx, node, a) {
    this.onTable('create policy', 'ACCESS EXCLUSIVE', 'policy', 'policy_name').call(this, ctx, node, a);
  },
  AlterPolicyStmt: function (ctx, node, a) {
    this.onTable('alter policy', 'ACCESS EXCLUSIVE', 'policy', 'policy_name').call(this, ctx, node, a);
  },
  CommentStmt: P.comment,
  InsertStmt: P.dml,
  UpdateStmt: P.dml,
  DeleteStmt: P.dml,
  MergeStmt: P.dml,
  SelectStmt: P.select,
  CopyStmt: P.copy,
  LockStmt: P.lockTable,
  AlterEnumStmt: P.alterEnum,
  AlterSeqStmt: P.alterSequence,
  CreateSeqStmt: P.createSequence,
  CreateStatsStmt: P.createStatistics,
  AlterDomainStmt: P.alterDomain,
  AlterObjectSchemaStmt: function (ctx, node, a) {
    const rv = rangeVar(node.relation);
    if (rv) {
      const rel = this.relation(rv, a);
      a.object(relObjectKind(rel.kind), keyOf(rel));
      this.lockAndTouch(a, rel, 'ACCESS EXCLUSIVE');
      a.summary.push(`move ${keyOf(rel)} to schema ${quoteIdent(String(node.newschema))}`);
      a.notes.push('SQL and code that name the old schema stop finding it.');
      return;
    }
    a.summary.push(`move ${String(node.objectType).slice(7).toLowerCase()} to schema ${quoteIdent(String(node.newschema))}`);
  },
  VariableSetStmt: P.setVariable,
  TransactionStmt: function (ctx, node, a) {
    a.summary.push(String(node.kind ?? 'transaction').replace('TRANS_STMT_', '').toLowerCase());
  },
  GrantStmt: function (ctx, node, a) {
    a.summary.push(node.is_grant ? 'grant privileges' : 'revoke privileges');
    a.notes.push('GRANT and REVOKE take no table lock.');
  },
  AlterDefaultPrivilegesStmt: function (ctx, node, a) {
    a.summary.push('alter default privileges');
  },
  CreateSchemaStmt: function (ctx, node, a) {
    a.object('schema', quoteIdent(String(node.schemaname)), true);
    a.summary.push(`create schema ${quoteIdent(String(node.schemaname))}`);
    if (Array.isArray(node.schemaElts) && node.schemaElts.length) a.unknown('CREATE SCHEMA with elements inside it: the elements are not analysed.');
  },
  CreateEnumStmt: function (ctx, node, a) {
    this.createObject('type', (n) => nameList(n.typeName).map(quoteIdent).join('.')).call(this, ctx, node, a);
  },
  CreateDomainStmt: function (ctx, node, a) {
    this.createObject('type', (n) => nameList(n.domainname).map(quoteIdent).join('.')).call(this, ctx, node, a);
  },
  CompositeTypeStmt: function (ctx, node, a) {
    this.createObject('type', (n) => {
      const rv = rangeVar(n.typevar);
      return rv ? qualify(rv.schemaname ?? 'public', rv.relname) : undefined;
    }).call(this, ctx, node, a);
  },
  CreateRangeStmt: function (ctx, node, a) {
    this.createObject('type', (n) => nameList(n.typeName).map(quoteIdent).join('.')).call(this, ctx, node, a);
  },
  DefineStmt: function (ctx, node, a) {
    this.createObject(node.kind === 'OBJECT_TYPE' ? 'type' : 'other', (n) => nameList(n.defnames).map(quoteIdent).join('.')).call(this, ctx, node, a);
  },
  CreateFunctionStmt: function (ctx, node, a) {
    this.createObject('function', (n) => nameList(n.funcname).map(quoteIdent).join('.')).call(this, ctx, node, a);
    a.notes.push('Creating a function locks no table; what its body does is not analysed.');
  },
  CreateExtensionStmt: function (ctx, node, a) {
    this.createObject('extension', (n) => quoteIdent(String(n.extname))).call(this, ctx, node, a);
  },
  AlterFunctionStmt: function (ctx, node, a) {
    a.summary.push('alter function');
  },
  AlterOwnerStmt: function (ctx, node, a) {
    a.summary.push(`change the owner of a ${String(node.objectType).slice(7).toLowerCase()}`);
  },
  CreateCastStmt: function (ctx, node, a) {
    a.summary.push('create cast');
  },
  NotifyStmt: function (ctx, node, a) {
    a.summary.push('notify');
  },
  DiscardStmt: function (ctx, node, a) {
    a.summary.push('discard session state');
  },
};

function maxRisk(a: RiskLevel, b: RiskLevel): RiskLevel {
  const order: RiskLevel[] = ['low', 'medium', 'high'];
  return order[Math.max(order.indexOf(a), order.indexOf(b))];
}


/**
 * Analyses a migration's impact. `client`, when given, is a read-only session on the target
 * (readOnlySession): the catalog is read in one query sent before the file is parsed (relations,
 * columns, constraints, sizes, types, casts, function volatility) and one for the exact counts of
 * small tables, never per statement. A syntax error throws SqlSyntaxError, as planSql does.
 */
export async function analyzeImpact(sql: string, options: ImpactOptions = {}): Promise<ImpactAnalysis> {
  return analyzeWithCatalog(sql, options.thresholds, startCatalogRead(sql, options.client));
}

/** The catalog read for `sql`, on its way to the server when this returns (none without a client or SQL). */
function startCatalogRead(sql: string, client: Client | undefined): Promise<Catalog> | undefined {
  return client && sql.trim() ? readCatalog(client, sql) : undefined;
}

async function analyzeWithCatalog(sql: string, options: Partial<RiskThresholds> | undefined, catalogRead: Promise<Catalog> | undefined): Promise<ImpactAnalysis> {
  const thresholds = { ...DEFAULT_RISK_THRESHOLDS, ...options };
  const empty = !sql.trim();
  let plan: SqlPlan;
  try {
    plan = empty ? { statements: [], ownsTransactions: false, atomic: true } : await planSql(sql);
  } catch (err) {
    await catalogRead?.catch(() => undefined);
    throw err;
  }
  const parsed = empty ? [] : (parseFile(sql).stmts ?? []);
  const catalog = catalogRead ? await catalogRead : EMPTY_CATALOG();
  const analyzer = new ImpactAnalyzer(catalog, thresholds);
  const bytes = Buffer.from(sql, 'utf8');
  const statements = plan.statements.map((stmt, i) => {
    const start = parsed[i].stmt_location ?? 0;
    const end = parsed[i].stmt_len ? start + parsed[i].stmt_len : bytes.length;
    const node = parsed[i].stmt[stmt.kind] as Node;
    return analyzer.analyze({ stmt, node, file: bytes, start, end });
  });

  const reasons = new Set<string>();
  let level: RiskLevel = 'low';
  for (const s of statements) {
    level = maxRisk(level, s.risk);
    for (const r of s.riskReasons) reasons.add(r);
  }
  if (!catalog.available && statements.length) {
    reasons.add('The target\'s catalog was not read: table sizes, column types and existing constraints are unknown.');
    level = maxRisk(level, 'medium');
  }
  const tables: TableSize[] = [...analyzer.touched.values()]
    .filter((r) => r.catalog && ['table', 'partitioned table', 'materialized view', 'foreign table'].includes(r.kind))
    .map((r) => ({ name: keyOf(r), kind: relObjectKind(r.kind), rows: r.catalog!.rows, rowsExact: r.catalog!.rowsExact, ...(r.catalog!.rowsNote ? { rowsNote: r.catalog!.rowsNote } : {}), bytes: r.catalog!.bytes }))
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  return {
    statements,
    destructive: analyzer.destructive,
    risk: { level, reasons: [...reasons] },
    strategies: analyzer.strategies,
    tables,
    unknownStatements: statements.filter((s) => !s.classified).length,
    atomic: plan.atomic,
    catalogRead: catalog.available,
    serverVersion: catalog.serverVersion,
    thresholds,
  };
}

export interface MigrationAnalysis {
  impact: ImpactAnalysis;
  squawk: {
    version: string;
    findings: SquawkFinding[];
    /** Why squawk's findings are missing (not installed, failed), or null. */
    error: string | null;
  };
}

/**
 * Words without which a file cannot leave the single transaction Cutover runs it in (CONCURRENTLY,
 * VACUUM, its own BEGIN/COMMIT, ...). A file without any of them is atomic for certain, so squawk
 * can start before the file is parsed; otherwise it waits for the plan to say.
 */
const MAY_NOT_BE_ATOMIC = /\b(concurrently|vacuum|database|tablespace|system|subscription|begin|commit|start|rollback|end|abort|savepoint|release|prepare)\b/i;

/**
 * The Analysis step's evidence: Cutover's impact analysis and squawk's findings, run side by
 * side (squawk is a separate process, so it runs on another core while the file is parsed and
 * the catalog read). squawk is told the target's server version and, when Cutover will run the
 * file in one transaction, to assume one. A squawk that cannot run leaves its error in the result
 * rather than failing the analysis; a syntax error throws SqlSyntaxError.
 */
export async function analyzeMigration(
  sql: string,
  options: ImpactOptions & { squawk?: Pick<SquawkOptions, 'exclude' | 'signal'> } = {},
): Promise<MigrationAnalysis> {
  const serverVersion = options.client ? (await options.client.query<{ server_version: string }>('SHOW server_version')).rows[0].server_version : null;
  const lint = (assumeInTransaction: boolean) =>
    runSquawk(sql, { ...options.squawk, pgVersion: squawkPgVersion(serverVersion), assumeInTransaction }).then(
      (findings) => ({ findings, error: null }),
      (err: unknown) => ({ findings: [] as SquawkFinding[], error: err instanceof Error ? err.message : String(err) }),
    );
  // The catalog query first (the server works on it while squawk starts and the file is parsed).
  const catalogRead = startCatalogRead(sql, options.client);
  let squawk = MAY_NOT_BE_ATOMIC.test(sql) ? undefined : lint(true);
  const impact = await analyzeWithCatalog(sql, options.thresholds, catalogRead);
  squawk ??= lint(impact.atomic);
  return { impact, squawk: { version: SQUAWK_VERSION, ...(await squawk) } };
}
