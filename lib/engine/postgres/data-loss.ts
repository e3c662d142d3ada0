import { randomBytes } from 'node:crypto';
import { loadModule, parseSync, scanSync } from 'libpg-query';
import { Client, escapeIdentifier as id, escapeLiteral, type ClientConfig } from 'pg';
import { keepQuietWhenIdle } from '../connection';
import { describeTables, rowHashSql, sumToHex, withCanonicalSettings, type ChecksumColumn, type ChecksumTable } from './checksum';
import type { DataCheck } from './rehearsal';
import { relationsNamed } from './lock-probe';
import { parseFile } from './sql-plan';

/**
 * The data-loss check ("No data loss"): per table, row counts and content checksums inside the
 * database before and after a migration's up; every difference the revision did not declare
 * fails, naming the table and a few primary keys that differ, found by bisecting key ranges in
 * the database (as data-diff does: checksums of key ranges on both sides, the differing ranges
 * split again, down to ranges small enough to list) rather than by comparing row by row in Node.
 *
 * Where "before" lives. Before and after are the same database at two moments, and a bisection
 * needs both sides at once. The before side is a copy of each table in TEMPORARY tables of the
 * checking session, taken in one REPEATABLE READ snapshot right before up:
 * - a copy (not only per-row hashes) because what is compared is only known after up: columns
 *   the migration adds or drops change the row hash, so both sides are hashed over the columns
 *   they share, and a declared row condition (`status = 'void'`) must be evaluated on the rows
 *   as they were, for rows the migration deleted;
 * - temporary, in a session of its own (the rehearsal's DataCheck opens one beside the
 *   migration's): no other session can read or write the rows of another session's temporary
 *   tables; schema snapshots leave pg_temp out, so the rollback proof does not see it; and it
 *   disappears with the session, whatever happens. Its catalog entries are not private, though:
 *   the copy belongs to the role the migration runs as, and a session of that role that can name
 *   the check's pg_temp_N schema (a superuser's; the rehearsal role lacks USAGE on it) may rename
 *   the copy or its columns, or add policies (catalog changes, no rows read), and any session of
 *   it may drop the copy (DROP OWNED). So each copy's identity (OID, relfilenode), columns
 *   (number, name, type) and what could filter or redirect a read of it are recorded at the
 *   capture and checked right before the comparison (assertCopiesIntact): any change, or a
 *   missing copy, fails the check;
 * - not a CREATE DATABASE ... TEMPLATE clone: that needs every session of the scratch copy
 *   closed (the migration's included) and a superuser-made database holding the target's code.
 * The price is one copy of the sample, which is what a rehearsal copies anyway.
 *
 * Identity, not names. Tables are matched by OID and columns by number (attnum) as well as by
 * name: a table or column renamed, two swapping names, a table dropped and created again under
 * its name each fail the check unless the revision declares them (`renameTo`, `renameColumns`,
 * `drop`); their values are compared under their new names.
 *
 * Checking fewer rows. A migration can only have changed rows it wrote: a row version whose
 * xmin is older than the before snapshot was not touched, unless the table was rewritten (a new
 * relfilenode) or a type's text changed under it (an enum label renamed). When neither happened,
 * the after side is one counting scan (rows in all, and a map of the block ranges holding rows
 * written since) plus the written rows, read from those ranges only (TID range scans), compared
 * with the before copy by key, both in one snapshot; a table the migration did not write to
 * costs a count. Rows deleted are those before had beyond the after side's untouched and updated
 * rows (before - after + inserted): any, and the full path names them.
 * Anything else (a rewrite, a declared row condition, deleted rows to name) takes the full path:
 * checksums of both sides, then the bisection.
 */

export interface DeclaredTableChanges {
  table: string;
  columns?: string[];
  dropColumns?: string[];
  drop?: boolean;
  rows?: { predicate?: string };
  /** The table's name after up (schema.table; without schema, the table's own schema). */
  renameTo?: string;
  /** Columns renamed, by their names before and after up. */
  renameColumns?: { from: string; to: string }[];
}
/** The shape of DeclaredChanges (lib/validation/declared-changes.ts), as the engine reads it. */
export interface DeclaredDataChanges {
  tables: DeclaredTableChanges[];
}

export type KeyChange = 'deleted' | 'inserted' | 'updated';

export interface DifferingKey {
  /** Primary key columns and their values as text. */
  key: Record<string, string>;
  change: KeyChange;
}

export interface TableVerdict {
  table: string;
  status: 'unchanged' | 'changed as declared' | 'undeclared changes' | 'dropped as declared' | 'added';
  rowsBefore: number | null;
  rowsAfter: number | null;
  /** Columns compared on both sides (shared, not declared altered or dropped). */
  compared: string[];
  /** incremental: rows written since the before snapshot only; full: both sides checksummed. */
  method: 'incremental' | 'full' | 'none';
  /** Checksums of both sides over `compared`, rows outside the declared condition (full path). */
  checksumBefore?: string;
  checksumAfter?: string;
  /** Undeclared differences, in words. */
  problems: string[];
  /** The declaration line(s) that would declare the undeclared differences ("public.orders rows where status = 'void'"). */
  suggestedDeclaration?: string;
  /** Declared changes seen, in words with counts. */
  declared: string[];
  /** Other facts (columns added, declared changes that did not happen). */
  notes: string[];
  /** A few keys of rows that differ outside the declarations (bisection or the written rows). */
  keys: DifferingKey[];
  /** More differing rows exist than `keys` names. */
  moreKeys?: boolean;
  /** Undeclared differing rows counted exactly (incremental path), when known. */
  differingRows?: number;
  /** Counts of declared row changes (key-matched when the table has a primary key). */
  declaredRows?: { updated: number; inserted: number; deleted: number } | { before: number; after: number };
  /** Why keys cannot be named (no primary key). */
  keysUnavailable?: string;
  /** The bisection: queries, depth reached, time; firstPassMs is its first split, one pass over each side (the full comparison itself). */
  bisection?: { queries: number; depth: number; ms: number; firstPassMs: number };
  ms: number;
}

export interface DataLossReport {
  ok: boolean;
  tables: TableVerdict[];
  /** Declarations naming tables that did not exist before up. */
  unknownDeclarations: string[];
  /** Before-copy time (ms) and check time (ms). */
  captureMs: number;
  checkMs: number;
}

export interface CapturedTable extends ChecksumTable {
  rows: number;
  /** The copy holds each row's hash over all columns (ROW_HASH_COLUMN). */
  rowHashStored: boolean;
  /** The before copy: pg_temp."cutover_before_<run>_<n>". */
  copy: string;
  /** The table's column numbers (attnum) by name at the capture. */
  attnums: Record<string, number>;
  /** The copy's catalog state when it was made (copyState): checked again before comparing. */
  copyState: string;
}

export interface BeforeState {
  /** Oldest transaction still running at the before snapshot (txid with epoch): rows written by it or later are "new". */
  horizon: string;
  tables: CapturedTable[];
  captureMs: number;
  /** Set when the check was scoped (TableScope): the OIDs of every table at the capture, so that tables created by the migration are still reported. */
  existingOids?: number[];
}

/**
 * The tables a scoped check compares (by OID), and why, in words. A rehearsal compares every
 * table of its sample; a deploy compares only what the migration can change (tablesTouchedBy),
 * since the application keeps writing to the other tables of a live database meanwhile.
 */
export interface TableScope {
  oids: number[];
  /** e.g. "the tables the migration names or declares, and those whose foreign keys reference them". */
  description: string;
}

/** Functions a declared condition may call (pure, from pg_catalog). */
const PREDICATE_FUNCTIONS = new Set([
  'lower', 'upper', 'length', 'char_length', 'octet_length', 'btrim', 'ltrim', 'rtrim', 'substring', 'substr', 'position', 'strpos',
  'left', 'right', 'replace', 'concat', 'starts_with', 'abs', 'round', 'trunc', 'floor', 'ceil', 'ceiling', 'mod', 'sign',
  'date_trunc', 'date_part', 'extract', 'now', 'age', 'make_date', 'make_interval', 'to_char', 'to_date', 'to_timestamp',
  'array_length', 'cardinality', 'jsonb_typeof', 'json_typeof', 'jsonb_array_length', 'isfinite', 'nullif', 'md5',
]);

