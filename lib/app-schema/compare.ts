import type { ExpectedColumn, ExpectedDefault, ExpectedForeignKey, ExpectedSchema, ExpectedTable } from './prisma-schema';

/**
 * The parts of an engine-neutral SchemaShape (lib/engine's snapshot) the comparison reads. Declared
 * here, structurally, so this module needs nothing from the engine; a full SchemaShape fits.
 */
export interface ShapeForComparison {
  tables?: Record<string, {
    columns: { name: string; type: string; nullable: boolean; default: string | null; identity?: string | null; generated?: string | null }[];
    // Optional: a shape stored in evidence may carry columns only (then keys and indexes are not compared).
    primaryKey?: { name: string; definition: string } | null;
    foreignKeys?: { name: string; definition: string }[];
    indexes?: { name: string; method: string; unique: boolean; primary: boolean; definition: string; predicate?: string | null }[];
  }>;
  enums?: Record<string, string[]>;
}

/** One way the database after the migration and the app's schema.prisma disagree. `key` is stable across comparisons. */
export interface SchemaDifference {
  key: string;
  description: string;
}

/** Drops quotes and the default schema from a type or name, as format_type prints them only when needed. */
const plainType = (t: string) => t.replace(/"/g, '').replace(/^public\./, '').replace(/^(timestamp|time)\(6\)/, '$1').trim();

/** A default expression without casts, parentheses around the whole, case and spacing. */
export function normalizeDefault(sql: string): string {
  // The time zone words come after a precision: "::timestamp(3) without time zone".
  let s = sql.replace(/::(?:"[^"]+"|[a-z_][a-z0-9_]*(?: (?:varying|precision|with(?:out)? time zone))*(?:\([0-9, ]+\))?(?: with(?:out)? time zone)?)(?:\[\])*/gi, '');
  s = s.replace(/\s+/g, ' ').trim();
  while (s.startsWith('(') && s.endsWith(')') && balanced(s.slice(1, -1))) s = s.slice(1, -1).trim();
  s = s.replace(/^'(-?\d+(?:\.\d+)?)'$/, '$1');
  return s.toLowerCase().replace(/\s+/g, '');
}
/**
 * Defaults that are the same value written differently: Prisma writes @default(now()) as CURRENT_TIMESTAMP,
 * a hand-made table usually says now(); both, transaction_timestamp() and LOCALTIMESTAMP are the start of
 * the transaction (with or without casts and a precision, which the column's type decides anyway).
 * statement_timestamp() and clock_timestamp() are other values and stay themselves.
 */
const TRANSACTION_START = /^(?:now\(\)|current_timestamp(?:\(\d+\))?|transaction_timestamp\(\)|localtimestamp(?:\(\d+\))?)$/;
const NUMBER = /^-?(?:\d+(?:\.\d*)?|\.\d+)$/;

/** A normalized default in one spelling per value: the comparison's notion of "the same default". */
function canonicalDefault(sql: string): string {
  const s = normalizeDefault(sql);
  if (TRANSACTION_START.test(s)) return 'now()';
  // 0 and 0.00 (a numeric column prints its default with the scale it was written with).
  if (NUMBER.test(s)) return String(Number(s));
  return s;
}

function balanced(s: string): boolean {
  let depth = 0;
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')' && --depth < 0) return false;
  }
  return depth === 0;
}

/** The top-level comma-separated items inside the first parenthesis after `from`. */
function parenList(text: string, from = 0): string[] {
  const start = text.indexOf('(', from);
  if (start < 0) return [];
  const items: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = start + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    if (ch === ')') {
      if (depth === 0) break;
      depth--;
    }
    if (ch === ',' && depth === 0) {
      items.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) items.push(current.trim());
  return items;
}

/** An index column as compared: its name unquoted, " DESC" kept, ASC/NULLS/opclass dropped. */
function indexColumn(item: string): string {
  const m = /^("(?:[^"]|"")+"|[A-Za-z_][A-Za-z0-9_$]*)(.*)$/.exec(item.trim());
  if (!m || m[2].trim().startsWith('(')) return item.trim();
  const name = m[1].startsWith('"') ? m[1].slice(1, -1).replace(/""/g, '"') : m[1];
  return /\bDESC\b/i.test(m[2]) ? `${name} DESC` : name;
}
const columnsOfDefinition = (definition: string) => {
  const using = / USING \w+ /i.exec(definition);
  return parenList(definition, using ? using.index : 0).map(indexColumn);
};

