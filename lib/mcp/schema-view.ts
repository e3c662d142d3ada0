import 'server-only';
import { getDb } from '../db/client';
import { notFound } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import { assertCanRead } from '../data/access';
import { shapeInventory, withShapeDefaults, type ColumnInfo, type SchemaShape, type TableInfo, type TableStats } from '../engine';

/**
 * The schema an agent reads to "Understand current schema" (the get_schema tool and the
 * cutover://requests/{id}/schema resource): the latest stored snapshot of the request's target,
 * the snapshot the step's evidence counts. Read as the request page's schema panel is read (anyone
 * who holds a role); the target is named, never its address or credentials (a snapshot holds
 * neither). Tables in name order, compact (columns and constraints as SQL writes them), cut off
 * past a size an agent can read, and said so.
 */

/** Characters of table JSON one answer carries at most; ask for the rest by name (`tables`). */
export const SCHEMA_MAX_CHARS = 60_000;
/** Table names listed when some are cut off. */
const OMITTED_NAMES_SAID = 300;

/** A column as its CREATE TABLE line writes it. */
function columnSql(c: ColumnInfo): string {
  return `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default !== null ? ` DEFAULT ${c.default}` : ''}` +
    `${c.identity ? ` GENERATED ${c.identity.toUpperCase()} AS IDENTITY` : ''}${c.generated ? ` GENERATED ALWAYS AS (${c.generated}) STORED` : ''}`;
}

function tableView(name: string, t: TableInfo, stats: TableStats | undefined) {
  const named = (c: { name: string; definition: string }) => `${c.name} ${c.definition}`;
  return {
    name,
    columns: t.columns.map(columnSql),
    // Constraints as PostgreSQL prints them (pg_get_constraintdef); indexes as pg_get_indexdef does.
    primaryKey: t.primaryKey ? named(t.primaryKey) : null,
    uniques: t.uniques.map(named),
    checks: t.checks.map(named),
    foreignKeys: t.foreignKeys.map(named),
    ...(t.exclusions.length ? { exclusions: t.exclusions.map(named) } : {}),
    indexes: t.indexes.map((i) => `${i.definition}${i.invalid ? ' -- INVALID' : ''}`),
    ...(t.partitionKey ? { partitionKey: t.partitionKey } : {}),
    ...(t.partitionOf ? { partitionOf: `${t.partitionOf.parent} ${t.partitionOf.bound}` } : {}),
    estimatedRows: stats?.estimatedRows ?? null,
    totalBytes: stats?.totalBytes ?? null,
  };
}

/** `public.orders` or `orders` (any schema) names a table of the shape. */
function matchesName(qualified: string, wanted: string): boolean {
  const w = wanted.trim().toLowerCase();
  const q = qualified.toLowerCase();
  return q === w || q.slice(q.indexOf('.') + 1) === w;
}

export async function readRequestSchema(actor: Actor, requestId: string, only?: readonly string[]) {
  assertCanRead(actor);
  const db = getDb();
  const request = await db.migrationRequest.findUnique({ where: { id: requestId }, select: { targetId: true, target: { select: { name: true, environment: true } } } });
  if (!request) throw notFound('Migration request');
  const snapshot = await db.schemaSnapshot.findFirst({
    where: { targetId: request.targetId },
    orderBy: { takenAt: 'desc' },
    select: { id: true, runId: true, hash: true, serverVersion: true, takenAt: true, shape: true, stats: true },
  });
  const target = { name: request.target.name, environment: request.target.environment };
  if (!snapshot) {
    return { target, snapshot: null, tables: [], next: 'No snapshot of this target yet: call take_snapshot, then wait_for_run, then get_schema again.' };
  }
  const shape: SchemaShape = withShapeDefaults(snapshot.shape as Partial<SchemaShape>);
  const stats = (snapshot.stats ?? {}) as unknown as Record<string, TableStats>;
  const names = Object.keys(shape.tables).sort();
  const wanted = only?.length ? names.filter((n) => only.some((w) => matchesName(n, w))) : names;
  const unknown = only?.filter((w) => !names.some((n) => matchesName(n, w))) ?? [];

  const tables: ReturnType<typeof tableView>[] = [];
  let size = 0;
  for (const name of wanted) {
    const view = tableView(name, shape.tables[name], stats[name]);
    const chars = JSON.stringify(view).length;
    // The first table always goes in, however large: an answer with none would say nothing.
    if (tables.length && size + chars > SCHEMA_MAX_CHARS) break;
    tables.push(view);
    size += chars;
  }
  const omitted = wanted.slice(tables.length);
  return {
    target,
    snapshot: { id: snapshot.id, runId: snapshot.runId, hash: snapshot.hash, serverVersion: snapshot.serverVersion, takenAt: snapshot.takenAt, tables: names.length },
    tables,
    ...(unknown.length ? { notFound: unknown } : {}),
    truncated: omitted.length
      ? {
          tablesShown: tables.length, tablesLeft: omitted.length,
          left: omitted.slice(0, OMITTED_NAMES_SAID),
          say: `The answer stops at about ${SCHEMA_MAX_CHARS} characters: ${omitted.length} more table(s). Ask for them by name with tables: [...].`,
        }
      : null,
    views: Object.entries(shape.views).map(([name, v]) => `${name}${v.materialized ? ' (materialized)' : ''}`),
    enums: Object.entries(shape.enums).map(([name, labels]) => `${name} (${labels.join(', ')})`),
    sequences: Object.keys(shape.sequences).length,
    extensions: Object.entries(shape.extensions).map(([name, version]) => `${name} ${version}`),
    // The other kinds, counted: functions, triggers, policies, privileges, ...
    others: Object.fromEntries(shapeInventory(shape).map((k) => [k.kind, k.names.length])),
  };
}
