import { createHash } from 'node:crypto';
import type { Client } from 'pg';

/**
 * A normalised description of a PostgreSQL schema: every object kind a migration touches.
 * The migration history table (_prisma_migrations) is bookkeeping, not schema, and is left out.
 * Keys are qualified names ("public.orders"); lists are sorted, so two snapshots of the same
 * schema are equal as JSON and hash the same, whatever order the catalog returned.
 */
export interface ColumnInfo {
  name: string;
  type: string;
  nullable: boolean;
  default: string | null;
  identity: 'always' | 'by default' | null;
  generated: string | null;
}
export interface IndexInfo {
  name: string;
  method: string;
  unique: boolean;
  primary: boolean;
  /** The full CREATE INDEX statement, as pg_get_indexdef prints it. */
  definition: string;
  predicate: string | null;
}
export interface ConstraintInfo {
  name: string;
  definition: string;
}
export interface TableInfo {
  columns: ColumnInfo[];
  primaryKey: ConstraintInfo | null;
  uniques: ConstraintInfo[];
  checks: ConstraintInfo[];
  foreignKeys: ConstraintInfo[];
  exclusions: ConstraintInfo[];
  indexes: IndexInfo[];
}
export interface ViewInfo {
  materialized: boolean;
  definition: string;
}
export interface SequenceInfo {
  type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cycle: boolean;
  ownedBy: string | null;
}
export interface SchemaShape {
  schemas: string[];
  tables: Record<string, TableInfo>;
  views: Record<string, ViewInfo>;
  sequences: Record<string, SequenceInfo>;
  enums: Record<string, string[]>;
  extensions: Record<string, string>;
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

const SYSTEM_SCHEMAS = `n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp_%' AND n.nspname NOT LIKE 'pg_toast_temp_%'`;
// Objects that belong to an extension are the extension's, not the schema's.
const NOT_FROM_EXTENSION = (oid: string, catalog: string) =>
  `NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = '${catalog}'::regclass AND d.objid = ${oid} AND d.deptype = 'e')`;

const byName = <T extends { name: string }>(xs: T[]) => [...xs].sort((a, b) => a.name.localeCompare(b.name));
const sortedRecord = <T>(r: Record<string, T>) => Object.fromEntries(Object.entries(r).sort(([a], [b]) => a.localeCompare(b)));

/**
 * Reads the schema of the database `client` is connected to: read-only catalog queries in one
 * repeatable-read transaction (one consistent picture). PostgreSQL prints a name unqualified when
 * the search_path finds it, so the path is fixed for the transaction (pg_catalog, then public):
 * the hash is the same from a read-only pg_catalog session on a target and from the rehearsal's
 * session on its copy. Catalog functions are called qualified, so no object of the database's own
 * schemas can stand in for one.
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

async function readSchema(client: Client): Promise<SchemaSnapshot> {
  const q = async <R extends Record<string, unknown>>(sql: string) => (await client.query<R>(sql)).rows;

  const [version] = await q<{ v: string }>(`SELECT pg_catalog.current_setting('server_version') AS v`);
  const schemas = (await q<{ nspname: string }>(`SELECT n.nspname FROM pg_namespace n WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('n.oid', 'pg_namespace')}`)).map((r) => r.nspname);

  const relations = await q<{ oid: number; name: string; relkind: string; reltuples: number; bytes: string }>(`
    SELECT c.oid, pg_catalog.format('%s.%s', n.nspname, c.relname) AS name, c.relkind::text AS relkind,
           c.reltuples::float8 AS reltuples, pg_catalog.pg_total_relation_size(c.oid)::text AS bytes
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relname <> '_prisma_migrations'
      AND ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`);

  const columns = await q<{ rel: number; name: string; type: string; notnull: boolean; def: string | null; identity: string; generated: string }>(`
    SELECT a.attrelid AS rel, a.attname AS name, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS notnull,
           pg_catalog.pg_get_expr(ad.adbin, ad.adrelid) AS def, a.attidentity::text AS identity, a.attgenerated::text AS generated
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
    WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p') AND ${SYSTEM_SCHEMAS}
    ORDER BY a.attrelid, a.attnum`);

  const constraints = await q<{ rel: number; name: string; type: string; def: string }>(`
    SELECT con.conrelid AS rel, con.conname AS name, con.contype::text AS type, pg_catalog.pg_get_constraintdef(con.oid, true) AS def
    FROM pg_constraint con JOIN pg_namespace n ON n.oid = con.connamespace
    WHERE con.conrelid <> 0 AND ${SYSTEM_SCHEMAS}`);

  const indexes = await q<{ rel: number; name: string; method: string; unique: boolean; primary: boolean; def: string; predicate: string | null }>(`
    SELECT i.indrelid AS rel, ic.relname AS name, am.amname AS method, i.indisunique AS unique, i.indisprimary AS primary,
           pg_catalog.pg_get_indexdef(i.indexrelid) AS def, pg_catalog.pg_get_expr(i.indpred, i.indrelid) AS predicate
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid JOIN pg_am am ON am.oid = ic.relam
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE ${SYSTEM_SCHEMAS}`);

  const views = await q<{ name: string; materialized: boolean; def: string }>(`
    SELECT pg_catalog.format('%s.%s', n.nspname, c.relname) AS name, c.relkind = 'm' AS materialized, pg_catalog.pg_get_viewdef(c.oid, true) AS def
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('v', 'm') AND ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`);

  const sequences = await q<{ name: string; type: string; start: string; inc: string; min: string; max: string; cycle: boolean; owned_by: string | null }>(`
    SELECT pg_catalog.format('%s.%s', n.nspname, c.relname) AS name, pg_catalog.format_type(s.seqtypid, NULL) AS type, s.seqstart::text AS start,
           s.seqincrement::text AS inc, s.seqmin::text AS min, s.seqmax::text AS max, s.seqcycle AS cycle,
           (SELECT pg_catalog.format('%s.%s.%s', tn.nspname, t.relname, a.attname)
              FROM pg_depend d JOIN pg_class t ON t.oid = d.refobjid JOIN pg_namespace tn ON tn.oid = t.relnamespace
              JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
             WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i') LIMIT 1) AS owned_by
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('c.oid', 'pg_class')}`);

  const enums = await q<{ name: string; labels: string[] }>(`
    SELECT pg_catalog.format('%s.%s', n.nspname, t.typname) AS name, pg_catalog.array_agg(e.enumlabel::text ORDER BY e.enumsortorder) AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE ${SYSTEM_SCHEMAS} AND ${NOT_FROM_EXTENSION('t.oid', 'pg_type')}
    GROUP BY 1`);

  const extensions = await q<{ extname: string; extversion: string }>(`SELECT extname, extversion FROM pg_extension WHERE extname <> 'plpgsql'`);

  const shape: SchemaShape = { schemas: [...schemas].sort(), tables: {}, views: {}, sequences: {}, enums: {}, extensions: {} };
  const stats: Record<string, TableStats> = {};
  const tableByOid = new Map<number, string>();
  for (const r of relations) {
    if (r.relkind !== 'r' && r.relkind !== 'p') continue;
    tableByOid.set(r.oid, r.name);
    stats[r.name] = { estimatedRows: r.reltuples < 0 ? null : Math.round(r.reltuples), totalBytes: Number(r.bytes) };
  }
  for (const oid of tableByOid.keys()) {
    const own = <T extends { rel: number }>(xs: T[]) => xs.filter((x) => x.rel === oid);
    const cons = own(constraints);
    const conOf = (type: string) => byName(cons.filter((c) => c.type === type).map((c) => ({ name: c.name, definition: c.def })));
    shape.tables[tableByOid.get(oid)!] = {
      columns: own(columns).map((c) => ({
        name: c.name,
        type: c.type,
        nullable: !c.notnull,
        default: c.generated ? null : c.def,
        identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by default' : null,
        generated: c.generated ? c.def : null,
      })),
      primaryKey: conOf('p')[0] ?? null,
      uniques: conOf('u'),
      checks: conOf('c'),
      foreignKeys: conOf('f'),
      exclusions: conOf('x'),
      indexes: byName(own(indexes).map((i) => ({ name: i.name, method: i.method, unique: i.unique, primary: i.primary, definition: i.def, predicate: i.predicate }))),
    };
  }
  for (const v of views) shape.views[v.name] = { materialized: v.materialized, definition: v.def.trim() };
  for (const s of sequences) shape.sequences[s.name] = { type: s.type, start: s.start, increment: s.inc, min: s.min, max: s.max, cycle: s.cycle, ownedBy: s.owned_by };
  for (const e of enums) shape.enums[e.name] = e.labels;
  for (const x of extensions) shape.extensions[x.extname] = x.extversion;

  const normal: SchemaShape = {
    schemas: shape.schemas,
    tables: sortedRecord(shape.tables),
    views: sortedRecord(shape.views),
    sequences: sortedRecord(shape.sequences),
    enums: sortedRecord(shape.enums),
    extensions: sortedRecord(shape.extensions),
  };
  return { hash: hashShape(normal), shape: normal, stats: sortedRecord(stats), serverVersion: version.v };
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