function describeDefault(d: ExpectedDefault): string {
  switch (d.kind) {
    case 'none': return 'no default';
    case 'sequence': return 'autoincrement()';
    case 'any': return 'a database-generated default';
    case 'sql': return `default ${d.sql}`;
    case 'client': return `${d.fn} (filled in by Prisma Client)`;
  }
}
function defaultAgrees(expected: ExpectedDefault, actual: { default: string | null; identity?: string | null }): boolean {
  const isSequence = Boolean(actual.identity) || /^nextval\(/i.test(actual.default ?? '');
  switch (expected.kind) {
    case 'none': return actual.default === null && !actual.identity;
    case 'sequence': return isSequence;
    case 'any': return actual.default !== null || Boolean(actual.identity);
    case 'sql': return actual.default !== null && canonicalDefault(actual.default) === canonicalDefault(expected.sql);
    // The app always sends the value: a database default (gen_random_uuid(), now() on updated_at) is never used.
    case 'client': return true;
  }
}

const list = (xs: readonly string[]) => xs.join(', ');
const qualify = (name: string) => (name.includes('.') ? name : `public.${name}`);

/**
 * Compares what schema.prisma expects with the schema the rehearsal produced (tables, columns,
 * types, nullability, defaults, primary keys, unique constraints and indexes, foreign keys with
 * their referential actions, enums; @map/@@map names are the database names). Differences are
 * described from the app's side: what schema.prisma says and what the database has after the migration.
 */
export function compareWithShape(expected: ExpectedSchema, shape: ShapeForComparison): SchemaDifference[] {
  const out: SchemaDifference[] = [];
  const add = (key: string, description: string) => out.push({ key, description });
  const actualTables = shape.tables ?? {};
  const label = (t: ExpectedTable) => `Model ${t.model} (table ${t.name})`;

  for (const t of expected.tables) {
    const stored = actualTables[t.name];
    if (!stored) {
      add(`table:${t.name}`, `${label(t)}: the table does not exist in the database after the migration.`);
      continue;
    }
    const actual = { ...stored, primaryKey: stored.primaryKey ?? null, indexes: stored.indexes ?? [], foreignKeys: stored.foreignKeys ?? [] };
    const actualColumns = new Map(actual.columns.map((c) => [c.name, c]));
    for (const c of t.columns) {
      const a = actualColumns.get(c.name);
      const where = `${label(t)}, field ${c.field}${c.name !== c.field ? ` (column ${c.name})` : ''}`;
      if (!a) {
        add(`column:${t.name}.${c.name}`, `${where}: the column does not exist in the database after the migration.`);
        continue;
      }
      compareColumn(t, c, a, where, add);
    }
    const expectedNames = new Set(t.columns.map((c) => c.name));
    for (const a of actual.columns) {
      if (!expectedNames.has(a.name)) {
        add(`column:${t.name}.${a.name}`, `${label(t)}: the database has column ${a.name} (${plainType(a.type)}) that schema.prisma does not declare.`);
      }
    }

    // Primary key.
    const actualPk = actual.primaryKey ? parenList(actual.primaryKey.definition).map(indexColumn) : null;
    const joinTableUnique = t.name.split('.')[1]?.startsWith('_') && actual.indexes.some((i) => i.unique && !i.primary && list(columnsOfDefinition(i.definition)) === 'A, B');
    if (t.primaryKey && !actualPk && !joinTableUnique) {
      add(`primary-key:${t.name}`, `${label(t)}: schema.prisma has the primary key (${list(t.primaryKey.columns)}); the table has none.`);
    } else if (!t.primaryKey && actualPk) {
      add(`primary-key:${t.name}`, `${label(t)}: the table has a primary key (${list(actualPk)}) that schema.prisma does not declare.`);
    } else if (t.primaryKey && actualPk && list(actualPk) !== list(t.primaryKey.columns)) {
      add(`primary-key:${t.name}`, `${label(t)}: the primary key is (${list(actualPk)}) in the database, (${list(t.primaryKey.columns)}) in schema.prisma.`);
    } else if (t.primaryKey && actualPk && actual.primaryKey && actual.primaryKey.name !== t.primaryKey.name) {
      add(`primary-key:${t.name}:name`, `${label(t)}: the primary key is named ${actual.primaryKey.name} in the database, ${t.primaryKey.name} as schema.prisma names it (@id(map:)).`);
    }

    // Unique constraints and indexes, matched by their columns.
    const actualIndexes = actual.indexes.filter((i) => !i.primary).map((i) => ({ ...i, columns: columnsOfDefinition(i.definition) }));
    const matched = new Set<string>();
    for (const i of t.indexes) {
      const key = `index:${t.name}(${list(i.columns)})`;
      const what = i.unique ? 'unique constraint' : 'index';
      const a = actualIndexes.find((x) => !matched.has(x.name) && list(x.columns) === list(i.columns) && x.unique === i.unique)
        ?? actualIndexes.find((x) => !matched.has(x.name) && list(x.columns) === list(i.columns));
      if (!a) {
        if (joinTableUnique && i.columns.join() === 'A,B') continue;
        add(key, `${label(t)}: schema.prisma has a ${what} on (${list(i.columns)}); the database has none.`);
        continue;
      }
      matched.add(a.name);
      if (a.unique !== i.unique) add(`${key}:unique`, `${label(t)}: the index on (${list(i.columns)}) is ${a.unique ? 'unique' : 'not unique'} in the database, ${i.unique ? 'unique' : 'not unique'} in schema.prisma.`);
      else if (a.method !== i.method) add(`${key}:method`, `${label(t)}: the index on (${list(i.columns)}) uses ${a.method} in the database, ${i.method} in schema.prisma.`);
      else if (a.name !== i.name) add(`${key}:name`, `${label(t)}: the ${what} on (${list(i.columns)}) is named ${a.name} in the database, ${i.name} as schema.prisma names it (map:).`);
      if (a.predicate) add(`${key}:predicate`, `${label(t)}: the ${what} on (${list(i.columns)}) is partial (WHERE ${a.predicate}) in the database; schema.prisma cannot declare that.`);
    }
    for (const a of actualIndexes) {
      if (matched.has(a.name)) continue;
      if (joinTableUnique && list(a.columns) === 'A, B') continue;
      add(`index:${t.name}(${list(a.columns)})`, `${label(t)}: the database has ${a.unique ? 'a unique index' : 'an index'} ${a.name} on (${list(a.columns)}) that schema.prisma does not declare.`);
    }

    // Foreign keys, matched by their columns.
    const actualFks = actual.foreignKeys.map((f) => parseForeignKey(f.name, f.definition));
    const fkMatched = new Set<string>();
    for (const f of t.foreignKeys) {
      const key = `foreign-key:${t.name}(${list(f.columns)})`;
      const a = actualFks.find((x) => list(x.columns) === list(f.columns));
      if (!a) {
        add(key, `${label(t)}: relation ${f.relation} needs a foreign key (${list(f.columns)}) → ${f.referencedTable}(${list(f.referencedColumns)}); the database has none.`);
        continue;
      }
      fkMatched.add(a.name);
      if (qualify(a.referencedTable) !== f.referencedTable || list(a.referencedColumns) !== list(f.referencedColumns)) {
        add(`${key}:references`, `${label(t)}: the foreign key (${list(f.columns)}) references ${qualify(a.referencedTable)}(${list(a.referencedColumns)}) in the database, ${f.referencedTable}(${list(f.referencedColumns)}) in schema.prisma.`);
      }
      if (!onDeleteAgrees(f, a.onDelete)) {
        add(`${key}:on-delete`, `${label(t)}: relation ${f.relation} is ON DELETE ${a.onDelete} in the database, ON DELETE ${f.onDelete} in schema.prisma${f.onDeleteImplicit ? " (Prisma's default: the relation names no onDelete)" : ''}.`);
      }
      if (!onUpdateAgrees(f, a.onUpdate)) {
        add(`${key}:on-update`, `${label(t)}: relation ${f.relation} is ON UPDATE ${a.onUpdate} in the database, ON UPDATE ${f.onUpdate} in schema.prisma${f.onUpdateImplicit ? " (Prisma's default: the relation names no onUpdate)" : ''}.`);
      }
      if (a.name !== f.name) add(`${key}:name`, `${label(t)}: the foreign key (${list(f.columns)}) is named ${a.name} in the database, ${f.name} as schema.prisma names it (map:).`);
    }
    for (const a of actualFks) {
      if (!fkMatched.has(a.name)) add(`foreign-key:${t.name}(${list(a.columns)})`, `${label(t)}: the database has a foreign key ${a.name} (${list(a.columns)}) → ${qualify(a.referencedTable)} that schema.prisma declares no relation for.`);
    }
  }

  // Tables the app does not know, in the schemas it uses (Prisma Migrate would drop them).
  const expectedTables = new Set(expected.tables.map((t) => t.name));
  for (const name of Object.keys(actualTables)) {
    if (expectedTables.has(name) || !expected.schemas.includes(name.split('.')[0])) continue;
    add(`table:${name}`, `Table ${name} exists in the database after the migration, but no model in schema.prisma maps to it.`);
  }

  // Enums.
  const actualEnums = shape.enums ?? {};
  for (const [name, e] of Object.entries(expected.enums)) {
    const values = actualEnums[name];
    if (!values) add(`enum:${name}`, `Enum ${e.name} (type ${name}): the type does not exist in the database after the migration.`);
    else if (list(values) !== list(e.values)) add(`enum:${name}:values`, `Enum ${e.name} (type ${name}): the database has the values ${list(values)}, schema.prisma ${list(e.values)}.`);
  }
  for (const name of Object.keys(actualEnums)) {
    if (!expected.enums[name] && expected.schemas.includes(name.split('.')[0])) {
      add(`enum:${name}`, `Enum type ${name} exists in the database after the migration, but schema.prisma declares no enum for it.`);
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function compareColumn(
  t: ExpectedTable,
  c: ExpectedColumn,
  a: { type: string; nullable: boolean; default: string | null; identity?: string | null },
  where: string,
  add: (key: string, description: string) => void,
) {
  const key = `column:${t.name}.${c.name}`;
  // Unsupported("...") types are written freely; compare them loosely.
  if (plainType(a.type).toLowerCase() !== plainType(c.type).toLowerCase()) {
    add(`${key}:type`, `${where}: the column is ${plainType(a.type)} in the database, ${plainType(c.type)} in schema.prisma.`);
  }
  if (a.nullable !== c.nullable) {
    add(`${key}:nullable`, `${where}: the column is ${a.nullable ? 'nullable' : 'NOT NULL'} in the database, ${c.nullable ? 'optional (nullable)' : 'required (NOT NULL)'} in schema.prisma.`);
  }
  if (!defaultAgrees(c.default, a)) {
    add(`${key}:default`, `${where}: the column has ${a.identity ? `an identity (${a.identity})` : a.default === null ? 'no default' : `default ${a.default}`} in the database, ${describeDefault(c.default)} in schema.prisma.`);
  }
}

/** NO ACTION and RESTRICT both refuse the change; they differ only in when (end of statement or at once). */
const REFUSES = new Set(['NO ACTION', 'RESTRICT']);

/**
 * An action schema.prisma names must be the database's. An implicit one is Prisma Migrate's choice, not the
 * app's: Restrict is met by a hand-made NO ACTION. An implicit SetNull (optional relation) is not: the app may
 * rely on the children being kept when the parent goes, so NO ACTION there is still reported.
 */
function onDeleteAgrees(f: ExpectedForeignKey, actual: string): boolean {
  if (actual === f.onDelete) return true;
  return Boolean(f.onDeleteImplicit) && REFUSES.has(f.onDelete) && REFUSES.has(actual);
}
/**
 * An implicit onUpdate (Cascade) is met by one that refuses: primary keys Prisma models reference are not
 * updated in practice, and a hand-made foreign key has NO ACTION. An explicit one must match.
 */
function onUpdateAgrees(f: ExpectedForeignKey, actual: string): boolean {
  if (actual === f.onUpdate) return true;
  return Boolean(f.onUpdateImplicit) && REFUSES.has(actual);
}

function parseForeignKey(name: string, definition: string) {
  const [, refPart = ''] = definition.split(/\bREFERENCES\b/i);
  const refTable = /^\s*((?:"(?:[^"]|"")+"|[^\s(."]+)(?:\.(?:"(?:[^"]|"")+"|[^\s(."]+))?)/.exec(refPart)?.[1] ?? '';
  const action = (kind: 'DELETE' | 'UPDATE') => new RegExp(`ON ${kind} (CASCADE|RESTRICT|SET NULL|SET DEFAULT|NO ACTION)`, 'i').exec(definition)?.[1].toUpperCase() ?? 'NO ACTION';
  return {
    name,
    columns: parenList(definition).map(indexColumn),
    referencedTable: refTable.replace(/"/g, ''),
    referencedColumns: parenList(refPart).map(indexColumn),
    onDelete: action('DELETE'),
    onUpdate: action('UPDATE'),
  };
}
