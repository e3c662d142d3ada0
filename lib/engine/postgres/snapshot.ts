import { createHash } from 'node:crypto';
import type { Client, QueryResult } from 'pg';

/**
 * A normalised description of a PostgreSQL schema: every object kind `pg_dump --schema-only`
 * emits, so that two databases snapshot alike exactly when their schema dumps agree (see
 * tests/integration/snapshot-pg-dump-property.test.ts). Keys are qualified names
 * ("public.orders"); lists are sorted, so two snapshots of the same schema are equal as JSON and
 * hash the same, whatever order the catalog returned.
 *
 * Left out on purpose:
 * - The migration history table (_prisma_migrations): bookkeeping, not schema.
 * - Owners. A rehearsal's copy and a drift check's replay belong to a scratch role, the target's
 *   objects to the application's role: with owners in the shape the same schema would never hash
 *   the same in both places. Privileges are kept, with the owner written "(owner)".
 * - Extension versions are kept (an upgrade matters to a migration) though pg_dump omits them.
 * - What the server decides or a session sees rather than the schema: sequence values, row
 *   estimates (kept in `stats`, outside the hash), a collation's library version, the conninfo of
 *   a subscription and the values of user-mapping options (secrets; only their keys are kept).
 */
export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  identity: 'always' | 'by default' | null;
  generated: string | null;
  // Format 2; each present only when it is not the default.
  /** COLLATE, when it is not the type's own collation. */
  collation?: string;
  /** SET STORAGE, when it is not the type's own storage. */
  storage?: 'plain' | 'external' | 'extended' | 'main';
  /** SET COMPRESSION (pglz, lz4). */
  compression?: string;
  /** SET STATISTICS. */
  statistics?: number;
  /** SET (n_distinct = ...), as name=value. */
  options?: string[];
  /** A foreign table column's OPTIONS. */
  fdwOptions?: string[];
  /** Inherited from a parent (or the partitioned table) and not declared on this table itself. */
  inherited?: true;
}
export interface IndexInfo {
  name: string;
  method: string;
  unique: boolean;
  primary: boolean;
  /** The full CREATE INDEX statement, as pg_get_indexdef prints it. */
  definition: string;
  predicate: string | null;
  // Format 2; present only when set.
  /** CLUSTER ON this index. */
  clustered?: true;
  /** REPLICA IDENTITY USING INDEX this index. */
  replicaIdentity?: true;
  /** The partitioned table's index this one is attached to. */
  partitionOf?: string;
  /** ALTER INDEX ... ALTER COLUMN n SET STATISTICS, as "n=target". */
  statistics?: string[];
  tablespace?: string;
  /** A failed CREATE INDEX CONCURRENTLY leaves an invalid index behind. */
  invalid?: true;
}
export interface ConstraintInfo {
  name: string;
  definition: string;
  /** Inherited from a parent and not declared on this table itself. */
  inherited?: true;
}
export interface TableInfo {
  columns: ColumnInfo[];
  primaryKey: ConstraintInfo | null;
  uniques: ConstraintInfo[];
  checks: ConstraintInfo[];
  foreignKeys: ConstraintInfo[];
  exclusions: ConstraintInfo[];
  indexes: IndexInfo[];
  // Format 2; each present only when it is not the default.
  unlogged?: true;
  /** Table access method, when not heap. */
  accessMethod?: string;
  /** WITH (...) storage parameters, as name=value, sorted. */
  options?: string[];
  /** WITH (toast.*) storage parameters. */
  toastOptions?: string[];
  tablespace?: string;
  /** PARTITION BY ..., as pg_get_partkeydef prints it. */
  partitionKey?: string;
  /** This table is a partition: its parent and FOR VALUES ... bound. */
  partitionOf?: { parent: string; bound: string };
  /** INHERITS (...), in order (partitions have partitionOf instead). */
  inherits?: string[];
  /** OF type (a typed table). */
  ofType?: string;
  replicaIdentity?: 'nothing' | 'full' | 'index';
  rowSecurity?: true;
  forceRowSecurity?: true;
  /** A foreign table: its server and OPTIONS. */
  foreign?: { server: string; options: string[] };
}
export interface ViewInfo {
  materialized: boolean;
  definition: string;
  // Format 2; each present only when set.
  /** WITH (security_barrier, check_option, security_invoker, fillfactor, ...). */
  options?: string[];
  /** ALTER VIEW ... ALTER COLUMN ... SET DEFAULT. */
  columnDefaults?: Record<string, string>;
  /** Column settings of a materialized view (storage, statistics, ...), by column. */
  columns?: Record<string, Partial<ColumnInfo>>;
  /** A materialized view's indexes. */
  indexes?: IndexInfo[];
  accessMethod?: string;
  tablespace?: string;
}
export interface SequenceInfo {
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cycle: boolean;
  ownedBy: string | null;
  // Format 2; present only when not the default.
  cache?: string;
  unlogged?: true;
}
export interface FunctionInfo {
  kind: 'function' | 'procedure' | 'aggregate' | 'window';
  /** CREATE OR REPLACE ..., as pg_get_functiondef prints it (aggregates: their CREATE AGGREGATE). */
  definition: string;
}
export type TypeInfo =
  | { kind: 'composite'; attributes: { name: string; type: string; collation?: string }[] }
  | { kind: 'domain'; base: string; notNull: boolean; default: string | null; collation?: string; constraints: ConstraintInfo[] }
  | { kind: 'range'; subtype: string; multirange: string | null; opclass: string | null; collation: string | null; canonical: string | null; subdiff: string | null }
  | { kind: 'base'; properties: Record<string, unknown> };
export interface TriggerInfo {
  table: string;
  /** CREATE TRIGGER ..., as pg_get_triggerdef prints it. */
  definition: string;
  enabled: 'origin' | 'always' | 'replica' | 'disabled';
}
export interface PolicyInfo {
  table: string;
  permissive: boolean;
  command: 'all' | 'select' | 'insert' | 'update' | 'delete';
  roles: string[];
  using: string | null;
  withCheck: string | null;
}
export interface SchemaShape {
  /** 2 for snapshots that hold every kind below; absent in those taken before (tables, views, sequences, enums, extensions only). */
  format?: 2;
  schemas: string[];
  tables: Record<string, TableInfo>;
  views: Record<string, ViewInfo>;
  sequences: Record<string, SequenceInfo>;
  enums: Record<string, string[]>;
  /** Extension name to version. */
  extensions: Record<string, string>;
  // Format 2.
  /** By signature: "public.total(integer, text)". */
  functions: Record<string, FunctionInfo>;
  /** Composite, domain, range and base types (enums stay in `enums`). */
  types: Record<string, TypeInfo>;
  /** By "trigger on schema.table". */
  triggers: Record<string, TriggerInfo>;
  /** By "policy on schema.table". */
  policies: Record<string, PolicyInfo>;
  /**
   * The rarer kinds, by kind and name: extension (its schema), collation, statistics, rule, event
   * trigger, publication, subscription, operator, cast, operator class, operator family, text
   * search configuration/dictionary/parser/template, conversion, language, access method,
   * transform, foreign-data wrapper, server, user mapping.
   */
  objects: Record<string, Record<string, Record<string, unknown>>>;
  /** COMMENT ON, by the object as PostgreSQL names it: "table public.orders", "table column public.orders.id". */
  comments: Record<string, string>;
  /** GRANTs that differ from the object's defaults, by object as in `comments`: "reader: SELECT", "PUBLIC: EXECUTE". */
  privileges: Record<string, string[]>;
  /** ALTER DEFAULT PRIVILEGES, by "for role R [in schema S] on tables". */
  defaultPrivileges: Record<string, string[]>;
}
/** Planner estimates; they change with every write, so they are kept out of the hash. */
export interface TableStats {
  /** null when the table was never analyzed (PostgreSQL then has no estimate). */
  estimatedRows: number | null;
  totalBytes: number;
}
export interface SchemaSnapshot {
  hash: string;
  shape: SchemaShape;
  stats: Record<string, TableStats>;
  serverVersion: string;
}

