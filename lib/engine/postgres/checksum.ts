import { createHash } from 'node:crypto';
import { escapeIdentifier as id, escapeLiteral, type Client } from 'pg';
import type { TableChecksum } from '../driver';
import { isUserType, outputTextSql } from './output-text';
import { cancelSessionStatement } from './runner';

export type { TableChecksum };

/**
 * Content checksums computed inside PostgreSQL: per table, the row count and the sum (exact,
 * as numeric, shown mod 2^64) of a 64-bit hash of each row. A sum does not depend on the order
 * rows are stored or read, and, unlike XOR, two equal rows do not cancel out. No row ever leaves
 * the server: one aggregate query per table, parallel where the server allows it.
 *
 * The row hash must be the same for the same content on another server (a backup's checksums
 * are compared with those of the copy restored in the sandbox, which may run a newer major):
 * - each column is hashed with the extended hash function of its type's default hash opclass,
 *   which PostgreSQL keeps stable across majors (hash partitioning and pg_upgrade depend on it),
 *   only for types whose hash equality means "the same stored value": integers (widened to
 *   bigint), text types under the "C" collation (bytes), uuid, date/timestamp/timestamptz (the
 *   instant, independent of TimeZone), numeric with its display scale as part of the seed
 *   (hash_numeric alone says 1.0 = 1.00, and pg_dump keeps the difference);
 * - every other type (floats, enums, arrays, json, intervals, composites, ...) by its text form,
 *   under fixed settings (CANONICAL_SETTINGS), so that DateStyle or TimeZone of the session do
 *   not matter. Enums in particular get other OIDs in a restored copy, so only their label counts.
 *   Text output is stable from PostgreSQL 12 on (float output changed in 12): checksums of
 *   servers older than 12 are not comparable with newer ones.
 * - a NULL is a per-position constant, so NULL and '' differ and a NULL moving to another
 *   column changes the row's hash; each position has its own seed, so swapped values differ too.
 * Bytea is hashed through md5 of its bytes (no SQL-callable hash takes bytea).
 */

/** Session settings that text forms depend on; set transaction-locally around each checksum query. */
export const CANONICAL_SETTINGS: Record<string, string> = {
  DateStyle: 'ISO, MDY',
  IntervalStyle: 'postgres',
  TimeZone: 'UTC',
  extra_float_digits: '1',
  bytea_output: 'hex',
  lc_monetary: 'C',
};

/**
 * Planner settings for the checksum queries (put back afterwards like the canonical ones): a
 * query expensive enough for JIT (jit_above_cost) is also optimised and has the hash functions
 * inlined, which measured ~20% faster on 10M rows than JIT without them; small tables stay
 * below the threshold and pay no compile time. No effect where JIT is off or unavailable. Only
 * for the checksum's own query: on a query that hashes few rows (the data-loss check's counting
 * scan) the compile time is all cost.
 */
export const CHECKSUM_PLANNER_SETTINGS: Record<string, string> = {
  jit_inline_above_cost: '100000',
  jit_optimize_above_cost: '100000',
};

export interface ChecksumColumn {
  name: string;
  /** OID of the column's type after resolving domains (builtin OIDs are the same on every server). */
  baseTypeOid: number;
  /** format_type of the declared type, for messages and comparisons. */
  type: string;
  /** A numeric(p,s) column: every value has scale s, so the hash may leave the scale out. */
  scaleFixed?: boolean;
  /** NOT NULL: the hash needs no NULL marker (one COALESCE less per row). */
  notNull?: boolean;
}

export interface ChecksumTable {
  oid: number;
  schema: string;
  name: string;
  /** schema.table, each part quoted as needed (format('%I.%I')). */
  qualified: string;
  /** For SQL: both parts always quoted. */
  sqlName: string;
  relfilenode: number;
  /** Live columns in attnum order. */
  columns: ChecksumColumn[];
  /** Primary key columns in key order; empty when the table has none. */
  primaryKey: string[];
}

const T = {
  bool: 16, bytea: 17, char: 18, name: 19, int8: 20, int2: 21, int4: 23, text: 25, oid: 26,
  bpchar: 1042, varchar: 1043, date: 1082, timestamp: 1114, timestamptz: 1184, numeric: 1700, uuid: 2950,
} as const;

