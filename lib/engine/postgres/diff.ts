import { canonicalJson, type ColumnInfo, type ConstraintInfo, type SchemaShape, type TableInfo } from './snapshot';

export type ChangeKind = 'added' | 'removed' | 'changed';
export type ObjectKind = 'schema' | 'extension' | 'enum' | 'sequence' | 'table' | 'column' | 'index' | 'constraint' | 'view';

/** One difference between two schema snapshots. `name` is qualified (schema.table[.column]). */
export interface SchemaChange {
  kind: ChangeKind;
  object: ObjectKind;
  name: string;
  before?: unknown;
  after?: unknown;
}

const same = (a: unknown, b: unknown) => canonicalJson(a) === canonicalJson(b);

function diffRecords<T>(object: ObjectKind, before: Record<string, T>, after: Record<string, T>, out: SchemaChange[], prefix = '') {
  for (const name of Object.keys(before)) {
    if (!(name in after)) out.push({ kind: 'removed', object, name: prefix + name, before: before[name] });
    else if (!same(before[name], after[name])) out.push({ kind: 'changed', object, name: prefix + name, before: before[name], after: after[name] });
  }
  for (const name of Object.keys(after)) if (!(name in before)) out.push({ kind: 'added', object, name: prefix + name, after: after[name] });
}

const keyed = <T extends { name: string }>(xs: T[]) => Object.fromEntries(xs.map((x) => [x.name, x]));

function tableConstraints(t: TableInfo): Record<string, ConstraintInfo> {
  return keyed([...(t.primaryKey ? [t.primaryKey] : []), ...t.uniques, ...t.checks, ...t.foreignKeys, ...t.exclusions]);
}

/** What changed from `before` to `after`; empty when the two schemas are the same. */
export function diffSnapshots(before: SchemaShape, after: SchemaShape): SchemaChange[] {
  const out: SchemaChange[] = [];
  diffRecords('schema', keyed(before.schemas.map((name) => ({ name }))), keyed(after.schemas.map((name) => ({ name }))), out);
  diffRecords('extension', before.extensions, after.extensions, out);
  diffRecords('enum', before.enums, after.enums, out);
  diffRecords('sequence', before.sequences, after.sequences, out);
  for (const name of Object.keys(before.tables)) if (!(name in after.tables)) out.push({ kind: 'removed', object: 'table', name, before: before.tables[name] });
  for (const name of Object.keys(after.tables)) if (!(name in before.tables)) out.push({ kind: 'added', object: 'table', name, after: after.tables[name] });
  for (const name of Object.keys(before.tables)) {
    const a = before.tables[name];
    const b = after.tables[name];
    if (!b) continue;
    diffRecords<ColumnInfo>('column', keyed(a.columns), keyed(b.columns), out, `${name}.`);
    diffRecords('index', keyed(a.indexes), keyed(b.indexes), out, `${name}.`);
    diffRecords('constraint', tableConstraints(a), tableConstraints(b), out, `${name}.`);
    // Same columns in another order is a change too (a rewrite to get back there).
    const order = (t: TableInfo) => t.columns.map((c) => c.name).filter((c) => a.columns.some((x) => x.name === c) && b.columns.some((x) => x.name === c));
    if (!same(order(a), order(b))) out.push({ kind: 'changed', object: 'table', name, before: { columnOrder: order(a) }, after: { columnOrder: order(b) } });
  }
  diffRecords('view', before.views, after.views, out);
  return out;
}

/** One line per change, as the diff view and the CLI print it. */
export function describeChange(c: SchemaChange): string {
  const sign = c.kind === 'added' ? '+' : c.kind === 'removed' ? '-' : '~';
  const detail = (v: unknown): string => {
    if (!v || typeof v !== 'object') return '';
    const o = v as Record<string, unknown>;
    if (c.object === 'column') return `${o.type}${o.nullable ? '' : ' NOT NULL'}${o.default ? ` DEFAULT ${o.default}` : ''}`;
    if (c.object === 'index' || c.object === 'constraint') return String(o.definition ?? '');
    if (c.object === 'enum' && Array.isArray(v)) return `(${(v as string[]).join(', ')})`;
    return '';
  };
  if (c.kind === 'changed') return `${sign} ${c.object} ${c.name}: ${detail(c.before) || canonicalJson(c.before)} -> ${detail(c.after) || canonicalJson(c.after)}`;
  const d = detail(c.kind === 'added' ? c.after : c.before);
  return `${sign} ${c.object} ${c.name}${d ? ` ${d}` : ''}`;
}