export const SHAPE_FORMAT = 2 as const;

/** The keys format 2 added, each with its empty value: what a reader assumes when an older snapshot lacks one. */
const FORMAT_2_KEYS = ['functions', 'types', 'triggers', 'policies', 'objects', 'comments', 'privileges', 'defaultPrivileges'] as const;

/**
 * A stored shape as this version reads it: snapshots taken before format 2 lack the newer kinds,
 * which read as empty (diffSnapshots compares such a snapshot on the older kinds only).
 */
export function withShapeDefaults(shape: Partial<SchemaShape> | null | undefined): SchemaShape {
  const s = (shape ?? {}) as Partial<SchemaShape>;
  const out = {
    ...s,
    schemas: s.schemas ?? [],
    tables: s.tables ?? {},
    views: s.views ?? {},
    sequences: s.sequences ?? {},
    enums: s.enums ?? {},
    extensions: s.extensions ?? {},
  } as SchemaShape;
  for (const key of FORMAT_2_KEYS) if (!out[key]) (out as unknown as Record<string, object>)[key] = {};
  return out;
}

/*
 * The catalog queries run with public on the search_path (see takeSnapshot), and a target's owner
 * may create operators there. PostgreSQL takes an operator of an earlier schema when its operand
 * types match exactly, and pg_catalog comes first; but where pg_catalog has no exact match (oid =
 * regclass, name LIKE name, int4 || text, ...) a public operator with exactly those types would be
 * chosen and run in Cutover's session. So every operator below compares operands that pg_catalog
 * has the operator for exactly: oids with oids (regclass, regproc and integer constants cast to
 * oid), text with text. NULLIF, IN, CASE x WHEN and = ANY look up = the same way.
 * tests/integration/hostile-target.test.ts plants a public operator for every pair of the types
 * involved and fails if one runs.
 */