/** A bigint literal derived from a label: seeds and NULL markers, fixed forever (changing one changes every checksum). */
function constant(label: string): string {
  const n = createHash('sha256').update(`cutover checksum ${label}`).digest().readBigInt64BE(0);
  return `(${n.toString()})::pg_catalog.int8`;
}

/**
 * The hash of one value (SQL, bigint), or NULL when the value is NULL. `expr` is a column
 * reference; `position` picks the seed (1-based).
 */
export function columnHashSql(expr: string, baseTypeOid: number, position: number, scaleFixed = false): string {
  const seed = constant(`seed ${position}`);
  switch (baseTypeOid) {
    case T.int2:
    case T.int4:
    case T.int8:
    case T.oid:
      return `pg_catalog.hashint8extended((${expr})::pg_catalog.int8, ${seed})`;
    case T.bool:
      return `pg_catalog.hashint8extended((${expr})::pg_catalog.int4::pg_catalog.int8, ${seed})`;
    case T.text:
    case T.varchar:
    case T.bpchar:
    case T.name:
    case T.char:
      return `pg_catalog.hashtextextended((${expr})::pg_catalog.text COLLATE "C", ${seed})`;
    case T.uuid:
      return `pg_catalog.uuid_hash_extended(${expr}, ${seed})`;
    case T.timestamp:
      return `pg_catalog.timestamp_hash_extended(${expr}, ${seed})`;
    case T.timestamptz:
      // The instant as stored: a zero offset reads it unchanged (and costs far less than a zone name's lookup per row).
      return `pg_catalog.timestamp_hash_extended(pg_catalog.timezone('00:00'::pg_catalog.interval, ${expr}), ${seed})`;
    case T.date:
      return `pg_catalog.timestamp_hash_extended((${expr})::pg_catalog.timestamp, ${seed})`;
    case T.numeric:
      // A numeric(p,s) column stores every value with scale s; otherwise the scale is part of the
      // value (NaN and infinities have none).
      return scaleFixed
        ? `pg_catalog.hash_numeric_extended(${expr}, ${seed})`
        : `pg_catalog.hash_numeric_extended(${expr}, ${seed} OPERATOR(pg_catalog.+) COALESCE(pg_catalog.scale(${expr}), -1))`;
    case T.bytea:
      return `pg_catalog.hashtextextended(pg_catalog.md5(${expr}), ${seed})`;
    default:
      // A user-defined type (enum, composite, range, arrays of them) prints through its output
      // function, never through a cast its owner may have written (output-text.ts).
      return isUserType(baseTypeOid)
        ? `pg_catalog.hashtextextended(${outputTextSql(expr)} COLLATE "C", ${seed})`
        : `pg_catalog.hashtextextended((${expr})::pg_catalog.text COLLATE "C", ${seed})`;
  }
}

/**
 * The 64-bit hash of a row over `columns` (SQL, bigint, never NULL): the XOR of its values'
 * hashes (each seeded by its position, NULLs as per-position markers), mixed once more so that
 * the table's sum is not linear in the values' hashes. `qualifier` prefixes column references.
 */
export function rowHashSql(columns: Pick<ChecksumColumn, 'name' | 'baseTypeOid' | 'scaleFixed' | 'notNull'>[], qualifier?: string): string {
  if (columns.length === 0) return constant('empty row');
  const parts = columns.map((c, i) => {
    const ref = qualifier ? `${qualifier}.${id(c.name)}` : id(c.name);
    const hash = columnHashSql(ref, c.baseTypeOid, i + 1, c.scaleFixed);
    return c.notNull ? hash : `COALESCE(${hash}, ${constant(`null ${i + 1}`)})`;
  });
  // Operators named in pg_catalog: the restore script runs this in a session whose search_path may put other schemas first.
  return `pg_catalog.hashint8extended(${parts.join(' OPERATOR(pg_catalog.#) ')}, 0)`;
}

/** 2^64 and 2^32, for the checksum's hex form in SQL. */
const TWO_64 = '18446744073709551616';
const TWO_32 = '4294967296';

/**
 * The query of one table's checksum: `rows` (bigint) and `checksum` (the sum of its row hashes
 * mod 2^64, 16 hex digits, as sumToHex writes it). tableChecksums runs it, and so does the restore
 * script's verification in a restored copy (psql): one text, so the two cannot drift apart.
 */
