import {
  canonicalJson,
  withShapeDefaults,
  type ColumnInfo,
  type ConstraintInfo,
  type IndexInfo,
  type SchemaShape,
  type TableInfo,
  type ViewInfo,
} from './snapshot';

export type ChangeKind = 'added' | 'removed' | 'changed';
/** The kind of object a change is about, in words ("column", "function", "text search configuration", ...). */
export type ObjectKind =
  | 'schema' | 'extension' | 'enum' | 'sequence' | 'table' | 'column' | 'index' | 'constraint' | 'view'
  | 'function' | 'procedure' | 'aggregate' | 'type' | 'domain' | 'trigger' | 'policy' | 'comment' | 'privileges' | 'default privileges'
  | (string & {});

/** One difference between two schema snapshots. `name` is qualified (schema.table[.column]). */
export interface SchemaChange {
  kind: ChangeKind;
  object: ObjectKind;
  name: string;
  before?: unknown;
  after?: unknown;
  /** What changed, in words, when the object is still there ("row-level security enabled", "body changed"). */
  detail?: string;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);
const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function diffRecords<T>(object: ObjectKind, before: Record<string, T>, after: Record<string, T>, out: SchemaChange[], prefix = '', describe?: (a: T, b: T) => string | undefined) {
  for (const name of Object.keys(before)) {
    if (!(name in after)) out.push({ kind: 'removed', object, name: prefix + name, before: before[name] });
    else if (!same(before[name], after[name])) {
      const detail = describe?.(before[name], after[name]);
      out.push({ kind: 'changed', object, name: prefix + name, before: before[name], after: after[name], ...(detail ? { detail } : {}) });
    }
  }
  for (const name of Object.keys(after)) if (!(name in before)) out.push({ kind: 'added', object, name: prefix + name, after: after[name] });
}

const keyed = <T extends { name: string }>(xs: T[]) => Object.fromEntries(xs.map((x) => [x.name, x]));

function tableConstraints(t: TableInfo): Record<string, ConstraintInfo> {
  return keyed([...(t.primaryKey ? [t.primaryKey] : []), ...t.uniques, ...t.checks, ...t.foreignKeys, ...t.exclusions]);
}

/** A value in words: lists comma-separated, nothing as "none". */
function words(v: unknown): string {
  if (v === undefined || v === null) return 'none';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return v.length ? v.map(words).join(', ') : 'none';
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return entries.length ? entries.map(([k, x]) => `${k} ${words(x)}`).join(', ') : 'none';
  }
  return String(v);
}

/** "key: before -> after" for each key that differs, in key order. */
function fieldChanges(a: Record<string, unknown>, b: Record<string, unknown>, label: (key: string) => string = (k) => k): string[] {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(byText);
  return keys.filter((k) => !same(a[k], b[k])).map((k) => `${label(k)}: ${words(a[k])} -> ${words(b[k])}`);
}

/** What was granted and revoked between two privilege lists. */
function grantChanges(a: string[] = [], b: string[] = []): string {
  const granted = b.filter((x) => !a.includes(x));
  const revoked = a.filter((x) => !b.includes(x));
  return [granted.length ? `granted ${granted.join('; ')}` : '', revoked.length ? `revoked ${revoked.join('; ')}` : ''].filter(Boolean).join(', ');
}

const TABLE_LABELS: Record<string, string> = {
  accessMethod: 'access method', options: 'storage parameters', toastOptions: 'TOAST storage parameters', tablespace: 'tablespace',
  partitionKey: 'partition key', inherits: 'inherits from', ofType: 'typed table of', replicaIdentity: 'replica identity', foreign: 'foreign table',
};

/** Table-level settings in words: "row-level security enabled", "now a partition of ...", "storage parameters: ... -> ...". */
function tableSettingChanges(a: TableInfo, b: TableInfo): string[] {
  const out: string[] = [];
  if (!a.rowSecurity !== !b.rowSecurity) out.push(`row-level security ${b.rowSecurity ? 'enabled' : 'disabled'}`);
  if (!a.forceRowSecurity !== !b.forceRowSecurity) out.push(`row-level security ${b.forceRowSecurity ? 'forced for the owner' : 'no longer forced for the owner'}`);
  if (!a.unlogged !== !b.unlogged) out.push(b.unlogged ? 'now unlogged' : 'now logged');
  if (!same(a.partitionOf, b.partitionOf)) {
    if (!b.partitionOf) out.push(`no longer a partition of ${a.partitionOf!.parent}`);
    else if (!a.partitionOf || a.partitionOf.parent !== b.partitionOf.parent) out.push(`now a partition of ${b.partitionOf.parent} ${b.partitionOf.bound}`);
    else out.push(`partition bound: ${a.partitionOf.bound} -> ${b.partitionOf.bound}`);
  }
  const pick = (t: TableInfo) => Object.fromEntries(Object.keys(TABLE_LABELS).map((k) => [k, (t as unknown as Record<string, unknown>)[k]]));
  out.push(...fieldChanges(pick(a), pick(b), (k) => TABLE_LABELS[k]));
  return out;
}