/** Parse-tree nodes a plain expression over the table's own columns is made of. */
const PREDICATE_NODES = new Set([
  'A_Expr', 'BoolExpr', 'A_Const', 'ColumnRef', 'TypeCast', 'TypeName', 'NullTest', 'BooleanTest', 'FuncCall', 'CoalesceExpr',
  'MinMaxExpr', 'CaseExpr', 'CaseWhen', 'List', 'A_ArrayExpr', 'SQLValueFunction', 'CollateClause', 'A_Indirection', 'A_Indices', 'String', 'Integer',
  'Float', 'Boolean', 'RowExpr',
]);

let libpgLoaded: Promise<void> | undefined;

/**
 * A declared condition is SQL that runs only in the sandbox's copy; still, it must be a plain
 * expression over the table's columns and nothing else: parsed with PostgreSQL's parser as
 * `SELECT 1 WHERE (<condition>)`, refused unless that is one SELECT of exactly that shape, with
 * balanced parentheses and no comments (so it means the same wherever it is embedded), no
 * subqueries, no parameters, no qualified columns, and only functions from a short list.
 * Returns the reason for a refusal, or null.
 */
export async function predicateProblem(predicate: string): Promise<string | null> {
  await (libpgLoaded ??= loadModule());
  let depth = 0;
  try {
    for (const t of scanSync(predicate).tokens) {
      if (t.tokenName === 'SQL_COMMENT' || t.tokenName === 'C_COMMENT') return 'comments are not allowed in a condition';
      if (t.text === '(') depth++;
      if (t.text === ')' && --depth < 0) return 'a closing parenthesis has no opening one';
      if (t.text === ';') return 'a condition is one expression, without ";"';
    }
  } catch (err) {
    return `it does not parse: ${(err as Error).message}`;
  }
  if (depth !== 0) return 'its parentheses are not balanced';
  let tree: { stmts?: { stmt: Record<string, unknown> }[] };
  try {
    tree = parseSync(`SELECT 1 WHERE (${predicate})`) as typeof tree;
  } catch (err) {
    return `it does not parse: ${(err as Error).message}`;
  }
  const select = tree.stmts?.length === 1 ? (tree.stmts[0].stmt.SelectStmt as Record<string, unknown> | undefined) : undefined;
  if (!select) return 'it is not a single expression';
  const allowedKeys = new Set(['targetList', 'whereClause', 'limitOption', 'op']);
  for (const [k, v] of Object.entries(select)) {
    if (!allowedKeys.has(k) && v !== undefined && v !== false) return 'it is not a single expression';
  }
  if ((select.op && select.op !== 'SETOP_NONE') || !select.whereClause) return 'it is not a single expression';
  let problem: string | null = null;
  const walk = (node: unknown): void => {
    if (problem || node === null || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    for (const [kind, value] of Object.entries(node as Record<string, unknown>)) {
      if (/^[A-Z]/.test(kind)) {
        if (!PREDICATE_NODES.has(kind)) {
          problem = kind === 'SubLink' ? 'subqueries are not allowed in a condition' : kind === 'ParamRef' ? 'parameters are not allowed in a condition' : `${kind} is not allowed in a condition`;
          return;
        }
        const v = value as Record<string, unknown>;
        if (kind === 'ColumnRef') {
          const fields = (v.fields as Record<string, unknown>[]) ?? [];
          if (fields.length !== 1 || !('String' in fields[0])) {
            problem = 'name columns without a table (status, not orders.status), and no *';
            return;
          }
        }
        if (kind === 'FuncCall') {
          const names = ((v.funcname as { String?: { sval: string } }[]) ?? []).map((n) => n.String?.sval ?? '');
          const name = names[names.length - 1];
          const schemaOk = names.length === 1 || (names.length === 2 && names[0] === 'pg_catalog');
          if (!schemaOk || !PREDICATE_FUNCTIONS.has(name) || v.over || v.agg_star || v.agg_distinct || v.agg_filter || v.agg_order) {
            problem = `the function ${names.join('.')} is not allowed in a condition (allowed: ${[...PREDICATE_FUNCTIONS].sort().join(', ')})`;
            return;
          }
        }
      }
      walk(value);
    }
  };
  walk(select.whereClause);
  return problem;
}

const LEAF_ROWS = 64;
const FANOUT = 32;
/** The first split: fine, so that the ranges read again below it are small. */
const TOP_FANOUT = 256;
const MAX_DEPTH = 24;
/** Beyond this many transaction ids since the before snapshot, "written since" is decided by age(). */
const MAX_XID_LIST = 100_000;
/** The incremental path's map of where written rows are: the table's blocks in this many runs. */
const WRITTEN_BUCKETS = 256;

/** SQL for key columns: ONE column as itself, several as a row. */
const keyTuple = (exprs: string[]) => (exprs.length === 1 ? exprs[0] : `(${exprs.join(', ')})`);

interface Side {
  /** FROM clause with alias `x`. */
  from: string;
  /** Row hash over the compared columns, of alias x. */
  hash: string;
  /** Key expressions of alias x, in the after side's key types. */
  keys: string[];
  /** Extra condition (declared rows left out), or 'true'. */
  where: string;
}

interface Range {
  lo?: string[];
  hi?: string[];
}

/** A session beside `client`'s: same server, database and role (the rehearsal role's password included). */
async function siblingSession(client: Client): Promise<Client> {
  const c = client as unknown as { host: string; port: number; user: string; database: string; password?: string; ssl?: ClientConfig['ssl'] };
  const session = keepQuietWhenIdle(new Client({
    host: c.host, port: c.port, user: c.user, database: c.database, password: c.password, ssl: c.ssl,
    application_name: 'cutover data-loss check', connectionTimeoutMillis: 10_000,
  }));
  await session.connect();
  return session;
}

/**
 * The tables the check compares: every table but the migration history (_prisma_migrations),
 * which is bookkeeping the rehearsal's runner may write, and which the data sample leaves out too.
 */
async function checkedTables(session: Client, scope?: TableScope): Promise<ChecksumTable[]> {
  const oids = scope && new Set(scope.oids);
  return (await describeTables(session)).filter((t) => t.name !== '_prisma_migrations' && (!oids || oids.has(t.oid)));
}

/**
 * The tables a migration can change, as a TableScope resolved now (before up): every relation its
 * statements name (an index stands for its table; a partitioned table for its partitions), every
 * table its declared changes name, and, transitively, every table with a foreign key to one of
 * those (ON DELETE CASCADE / SET NULL reach them). Names that do not exist yet (tables the
 * migration creates) are left out here; compareAfter reports tables created since as "added".
 */
export async function tablesTouchedBy(session: Client, upSql: string, declared: DeclaredDataChanges = { tables: [] }): Promise<TableScope> {
  const tree = parseFile(upSql);
  const named = new Set<string>((tree.stmts ?? []).flatMap((s) => (s.stmt ? relationsNamed(s.stmt as Record<string, unknown>) : [])));
  for (const d of declared.tables) {
    named.add(d.table);
    if (d.renameTo) named.add(d.renameTo);
  }
  if (!named.size) return { oids: [], description: 'the tables the migration names or declares (none)' };
  const { rows } = await session.query<{ oid: string }>(
    `WITH RECURSIVE named AS (
       SELECT COALESCE(i.indrelid, r.oid) AS oid
       FROM pg_catalog.unnest($1::pg_catalog.text[]) n
       JOIN pg_catalog.pg_class r ON r.oid = pg_catalog.to_regclass(n)
       LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = r.oid
     ), scope(oid) AS (
       SELECT oid FROM named
       UNION
       SELECT x.oid FROM scope s, LATERAL (
         SELECT h.inhrelid AS oid FROM pg_catalog.pg_inherits h WHERE h.inhparent = s.oid
         UNION ALL
         SELECT c.conrelid FROM pg_catalog.pg_constraint c WHERE c.contype = 'f' AND c.confrelid = s.oid
       ) x
     )
     SELECT DISTINCT oid::pg_catalog.int8::pg_catalog.text AS oid FROM scope`,
    [[...named]],
  );
  return { oids: rows.map((r) => Number(r.oid)), description: 'the tables the migration names or declares, and those whose foreign keys reference them' };
}

/**
 * Copies every table of the database but the migration history (see checkedTables) into temporary tables of `session`,
 * in one REPEATABLE READ snapshot, with an index on each primary key for the bisection.
 * `session` must stay open until compareAfter and must not be the session that runs the migration.
 */
export async function captureBefore(session: Client, scope?: TableScope): Promise<BeforeState> {
  // The stored row hashes take text forms under the canonical settings, as the comparison will.
  return withCanonicalSettings(session, () => capture(session, scope));
}

async function capture(session: Client, scope?: TableScope): Promise<BeforeState> {
  const started = performance.now();
  const run = randomBytes(3).toString('hex');
  const tables = await checkedTables(session, scope);
  const existingOids = scope
    ? (await session.query<{ oid: string }>(`SELECT oid::pg_catalog.int8::pg_catalog.text AS oid FROM pg_catalog.pg_class WHERE relkind = 'r'`)).rows.map((r) => Number(r.oid))
    : undefined;
  const captured: CapturedTable[] = [];
  let horizon = '';
  await session.query('BEGIN ISOLATION LEVEL REPEATABLE READ');
  try {
    horizon = (await session.query<{ x: string }>(`SELECT pg_catalog.txid_snapshot_xmin(pg_catalog.txid_current_snapshot())::pg_catalog.text AS x`)).rows[0].x;
    for (const [i, t] of tables.entries()) {
      const copy = `pg_temp.${id(`cutover_before_${run}_${i}`)}`;
      // The row hash over every column comes along, computed now (before up): when after up the
      // same columns are compared, the before side is not hashed again.
      const withHash = !t.columns.some((c) => c.name === ROW_HASH_COLUMN);
      const r = await session.query(
        `CREATE TEMPORARY TABLE ${copy.slice('pg_temp.'.length)} AS SELECT *${withHash ? `, ${rowHashSql(allColumnsSpec(t.columns), 'x')} AS ${id(ROW_HASH_COLUMN)}` : ''} FROM ONLY ${t.sqlName} x`,
      );
      captured.push({ ...t, rows: r.rowCount ?? 0, copy, rowHashStored: withHash, attnums: {}, copyState: '' });
    }
    const numbers = await columnNumbers(session, captured.map((t) => t.oid));
    for (const t of captured) t.attnums = numbers.get(t.oid) ?? {};
    await session.query('COMMIT');
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
  for (const t of captured) {
    if (t.primaryKey.length) await session.query(`CREATE INDEX ON ${t.copy} (${t.primaryKey.map(id).join(', ')})`);
    await session.query(`ANALYZE ${t.copy}`);
  }
  const states = await copyStates(session, captured.map((t) => t.copy));
  captured.forEach((t, i) => (t.copyState = JSON.stringify(states[i])));
  return { horizon, tables: captured, captureMs: Math.round(performance.now() - started), ...(existingOids ? { existingOids } : {}) };
}

/** Column numbers (attnum) by name of live columns, per table OID. */
async function columnNumbers(session: Client, oids: number[]): Promise<Map<number, Record<string, number>>> {
  const out = new Map<number, Record<string, number>>();
  if (!oids.length) return out;
  const { rows } = await session.query<{ rel: string; name: string; num: number }>(
    `SELECT a.attrelid::pg_catalog.int8::pg_catalog.text AS rel, a.attname::pg_catalog.text AS name, a.attnum::pg_catalog.int4 AS num
     FROM pg_catalog.pg_attribute a WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped`,
    [oids],
  );
  for (const r of rows) {
    const byName = out.get(Number(r.rel)) ?? {};
    byName[r.name] = r.num;
    out.set(Number(r.rel), byName);
  }
  return out;
}

interface CopyState {
  oid: string;
  filenode: string;
  name: string;
  /** Row security, policies, rules, inheritance, triggers, owner: what could filter, redirect or refuse a read. */
  reads: Record<string, unknown>;
  /** [attnum, name, type, typmod, dropped, collation] of every column. */
  columns: [number, string, string, number, boolean, string][];
}

/**
 * The catalog state of each before copy (null: gone), read without any operator or function a
 * role could shadow: OIDs compared as oid, everything else compared in Node.
 */
async function copyStates(session: Client, copies: string[]): Promise<(CopyState | null)[]> {
  const { rows } = await session.query<{ i: string; oid: string | null; filenode: string | null; name: string; reads: Record<string, unknown>; columns: CopyState['columns'] | null }>(
    `SELECT n.i::pg_catalog.text AS i, c.oid::pg_catalog.int8::pg_catalog.text AS oid,
            pg_catalog.pg_relation_filenode(c.oid)::pg_catalog.int8::pg_catalog.text AS filenode, c.relname::pg_catalog.text AS name,
            pg_catalog.json_build_object(
              'kind', c.relkind, 'persistence', c.relpersistence, 'rowSecurity', c.relrowsecurity, 'forceRowSecurity', c.relforcerowsecurity,
              'rules', c.relhasrules, 'children', c.relhassubclass, 'triggers', c.relhastriggers, 'owner', c.relowner::pg_catalog.int8,
              'policies', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_policy p WHERE p.polrelid = c.oid),
              'inherits', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_inherits h WHERE h.inhparent = c.oid OR h.inhrelid = c.oid),
              'rewrite', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_rewrite w WHERE w.ev_class = c.oid)) AS reads,
            (SELECT pg_catalog.json_agg(pg_catalog.json_build_array(a.attnum, a.attname, a.atttypid::pg_catalog.int8::pg_catalog.text, a.atttypmod, a.attisdropped,
                                                                    a.attcollation::pg_catalog.int8::pg_catalog.text) ORDER BY a.attnum)
             FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0) AS columns
     FROM pg_catalog.unnest($1::pg_catalog.text[]) WITH ORDINALITY AS n(copy, i)
     LEFT JOIN pg_catalog.pg_class c ON c.oid = pg_catalog.to_regclass(n.copy)::pg_catalog.oid
     ORDER BY n.i`,
    [copies],
  );
  return rows.map((r) => (r.oid === null ? null : { oid: r.oid, filenode: r.filenode ?? '', name: r.name, reads: r.reads, columns: r.columns ?? [] }));
}

/**
 * The before copies are as they were made: same relation, same storage, same columns, nothing
 * that could filter or redirect a read. The migration's role owns them and can change all of
 * that from its own session (see the top of this file); a changed or missing copy fails the
 * check, since the before side could no longer be trusted.
 */
async function assertCopiesIntact(session: Client, tables: CapturedTable[]): Promise<void> {
  const states = await copyStates(session, tables.map((t) => t.copy));
  tables.forEach((t, i) => {
    const now = states[i];
    if (!now) throw new Error(`The before copy of ${t.qualified} is gone (dropped during the migration?): the data cannot be compared.`);
    if (JSON.stringify(now) === t.copyState) return;
    const was = JSON.parse(t.copyState) as CopyState;
    const what: string[] = [];
    if (now.oid !== was.oid) what.push('another table took its name');
    else if (now.filenode !== was.filenode) what.push('its storage was replaced');
    const cols = (s: CopyState) => new Map(s.columns.map((c) => [c[0], c]));
    const [before, after] = [cols(was), cols(now)];
    for (const [num, c] of before) {
      const a = after.get(num);
      if (!a || (a[4] && !c[4])) what.push(`column ${c[1]} dropped`);
      else if (a[1] !== c[1]) what.push(`column ${c[1]} renamed to ${a[1]}`);
      else if (JSON.stringify(a) !== JSON.stringify(c)) what.push(`column ${c[1]} altered`);
    }
    for (const [num, a] of after) if (!before.has(num) && !a[4]) what.push(`column ${a[1]} added`);
    for (const [k, v] of Object.entries(now.reads)) if (JSON.stringify(v) !== JSON.stringify(was.reads[k])) what.push(`${k} changed`);
    throw new Error(
      `The before copy was altered during the migration: the copy of ${t.qualified} (${what.join(', ') || 'its catalog entry changed'}). ` +
        'The migration\'s role can change the catalog entries of the check\'s temporary tables; the data cannot be compared.',
    );
  });
}

/** The before copy's column with each row's hash over all its columns. */
const ROW_HASH_COLUMN = 'cutover_row_hash';

/**
 * How both sides hash a column: NULL markers always (the before copy has no NOT NULL
 * constraints, and a row whose hash were NULL would drop out of a sum).
 */
const allColumnsSpec = (columns: ChecksumColumn[]) => columns.map((c) => ({ ...c, notNull: false }));

interface ResolvedDeclaration {
  entry: DeclaredTableChanges;
  schema: string;
  name: string;
  columns: Set<string>;
  dropColumns: Set<string>;
  renameTo?: { schema: string; name: string };
  /** Column renames: name before up -> name after. */
  renameColumns: Map<string, string>;
}

/** Names as PostgreSQL reads them (parse_ident: quoted parts kept, others folded to lower case). */
async function resolveDeclarations(session: Client, declared: DeclaredDataChanges): Promise<ResolvedDeclaration[]> {
  const out: ResolvedDeclaration[] = [];
  const ident = async (text: string) => (await session.query<{ p: string[] }>(`SELECT pg_catalog.parse_ident($1) AS p`, [text.trim()])).rows[0].p;
  for (const entry of declared.tables) {
    const parts = await ident(entry.table).catch(() => null);
    if (!parts || parts.length > 2) throw new Error(`The declared table "${entry.table}" is not a table name (schema.table).`);
    const [schema, name] = parts.length === 1 ? ['public', parts[0]] : parts;
    const col = async (c: string) => {
      const p = await ident(c).catch(() => null);
      if (!p || p.length !== 1) throw new Error(`"${c}" (declared for ${entry.table}) is not a column name.`);
      return p[0];
    };
    // One query at a time: a pg client runs its queries in turn.
    const names = async (list: string[] = []) => {
      const out: string[] = [];
      for (const c of list) out.push(await col(c));
      return new Set(out);
    };
    let renameTo: ResolvedDeclaration['renameTo'];
    if (entry.renameTo) {
      const to = await ident(entry.renameTo).catch(() => null);
      if (!to || to.length > 2) throw new Error(`"${entry.renameTo}" (the new name declared for ${entry.table}) is not a table name (schema.table).`);
      renameTo = to.length === 1 ? { schema, name: to[0] } : { schema: to[0], name: to[1] };
    }
    const renameColumns = new Map<string, string>();
    for (const r of entry.renameColumns ?? []) renameColumns.set(await col(r.from), await col(r.to));
    // Altered or dropped columns may be named as they are called after a declared rename.
    const beforeName = new Map([...renameColumns].map(([from, to]) => [to, from]));
    const asBefore = (set: Set<string>) => new Set([...set].map((c) => beforeName.get(c) ?? c));
    out.push({ entry, schema, name, columns: asBefore(await names(entry.columns)), dropColumns: asBefore(await names(entry.dropColumns)), renameTo, renameColumns });
  }
  return out;
}

/** Builtin types whose stored bytes alone decide their hash (no enum label, composite shape or name behind an OID). */
const FIRST_NORMAL_OID = 16384;
const OID_ALIAS_TYPES = new Set([24, 2202, 2203, 2204, 2205, 2206, 3734, 3769, 4089, 4096, 4191, 2205]);
const stableType = (c: ChecksumColumn) => c.baseTypeOid < FIRST_NORMAL_OID && !OID_ALIAS_TYPES.has(c.baseTypeOid);

/**
 * Compares the database now (after up) with `before`, in `session` (the one that captured it).
 * Declared changes are left out of the comparison and reported with counts.
 */
export async function compareAfter(
  session: Client,
  before: BeforeState,
  declared: DeclaredDataChanges = { tables: [] },
  options: { keysPerTable?: number; method?: 'auto' | 'full'; upSql?: string } = {},
): Promise<DataLossReport> {
  const started = performance.now();
  const keysPerTable = options.keysPerTable ?? 10;
  const declarations = await resolveDeclarations(session, declared);
  const rowConditions = options.upSql ? await rowConditionsOf(options.upSql) : new Map<string, string | null>();
  return withCanonicalSettings(session, async () => {
    await assertCopiesIntact(session, before.tables);
    // Scoped: the captured tables, and tables that did not exist at the capture (created by the migration).
    const existed = before.existingOids && new Set(before.existingOids);
    const captured = new Set(before.tables.map((t) => t.oid));
    const now = (await checkedTables(session)).filter((t) => !existed || captured.has(t.oid) || !existed.has(t.oid));
    const nowNumbers = await columnNumbers(session, now.map((t) => t.oid));
    const nowByOid = new Map(now.map((t) => [t.oid, t]));
    const beforeOids = new Set(before.tables.map((t) => t.oid));
    const unknownDeclarations = declarations
      .filter((d) => !before.tables.some((t) => t.schema === d.schema && t.name === d.name))
      .map((d) => `${d.entry.table}: no such table before up`);
    const xids = await writtenSince(session, before.horizon);
    const tables: TableVerdict[] = [];
    for (const t of before.tables) {
      const decl = declarations.find((d) => d.schema === t.schema && d.name === t.name);
      const verdict = await compareTable(session, t, nowByOid.get(t.oid), nowNumbers.get(t.oid) ?? {}, decl, xids, { keysPerTable, method: options.method ?? 'auto' });
      if (!nowByOid.has(t.oid) && now.some((x) => x.qualified === t.qualified)) {
        verdict.notes.push(`the ${t.qualified} after up is another table, created by the migration: the old one's rows are not in it`);
      }
      if (verdict.problems.length) verdict.suggestedDeclaration = suggestDeclaration(t, verdict, nowByOid.get(t.oid), rowConditions);
      tables.push(verdict);
    }
    for (const t of now.filter((x) => !beforeOids.has(x.oid))) {
      const { rows } = await session.query<{ n: string }>(`SELECT pg_catalog.count(*)::pg_catalog.text AS n FROM ONLY ${t.sqlName}`);
      tables.push({
        table: t.qualified, status: 'added', rowsBefore: null, rowsAfter: Number(rows[0].n), compared: [], method: 'none',
        problems: [], declared: [], notes: [`created by the migration (${rows[0].n} rows)`], keys: [], ms: 0,
      });
    }
    return {
      ok: tables.every((t) => t.problems.length === 0),
      tables,
      unknownDeclarations,
      captureMs: before.captureMs,
      checkMs: Math.round(performance.now() - started),
    };
  });
}

/**
 * The test "written since the before snapshot" for a row version's xmin (SQL on alias x). A
 * short list of transaction ids is written out as a constant array, which PostgreSQL searches
 * through a hash table and parallel workers may evaluate (a bound parameter would be searched
 * linearly per row; age() keeps the scan out of parallel workers). Past MAX_XID_LIST ids, age().
 */
async function writtenSince(session: Client, horizon: string): Promise<string> {
  const next = (await session.query<{ x: string }>(`SELECT pg_catalog.txid_snapshot_xmax(pg_catalog.txid_current_snapshot())::pg_catalog.text AS x`)).rows[0].x;
  const from = BigInt(horizon);
  const to = BigInt(next);
  if (to - from <= BigInt(MAX_XID_LIST)) {
    const list: string[] = [];
    for (let x = from; x < to; x++) list.push(String(x % 4294967296n));
    return `x.xmin = ANY('{${list.join(',')}}'::pg_catalog.xid[])`;
  }
  // Wraparound-safe: a row written at or after the horizon is younger than it.
  return `pg_catalog.age(x.xmin) <= pg_catalog.age('${from % 4294967296n}'::pg_catalog.xid)`;
}

async function compareTable(
  session: Client,
  t: CapturedTable,
  after: ChecksumTable | undefined,
  afterNumbers: Record<string, number>,
  decl: ResolvedDeclaration | undefined,
  written: string,
  options: { keysPerTable: number; method: 'auto' | 'full' },
): Promise<TableVerdict> {
  const started = performance.now();
  const v: TableVerdict = {
    table: t.qualified, status: 'unchanged', rowsBefore: t.rows, rowsAfter: null, compared: [], method: 'full', problems: [], declared: [], notes: [], keys: [], ms: 0,
  };
  const done = () => {
    if (v.problems.length) v.status = 'undeclared changes';
    else if (v.status !== 'dropped as declared' && v.declared.length) v.status = 'changed as declared';
    v.ms = Math.round(performance.now() - started);
    return v;
  };
  if (!after) {
    v.method = 'none';
    if (decl?.entry.drop) {
      v.status = 'dropped as declared';
      v.declared.push(`table dropped as declared (${t.rows} rows)`);
    } else {
      v.problems.push(`the table was dropped, with its ${t.rows} row(s), and the revision does not declare it`);
    }
    return done();
  }
  if (decl?.entry.drop) v.notes.push('declared as dropped, but the table is still there');
  // The same table (OID) under another name: code that names the old one finds another table, or none.
  const renamed = decl?.renameTo;
  if (after.qualified !== t.qualified) {
    if (renamed && renamed.schema === after.schema && renamed.name === after.name) v.declared.push(`table renamed to ${after.qualified} as declared`);
    else v.problems.push(`the table was renamed to ${after.qualified} and the revision does not declare it${renamed ? ` (it declares ${decl!.entry.renameTo})` : ''}`);
  } else if (renamed) {
    v.notes.push(`declared as renamed to ${decl!.entry.renameTo}, but the table kept its name`);
  }

  // Columns: matched by number (attnum), so a renamed column is followed; `afterCols` maps each
  // column's name before up to the same column after up. Compared: what both sides share and the
  // revision does not declare as changing.
  const afterByNumber = new Map(after.columns.map((c) => [afterNumbers[c.name], c]));
  const afterCols = new Map<string, ChecksumColumn>();
  for (const c of t.columns) {
    const a = afterByNumber.get(t.attnums[c.name]);
    if (a) afterCols.set(c.name, a);
  }
  const beforeCols = new Set(t.columns.map((c) => c.name));
  const afterNames = new Set(after.columns.map((c) => c.name));
  for (const c of t.columns) {
    const a = afterCols.get(c.name);
    if (a && a.name !== c.name) {
      if (decl?.renameColumns.get(c.name) === a.name) v.declared.push(`column ${c.name} renamed to ${a.name} as declared`);
      else v.problems.push(`column ${c.name} was renamed to ${a.name} and the revision does not declare it${afterNames.has(c.name) ? `: ${c.name} now names another column` : ''}`);
    }
    if (a) continue;
    if (decl?.dropColumns.has(c.name) || decl?.columns.has(c.name)) v.declared.push(`column ${c.name} dropped as declared`);
    else {
      v.problems.push(
        `column ${c.name} (${c.type}) is gone (dropped${afterNames.has(c.name) ? `; the ${c.name} after up is a new column` : ''}) and the revision does not declare it: its values in ${t.rows} row(s) are lost`,
      );
    }
  }
  const keptNumbers = new Set(t.columns.map((c) => t.attnums[c.name]));
  for (const c of after.columns) if (!keptNumbers.has(afterNumbers[c.name])) v.notes.push(`column ${c.name} (${c.type}) added`);
  for (const [from, to] of decl?.renameColumns ?? []) {
    if (afterCols.get(from)?.name !== to) v.notes.push(`column ${from} is declared as renamed to ${to}, but it is ${afterCols.has(from) ? `called ${afterCols.get(from)!.name}` : 'gone'} after up`);
  }
  for (const c of decl?.dropColumns ?? []) if (afterCols.has(c)) v.notes.push(`column ${c} is declared as dropped but is still there`);
  const compared = t.columns.filter((c) => afterCols.has(c.name) && !decl?.columns.has(c.name) && !decl?.dropColumns.has(c.name));
  v.compared = compared.map((c) => c.name);
  // Hashed alike on both sides: the scale left out only where both sides fix it (allColumnsSpec).
  const beforeSpec = allColumnsSpec(compared.map((c) => ({ ...c, scaleFixed: c.scaleFixed && afterCols.get(c.name)!.scaleFixed })));
  const afterSpec = allColumnsSpec(compared.map((c) => ({ ...afterCols.get(c.name)!, scaleFixed: c.scaleFixed && afterCols.get(c.name)!.scaleFixed })));
  // Every column compared, hashed as at the capture: the copy's stored hash is the before side's.
  const storedHash = t.rowHashStored && compared.length === t.columns.length && compared.every((c) => !c.scaleFixed || afterCols.get(c.name)!.scaleFixed);

  const afterFrom = `ONLY ${after.sqlName} x`;
  const beforeFrom = `${t.copy} x`;
  const hasKey = t.primaryKey.length > 0 && t.primaryKey.every((k) => afterCols.has(k));
  const keyTypes = t.primaryKey.map((k) => afterCols.get(k)?.type ?? 'text');
  const afterKeys = t.primaryKey.map((k) => `x.${id(afterCols.get(k)?.name ?? k)}`);
  const beforeKeys = t.primaryKey.map((k, i) => `x.${id(k)}::${keyTypes[i]}`);
  const A: Side = { from: afterFrom, hash: rowHashSql(afterSpec, 'x'), keys: afterKeys, where: 'true' };
  const B: Side = { from: beforeFrom, hash: storedHash ? `x.${id(ROW_HASH_COLUMN)}` : rowHashSql(beforeSpec, 'x'), keys: beforeKeys, where: 'true' };

  // Declared altered columns: how many rows they changed in (by key, compared as text).
  const altered = [...(decl?.columns ?? [])].filter((c) => beforeCols.has(c) && afterCols.has(c));
  if (altered.length && hasKey) {
    const asText = altered.map((name) => ({ name, baseTypeOid: 0 }));
    const asTextAfter = altered.map((name) => ({ name: afterCols.get(name)!.name, baseTypeOid: 0 }));
    const { rows } = await session.query<{ n: string }>(
      `SELECT pg_catalog.count(*)::pg_catalog.text AS n FROM ${afterFrom} JOIN ${t.copy} b ON ${t.primaryKey.map((k, i) => `${afterKeys[i]} = b.${id(k)}::${keyTypes[i]}`).join(' AND ')}
       WHERE ${rowHashSql(asTextAfter, 'x')} <> ${rowHashSql(asText, 'b')}`,
    );
    v.declared.push(`column${altered.length > 1 ? 's' : ''} ${altered.join(', ')} altered as declared: values differ in ${rows[0].n} row(s)`);
  } else if (altered.length) {
    v.declared.push(`column${altered.length > 1 ? 's' : ''} ${altered.join(', ')} altered as declared (not compared)`);
  }

  // Declared rows: every row, or those matching the condition before or after up.
  const rowsDeclared = decl?.entry.rows;
  if (rowsDeclared) {
    const predicate = rowsDeclared.predicate;
    if (predicate) {
      const problem = await predicateProblem(predicate);
      if (problem) {
        v.problems.push(`the declared condition is refused: ${problem}`);
        return done();
      }
    }
    const applies = async (from: string) => !predicate || session.query(`SELECT 1 FROM ${from} WHERE (${predicate}) LIMIT 0`).then(() => true, () => false);
    const [onBefore, onAfter] = [await applies(beforeFrom), await applies(afterFrom)];
    if (predicate && !onBefore && !onAfter) {
      const err = await session.query(`SELECT 1 FROM ${afterFrom} WHERE (${predicate}) LIMIT 0`).then(() => '', (e: Error) => e.message);
      v.problems.push(`the declared condition cannot be evaluated on the table before or after up: ${err}`);
      return done();
    }
    const matches = (ok: boolean) => (predicate ? (ok ? `COALESCE((${predicate}), false)` : 'false') : 'true');
    if (hasKey) {
      // The keys whose row matched before or after: their rows may change in any way.
      const declaredKeys = `pg_temp.${id(`cutover_declared_${randomBytes(3).toString('hex')}`)}`;
      await session.query(
        `CREATE TEMPORARY TABLE ${declaredKeys.slice('pg_temp.'.length)} AS
         SELECT ${afterKeys.map((k, i) => `${k} AS k${i}`).join(', ')} FROM ${afterFrom} WHERE ${matches(onAfter)}
         UNION SELECT ${beforeKeys.map((k, i) => `${k} AS k${i}`).join(', ')} FROM ${beforeFrom} WHERE ${matches(onBefore)}`,
      );
      await session.query(`CREATE INDEX ON ${declaredKeys} (${t.primaryKey.map((_, i) => `k${i}`).join(', ')})`);
      await session.query(`ANALYZE ${declaredKeys}`);
      const inDeclared = (keys: string[]) => `EXISTS (SELECT 1 FROM ${declaredKeys} d WHERE ${keys.map((k, i) => `d.k${i} = ${k}`).join(' AND ')})`;
      const { rows } = await session.query<{ updated: string; inserted: string; deleted: string }>(
        `SELECT pg_catalog.count(*) FILTER (WHERE a.h IS NOT NULL AND b.h IS NOT NULL AND a.h <> b.h)::pg_catalog.text AS updated,
                pg_catalog.count(*) FILTER (WHERE b.h IS NULL)::pg_catalog.text AS inserted,
                pg_catalog.count(*) FILTER (WHERE a.h IS NULL)::pg_catalog.text AS deleted
         FROM (SELECT ${A.keys.map((k, i) => `${k} AS k${i}`).join(', ')}, ${A.hash} AS h FROM ${A.from} WHERE ${inDeclared(A.keys)}) a
         FULL JOIN (SELECT ${B.keys.map((k, i) => `${k} AS k${i}`).join(', ')}, ${B.hash} AS h FROM ${B.from} WHERE ${inDeclared(B.keys)}) b
           ON ${t.primaryKey.map((_, i) => `a.k${i} = b.k${i}`).join(' AND ')}`,
      );
      const counts = { updated: Number(rows[0].updated), inserted: Number(rows[0].inserted), deleted: Number(rows[0].deleted) };
      v.declaredRows = counts;
      v.declared.push(
        `rows ${predicate ? `where ${predicate}` : '(all)'} changed as declared: ${counts.updated} updated, ${counts.inserted} inserted, ${counts.deleted} deleted`,
      );
      A.where = `NOT ${inDeclared(A.keys)}`;
      B.where = `NOT ${inDeclared(B.keys)}`;
    } else {
      const count = async (from: string, ok: boolean) =>
        Number((await session.query<{ n: string }>(`SELECT pg_catalog.count(*)::pg_catalog.text AS n FROM ${from} WHERE ${matches(ok)}`)).rows[0].n);
      const counts = { before: await count(beforeFrom, onBefore), after: await count(afterFrom, onAfter) };
      v.declaredRows = counts;
      v.declared.push(`rows ${predicate ? `where ${predicate}` : '(all)'} may change as declared: ${counts.before} before, ${counts.after} after`);
      A.where = `NOT ${matches(onAfter)}`;
      B.where = `NOT ${matches(onBefore)}`;
    }
  }

  // The incremental path: only rows written since the before snapshot can differ.
  const samePhysical = after.relfilenode === t.relfilenode && after.oid === t.oid;
  const sameKey = after.primaryKey.join('\u0000') === t.primaryKey.map((k) => afterCols.get(k)?.name ?? k).join('\u0000');
  const incremental = options.method === 'auto' && hasKey && sameKey && samePhysical && !rowsDeclared && compared.every((c) => stableType(c) && c.type === afterCols.get(c.name)!.type);
  if (incremental) {
    v.method = 'incremental';
    // Both statements below read one snapshot (REPEATABLE READ): the written rows found by the
    // second are exactly those the first saw.
    const verdict = await withLocalSettings(session, { parallel_setup_cost: '0', parallel_tuple_cost: '0', jit: 'off' }, async () => {
      // One counting scan (parallel), testing each row's xmin once: rows in all, and a bitmap of
      // the parts of the table (WRITTEN_BUCKETS runs of blocks) that hold rows written since.
      // The last part is open-ended (blocks added since the size was read fall in it).
      const blocks = Number((await session.query<{ b: string }>(
        `SELECT (pg_catalog.pg_relation_size(${after.oid}::pg_catalog.oid) / pg_catalog.current_setting('block_size')::pg_catalog.int8)::pg_catalog.text AS b`,
      )).rows[0].b);
      const per = Math.max(1, Math.ceil(blocks / WRITTEN_BUCKETS));
      const zero = `B'${'0'.repeat(WRITTEN_BUCKETS)}'`;
      const bucket = `LEAST(${WRITTEN_BUCKETS - 1}, pg_catalog.floor((x.ctid::pg_catalog.text::pg_catalog.point)[0] / ${per})::pg_catalog.int4)`;
      const { rows } = await session.query<{ total: string; parts: string | null }>(
        `SELECT pg_catalog.count(*)::pg_catalog.text AS total,
                pg_catalog.bit_or(CASE WHEN ${written} THEN pg_catalog.set_bit(${zero}, ${bucket}, 1) END)::pg_catalog.text AS parts
         FROM ${A.from}`,
      );
      const total = Number(rows[0].total);
      const parts = rows[0].parts ?? '';
      // Rows of before missing from after are deleted, unless written again (then inserted below).
      if (!parts.includes('1')) return { total, differing: 0, inserted: 0, diff: [] as Record<string, string>[] };
      // The written rows, only in the parts that hold some (TID range scans) unless those are many
      // (then one parallel scan of it all); each against the before copy by key (the copy's key
      // index); only the differing ones come back, at most a few. The planner cannot estimate the
      // xmin list (it takes every row for a match), so it is told that gathering rows from parallel
      // workers costs nothing: the scan stays parallel (OFFSET 0 keeps both sides apart).
      const ranges: [number, number][] = [];
      for (let i = 0; i < WRITTEN_BUCKETS; i++) {
        if (parts[i] !== '1') continue;
        if (ranges.length && ranges[ranges.length - 1][1] === i) ranges[ranges.length - 1][1] = i + 1;
        else ranges.push([i, i + 1]);
      }
      const setParts = [...parts].filter((c) => c === '1').length;
      const select = (cond: string) => `SELECT ${A.keys.map((k, i) => `${k} AS k${i}`).join(', ')}, ${A.hash} AS h FROM ${A.from} WHERE ${written}${cond}`;
      const writtenRows = setParts > WRITTEN_BUCKETS / 4
        ? select('')
        : ranges.map(([lo, hi]) => select(
          ` AND x.ctid >= '(${lo * per},0)'::pg_catalog.tid${hi < WRITTEN_BUCKETS ? ` AND x.ctid < '(${hi * per},0)'::pg_catalog.tid` : ''}`,
        )).join(' UNION ALL ');
      const diff = (await session.query<Record<string, string>>(
        `SELECT ${t.primaryKey.map((_, i) => `a.k${i}::pg_catalog.text AS k${i}`).join(', ')}, CASE WHEN b.h IS NULL THEN 'inserted' ELSE 'updated' END AS change,
                pg_catalog.count(*) OVER () AS differing, pg_catalog.count(*) FILTER (WHERE b.h IS NULL) OVER () AS inserted
         FROM (${writtenRows} OFFSET 0) a
         LEFT JOIN LATERAL (SELECT ${B.hash} AS h FROM ${B.from} WHERE ${t.primaryKey.map((_, i) => `a.k${i} = ${B.keys[i]}`).join(' AND ')} OFFSET 0) b ON true
         WHERE b.h IS NULL OR a.h <> b.h
         ORDER BY ${t.primaryKey.map((_, i) => `a.k${i}`).join(', ')} LIMIT ${options.keysPerTable}`,
      )).rows;
      return { total, differing: Number(diff[0]?.differing ?? 0), inserted: Number(diff[0]?.inserted ?? 0), diff };
    }, 'REPEATABLE READ');
    const { total, differing, inserted, diff } = verdict;
    v.rowsAfter = total;
    // Untouched rows are in both; written rows are either updated ones (their key was there
    // before) or inserted ones: what before had beyond that was deleted.
    const deleted = t.rows - total + inserted;
    if (differing === 0 && deleted === 0) return done();
    if (deleted === 0) {
      // Every difference is a written row: their keys are at hand, no bisection needed.
      v.keys = diff.map((r) => ({ key: Object.fromEntries(t.primaryKey.map((k, i) => [k, r[`k${i}`]])), change: r.change as KeyChange }));
      v.differingRows = differing;
      v.moreKeys = differing > v.keys.length;
      v.problems.push(describeDifference(t, v.keys, differing, v.moreKeys));
      return done();
    }
    // Deleted rows leave nothing to find them by on the after side: the full path names them.
  }

  v.method = 'full';
  if (!hasKey) {
    const sum = async (s: Side) => {
      const { rows } = await session.query<{ n: string; s: string | null }>(
        `SELECT pg_catalog.count(*)::pg_catalog.text AS n, pg_catalog.sum(${s.hash})::pg_catalog.text AS s FROM ${s.from} WHERE ${s.where}`,
      );
      return { n: Number(rows[0].n), s: rows[0].s ?? '0' };
    };
    const [a, b] = [await sum(A), await sum(B)];
    v.checksumAfter = sumToHex(a.s);
    v.checksumBefore = sumToHex(b.s);
    v.rowsAfter ??= rowsDeclared ? await countRows(session, A.from) : a.n;
    if (a.n === b.n && a.s === b.s) return done();
    v.keysUnavailable = t.primaryKey.length ? 'its primary key columns are gone after up' : 'the table has no primary key';
    v.problems.push(
      `${rowsDeclared ? 'outside the declared rows, ' : ''}${b.n} row(s) before and ${a.n} after, with different content; ` +
        `rows cannot be named: ${v.keysUnavailable}`,
    );
    return done();
  }
  const t0 = performance.now();
  const found = await bisect(session, A, B, keyTypes, t.primaryKey, options.keysPerTable, t.rows);
  v.checksumAfter = sumToHex(found.totals.a.s);
  v.checksumBefore = sumToHex(found.totals.b.s);
  v.rowsAfter ??= rowsDeclared ? await countRows(session, A.from) : found.totals.a.n;
  if (!found.differs) return done();
  v.bisection = { queries: found.queries, depth: found.depth, ms: Math.round(performance.now() - t0), firstPassMs: found.firstPassMs };
  v.keys = found.keys;
  v.moreKeys = found.more;
  v.problems.push(describeDifference(t, v.keys, null, found.more, rowsDeclared ? 'outside the declared rows' : undefined, found.totals.b.n, found.totals.a.n));
  return done();
}

/** Runs `work` in a transaction of its own with planner settings that end with it. */
async function withLocalSettings<T>(session: Client, settings: Record<string, string>, work: () => Promise<T>, isolation?: 'REPEATABLE READ'): Promise<T> {
  await session.query(isolation ? `BEGIN ISOLATION LEVEL ${isolation}` : 'BEGIN');
  try {
    await session.query(`SELECT ${Object.entries(settings).map(([k, val]) => `pg_catalog.set_config(${escapeLiteral(k)}, ${escapeLiteral(val)}, true)`).join(', ')}`);
    const out = await work();
    await session.query('COMMIT');
    return out;
  } catch (err) {
    await session.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

const countRows = async (session: Client, from: string) =>
  Number((await session.query<{ n: string }>(`SELECT pg_catalog.count(*)::pg_catalog.text AS n FROM ${from}`)).rows[0].n);

function describeDifference(t: CapturedTable, keys: DifferingKey[], exact: number | null, more: boolean, scope?: string, before?: number, after?: number): string {
  const counts = before !== undefined && after !== undefined ? ` (${before} row(s) before, ${after} after)` : '';
  const how = exact !== null ? `${exact} row(s) differ` : `rows differ`;
  const named = keys.map((k) => `${Object.entries(k.key).map(([c, val]) => (Object.keys(k.key).length === 1 ? val : `${c}=${val}`)).join(',')} ${k.change}`);
  return `${scope ? `${scope}, ` : ''}${how}${counts} and the revision does not declare it; keys: ${named.join('; ')}${more ? '; ...' : ''}`;
}

/**
 * Bisects key ranges: per range, (count, sum of row hashes) of each segment on both sides in
 * one query per side; ranges that differ are split again until they hold at most LEAF_ROWS rows,
 * whose differing keys come from a full join of the two small ranges (in the database).
 * Integer keys are split arithmetically between the range's ends; other keys at sampled keys.
 * The first level splits the whole table finely (TOP_FANOUT), and its segments add up to the
 * two sides' totals: one pass over each side says whether they differ and where.
 */
async function bisect(
  session: Client,
  A: Side,
  B: Side,
  keyTypes: string[],
  keyNames: string[],
  limit: number,
  rowsBefore: number,
): Promise<{ totals: { a: { n: number; s: string }; b: { n: number; s: string } }; differs: boolean; keys: DifferingKey[]; more: boolean; queries: number; depth: number; firstPassMs: number }> {
  let queries = 0;
  let maxDepth = 0;
  const keys: DifferingKey[] = [];
  let more = false;
  const integerKey = keyTypes.length === 1 && ['bigint', 'integer', 'smallint'].includes(keyTypes[0]);

  const rangeSql = (s: Side, r: Range, params: unknown[]) => {
    const parts = [s.where];
    const tuple = (vals: string[]) => {
      const refs = vals.map((val, i) => {
        params.push(val);
        return `$${params.length}::${keyTypes[i]}`;
      });
      return refs.length === 1 ? refs[0] : `(${refs.join(', ')})`;
    };
    if (r.lo) parts.push(`${keyTuple(s.keys)} >= ${tuple(r.lo)}`);
    if (r.hi) parts.push(`${keyTuple(s.keys)} < ${tuple(r.hi)}`);
    return parts.join(' AND ');
  };

  const boundaries = async (r: Range, rows: number, fanout: number): Promise<string[][]> => {
    if (integerKey) {
      const params: unknown[] = [];
      const q = (s: Side) => `SELECT pg_catalog.min(${s.keys[0]}) AS lo, pg_catalog.max(${s.keys[0]}) AS hi FROM ${s.from} WHERE ${rangeSql(s, r, params)}`;
      queries++;
      const { rows: ends } = await session.query<{ lo: string | null; hi: string | null }>(
        `SELECT pg_catalog.min(lo)::pg_catalog.text AS lo, pg_catalog.max(hi)::pg_catalog.text AS hi FROM (${q(A)} UNION ALL ${q(B)}) e`,
        params,
      );
      if (ends[0].lo === null || ends[0].hi === null) return [];
      const lo = BigInt(ends[0].lo);
      const hi = BigInt(ends[0].hi) + 1n;
      const out: string[][] = [];
      for (let i = 1; i < fanout; i++) {
        const cut = lo + ((hi - lo) * BigInt(i)) / BigInt(fanout);
        if (cut > lo && (!out.length || BigInt(out[out.length - 1][0]) < cut)) out.push([String(cut)]);
      }
      return out;
    }
    // Keys sampled on the before side (on the after side if the range is empty before), in key order.
    const step = Math.max(1, Math.ceil(rows / fanout));
    for (const s of [B, A]) {
      const params: unknown[] = [];
      const where = rangeSql(s, r, params);
      params.push(step);
      queries++;
      const { rows: cuts } = await session.query<Record<string, string>>(
        `SELECT ${keyNames.map((_, i) => `k${i}::pg_catalog.text AS k${i}`).join(', ')} FROM (
           SELECT ${s.keys.map((k, i) => `${k} AS k${i}`).join(', ')}, pg_catalog.row_number() OVER (ORDER BY ${s.keys.join(', ')}) AS rn
           FROM ${s.from} WHERE ${where}) c
         WHERE c.rn % $${params.length} = 0 AND c.rn > 1 ORDER BY c.rn`,
        params,
      );
      if (cuts.length) return cuts.map((c) => keyNames.map((_, i) => c[`k${i}`]));
    }
    return [];
  };

  // Per-segment count and exact sum on one side; segment i holds keys in [cuts[i-1], cuts[i]).
  const segments = async (s: Side, r: Range, cuts: string[][]) => {
    const params: unknown[] = [];
    const where = rangeSql(s, r, params);
    let seg = '0';
    if (cuts.length && keyNames.length === 1) {
      params.push(cuts.map((c) => c[0]));
      seg = `pg_catalog.width_bucket(${s.keys[0]}, $${params.length}::${keyTypes[0]}[])`;
    } else if (cuts.length) {
      const whens = cuts.map((c, i) => {
        const refs = c.map((val, j) => {
          params.push(val);
          return `$${params.length}::${keyTypes[j]}`;
        });
        return `WHEN ${keyTuple(s.keys)} < (${refs.join(', ')}) THEN ${i}`;
      });
      seg = `CASE ${whens.join(' ')} ELSE ${cuts.length} END`;
    }
    queries++;
    // At most FANOUT groups: hashed. Without statistics on the segment expression the planner
    // would sort every row (to disk, for a large table) to group them.
    const rows = await withLocalSettings(session, { enable_sort: 'off' }, async () =>
      (await session.query<{ seg: number; n: string; s: string | null }>(
        `SELECT seg, pg_catalog.count(*)::pg_catalog.text AS n, pg_catalog.sum(h)::pg_catalog.text AS s
         FROM (SELECT ${seg} AS seg, ${s.hash} AS h FROM ${s.from} WHERE ${where}) x GROUP BY seg`,
        params,
      )).rows,
    );
    return new Map(rows.map((row) => [Number(row.seg), { n: Number(row.n), s: row.s ?? '0' }]));
  };

  const listLeaf = async (r: Range) => {
    const params: unknown[] = [];
    const side = (s: Side) => `SELECT ${s.keys.map((k, i) => `${k} AS k${i}`).join(', ')}, ${s.hash} AS h FROM ${s.from} WHERE ${rangeSql(s, r, params)}`;
    const aSql = side(A);
    const bSql = side(B);
    params.push(limit - keys.length + 1);
    queries++;
    const { rows } = await session.query<Record<string, string>>(
      `SELECT ${keyNames.map((_, i) => `COALESCE(a.k${i}, b.k${i})::pg_catalog.text AS k${i}`).join(', ')},
              CASE WHEN a.h IS NULL THEN 'deleted' WHEN b.h IS NULL THEN 'inserted' ELSE 'updated' END AS change
       FROM (${aSql}) a FULL JOIN (${bSql}) b ON ${keyNames.map((_, i) => `a.k${i} = b.k${i}`).join(' AND ')}
       WHERE a.h IS DISTINCT FROM b.h
       ORDER BY ${keyNames.map((_, i) => `COALESCE(a.k${i}, b.k${i})`).join(', ')} LIMIT $${params.length}`,
      params,
    );
    for (const row of rows) {
      if (keys.length >= limit) {
        more = true;
        break;
      }
      keys.push({ key: Object.fromEntries(keyNames.map((k, i) => [k, row[`k${i}`]])), change: row.change as KeyChange });
    }
  };

  // Splits a range into segments, compares them, and goes into the ones that differ (in key order).
  const split = async (r: Range, rows: number, fanout: number) => {
    const cuts = await boundaries(r, rows, fanout);
    const [sa, sb] = [await segments(A, r, cuts), await segments(B, r, cuts)];
    const differing: { range: Range; rows: { a: number; b: number } }[] = [];
    for (let i = 0; i <= cuts.length; i++) {
      const x = sa.get(i) ?? { n: 0, s: '0' };
      const y = sb.get(i) ?? { n: 0, s: '0' };
      if (x.n !== y.n || x.s !== y.s) differing.push({ range: { lo: i === 0 ? r.lo : cuts[i - 1], hi: i === cuts.length ? r.hi : cuts[i] }, rows: { a: x.n, b: y.n } });
    }
    return { sa, sb, differing, cuts };
  };

  const visit = async (r: Range, rows: { a: number; b: number }, depth: number): Promise<void> => {
    if (keys.length >= limit) {
      more = true;
      return;
    }
    maxDepth = Math.max(maxDepth, depth);
    if (Math.max(rows.a, rows.b) <= LEAF_ROWS || depth >= MAX_DEPTH) return listLeaf(r);
    const { differing, cuts } = await split(r, Math.max(rows.a, rows.b), FANOUT);
    if (!cuts.length) return listLeaf(r);
    for (const d of differing) {
      await visit(d.range, d.rows, depth + 1);
      if (keys.length >= limit) {
        more = true;
        return;
      }
    }
  };

  const t0 = performance.now();
  const top = await split({}, rowsBefore, TOP_FANOUT);
  const firstPassMs = Math.round(performance.now() - t0);
  const total = (m: Map<number, { n: number; s: string }>) => {
    let n = 0;
    let sum = 0n;
    for (const x of m.values()) {
      n += x.n;
      sum += BigInt(x.s);
    }
    return { n, s: sum.toString() };
  };
  const totals = { a: total(top.sa), b: total(top.sb) };
  if (!top.differing.length) return { totals, differs: false, keys, more, queries, depth: 0, firstPassMs };
  for (const d of top.differing) {
    if (keys.length >= limit) {
      more = true;
      break;
    }
    await visit(d.range, d.rows, 1);
  }
  return { totals, differs: true, keys, more, queries, depth: maxDepth, firstPassMs };
}

/**
 * The WHERE condition of each table's DELETE or UPDATE in the up script, by schema.table (no
 * schema: public); null when a statement on it has none, or one the check cannot reuse (USING,
 * FROM, WITH), or the table is written more than once.
 */
async function rowConditionsOf(upSql: string): Promise<Map<string, string | null>> {
  const out = new Map<string, string | null>();
  await (libpgLoaded ??= loadModule());
  type Relation = { schemaname?: string; relname: string };
  type Write = { relation: Relation; whereClause?: unknown; usingClause?: unknown; fromClause?: unknown; withClause?: unknown };
  let stmts: { stmt: Record<string, Write>; stmt_location?: number; stmt_len?: number }[];
  try {
    stmts = (parseSync(upSql) as { stmts: typeof stmts }).stmts ?? [];
  } catch {
    return out;
  }
  for (const { stmt, stmt_location: at = 0, stmt_len: len } of stmts) {
    const w = stmt.DeleteStmt ?? stmt.UpdateStmt;
    if (!w?.relation) continue;
    const key = `${w.relation.schemaname ?? 'public'}.${w.relation.relname}`;
    const text = upSql.slice(at, len ? at + len : undefined);
    const where = /\bwhere\b([\s\S]*)$/i.exec(text)?.[1].replace(/;\s*$/, '').trim();
    const simple = w.whereClause && !w.usingClause && !w.fromClause && !w.withClause && where && !/\breturning\b/i.test(where) ? where : null;
    out.set(key, out.has(key) ? null : simple);
  }
  return out;
}

/** One short line: the declaration that would declare what was found in table `t`. */
function suggestDeclaration(t: CapturedTable, v: TableVerdict, after: ChecksumTable | undefined, rowConditions: Map<string, string | null>): string | undefined {
  const lines: string[] = [];
  if (!after) lines.push(`${t.qualified} drop table`);
  else if (after.qualified !== t.qualified) lines.push(`${t.qualified} rename to ${after.qualified}`);
  for (const p of v.problems) {
    const renamed = /^column (.+) was renamed to (.+) and the revision/.exec(p);
    const gone = /^column (.+?) \(.*\) is gone/.exec(p);
    if (renamed) lines.push(`${t.qualified} rename column ${renamed[1]} to ${renamed[2]}`);
    else if (gone) lines.push(`${t.qualified} drop column ${gone[1]}`);
  }
  // Row differences: the condition of the migration's own DELETE or UPDATE, when there is one.
  if (v.keys.length || v.differingRows || v.checksumBefore !== v.checksumAfter || v.keysUnavailable) {
    const condition = rowConditions.get(`${t.schema}.${t.name}`);
    lines.push(condition ? `${t.qualified} rows where ${condition}` : `${t.qualified} rows`);
  }
  return [...new Set(lines)].join(' · ') || undefined;
}

/** One line for a report: what the check found. */
export function summarizeDataLoss(report: DataLossReport): string {
  const failed = report.tables.filter((t) => t.problems.length);
  const changed = report.tables.filter((t) => t.status === 'changed as declared' || t.status === 'dropped as declared');
  if (failed.length) {
    return `Undeclared data changes in ${failed.length} table(s): ${failed.map((t) => `${t.table} (${t.problems[0]})`).join('; ')}`;
  }
  const checked = report.tables.filter((t) => t.status !== 'added').length;
  return `No undeclared data changes in ${checked} table(s)${changed.length ? `; changed as declared: ${changed.map((t) => t.table).join(', ')}` : ''}.`;
}

/**
 * The rehearsal's data-loss check (rehearsal.ts DataCheck): `before` opens a session of its own
 * beside the migration's (same role) and copies the sample there; `after` compares and closes it.
 */
export function dataLossCheck(
  declared: DeclaredDataChanges,
  /**
   * scopeToSql: compare only the tables this up script can change (tablesTouchedBy), resolved right before the capture.
   * serial: no parallel workers (a deploy's check on a production server takes one core of it, as its backup does).
   */
  options: { keysPerTable?: number; scopeToSql?: string; serial?: boolean } = {},
): DataCheck {
  return {
    async before(client) {
      const session = await siblingSession(client);
      try {
        if (options.serial) await session.query('SET max_parallel_workers_per_gather = 0');
        const scope = options.scopeToSql === undefined ? undefined : await tablesTouchedBy(session, options.scopeToSql, declared);
        return { session, state: await captureBefore(session, scope) };
      } catch (err) {
        await session.end().catch(() => undefined);
        throw err;
      }
    },
    async after(_client, before, upSql) {
      const { session, state } = before as { session: Client; state: BeforeState };
      try {
        const report = await compareAfter(session, state, declared, { ...options, upSql });
        return { ok: report.ok, detail: summarizeDataLoss(report), result: report };
      } finally {
        await session.end().catch(() => undefined);
      }
    },
    async dispose(before) {
      await (before as { session: Client }).session.end().catch(() => undefined);
    },
  };
}