export function tableChecksumSql(table: { sqlName: string; columns: Parameters<typeof rowHashSql>[0] }): string {
  const u = `pg_catalog.mod(pg_catalog.mod(COALESCE(pg_catalog.sum(${rowHashSql(table.columns)}), 0), ${TWO_64}) OPERATOR(pg_catalog.+) ${TWO_64}, ${TWO_64})`;
  return [
    `SELECT s.n AS rows, pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.trunc(s.u OPERATOR(pg_catalog./) ${TWO_32})::pg_catalog.int8), 8, '0') OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(pg_catalog.mod(s.u, ${TWO_32})::pg_catalog.int8), 8, '0') AS checksum`,
    `FROM (SELECT pg_catalog.count(*) AS n, ${u} AS u FROM ONLY ${table.sqlName}) s`,
  ].join('\n');
}

/** A numeric sum as text (what PostgreSQL returns for sum(bigint)) as 16 hex digits: the sum mod 2^64. */
export function sumToHex(sum: string | null): string {
  return BigInt.asUintN(64, BigInt(sum ?? '0')).toString(16).padStart(16, '0');
}

const SYSTEM_SCHEMA_FILTER = `n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;

/**
 * The tables a checksum covers: ordinary tables and partitions (a partitioned table's rows are
 * counted in its partitions), outside system schemas, not belonging to an extension. `names`
 * (schema-qualified, quoted as SQL would) picks some; an unknown name is an error.
 */
export async function describeTables(client: Client, names?: string[]): Promise<ChecksumTable[]> {
  let oids: number[] | null = null;
  if (names && names.length) {
    oids = [];
    for (const name of names) {
      const { rows } = await client.query<{ oid: number | null }>(`SELECT pg_catalog.to_regclass($1)::pg_catalog.oid::pg_catalog.int8 AS oid`, [name]).catch(() => ({ rows: [{ oid: null }] }));
      if (rows[0]?.oid == null) throw new Error(`Table ${name} does not exist (name it with its schema, e.g. public.orders).`);
      oids.push(Number(rows[0].oid));
    }
  }
  const { rows } = await client.query<{ oid: string; schema: string; name: string; qualified: string; relfilenode: string; relkind: string }>(
    `SELECT c.oid::pg_catalog.int8::pg_catalog.text AS oid, n.nspname AS schema, c.relname AS name, pg_catalog.format('%I.%I', n.nspname, c.relname) AS qualified,
            pg_catalog.pg_relation_filenode(c.oid)::pg_catalog.int8::pg_catalog.text AS relfilenode, c.relkind::pg_catalog.text AS relkind
     FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
     WHERE ${oids ? `c.oid = ANY($1::pg_catalog.oid[])` : `c.relkind = 'r' AND ${SYSTEM_SCHEMA_FILTER}
       AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_class'::pg_catalog.regclass AND d.objid = c.oid AND d.deptype = 'e')`}
     ORDER BY n.nspname, c.relname`,
    oids ? [oids] : [],
  );
  const notTables = rows.filter((r) => r.relkind !== 'r');
  if (notTables.length) {
    throw new Error(`${notTables.map((r) => r.qualified).join(', ')}: not an ordinary table (a partitioned table's rows are checksummed in its partitions; views hold no rows).`);
  }
  if (!rows.length) return [];
  const relOids = rows.map((r) => r.oid);
  const { rows: cols } = await client.query<{ rel: string; name: string; base: number; type: string; scale_fixed: boolean; not_null: boolean }>(
    `WITH RECURSIVE resolve(start, cur) AS (
       SELECT DISTINCT a.atttypid, a.atttypid FROM pg_catalog.pg_attribute a WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
       UNION ALL
       SELECT r.start, t.typbasetype FROM resolve r JOIN pg_catalog.pg_type t ON t.oid = r.cur WHERE t.typtype = 'd'
     ), base AS (
       SELECT r.start, r.cur FROM resolve r JOIN pg_catalog.pg_type t ON t.oid = r.cur WHERE t.typtype <> 'd'
     )
     SELECT a.attrelid::pg_catalog.int8::pg_catalog.text AS rel, a.attname AS name, b.cur::pg_catalog.int8 AS base, pg_catalog.format_type(a.atttypid, a.atttypmod) AS type,
            a.atttypid = 'pg_catalog.numeric'::pg_catalog.regtype AND a.atttypmod >= 0 AS scale_fixed, a.attnotnull AS not_null
     FROM pg_catalog.pg_attribute a JOIN base b ON b.start = a.atttypid
     WHERE a.attrelid = ANY($1::pg_catalog.oid[]) AND a.attnum > 0 AND NOT a.attisdropped
     ORDER BY a.attrelid, a.attnum`,
    [relOids],
  );
  const { rows: keys } = await client.query<{ rel: string; columns: string[] }>(
    `SELECT i.indrelid::pg_catalog.int8::pg_catalog.text AS rel,
            pg_catalog.array_agg(a.attname::pg_catalog.text ORDER BY k.ord) AS columns
     FROM pg_catalog.pg_index i
     CROSS JOIN LATERAL pg_catalog.unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_catalog.pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
     WHERE i.indisprimary AND i.indrelid = ANY($1::pg_catalog.oid[])
     GROUP BY i.indrelid`,
    [relOids],
  );
  return rows.map((r) => ({
    oid: Number(r.oid),
    schema: r.schema,
    name: r.name,
    qualified: r.qualified,
    sqlName: `${id(r.schema)}.${id(r.name)}`,
    relfilenode: Number(r.relfilenode),
    columns: cols.filter((c) => c.rel === r.oid).map((c) => ({ name: c.name, baseTypeOid: Number(c.base), type: c.type, scaleFixed: c.scale_fixed, notNull: c.not_null })),
    primaryKey: keys.find((k) => k.rel === r.oid)?.columns ?? [],
  }));
}

