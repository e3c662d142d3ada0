import { loadModule, parseSync } from 'libpg-query';

/** One statement of a migration file, located in the file and classified from its parse tree. */
export interface PlannedStatement {
  index: number;
  sql: string;
  line: number;
  column: number;
  /** The parse tree's node type, e.g. CreateStmt, IndexStmt. */
  kind: string;
  /** false for statements PostgreSQL refuses inside a transaction block. */
  transactional: boolean;
  reason?: string;
}

export interface SqlPlan {
  statements: PlannedStatement[];
  /** The file manages its own transactions (BEGIN/COMMIT): it runs as written. */
  ownsTransactions: boolean;
  /** Every statement can run in one transaction, so the whole file is atomic. */
  atomic: boolean;
}

export class SqlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`${message} (line ${line}, column ${column})`);
    this.name = 'SqlSyntaxError';
  }
}

let loaded: Promise<void> | undefined;

/**
 * Line and column (1-based, columns in characters as editors count them) of byte offsets into
 * UTF-8 text. Line starts are found once: a 10,000-statement file must not be rescanned per statement.
 */
export function lineLocator(bytes: Buffer): (offset: number) => { line: number; column: number } {
  const starts = [0];
  for (let i = 0; i < bytes.length; i++) if (bytes[i] === 0x0a) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid] <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: [...bytes.subarray(starts[lo], offset).toString('utf8')].length + 1 };
  };
}

type Node = Record<string, unknown>;

/** Why PostgreSQL would refuse this statement inside a transaction block, if it would. */
function nonTransactionalReason(kind: string, node: Node): string | undefined {
  const hasOption = (name: string) =>
    Array.isArray(node.params) && (node.params as Node[]).some((p) => (p.DefElem as Node | undefined)?.defname === name);
  switch (kind) {
    case 'IndexStmt':
      return node.concurrent ? 'CREATE INDEX CONCURRENTLY cannot run inside a transaction' : undefined;
    case 'DropStmt':
      return node.concurrent ? 'DROP INDEX CONCURRENTLY cannot run inside a transaction' : undefined;
    case 'ReindexStmt':
      return hasOption('concurrently') ? 'REINDEX CONCURRENTLY cannot run inside a transaction' : undefined;
    case 'VacuumStmt':
      return node.is_vacuumcmd ? 'VACUUM cannot run inside a transaction' : undefined;
    case 'CreatedbStmt':
    case 'DropdbStmt':
      return 'CREATE/DROP DATABASE cannot run inside a transaction';
    case 'CreateTableSpaceStmt':
    case 'DropTableSpaceStmt':
      return 'CREATE/DROP TABLESPACE cannot run inside a transaction';
    case 'AlterSystemStmt':
      return 'ALTER SYSTEM cannot run inside a transaction';
    case 'CreateSubscriptionStmt':
    case 'DropSubscriptionStmt':
      return 'subscriptions with a slot cannot be created or dropped inside a transaction';
    default:
      return undefined;
  }
}

type ParsedFile = { stmts?: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };

// The fence and the planner read the same files one after the other (10,000 statements: ~90 ms a
// parse): the last two files' trees (a migration's up and down) are kept, read-only, so each is
// parsed once. Throws as parseSync does.
const recentlyParsed: { sql: string; tree: ParsedFile }[] = [];
export function parseFile(sql: string): ParsedFile {
  const hit = recentlyParsed.find((p) => p.sql === sql);
  if (hit) return hit.tree;
  const tree = parseSync(sql) as ParsedFile;
  recentlyParsed.unshift({ sql, tree });
  recentlyParsed.length = Math.min(recentlyParsed.length, 2);
  return tree;
}

/**
 * Parses a migration with PostgreSQL's own parser (libpg-query) and plans how it will run:
 * statement by statement, which of them cannot run in a transaction, whether the file is atomic.
 * A syntax error throws SqlSyntaxError with its line and column; nothing has run.
 */
export async function planSql(sql: string): Promise<SqlPlan> {
  loaded ??= loadModule();
  await loaded;
  const bytes = Buffer.from(sql, 'utf8');
  let tree: ParsedFile;
  try {
    tree = parseFile(sql);
  } catch (err) {
    const details = (err as { sqlDetails?: { message: string; cursorPosition: number } }).sqlDetails;
    if (!details) throw err;
    // cursorPosition counts characters from 0 in libpg-query's error report.
    const prefix = [...sql].slice(0, details.cursorPosition).join('');
    const { line, column } = lineLocator(bytes)(Buffer.byteLength(prefix));
    throw new SqlSyntaxError(details.message, line, column);
  }
  const locate = lineLocator(bytes);
  const statements: PlannedStatement[] = (tree.stmts ?? []).map((s, index) => {
    const start = s.stmt_location ?? 0;
    const end = s.stmt_len ? start + s.stmt_len : bytes.length;
    const raw = bytes.subarray(start, end).toString('utf8');
    // The location includes the comments and blank lines before a statement; point at its first word.
    const lead = raw.length - raw.trimStart().length;
    const { line, column } = locate(start + Buffer.byteLength(raw.slice(0, lead)));
    const [kind, node] = Object.entries(s.stmt)[0] as [string, Node];
    const reason = nonTransactionalReason(kind, node);
    return { index, sql: raw.trim(), line, column, kind, transactional: !reason, ...(reason ? { reason } : {}) };
  });
  const ownsTransactions = statements.some((s) => s.kind === 'TransactionStmt');
  return { statements, ownsTransactions, atomic: !ownsTransactions && statements.every((s) => s.transactional) };
}

export interface PlanSummary {
  statements: number;
  atomic: boolean;
  ownsTransactions: boolean;
  outside: { line: number; kind: string; reason: string }[];
}

/** How a migration file will run, said before it runs; null when it does not parse. */
export async function summarizePlan(sql: string): Promise<PlanSummary | null> {
  try {
    const plan = await planSql(sql);
    return {
      statements: plan.statements.length,
      atomic: plan.atomic,
      ownsTransactions: plan.ownsTransactions,
      outside: plan.statements.filter((s) => !s.transactional).map((s) => ({ line: s.line, kind: s.kind, reason: s.reason ?? '' })),
    };
  } catch (err) {
    if (err instanceof SqlSyntaxError) return null;
    throw err;
  }
}