const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%'::pg_catalog.text AND n.nspname NOT LIKE 'pg_toast_temp_%'::pg_catalog.text`;
/** A system catalog's OID (as pg_depend.classid and friends hold it), typed oid: oid = regclass is not an exact match. */
const catalogOid = (catalog: string) => `'pg_catalog.${catalog}'::pg_catalog.regclass::pg_catalog.oid`;
/** An integer constant as an oid, to compare with an oid column (oid = integer is not an exact match either). */
const oidConst = (n: number) => `${n}::pg_catalog.oid`;
// Objects that belong to an extension are the extension's, not the schema's.
const NOT_FROM_EXTENSION = (oid: string, catalog: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend ext WHERE ext.classid = ${catalogOid(catalog)} AND ext.objid = ${oid} AND ext.deptype = 'e')`;
/** Objects made by initdb have OIDs below this; pg_dump leaves them out too. */
const FIRST_USER_OID = 16384;

/** Code-unit order: the same everywhere (no locale), so hashes agree between machines and servers. */
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
const byName = <T extends { name: string }>(xs: T[]) => [...xs].sort((a, b) => byText(a.name, b.name));
const sortedRecord = <T>(r: Record<string, T>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => byText(a, b)));
const sorted = (xs: readonly string[] | null | undefined) => [...(xs ?? [])].sort(byText);

/** Copies `value` into `target[key]` only when it says something (format 2's optional fields). */
function setIf<T extends object, K extends keyof T>(target: T, key: K, value: T[K] | null | undefined | false) {
  if (value === null || value === undefined || value === false) return;
  if (Array.isArray(value) && value.length === 0) return;
  target[key] = value as T[K];
}

/**
 * Reads the schema of the database `client` is connected to: read-only catalog queries in one
 * repeatable-read transaction (one consistent picture). PostgreSQL prints a name unqualified when
 * the search_path finds it, so the path is fixed for the transaction (pg_catalog, then public):
 * the hash is the same from a read-only pg_catalog session on a target and from the rehearsal's
 * session on its copy. Catalog functions are called qualified, so no object of the database's own
 * schemas can stand in for one. Nothing that sorts text in SQL reaches the shape: the target's
 * collation and the sandbox's differ.
 */
export async function takeSnapshot(client: Client): Promise<SchemaSnapshot> {
  await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
  try {
    await client.query(`SELECT pg_catalog.set_config('search_path', 'pg_catalog, public', true)`);
    const snapshot = await readSchema(client);
    await client.query('COMMIT');
    return snapshot;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

type Row = Record<string, unknown>;

/**
 * The catalog queries, run as one multi-statement round trip. `num` is server_version_num: a few
 * catalog columns came with later versions (attcompression 14, publication row filters, column
 * lists and schemas 15); PostgreSQL 13 is the oldest this reads.
 */
function catalogQueries(num: number): Record<string, string> {
  const relName = (c: string, n: string) => `pg_catalog.format('%s.%s', ${n}.nspname, ${c}.relname)`;
  const hidden = `c.relname <> '_prisma_migrations'`;
  // One role as a privilege or policy names it: PUBLIC, the object's owner, or the role itself.
  const roleName = (role: string, owner: string) => `CASE WHEN ${role} = ${oidConst(0)} THEN 'PUBLIC' WHEN ${role} = ${owner} THEN '(owner)' ELSE pg_catalog.pg_get_userbyid(${role})::text END`;
  const aclText = (acl: string, owner: string) =>
    `ARRAY(SELECT pg_catalog.format('%s: %s%s%s', ${roleName('x.grantee', owner)}, x.privilege_type,
                  CASE WHEN x.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END,
                  CASE WHEN x.grantor <> ${owner} THEN ' GRANTED BY ' || pg_catalog.pg_get_userbyid(x.grantor)::pg_catalog.text ELSE '' END)
           FROM pg_catalog.aclexplode(${acl}) x)`;
  const keyValues = (arr: string) => `ARRAY(SELECT o FROM pg_catalog.unnest(${arr}) o)`;
  // Made by a user: not by initdb, not by an extension, not along with another object (a range's multirange cast).
  const userObject = (oid: string, catalog: string) =>
    `${oid} >= ${oidConst(FIRST_USER_OID)} AND NOT EXISTS (SELECT 1 FROM pg_depend ext WHERE ext.classid = ${catalogOid(catalog)} AND ext.objid = ${oid} AND ext.deptype IN ('e', 'i'))`;
  const enabledWord = (col: string) => `CASE ${col} WHEN 'O' THEN 'origin' WHEN 'D' THEN 'disabled' WHEN 'R' THEN 'replica' WHEN 'A' THEN 'always' END`;
  const regproc = (col: string) => `NULLIF(${col}::pg_catalog.oid, ${oidConst(0)})::pg_catalog.regprocedure::pg_catalog.text`;
  const typeName = (col: string) => `CASE WHEN ${col} <> ${oidConst(0)} THEN pg_catalog.format_type(${col}, NULL) END`;
  // Objects whose comments and privileges are the history table's, not the schema's.
  const prismaHidden = `
    SELECT ${catalogOid('pg_class')} AS classid, c.oid AS objid FROM pg_class c WHERE c.relname = '_prisma_migrations'
    UNION ALL SELECT ${catalogOid('pg_class')}, i.indexrelid FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid WHERE c.relname = '_prisma_migrations'
    UNION ALL SELECT ${catalogOid('pg_constraint')}, con.oid FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid WHERE c.relname = '_prisma_migrations'
    UNION ALL SELECT ${catalogOid('pg_trigger')}, t.oid FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE c.relname = '_prisma_migrations'`;
  // Relations, functions and types whose comments and privileges pg_dump leaves out (system, extensions', range constructors).
  const dumpable = (classid: string, objid: string) => `(
    ${objid} >= ${oidConst(FIRST_USER_OID)} OR (${classid} = ${catalogOid('pg_namespace')} AND ${objid} = ${oidConst(2200)}))
    AND NOT EXISTS (SELECT 1 FROM pg_depend dep WHERE dep.classid = ${classid} AND dep.objid = ${objid}
                    AND (dep.deptype = 'e' OR (dep.deptype = 'i' AND dep.classid IN (${catalogOid('pg_proc')}, ${catalogOid('pg_type')}))))
    AND NOT EXISTS (SELECT 1 FROM hidden h WHERE h.classid = ${classid} AND h.objid = ${objid})`;

  return {
    schemas: `SELECT n.nspname FROM pg_namespace n WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('n.oid', 'pg_namespace')}`,

    relations: `
      SELECT c.oid, ${relName('c', 'n')} AS name, c.relkind::text AS relkind, c.reltuples::float8 AS reltuples,
             pg_catalog.pg_total_relation_size(c.oid)::text AS bytes, c.relpersistence::text AS persistence,
             c.reloptions AS options, t.reloptions AS toast_options, am.amname AS am, ts.spcname AS tablespace,
             c.relreplident::text AS replident, c.relrowsecurity AS rls, c.relforcerowsecurity AS force_rls,
             CASE WHEN c.relkind = 'p' THEN pg_catalog.pg_get_partkeydef(c.oid) END AS partkey,
             CASE WHEN c.relispartition THEN pg_catalog.pg_get_expr(c.relpartbound, c.oid) END AS partbound,
             c.relispartition AS ispartition,
             ${typeName('c.reloftype')} AS oftype,
             ARRAY(SELECT ${relName('p', 'pn')} FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
                   WHERE i.inhrelid = c.oid ORDER BY i.inhseqno) AS parents,
             fs.srvname AS server, ft.ftoptions AS foreign_options,
             CASE WHEN c.relkind IN ('v', 'm') THEN pg_catalog.pg_get_viewdef(c.oid, true) END AS viewdef
      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      LEFT JOIN pg_class t ON t.oid = c.reltoastrelid
      LEFT JOIN pg_am am ON am.oid = c.relam
      LEFT JOIN pg_tablespace ts ON ts.oid = c.reltablespace
      LEFT JOIN pg_foreign_table ft ON ft.ftrelid = c.oid
      LEFT JOIN pg_foreign_server fs ON fs.oid = ft.ftserver
      WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f', 'c') AND ${hidden}
        AND ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`,

    columns: `
      SELECT a.attrelid AS rel, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
             pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS def, a.attidentity::text AS identity, a.attgenerated::text AS generated,
             CASE WHEN a.attcollation <> ty.typcollation THEN a.attcollation::pg_catalog.regcollation::text END AS collation,
             CASE WHEN a.attstorage <> ty.typstorage THEN a.attstorage::text END AS storage,
             ${num >= 140000 ? `NULLIF(a.attcompression::text, '')` : 'NULL::text'} AS compression,
             NULLIF(COALESCE(a.attstattarget::int, -1), -1) AS stattarget,
             -- Some servers stamp every column with a pg_attver option of their own; their pg_dump leaves it out, and so does the shape.
             ARRAY(SELECT o FROM pg_catalog.unnest(a.attoptions) o WHERE o NOT LIKE 'pg\\_attver=%') AS options, a.attfdwoptions AS fdw_options, a.attislocal AS islocal, a.attinhcount AS inhcount
      FROM pg_attribute a
      JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_type ty ON ty.oid = a.atttypid
      LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
      WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'f', 'v', 'm', 'c') AND ${SYSTEM_SCHEMAS}
      ORDER BY a.attrelid, a.attnum`,

    constraints: `
      SELECT con.conrelid AS rel, con.contypid AS typ, con.conname AS name, con.contype::text AS type,
             pg_catalog.pg_get_constraintdef(con.oid, true) AS def, con.conislocal AS islocal
      FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
      WHERE (con.conrelid <> ${oidConst(0)} OR con.contypid <> ${oidConst(0)}) AND ${SYSTEM_SCHEMAS}`,

    indexes: `
      SELECT i.indrelid AS rel, ic.relname AS name, am.amname AS method, i.indisunique AS unique, i.indisprimary AS primary,
             pg_catalog.pg_get_indexdef(i.indexrelid) AS def, pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate,
             i.indisclustered AS clustered, i.indisreplident AS replident, NOT i.indisvalid AS invalid, ts.spcname AS tablespace,
             (SELECT ${relName('p', 'pn')} FROM pg_inherits h JOIN pg_class p ON p.oid = h.inhparent JOIN pg_namespace pn ON pn.oid = p.relnamespace
               WHERE h.inhrelid = i.indexrelid) AS parent,
             ARRAY(SELECT pg_catalog.format('%s=%s', a.attnum, a.attstattarget) FROM pg_attribute a
                   WHERE a.attrelid = i.indexrelid AND COALESCE(a.attstattarget::int, -1) >= 0 ORDER BY a.attnum) AS statistics
      FROM pg_index i
      JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
      JOIN pg_namespace n ON n.oid = ic.relnamespace
      LEFT JOIN pg_tablespace ts ON ts.oid = ic.reltablespace
      WHERE ${SYSTEM_SCHEMAS}`,

    sequences: `
      SELECT ${relName('c', 'n')} AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
             s.seqincrement::text AS inc, s.seqmin::text AS min, s.seqmax::text AS max, s.seqcycle AS cycle, s.seqcache::text AS cache,
             c.relpersistence = 'u' AS unlogged,
             (SELECT pg_catalog.format('%s.%s.%s', tn.nspname, t.relname, a.attname)
                FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
                JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
               WHERE d.classid = ${catalogOid('pg_class')} AND d.objid = c.oid AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by
      FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`,

    enums: `
      SELECT pg_catalog.format('%s.%s', n.nspname, t.typname) AS name, pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
      FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
      WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('t.oid', 'pg_type')}
      GROUP BY 1`,

    extensions: `SELECT x.extname, x.extversion, n.nspname AS schema FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace WHERE x.extname <> 'plpgsql'`,

    functions: `
      SELECT pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_identity_arguments(p.oid)) AS name, p.prokind::text AS kind,
             CASE WHEN p.prokind <> 'a' THEN pg_catalog.pg_get_functiondef(p.oid) END AS def,
             CASE WHEN p.prokind = 'a' THEN pg_catalog.format('%s.%s(%s)', n.nspname, p.proname, pg_catalog.pg_get_function_arguments(p.oid)) END AS agg_head,
             CASE WHEN p.prokind = 'a' THEN ARRAY[
               'SFUNC = ' || ${regproc('a.aggtransfn')}, 'STYPE = ' || pg_catalog.format_type(a.aggtranstype, NULL),
               'SSPACE = ' || NULLIF(a.aggtransspace, 0)::pg_catalog.text, 'FINALFUNC = ' || ${regproc('a.aggfinalfn')},
               CASE WHEN a.aggfinalextra THEN 'FINALFUNC_EXTRA' END, 'FINALFUNC_MODIFY = ' || a.aggfinalmodify::text,
               'COMBINEFUNC = ' || ${regproc('a.aggcombinefn')}, 'SERIALFUNC = ' || ${regproc('a.aggserialfn')},
               'DESERIALFUNC = ' || ${regproc('a.aggdeserialfn')}, 'INITCOND = ' || pg_catalog.quote_literal(a.agginitval),
               'MSFUNC = ' || ${regproc('a.aggmtransfn')}, 'MINVFUNC = ' || ${regproc('a.aggminvtransfn')},
               'MSTYPE = ' || ${typeName('a.aggmtranstype')}, 'MSSPACE = ' || NULLIF(a.aggmtransspace, 0)::pg_catalog.text,
               'MFINALFUNC = ' || ${regproc('a.aggmfinalfn')}, CASE WHEN a.aggmfinalextra THEN 'MFINALFUNC_EXTRA' END,
               'MFINALFUNC_MODIFY = ' || a.aggmfinalmodify::text, 'MINITCOND = ' || pg_catalog.quote_literal(a.aggminitval),
               'SORTOP = ' || NULLIF(a.aggsortop, ${oidConst(0)})::pg_catalog.regoperator::text, 'KIND = ' || a.aggkind::text, 'DIRECT ARGS = ' || NULLIF(a.aggnumdirectargs, 0)::pg_catalog.text,
               'PARALLEL = ' || p.proparallel::text] END AS agg
      FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      LEFT JOIN pg_aggregate a ON a.aggfnoid::pg_catalog.oid = p.oid
      WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('p.oid', 'pg_proc')}
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = ${catalogOid('pg_proc')} AND d.objid = p.oid AND d.deptype = 'i')`,

    types: `
      SELECT t.oid, pg_catalog.format('%s.%s', n.nspname, t.typname) AS name, t.typtype::text AS typtype, t.typrelid AS rel,
             CASE WHEN t.typtype = 'd' THEN pg_catalog.format_type(t.typbasetype, t.typtypmod) END AS base,
             t.typnotnull AS notnull, COALESCE(pg_catalog.pg_get_expr(t.typdefaultbin, 0), t.typdefault) AS def,
             CASE WHEN t.typtype = 'd' AND t.typcollation <> bt.typcollation THEN t.typcollation::pg_catalog.regcollation::text END AS collation,
             ${typeName('r.rngsubtype')} AS subtype, ${typeName('r.rngmultitypid')} AS multirange,
             (SELECT pg_catalog.format('%s.%s', opn.nspname, opc.opcname) FROM pg_opclass opc JOIN pg_namespace opn ON opn.oid = opc.opcnamespace
               WHERE opc.oid = r.rngsubopc AND NOT opc.opcdefault) AS opclass,
             CASE WHEN r.rngcollation <> ${oidConst(0)} THEN r.rngcollation::pg_catalog.regcollation::text END AS rngcollation,
             ${regproc('r.rngcanonical')} AS canonical, ${regproc('r.rngsubdiff')} AS subdiff,
             CASE WHEN t.typtype = 'b' THEN pg_catalog.jsonb_build_object(
               'input', t.typinput::pg_catalog.regprocedure::text, 'output', t.typoutput::pg_catalog.regprocedure::text,
               'receive', ${regproc('t.typreceive')}, 'send', ${regproc('t.typsend')}, 'typmod_in', ${regproc('t.typmodin')},
               'typmod_out', ${regproc('t.typmodout')}, 'analyze', ${regproc('t.typanalyze')}, 'subscript', ${num >= 140000 ? regproc('t.typsubscript') : 'NULL'},
               'internallength', t.typlen, 'passedbyvalue', t.typbyval, 'alignment', t.typalign, 'storage', t.typstorage,
               'category', t.typcategory, 'preferred', t.typispreferred, 'default', t.typdefault, 'element', ${typeName('t.typelem')},
               'delimiter', t.typdelim, 'collatable', t.typcollation <> ${oidConst(0)}) END AS base_props
      FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
      LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
      LEFT JOIN pg_range r ON r.rngtypid = t.oid
      WHERE t.typtype IN ('c', 'd', 'r', 'b') AND ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('t.oid', 'pg_type')}
        AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class rc WHERE rc.oid = t.typrelid AND rc.relkind = 'c'))
        AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)`,

    triggers: `
      SELECT pg_catalog.format('%s on %s', tg.tgname, ${relName('c', 'n')}) AS key, ${relName('c', 'n')} AS tbl,
             pg_catalog.pg_get_triggerdef(tg.oid) AS def, tg.tgenabled::text AS enabled
      FROM pg_trigger tg JOIN pg_class c ON c.oid = tg.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE NOT tg.tgisinternal AND ${hidden} AND ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`,

    policies: `
      SELECT pg_catalog.format('%s on %s', p.polname, ${relName('c', 'n')}) AS key, ${relName('c', 'n')} AS tbl, p.polpermissive AS permissive,
             p.polcmd::text AS cmd, ARRAY(SELECT ${roleName('r', 'c.relowner')} FROM pg_catalog.unnest(p.polroles) r) AS roles,
             pg_catalog.pg_get_expr(p.polqual, p.polrelid) AS qual, pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid) AS withcheck
      FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`,

    // The rarer kinds, one row each: (kind, name, properties).
    objects: [
      `SELECT 'extension' AS kind, x.extname::text AS name, pg_catalog.jsonb_build_object('schema', n.nspname) AS props
       FROM pg_extension x JOIN pg_namespace n ON n.oid = x.extnamespace WHERE x.extname <> 'plpgsql'`,
      // A collation's provider and locale; not its library version, which the operating system decides.
      `SELECT 'collation', pg_catalog.format('%s.%s', n.nspname, co.collname),
              pg_catalog.to_jsonb(co) - ARRAY['oid', 'collname', 'collnamespace', 'collowner', 'collversion']
       FROM pg_collation co JOIN pg_namespace n ON n.oid = co.collnamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('co.oid', 'pg_collation')}`,
      `SELECT 'statistics', pg_catalog.format('%s.%s', n.nspname, s.stxname),
              pg_catalog.jsonb_build_object('definition', pg_catalog.pg_get_statisticsobjdef(s.oid), 'target', NULLIF(COALESCE(s.stxstattarget::int, -1), -1))
       FROM pg_statistic_ext s JOIN pg_namespace n ON n.oid = s.stxnamespace WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('s.oid', 'pg_statistic_ext')}`,
      `SELECT 'rule', pg_catalog.format('%s on %s', r.rulename, ${relName('c', 'n')}),
              pg_catalog.jsonb_build_object('definition', pg_catalog.pg_get_ruledef(r.oid), 'enabled', ${enabledWord('r.ev_enabled')})
       FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE r.rulename <> '_RETURN' AND ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`,
      `SELECT 'event trigger', e.evtname::text, pg_catalog.jsonb_build_object('event', e.evtevent, 'function', e.evtfoid::pg_catalog.regprocedure::text,
              'enabled', ${enabledWord('e.evtenabled')}, 'tags', e.evttags)
       FROM pg_event_trigger e WHERE ${NOT_FROM_EXTENSION('e.oid', 'pg_event_trigger')}`,
      `SELECT 'publication', p.pubname::text, pg_catalog.jsonb_build_object(
              'allTables', p.puballtables, 'insert', p.pubinsert, 'update', p.pubupdate, 'delete', p.pubdelete, 'truncate', p.pubtruncate,
              'viaRoot', p.pubviaroot,
              'tables', ARRAY(SELECT ${relName('c', 'n')}
                                     ${num >= 150000
                                       ? `|| COALESCE(' (' || (SELECT pg_catalog.string_agg(pg_catalog.quote_ident(a.attname), ', ' ORDER BY a.attnum) FROM pg_attribute a
                                                               WHERE a.attrelid = pr.prrelid AND a.attnum = ANY (pr.prattrs)) || ')', '')
                                          || COALESCE(' WHERE ' || pg_catalog.pg_get_expr(pr.prqual, pr.prrelid), '')`
                                       : ''}
                              FROM pg_publication_rel pr JOIN pg_class c ON c.oid = pr.prrelid JOIN pg_namespace n ON n.oid = c.relnamespace WHERE pr.prpubid = p.oid),
              'schemas', ${num >= 150000 ? `ARRAY(SELECT n.nspname::text FROM pg_publication_namespace pn JOIN pg_namespace n ON n.oid = pn.pnnspid WHERE pn.pnpubid = p.oid)` : `ARRAY[]::text[]`})
       FROM pg_publication p`,
      // Not its conninfo: it may hold a password.
      `SELECT 'subscription', s.subname::text, pg_catalog.jsonb_build_object('enabled', s.subenabled, 'binary', s.subbinary, 'streaming', s.substream,
              'slot', s.subslotname, 'synchronousCommit', s.subsynccommit, 'publications', s.subpublications
              ${num >= 150000 ? `, 'twoPhase', s.subtwophasestate, 'disableOnError', s.subdisableonerr` : ''})
       FROM pg_subscription s WHERE s.subdbid = (SELECT oid FROM pg_database WHERE datname = pg_catalog.current_database())`,
      `SELECT 'operator', pg_catalog.format('%s.%s(%s, %s)', n.nspname, o.oprname, COALESCE(${typeName('o.oprleft')}, 'NONE'), COALESCE(${typeName('o.oprright')}, 'NONE')),
              pg_catalog.jsonb_build_object('function', ${regproc('o.oprcode')}, 'result', ${typeName('o.oprresult')},
              'commutator', NULLIF(o.oprcom, ${oidConst(0)})::pg_catalog.regoperator::text, 'negator', NULLIF(o.oprnegate, ${oidConst(0)})::pg_catalog.regoperator::text,
              'restrict', ${regproc('o.oprrest')}, 'join', ${regproc('o.oprjoin')}, 'hashes', o.oprcanhash, 'merges', o.oprcanmerge)
       FROM pg_operator o JOIN pg_namespace n ON n.oid = o.oprnamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('o.oid', 'pg_operator')}`,
      `SELECT 'cast', pg_catalog.format('(%s AS %s)', pg_catalog.format_type(k.castsource, NULL), pg_catalog.format_type(k.casttarget, NULL)),
              pg_catalog.jsonb_build_object('function', ${regproc('k.castfunc')}, 'context', k.castcontext, 'method', k.castmethod)
       FROM pg_cast k WHERE ${userObject('k.oid', 'pg_cast')}`,
      `SELECT 'operator class', pg_catalog.format('%s.%s USING %s', n.nspname, oc.opcname, am.amname),
              pg_catalog.jsonb_build_object('type', pg_catalog.format_type(oc.opcintype, NULL), 'default', oc.opcdefault,
              'family', (SELECT pg_catalog.format('%s.%s', fn.nspname, f.opfname) FROM pg_opfamily f JOIN pg_namespace fn ON fn.oid = f.opfnamespace WHERE f.oid = oc.opcfamily),
              'storage', ${typeName('oc.opckeytype')})
       FROM pg_opclass oc JOIN pg_namespace n ON n.oid = oc.opcnamespace JOIN pg_am am ON am.oid = oc.opcmethod
       WHERE ${SYSTEM_SCHEMAS} AND ${userObject('oc.oid', 'pg_opclass')}`,
      `SELECT 'operator family', pg_catalog.format('%s.%s USING %s', n.nspname, f.opfname, am.amname),
              pg_catalog.jsonb_build_object(
                'operators', ARRAY(SELECT pg_catalog.format('%s %s%s%s', o.amopstrategy, o.amopopr::pg_catalog.regoperator,
                                     CASE WHEN o.amoppurpose = 'o' THEN ' FOR ORDER BY ' || o.amopsortfamily::pg_catalog.text ELSE '' END,
                                     pg_catalog.format(' (%s, %s)', pg_catalog.format_type(o.amoplefttype, NULL), pg_catalog.format_type(o.amoprighttype, NULL)))
                                   FROM pg_amop o WHERE o.amopfamily = f.oid),
                'functions', ARRAY(SELECT pg_catalog.format('%s %s (%s, %s)', p.amprocnum, p.amproc::pg_catalog.regprocedure,
                                     pg_catalog.format_type(p.amproclefttype, NULL), pg_catalog.format_type(p.amprocrighttype, NULL))
                                   FROM pg_amproc p WHERE p.amprocfamily = f.oid))
       FROM pg_opfamily f JOIN pg_namespace n ON n.oid = f.opfnamespace JOIN pg_am am ON am.oid = f.opfmethod
       WHERE ${SYSTEM_SCHEMAS} AND ${userObject('f.oid', 'pg_opfamily')}`,
      `SELECT 'text search configuration', pg_catalog.format('%s.%s', n.nspname, c.cfgname),
              pg_catalog.jsonb_build_object(
                'parser', (SELECT pg_catalog.format('%s.%s', pn.nspname, p.prsname) FROM pg_ts_parser p JOIN pg_namespace pn ON pn.oid = p.prsnamespace WHERE p.oid = c.cfgparser),
                'mappings', ARRAY(SELECT pg_catalog.format('%s: %s', t.alias, m.mapdict::pg_catalog.regdictionary)
                                  FROM pg_ts_config_map m JOIN pg_catalog.ts_token_type(c.cfgparser) t ON t.tokid = m.maptokentype
                                  WHERE m.mapcfg = c.oid ORDER BY m.maptokentype, m.mapseqno))
       FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('c.oid', 'pg_ts_config')}`,
      `SELECT 'text search dictionary', pg_catalog.format('%s.%s', n.nspname, d.dictname),
              pg_catalog.jsonb_build_object('template', (SELECT pg_catalog.format('%s.%s', tn.nspname, t.tmplname) FROM pg_ts_template t JOIN pg_namespace tn ON tn.oid = t.tmplnamespace WHERE t.oid = d.dicttemplate),
                'options', d.dictinitoption)
       FROM pg_ts_dict d JOIN pg_namespace n ON n.oid = d.dictnamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('d.oid', 'pg_ts_dict')}`,
      `SELECT 'text search parser', pg_catalog.format('%s.%s', n.nspname, p.prsname),
              pg_catalog.jsonb_build_object('start', ${regproc('p.prsstart')}, 'gettoken', ${regproc('p.prstoken')}, 'end', ${regproc('p.prsend')},
                'headline', ${regproc('p.prsheadline')}, 'lextypes', ${regproc('p.prslextype')})
       FROM pg_ts_parser p JOIN pg_namespace n ON n.oid = p.prsnamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('p.oid', 'pg_ts_parser')}`,
      `SELECT 'text search template', pg_catalog.format('%s.%s', n.nspname, t.tmplname),
              pg_catalog.jsonb_build_object('init', ${regproc('t.tmplinit')}, 'lexize', ${regproc('t.tmpllexize')})
       FROM pg_ts_template t JOIN pg_namespace n ON n.oid = t.tmplnamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('t.oid', 'pg_ts_template')}`,
      `SELECT 'conversion', pg_catalog.format('%s.%s', n.nspname, c.conname),
              pg_catalog.jsonb_build_object('from', pg_catalog.pg_encoding_to_char(c.conforencoding), 'to', pg_catalog.pg_encoding_to_char(c.contoencoding),
                'function', ${regproc('c.conproc')}, 'default', c.condefault)
       FROM pg_conversion c JOIN pg_namespace n ON n.oid = c.connamespace WHERE ${SYSTEM_SCHEMAS} AND ${userObject('c.oid', 'pg_conversion')}`,
      `SELECT 'language', l.lanname::text, pg_catalog.jsonb_build_object('trusted', l.lanpltrusted, 'handler', ${regproc('l.lanplcallfoid')},
              'inline', ${regproc('l.laninline')}, 'validator', ${regproc('l.lanvalidator')})
       FROM pg_language l WHERE l.lanispl AND ${userObject('l.oid', 'pg_language')}`,
      `SELECT 'access method', a.amname::text, pg_catalog.jsonb_build_object('type', a.amtype, 'handler', ${regproc('a.amhandler')})
       FROM pg_am a WHERE ${userObject('a.oid', 'pg_am')}`,
      `SELECT 'transform', pg_catalog.format('FOR %s LANGUAGE %s', pg_catalog.format_type(t.trftype, NULL), l.lanname),
              pg_catalog.jsonb_build_object('fromSql', ${regproc('t.trffromsql')}, 'toSql', ${regproc('t.trftosql')})
       FROM pg_transform t JOIN pg_language l ON l.oid = t.trflang WHERE ${userObject('t.oid', 'pg_transform')}`,
      `SELECT 'foreign-data wrapper', w.fdwname::text, pg_catalog.jsonb_build_object('handler', ${regproc('w.fdwhandler')}, 'validator', ${regproc('w.fdwvalidator')},
              'options', ${keyValues('w.fdwoptions')})
       FROM pg_foreign_data_wrapper w WHERE ${userObject('w.oid', 'pg_foreign_data_wrapper')}`,
      `SELECT 'server', s.srvname::text, pg_catalog.jsonb_build_object('wrapper', w.fdwname, 'type', s.srvtype, 'version', s.srvversion, 'options', ${keyValues('s.srvoptions')})
       FROM pg_foreign_server s JOIN pg_foreign_data_wrapper w ON w.oid = s.srvfdw WHERE ${userObject('s.oid', 'pg_foreign_server')}`,
      // Which options, not their values: a user mapping's options usually hold a password.
      `SELECT 'user mapping', pg_catalog.format('for %s on server %s', CASE WHEN u.umuser = ${oidConst(0)} THEN 'PUBLIC' ELSE u.usename END, u.srvname),
              pg_catalog.jsonb_build_object('options', ARRAY(SELECT pg_catalog.split_part(o, '=', 1) FROM pg_catalog.unnest(u.umoptions) o))
       FROM pg_user_mappings u WHERE ${userObject('u.srvid', 'pg_foreign_server')}`,
    ].join('\nUNION ALL\n'),

    comments: `
      WITH hidden AS (${prismaHidden})
      SELECT o.type, o.identity, d.description
      FROM pg_description d, LATERAL pg_catalog.pg_identify_object(d.classoid, d.objoid, d.objsubid) o
      WHERE ${dumpable('d.classoid', 'd.objoid')} AND (o.schema IS NULL OR o.schema NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))`,

    securityLabels: `
      WITH hidden AS (${prismaHidden})
      SELECT o.type, o.identity, s.provider, s.label
      FROM pg_seclabel s, LATERAL pg_catalog.pg_identify_object(s.classoid, s.objoid, s.objsubid) o
      WHERE ${dumpable('s.classoid', 's.objoid')} AND (o.schema IS NULL OR o.schema NOT IN ('pg_catalog', 'information_schema', 'pg_toast'))`,

    // Every ACL an object kind carries, beside its defaults (acldefault) for the same owner.
    privileges: `
      WITH hidden AS (${prismaHidden}),
      acls AS (
        SELECT ${catalogOid('pg_class')} AS classid, c.oid AS objid, 0 AS objsubid, c.relacl AS acl, c.relowner AS owner,
               CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END::"char" AS kind
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND ${SYSTEM_SCHEMAS}
        UNION ALL
        SELECT ${catalogOid('pg_class')}, a.attrelid, a.attnum, a.attacl, c.relowner, 'c'::"char"
          FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
          WHERE a.attacl IS NOT NULL AND a.attnum > 0 AND NOT a.attisdropped AND ${SYSTEM_SCHEMAS}
        UNION ALL
        SELECT ${catalogOid('pg_proc')}, p.oid, 0, p.proacl, p.proowner, 'f'::"char"
          FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE ${SYSTEM_SCHEMAS}
        UNION ALL
        SELECT ${catalogOid('pg_namespace')}, n.oid, 0, n.nspacl, n.nspowner, 'n'::"char" FROM pg_namespace n WHERE ${SYSTEM_SCHEMAS}
        UNION ALL
        SELECT ${catalogOid('pg_type')}, t.oid, 0, t.typacl, t.typowner, 'T'::"char"
          FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
          WHERE t.typtype IN ('b', 'c', 'd', 'e', 'r') AND ${SYSTEM_SCHEMAS}
            AND (t.typtype <> 'c' OR EXISTS (SELECT 1 FROM pg_class rc WHERE rc.oid = t.typrelid AND rc.relkind = 'c'))
            AND NOT EXISTS (SELECT 1 FROM pg_type e WHERE e.typarray = t.oid)
        UNION ALL
        SELECT ${catalogOid('pg_language')}, l.oid, 0, l.lanacl, l.lanowner, 'l'::"char" FROM pg_language l
        UNION ALL
        SELECT ${catalogOid('pg_foreign_data_wrapper')}, w.oid, 0, w.fdwacl, w.fdwowner, 'F'::"char" FROM pg_foreign_data_wrapper w
        UNION ALL
        SELECT ${catalogOid('pg_foreign_server')}, s.oid, 0, s.srvacl, s.srvowner, 'S'::"char" FROM pg_foreign_server s
      )
      SELECT o.type, o.identity, ${aclText('a.acl', 'a.owner')} AS acl,
             ${aclText('pg_catalog.acldefault(a.kind, a.owner)', 'a.owner')} AS dflt
      FROM acls a, LATERAL pg_catalog.pg_identify_object(a.classid, a.objid, a.objsubid) o
      WHERE a.acl IS NOT NULL AND ${dumpable('a.classid', 'a.objid')}`,

    defaultPrivileges: `
      SELECT CASE WHEN d.defaclrole = (SELECT r.oid FROM pg_roles r WHERE r.rolname = current_user) THEN 'CURRENT_USER' ELSE pg_catalog.pg_get_userbyid(d.defaclrole) END AS role,
             n.nspname AS schema, d.defaclobjtype::text AS objtype, ${aclText('d.defaclacl', 'd.defaclrole')} AS acl
      FROM pg_default_acl d LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace`,
  };
}

const REPLICA_IDENTITY = { n: 'nothing', f: 'full', i: 'index' } as const;
const TRIGGER_ENABLED = { O: 'origin', A: 'always', R: 'replica', D: 'disabled' } as const;
const POLICY_COMMANDS = { '*': 'all', r: 'select', a: 'insert', w: 'update', d: 'delete' } as const;
const COMPRESSION: Record<string, string> = { p: 'pglz', l: 'lz4' };
const STORAGE = { p: 'plain', e: 'external', x: 'extended', m: 'main' } as const;
const FUNCTION_KINDS = { f: 'function', p: 'procedure', a: 'aggregate', w: 'window' } as const;
const DEFAULT_ACL_OBJECTS: Record<string, string> = { r: 'tables', S: 'sequences', f: 'functions', T: 'types', n: 'schemas' };

async function readSchema(client: Client): Promise<SchemaSnapshot> {
  const [version] = (await client.query<{ v: string; num: number }>(`SELECT pg_catalog.current_setting('server_version') AS v, pg_catalog.current_setting('server_version_num')::int AS num`)).rows;
  const queries = catalogQueries(version.num);
  const names = Object.keys(queries);
  // One round trip: the statements run in order inside the caller's transaction.
  const results = (await client.query(names.map((n) => queries[n]).join(';\n'))) as unknown as QueryResult<Row>[];
  const rows = Object.fromEntries(names.map((n, i) => [n, results[i].rows])) as Record<string, Row[]>;
  type R<T> = T & Row;
  const q = <T>(name: string) => rows[name] as R<T>[];

  const shape: SchemaShape = {
    format: SHAPE_FORMAT,
    schemas: sorted(q<{ nspname: string }>('schemas').map((r) => r.nspname)),
    tables: {}, views: {}, sequences: {}, enums: {}, extensions: {},
    functions: {}, types: {}, triggers: {}, policies: {}, objects: {}, comments: {}, privileges: {}, defaultPrivileges: {},
  };
  const stats: Record<string, TableStats> = {};

  const relations = q<{
    oid: number; name: string; relkind: string; reltuples: number; bytes: string; persistence: string; options: string[] | null; toast_options: string[] | null;
    am: string | null; tablespace: string | null; replident: string; rls: boolean; force_rls: boolean; partkey: string | null; partbound: string | null;
    ispartition: boolean; oftype: string | null; parents: string[]; server: string | null; foreign_options: string[] | null; viewdef: string | null;
  }>('relations');

  type ColumnRow = {
    rel: number; name: string; type: string; notnull: boolean; def: string | null; identity: string; generated: string; collation: string | null;
    storage: keyof typeof STORAGE | null; compression: string | null; stattarget: number | null; options: string[] | null; fdw_options: string[] | null;
    islocal: boolean; inhcount: number;
  };
  const columnsByRel = new Map<number, ColumnRow[]>();
  for (const c of q<ColumnRow>('columns')) columnsByRel.set(c.rel, [...(columnsByRel.get(c.rel) ?? []), c]);
  /** The format 2 settings of a column, present only when set. */
  const columnExtras = (c: ColumnRow, inheritable: boolean): Partial<ColumnInfo> => {
    const x: Partial<ColumnInfo> = {};
    setIf(x, 'collation', c.collation);
    setIf(x, 'storage', c.storage ? STORAGE[c.storage] : null);
    setIf(x, 'compression', c.compression ? (COMPRESSION[c.compression] ?? c.compression) : null);
    setIf(x, 'statistics', c.stattarget);
    setIf(x, 'options', c.options ? sorted(c.options) : null);
    setIf(x, 'fdwOptions', c.fdw_options ? sorted(c.fdw_options) : null);
    if (inheritable && c.inhcount > 0 && !c.islocal) x.inherited = true;
    return x;
  };

  const constraints = q<{ rel: number; typ: number; name: string; type: string; def: string; islocal: boolean }>('constraints');
  const constraintsByRel = new Map<number, typeof constraints>();
  const constraintsByType = new Map<number, typeof constraints>();
  for (const c of constraints) {
    if (c.rel) constraintsByRel.set(c.rel, [...(constraintsByRel.get(c.rel) ?? []), c]);
    else constraintsByType.set(c.typ, [...(constraintsByType.get(c.typ) ?? []), c]);
  }
  const constraintInfo = (c: (typeof constraints)[number]): ConstraintInfo => ({ name: c.name, definition: c.def, ...(c.islocal ? {} : { inherited: true as const }) });

  type IndexRow = {
    rel: number; name: string; method: string; unique: boolean; primary: boolean; def: string; predicate: string | null; clustered: boolean;
    replident: boolean; invalid: boolean; tablespace: string | null; parent: string | null; statistics: string[];
  };
  const indexesByRel = new Map<number, IndexRow[]>();
  for (const i of q<IndexRow>('indexes')) indexesByRel.set(i.rel, [...(indexesByRel.get(i.rel) ?? []), i]);
  const indexInfos = (oid: number): IndexInfo[] =>
    byName((indexesByRel.get(oid) ?? []).map((i) => {
      const info: IndexInfo = { name: i.name, method: i.method, unique: i.unique, primary: i.primary, definition: i.def, predicate: i.predicate };
      setIf(info, 'clustered', i.clustered || null);
      setIf(info, 'replicaIdentity', i.replident || null);
      setIf(info, 'partitionOf', i.parent);
      setIf(info, 'statistics', i.statistics);
      setIf(info, 'tablespace', i.tablespace);
      setIf(info, 'invalid', i.invalid || null);
      return info;
    }));

  for (const r of relations) {
    if (r.relkind === 'r' || r.relkind === 'p' || r.relkind === 'f') {
      if (r.relkind !== 'f') stats[r.name] = { estimatedRows: r.reltuples < 0 ? null : Math.round(r.reltuples), totalBytes: Number(r.bytes) };
      const cons = constraintsByRel.get(r.oid) ?? [];
      const conOf = (type: string) => byName(cons.filter((c) => c.type === type).map(constraintInfo));
      const table: TableInfo = {
        columns: (columnsByRel.get(r.oid) ?? []).map((c) => ({
          name: c.name,
          type: c.type,
          nullable: !c.notnull,
          default: c.generated ? null : c.def,
          identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
          generated: c.generated ? c.def : null,
          ...columnExtras(c, true),
        })),
        primaryKey: conOf('p')[0] ?? null,
        uniques: conOf('u'),
        checks: conOf('c'),
        foreignKeys: conOf('f'),
        exclusions: conOf('x'),
        indexes: indexInfos(r.oid),
      };
      setIf(table, 'unlogged', r.persistence === 'u' || null);
      setIf(table, 'accessMethod', r.am && r.am !== 'heap' ? r.am : null);
      setIf(table, 'options', r.options ? sorted(r.options) : null);
      setIf(table, 'toastOptions', r.toast_options ? sorted(r.toast_options) : null);
      setIf(table, 'tablespace', r.tablespace);
      setIf(table, 'partitionKey', r.partkey);
      if (r.ispartition) table.partitionOf = { parent: r.parents[0], bound: r.partbound ?? '' };
      else setIf(table, 'inherits', r.parents);
      setIf(table, 'ofType', r.oftype);
      setIf(table, 'replicaIdentity', r.replident === 'd' ? null : REPLICA_IDENTITY[r.replident as keyof typeof REPLICA_IDENTITY]);
      setIf(table, 'rowSecurity', r.rls || null);
      setIf(table, 'forceRowSecurity', r.force_rls || null);
      if (r.relkind === 'f') table.foreign = { server: r.server ?? '', options: sorted(r.foreign_options) };
      shape.tables[r.name] = table;
    } else if (r.relkind === 'v' || r.relkind === 'm') {
      const view: ViewInfo = { materialized: r.relkind === 'm', definition: (r.viewdef ?? '').trim() };
      setIf(view, 'options', r.options ? sorted(r.options) : null);
      const cols = columnsByRel.get(r.oid) ?? [];
      const defaults = Object.fromEntries(cols.filter((c) => c.def !== null).map((c) => [c.name, c.def as string]));
      setIf(view, 'columnDefaults', Object.keys(defaults).length ? defaults : null);
      const settings = Object.fromEntries(cols.map((c) => [c.name, columnExtras(c, false)]).filter(([, x]) => Object.keys(x).length > 0));
      setIf(view, 'columns', Object.keys(settings).length ? settings : null);
      setIf(view, 'indexes', indexInfos(r.oid));
      setIf(view, 'accessMethod', r.am && r.am !== 'heap' ? r.am : null);
      setIf(view, 'tablespace', r.tablespace);
      shape.views[r.name] = view;
    }
  }

  for (const s of q<{ name: string; type: string; start: string; inc: string; min: string; max: string; cycle: boolean; cache: string; unlogged: boolean; owned_by: string | null }>('sequences')) {
    const seq: SequenceInfo = { type: s.type, start: s.start, increment: s.inc, min: s.min, max: s.max, cycle: s.cycle, ownedBy: s.owned_by };
    setIf(seq, 'cache', s.cache !== '1' ? s.cache : null);
    setIf(seq, 'unlogged', s.unlogged || null);
    shape.sequences[s.name] = seq;
  }
  for (const e of q<{ name: string; labels: string[] }>('enums')) shape.enums[e.name] = e.labels;
  for (const x of q<{ extname: string; extversion: string }>('extensions')) shape.extensions[x.extname] = x.extversion;

  for (const f of q<{ name: string; kind: keyof typeof FUNCTION_KINDS; def: string | null; agg_head: string | null; agg: (string | null)[] | null }>('functions')) {
    const definition = f.kind === 'a' ? `CREATE AGGREGATE ${f.agg_head} (\n    ${(f.agg ?? []).filter(Boolean).join(',\n    ')}\n)` : (f.def ?? '');
    shape.functions[f.name] = { kind: FUNCTION_KINDS[f.kind] ?? 'function', definition };
  }

  for (const t of q<{
    oid: number; name: string; typtype: string; rel: number; base: string | null; notnull: boolean; def: string | null; collation: string | null;
    subtype: string | null; multirange: string | null; opclass: string | null; rngcollation: string | null; canonical: string | null; subdiff: string | null;
    base_props: Record<string, unknown> | null;
  }>('types')) {
    if (t.typtype === 'c') {
      shape.types[t.name] = {
        kind: 'composite',
        attributes: (columnsByRel.get(t.rel) ?? []).map((c) => ({ name: c.name, type: c.type, ...(c.collation ? { collation: c.collation } : {}) })),
      };
    } else if (t.typtype === 'd') {
      shape.types[t.name] = {
        kind: 'domain', base: t.base ?? '', notNull: t.notnull, default: t.def,
        ...(t.collation ? { collation: t.collation } : {}),
        constraints: byName((constraintsByType.get(t.oid) ?? []).map(constraintInfo)),
      };
    } else if (t.typtype === 'r') {
      shape.types[t.name] = {
        kind: 'range', subtype: t.subtype ?? '', multirange: t.multirange, opclass: t.opclass, collation: t.rngcollation, canonical: t.canonical, subdiff: t.subdiff,
      };
    } else {
      shape.types[t.name] = { kind: 'base', properties: t.base_props ?? {} };
    }
  }

  for (const t of q<{ key: string; tbl: string; def: string; enabled: keyof typeof TRIGGER_ENABLED }>('triggers')) {
    shape.triggers[t.key] = { table: t.tbl, definition: t.def, enabled: TRIGGER_ENABLED[t.enabled] ?? 'origin' };
  }
  for (const p of q<{ key: string; tbl: string; permissive: boolean; cmd: keyof typeof POLICY_COMMANDS; roles: string[]; qual: string | null; withcheck: string | null }>('policies')) {
    shape.policies[p.key] = { table: p.tbl, permissive: p.permissive, command: POLICY_COMMANDS[p.cmd] ?? 'all', roles: sorted(p.roles), using: p.qual, withCheck: p.withcheck };
  }
  for (const o of q<{ kind: string; name: string; props: Record<string, unknown> }>('objects')) {
    // Lists whose order PostgreSQL does not keep (members of a family, tables of a publication) are sorted here.
    const props = Object.fromEntries(
      Object.entries(o.props).map(([k, v]) => [k, Array.isArray(v) && k !== 'mappings' ? sorted(v as string[]) : v]),
    );
    (shape.objects[o.kind] ??= {})[o.name] = props;
  }
  for (const c of q<{ type: string; identity: string; description: string }>('comments')) shape.comments[`${c.type} ${c.identity}`] = c.description;
  for (const s of q<{ type: string; identity: string; provider: string; label: string }>('securityLabels')) {
    ((shape.objects['security label'] ??= {})[`${s.type} ${s.identity}`] ??= {})[s.provider] = s.label;
  }
  for (const p of q<{ type: string; identity: string; acl: string[]; dflt: string[] }>('privileges')) {
    const acl = sorted(p.acl);
    // Only what differs from what the object would have had anyway: pg_dump prints no GRANT for that either.
    if (acl.join('\n') !== sorted(p.dflt).join('\n')) shape.privileges[`${p.type} ${p.identity}`] = acl;
  }
  for (const d of q<{ role: string; schema: string | null; objtype: string; acl: string[] }>('defaultPrivileges')) {
    shape.defaultPrivileges[`for role ${d.role}${d.schema ? ` in schema ${d.schema}` : ''} on ${DEFAULT_ACL_OBJECTS[d.objtype] ?? d.objtype}`] = sorted(d.acl);
  }

  const normal: SchemaShape = {
    format: SHAPE_FORMAT,
    schemas: shape.schemas,
    tables: sortedRecord(shape.tables),
    views: sortedRecord(shape.views),
    sequences: sortedRecord(shape.sequences),
    enums: sortedRecord(shape.enums),
    extensions: sortedRecord(shape.extensions),
    functions: sortedRecord(shape.functions),
    types: sortedRecord(shape.types),
    triggers: sortedRecord(shape.triggers),
    policies: sortedRecord(shape.policies),
    objects: sortedRecord(Object.fromEntries(Object.entries(shape.objects).map(([k, v]) => [k, sortedRecord(v)]))),
    comments: sortedRecord(shape.comments),
    privileges: sortedRecord(shape.privileges),
    defaultPrivileges: sortedRecord(shape.defaultPrivileges),
  };
  return { hash: hashShape(normal), shape: normal, stats: sortedRecord(stats), serverVersion: version.v };
}

/** A kind of object beyond tables, views, sequences and enums, with its names, for pages and the CLI. */
export interface ShapeKindInventory {
  kind: string;
  names: string[];
}

/**
 * What a shape holds beyond tables, views, sequences and enums, by kind ("functions",
 * "triggers", "policies", "row-level security", "comments", ...): only the kinds it has, each
 * with its names in order. A snapshot taken before format 2 has none of these recorded.
 */
export function shapeInventory(stored: Partial<SchemaShape>): ShapeKindInventory[] {
  const shape = withShapeDefaults(stored);
  const out: ShapeKindInventory[] = [];
  const add = (kind: string, names: string[]) => names.length && out.push({ kind, names: [...names].sort(byText) });
  const fnOf = (k: FunctionInfo['kind']) => Object.entries(shape.functions).filter(([, f]) => f.kind === k).map(([n]) => n);
  add('functions', [...fnOf('function'), ...fnOf('window')]);
  add('procedures', fnOf('procedure'));
  add('aggregates', fnOf('aggregate'));
  for (const [kind, label] of [['domain', 'domains'], ['composite', 'composite types'], ['range', 'range types'], ['base', 'base types']] as const) {
    add(label, Object.entries(shape.types).filter(([, t]) => t.kind === kind).map(([n]) => n));
  }
  add('triggers', Object.keys(shape.triggers));
  add('policies', Object.keys(shape.policies));
  add('row-level security', Object.entries(shape.tables).filter(([, t]) => t.rowSecurity).map(([n, t]) => `${n}${t.forceRowSecurity ? ' (forced)' : ''}`));
  add('partitioned tables', Object.entries(shape.tables).filter(([, t]) => t.partitionKey).map(([n, t]) => `${n} ${t.partitionKey}`));
  add('foreign tables', Object.entries(shape.tables).filter(([, t]) => t.foreign).map(([n]) => n));
  add('materialized view indexes', Object.entries(shape.views).flatMap(([n, v]) => (v.indexes ?? []).map((i) => `${n}.${i.name}`)));
  for (const [kind, objects] of Object.entries(shape.objects)) add(kind === 'statistics' ? 'statistics objects' : kind.endsWith('s') ? `${kind}es` : `${kind}s`, Object.keys(objects));
  add('comments', Object.keys(shape.comments));
  add('privileges', Object.keys(shape.privileges));
  add('default privileges', Object.keys(shape.defaultPrivileges));
  return out;
}

/** sha256 of the canonical JSON of a shape (keys sorted at every level). */
export function hashShape(shape: SchemaShape): string {
  return createHash('sha256').update(canonicalJson(shape)).digest('hex');
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