/**
 * Runs `work` with CANONICAL_SETTINGS (and `extra` planner settings) in force in `client`'s
 * session and puts the session's own values back afterwards (also inside a caller's open transaction, whose snapshot is untouched;
 * if that transaction fails, its rollback undoes the settings anyway). `signal` cancels the
 * statement running on the server.
 */
export async function withCanonicalSettings<T>(client: Client, work: () => Promise<T>, signal?: AbortSignal, extra: Record<string, string> = {}): Promise<T> {
  if (signal?.aborted) throw new Error('cancelled');
  const settings = { ...CANONICAL_SETTINGS, ...extra };
  const names = Object.keys(settings);
  const saved = (await client.query<Record<string, string>>(`SELECT ${names.map((n, i) => `pg_catalog.current_setting(${escapeLiteral(n)}) AS s${i}`).join(', ')}`)).rows[0];
  const set = (values: string[]) => `SELECT ${names.map((n, i) => `pg_catalog.set_config(${escapeLiteral(n)}, ${escapeLiteral(values[i])}, false)`).join(', ')}`;
  const onAbort = () => void cancelSessionStatement(client);
  signal?.addEventListener('abort', onAbort, { once: true });
  await client.query(set(Object.values(settings)));
  try {
    return await work();
  } catch (err) {
    if (signal?.aborted) throw new Error('cancelled');
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    // In a failed transaction this cannot run; its rollback restores the settings instead.
    await client.query(set(names.map((_, i) => saved[`s${i}`]))).catch(() => undefined);
  }
}

/**
 * Row count and content checksum of each table (all of them, or `options.tables`), inside the
 * caller's transaction if one is open: in a REPEATABLE READ transaction (after SET TRANSACTION
 * SNAPSHOT), all tables are read in that one snapshot. Without one, each table is read in its own.
 */
export async function tableChecksums(
  client: Client,
  options: { tables?: string[]; signal?: AbortSignal; serial?: boolean } = {},
): Promise<TableChecksum[]> {
  const tables = await describeTables(client, options.tables);
  // serial: one backend only, as pg_dump reads (a backup of a production target must not take all its cores).
  const settings = options.serial ? { ...CHECKSUM_PLANNER_SETTINGS, max_parallel_workers_per_gather: '0' } : CHECKSUM_PLANNER_SETTINGS;
  return withCanonicalSettings(client, async () => {
    const out: TableChecksum[] = [];
    for (const t of tables) {
      if (options.signal?.aborted) throw new Error('cancelled');
      const { rows } = await client.query<{ rows: string; checksum: string }>(tableChecksumSql(t));
      out.push({ table: t.qualified, rows: Number(rows[0].rows), checksum: rows[0].checksum });
    }
    return out;
  }, options.signal, settings);
}