function columnDetail(o: Partial<ColumnInfo>): string {
  const parts = [
    `${o.type ?? ''}${o.nullable === false ? ' NOT NULL' : ''}${o.default ? ` DEFAULT ${o.default}` : ''}`,
    o.identity ? `GENERATED ${o.identity.toUpperCase()} AS IDENTITY` : '',
    o.generated ? `GENERATED ALWAYS AS (${o.generated}) STORED` : '',
    o.collation ? `COLLATE ${o.collation}` : '',
    o.storage ? `STORAGE ${o.storage}` : '',
    o.compression ? `COMPRESSION ${o.compression}` : '',
    o.statistics !== undefined ? `STATISTICS ${o.statistics}` : '',
    o.options?.length ? `(${o.options.join(', ')})` : '',
    o.fdwOptions?.length ? `OPTIONS (${o.fdwOptions.join(', ')})` : '',
    o.inherited ? '(inherited)' : '',
  ];
  return parts.filter(Boolean).join(' ').trim();
}

function indexDetail(i: IndexInfo): string {
  const extras = [
    i.clustered ? 'clustered' : '',
    i.replicaIdentity ? 'replica identity' : '',
    i.partitionOf ? `attached to ${i.partitionOf}` : '',
    i.statistics?.length ? `statistics ${i.statistics.join(', ')}` : '',
    i.tablespace ? `tablespace ${i.tablespace}` : '',
    i.invalid ? 'INVALID' : '',
  ].filter(Boolean);
  return `${i.definition}${extras.length ? ` (${extras.join(', ')})` : ''}`;
}

/** A function's definition: its header (everything before the body) and its body. */
function splitFunction(def: string): { header: string; body: string } {
  const at = def.search(/\nAS |\nBEGIN ATOMIC|\n AS /);
  return at < 0 ? { header: def, body: '' } : { header: def.slice(0, at), body: def.slice(at) };
}

function functionChange(a: { kind: string; definition: string }, b: { kind: string; definition: string }): string {
  if (a.kind !== b.kind) return `${a.kind} -> ${b.kind}`;
  const x = splitFunction(a.definition);
  const y = splitFunction(b.definition);
  if (x.header === y.header) return 'body changed';
  const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);
  const gone = lines(x.header).filter((l) => !lines(y.header).includes(l));
  const come = lines(y.header).filter((l) => !lines(x.header).includes(l));
  return `${x.body === y.body ? '' : 'body and '}definition changed: ${gone.join(' ') || '(nothing)'} -> ${come.join(' ') || '(nothing)'}`;
}

/** Format 1 (snapshots taken before format 2): only the kinds and fields it recorded. */
function format1(shape: SchemaShape): SchemaShape {
  const col = (c: ColumnInfo): ColumnInfo => ({ name: c.name, type: c.type, nullable: c.nullable, default: c.default, identity: c.identity, generated: c.generated });
  const con = (c: ConstraintInfo): ConstraintInfo => ({ name: c.name, definition: c.definition });
  const idx = (i: IndexInfo): IndexInfo => ({ name: i.name, method: i.method, unique: i.unique, primary: i.primary, definition: i.definition, predicate: i.predicate });
  return withShapeDefaults({
    schemas: shape.schemas,
    tables: Object.fromEntries(
      Object.entries(shape.tables)
        .filter(([, t]) => !t.foreign)
        .map(([n, t]) => [n, {
          columns: t.columns.map(col), primaryKey: t.primaryKey ? con(t.primaryKey) : null, uniques: t.uniques.map(con), checks: t.checks.map(con),
          foreignKeys: t.foreignKeys.map(con), exclusions: t.exclusions.map(con), indexes: t.indexes.map(idx),
        }]),
    ),
    views: Object.fromEntries(Object.entries(shape.views).map(([n, v]) => [n, { materialized: v.materialized, definition: v.definition }])),
    sequences: Object.fromEntries(Object.entries(shape.sequences).map(([n, s]) => [n, { type: s.type, start: s.start, increment: s.increment, min: s.min, max: s.max, cycle: s.cycle, ownedBy: s.ownedBy }])),
    enums: shape.enums,
    extensions: shape.extensions,
  });
}

/**
 * What changed from `before` to `after`; empty when the two schemas are the same. A snapshot
 * stored before format 2 recorded fewer kinds: two snapshots of different formats are compared on
 * what both recorded (tables, columns, indexes, constraints, views, sequences, enums, extensions).
 */
export function diffSnapshots(beforeShape: SchemaShape, afterShape: SchemaShape): SchemaChange[] {
  let before = withShapeDefaults(beforeShape);
  let after = withShapeDefaults(afterShape);
  if ((before.format ?? 1) !== (after.format ?? 1)) {
    before = format1(before);
    after = format1(after);
  }
  const out: SchemaChange[] = [];
  diffRecords('schema', keyed(before.schemas.map((name) => ({ name }))), keyed(after.schemas.map((name) => ({ name }))), out);
  diffRecords('extension', before.extensions, after.extensions, out, '', (a, b) => `version ${a} -> ${b}`);
  diffRecords('enum', before.enums, after.enums, out);
  diffRecords('sequence', before.sequences, after.sequences, out, '', (a, b) => fieldChanges(a as unknown as Record<string, unknown>, b as unknown as Record<string, unknown>).join('; '));
  diffRecords('type', before.types, after.types, out, '', (a, b) => {
    if (a.kind === 'domain' && b.kind === 'domain') {
      const parts = fieldChanges({ ...a, constraints: undefined }, { ...b, constraints: undefined });
      const cons: SchemaChange[] = [];
      diffRecords('constraint', keyed(a.constraints), keyed(b.constraints), cons);
      for (const c of cons) {
        const def = (v: unknown) => (v as ConstraintInfo).definition;
        parts.push(c.kind === 'changed' ? `constraint ${c.name}: ${def(c.before)} -> ${def(c.after)}` : `constraint ${c.name} ${c.kind} (${def(c.before ?? c.after)})`);
      }
      return parts.join('; ');
    }
    return fieldChanges(a as unknown as Record<string, unknown>, b as unknown as Record<string, unknown>).join('; ');
  });
  for (const name of Object.keys(before.tables)) if (!(name in after.tables)) out.push({ kind: 'removed', object: before.tables[name].foreign ? 'foreign table' : 'table', name, before: before.tables[name] });
  for (const name of Object.keys(after.tables)) if (!(name in before.tables)) out.push({ kind: 'added', object: after.tables[name].foreign ? 'foreign table' : 'table', name, after: after.tables[name] });
  for (const name of Object.keys(before.tables)) {
    const a = before.tables[name];
    const b = after.tables[name];
    if (!b) continue;
    diffRecords<ColumnInfo>('column', keyed(a.columns), keyed(b.columns), out, `${name}.`);
    diffRecords('index', keyed(a.indexes), keyed(b.indexes), out, `${name}.`);
    diffRecords('constraint', tableConstraints(a), tableConstraints(b), out, `${name}.`);
    // Same columns in another order is a change too (a rewrite to get back there).
    const order = (t: TableInfo) => t.columns.map((c) => c.name).filter((c) => a.columns.some((x) => x.name === c) && b.columns.some((x) => x.name === c));
    if (!same(order(a), order(b))) {
      out.push({ kind: 'changed', object: 'table', name, before: { columnOrder: order(a) }, after: { columnOrder: order(b) }, detail: columnOrderDetail(order(a), order(b)) });
    }
    for (const detail of tableSettingChanges(a, b)) out.push({ kind: 'changed', object: 'table', name, detail });
  }
  diffRecords<ViewInfo>('view', before.views, after.views, out, '', (a, b) => {
    const parts: string[] = [];
    if (a.definition !== b.definition || a.materialized !== b.materialized) parts.push('definition changed');
    const rest = (v: ViewInfo) => ({ ...v, definition: undefined, materialized: undefined, indexes: undefined });
    parts.push(...fieldChanges(rest(a), rest(b)));
    const ix: SchemaChange[] = [];
    diffRecords('index', keyed(a.indexes ?? []), keyed(b.indexes ?? []), ix);
    for (const c of ix) parts.push(`index ${c.name} ${c.kind}`);
    return parts.join('; ');
  });
  diffRecords('function', before.functions, after.functions, out, '', functionChange);
  diffRecords('trigger', before.triggers, after.triggers, out, '', (a, b) =>
    [a.definition !== b.definition ? `${a.definition} -> ${b.definition}` : '', a.enabled !== b.enabled ? (b.enabled === 'disabled' ? 'disabled' : `enabled (${b.enabled})`) : '']
      .filter(Boolean).join('; '));
  diffRecords('policy', before.policies, after.policies, out, '', (a, b) =>
    fieldChanges(a as unknown as Record<string, unknown>, b as unknown as Record<string, unknown>, (k) => ({ withCheck: 'WITH CHECK', using: 'USING' })[k] ?? k).join('; '));
  for (const kind of [...new Set([...Object.keys(before.objects), ...Object.keys(after.objects)])].sort(byText)) {
    diffRecords(kind, before.objects[kind] ?? {}, after.objects[kind] ?? {}, out, '', (a, b) => fieldChanges(a, b).join('; '));
  }
  diffRecords('comment', before.comments, after.comments, out, 'on ', (a, b) => `${JSON.stringify(a)} -> ${JSON.stringify(b)}`);
  diffRecords('privileges', before.privileges, after.privileges, out, 'on ', grantChanges);
  // An object whose privileges went back to its defaults: say which grants went.
  for (const c of out) if (c.object === 'privileges' && c.kind !== 'changed') c.detail = c.kind === 'added' ? grantChanges([], c.after as string[]) : `back to the defaults (revoked ${(c.before as string[]).join('; ')})`;
  diffRecords('default privileges', before.defaultPrivileges, after.defaultPrivileges, out, '', grantChanges);
  return out;
}

/** Which column moved, in words: "note is now last", "note moved"; empty when no single column explains the new order. */
export function movedColumns(a: string[], b: string[]): string {
  const without = (xs: string[], x: string) => xs.filter((y) => y !== x);
  const moved = a.filter((x) => same(without(a, x), without(b, x)));
  // A swap of neighbours fits either column; a re-added column is the one now last.
  const last = b[b.length - 1];
  if (moved.includes(last)) return `${last} is now last`;
  return moved.length === 1 ? `${moved[0]} moved` : '';
}

function columnOrderDetail(a: string[], b: string[]): string {
  const moved = movedColumns(a, b);
  return `column order ${a.join(', ')} -> ${b.join(', ')}${moved ? ` (${moved})` : ''}`;
}

/** The column-order change of a table, or undefined for any other change. */
export function columnOrderChange(c: SchemaChange): { table: string; before: string[]; after: string[]; moved: string } | undefined {
  const order = (v: unknown) => (v && typeof v === 'object' && Array.isArray((v as { columnOrder?: unknown }).columnOrder) ? ((v as { columnOrder: string[] }).columnOrder) : undefined);
  const before = order(c.before);
  const after = order(c.after);
  if (c.object !== 'table' || c.kind !== 'changed' || !before || !after) return undefined;
  return { table: c.name, before, after, moved: movedColumns(before, after) };
}

/** A short rendering of an added or removed object, after its name. */
function summary(c: SchemaChange, v: unknown): string {
  if (!v || typeof v !== 'object') return typeof v === 'string' && c.object === 'comment' ? JSON.stringify(v) : '';
  const o = v as Record<string, unknown>;
  switch (c.object) {
    case 'column':
      return columnDetail(o as Partial<ColumnInfo>);
    case 'index':
      return indexDetail(o as unknown as IndexInfo);
    case 'constraint':
      return String(o.definition ?? '');
    case 'enum':
      return Array.isArray(v) ? `(${(v as string[]).join(', ')})` : '';
    case 'trigger':
      return `${o.definition}${o.enabled === 'disabled' ? ' (disabled)' : ''}`;
    case 'policy':
      return `${o.permissive ? '' : 'AS RESTRICTIVE '}FOR ${String(o.command).toUpperCase()} TO ${words(o.roles)}${o.using ? ` USING (${o.using})` : ''}${o.withCheck ? ` WITH CHECK (${o.withCheck})` : ''}`;
    case 'privileges':
    case 'default privileges':
      return Array.isArray(v) ? (v as string[]).join('; ') : '';
    case 'function':
      return `(${o.kind})`;
    case 'type':
      return `(${o.kind})`;
    default:
      return '';
  }
}

/** One line per change, as the diff view and the CLI print it: "+ policy p on public.t ...", "~ function public.f(integer): body changed". */
export function describeChange(c: SchemaChange): string {
  const sign = c.kind === 'added' ? '+' : c.kind === 'removed' ? '-' : '~';
  if (c.detail) return `${sign} ${c.object} ${c.name}: ${c.detail}`;
  if (c.kind === 'changed') {
    const detail = (v: unknown): string => {
      if (!v || typeof v !== 'object') return '';
      const o = v as Record<string, unknown>;
      if (c.object === 'column') return columnDetail(o as Partial<ColumnInfo>);
      if (c.object === 'index') return indexDetail(o as unknown as IndexInfo);
      if (c.object === 'constraint') return `${o.definition ?? ''}${o.inherited ? ' (inherited)' : ''}`;
      if (c.object === 'enum' && Array.isArray(v)) return `(${(v as string[]).join(', ')})`;
      return '';
    };
    return `${sign} ${c.object} ${c.name}: ${detail(c.before) || words(c.before)} -> ${detail(c.after) || words(c.after)}`;
  }
  const d = summary(c, c.kind === 'added' ? c.after : c.before);
  return `${sign} ${c.object} ${c.name}${d ? ` ${d}` : ''}`;
}
