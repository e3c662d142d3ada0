import { getSchema, type Attribute, type BlockAttribute, type Enum, type Field, type Func, type KeyValue, type Model, type Value } from '@mrleebo/prisma-ast';

/**
 * What an application's schema.prisma expects of a PostgreSQL database, in the words the schema
 * snapshot uses (tables "schema.table", columns with format_type types, constraint and index names as
 * Prisma Migrate would create them). Built from @mrleebo/prisma-ast's syntax tree; Prisma's own DMMF
 * needs its CLI engine, which is not available everywhere Cutover runs.
 */
export interface ExpectedColumn {
  field: string;
  name: string;
  /** As PostgreSQL's format_type prints it, without quotes ("character varying(200)", "Role[]"). */
  type: string;
  nullable: boolean;
  default: ExpectedDefault;
}
/**
 * none: no database default; sequence: autoincrement(); any: dbgenerated() without an expression; sql: the expression;
 * client: Prisma Client fills the value in on every write (uuid(), cuid(), nanoid(), ulid(), @updatedAt), so whatever
 * default the database has is never used by the app and is not a difference.
 */
export type ExpectedDefault = { kind: 'none' } | { kind: 'sequence' } | { kind: 'any' } | { kind: 'sql'; sql: string } | { kind: 'client'; fn: string };

export interface ExpectedIndex {
  name: string;
  /** Column names, with " DESC" for descending ones. */
  columns: string[];
  unique: boolean;
  method: string;
}
export interface ExpectedForeignKey {
  name: string;
  /** The relation field that declares it ("Post.author"). */
  relation: string;
  columns: string[];
  referencedTable: string;
  referencedColumns: string[];
  onDelete: string;
  onUpdate: string;
  /**
   * True when schema.prisma names no onDelete / onUpdate and the action above is Prisma's implicit one
   * (onDelete Restrict, SetNull for optional relations; onUpdate Cascade). A hand-made database usually
   * has NO ACTION there, which the comparison accepts for an implicit Restrict and an implicit onUpdate.
   */
  onDeleteImplicit?: boolean;
  onUpdateImplicit?: boolean;
}
export interface ExpectedTable {
  model: string;
  /** Qualified: "public.users". */
  name: string;
  columns: ExpectedColumn[];
  primaryKey: { name: string; columns: string[] } | null;
  /** Unique constraints and plain indexes (Prisma creates both as indexes). */
  indexes: ExpectedIndex[];
  foreignKeys: ExpectedForeignKey[];
}
export interface ExpectedSchema {
  provider: string | null;
  /** The database schemas the models live in ("public" unless @@schema says otherwise). */
  schemas: string[];
  tables: ExpectedTable[];
  /** Qualified enum name to its database values, in order. */
  enums: Record<string, { name: string; values: string[] }>;
}

export class PrismaSchemaParseError extends Error {
  constructor(message: string, readonly line: number | null) {
    super(message);
    this.name = 'PrismaSchemaParseError';
  }
}

const SCALAR_TYPES: Record<string, string> = {
  String: 'text', Boolean: 'boolean', Int: 'integer', BigInt: 'bigint', Float: 'double precision',
  Decimal: 'numeric(65,30)', DateTime: 'timestamp(3) without time zone', Json: 'jsonb', Bytes: 'bytea',
};

/** @db.X attributes of the postgresql provider, to format_type's spelling. */
function nativeType(name: string, args: string[]): string | null {
  const p = args.length ? `(${args.join(',')})` : '';
  const precision = args[0] !== undefined ? `(${args[0]})` : '';
  switch (name) {
    case 'Text': return 'text';
    case 'Char': return `character${p || '(1)'}`;
    case 'VarChar': return `character varying${p}`;
    case 'Bit': return `bit${p || '(1)'}`;
    case 'VarBit': return `bit varying${p}`;
    case 'Uuid': return 'uuid';
    case 'Xml': return 'xml';
    case 'Inet': return 'inet';
    case 'Citext': return 'citext';
    case 'Boolean': return 'boolean';
    case 'Integer': return 'integer';
    case 'SmallInt': return 'smallint';
    case 'Oid': return 'oid';
    case 'BigInt': return 'bigint';
    case 'DoublePrecision': return 'double precision';
    case 'Real': return 'real';
    case 'Decimal': return `numeric${p}`;
    case 'Money': return 'money';
    case 'Timestamp': return `timestamp${precision} without time zone`;
    case 'Timestamptz': return `timestamp${precision} with time zone`;
    case 'Date': return 'date';
    case 'Time': return `time${precision} without time zone`;
    case 'Timetz': return `time${precision} with time zone`;
    case 'Json': return 'json';
    case 'JsonB': return 'jsonb';
    case 'ByteA': return 'bytea';
    default: return null;
  }
}

const REFERENTIAL: Record<string, string> = { Cascade: 'CASCADE', Restrict: 'RESTRICT', NoAction: 'NO ACTION', SetNull: 'SET NULL', SetDefault: 'SET DEFAULT' };
const INDEX_METHODS: Record<string, string> = { BTree: 'btree', Hash: 'hash', Gist: 'gist', Gin: 'gin', SpGist: 'spgist', Brin: 'brin' };

const unquote = (v: unknown): string => {
  const s = String(v);
  return s.length >= 2 && s.startsWith('"') && s.endsWith('"') ? JSON.parse(s.replace(/\\'/g, "'")) as string : s;
};

function attr(field: Field, name: string, group?: string): Attribute | undefined {
  return field.attributes?.find((a) => a.name === name && a.group === group);
}
const isFunc = (v: unknown): v is Func => typeof v === 'object' && v !== null && (v as Func).type === 'function';
const isKeyValue = (v: unknown): v is KeyValue => typeof v === 'object' && v !== null && (v as KeyValue).type === 'keyValue';

/** An attribute's positional (first unnamed) argument and its named ones. */
function argsOf(a: { args?: { value: unknown }[] } | undefined) {
  const positional: unknown[] = [];
  const named: Record<string, unknown> = {};
  for (const arg of a?.args ?? []) {
    if (isKeyValue(arg.value)) named[arg.value.key] = arg.value.value;
    else positional.push(arg.value);
  }
  return { positional, named };
}

/** Field lists as in @@index([a, b(sort: Desc)]) or fields: [a, b]. */
function fieldList(v: unknown): { field: string; desc: boolean }[] {
  const items = (v as { type?: string; args?: Value[] })?.type === 'array' ? ((v as { args: Value[] }).args ?? []) : Array.isArray(v) ? v : [v];
  return items.filter((x) => x !== undefined && x !== null).map((x) => {
    if (isFunc(x)) {
      const sort = (x.params ?? []).find((p) => isKeyValue(p) && (p as KeyValue).key === 'sort') as KeyValue | undefined;
      return { field: x.name, desc: String(sort?.value ?? '') === 'Desc' };
    }
    return { field: String(x), desc: false };
  });
}

/** A default literal as PostgreSQL prints it once its casts are taken off. */
function literal(v: unknown, enumValues: Map<string, string> | null): string {
  if (typeof v === 'string' && v.startsWith('"')) return `'${unquote(v).replace(/'/g, "''")}'`;
  if (typeof v === 'string' && enumValues) return `'${(enumValues.get(v) ?? v).replace(/'/g, "''")}'`;
  if ((v as { type?: string })?.type === 'array' || Array.isArray(v)) {
    const items = Array.isArray(v) ? v : ((v as { args?: unknown[] }).args ?? []);
    return `ARRAY[${items.map((i) => literal(i, enumValues)).join(', ')}]`;
  }
  return String(v);
}

function defaultOf(field: Field, enumValues: Map<string, string> | null): ExpectedDefault {
  const a = attr(field, 'default');
  // @updatedAt: Prisma Client sets the column on every create and update, so a database default is never used.
  if (!a) return attr(field, 'updatedAt') ? { kind: 'client', fn: '@updatedAt' } : { kind: 'none' };
  const value = argsOf(a).positional[0];
  if (isFunc(value)) {
    switch (value.name) {
      case 'autoincrement': return { kind: 'sequence' };
      case 'now': return { kind: 'sql', sql: 'CURRENT_TIMESTAMP' };
      case 'dbgenerated': return value.params?.length ? { kind: 'sql', sql: unquote(value.params[0]) } : { kind: 'any' };
      // uuid(), cuid(), nanoid(), ulid(): Prisma Client fills them in; Prisma Migrate creates no default.
      default: return { kind: 'client', fn: `${value.name}()` };
    }
  }
  return { kind: 'sql', sql: literal(value, enumValues) };
}

function blockAttrs(model: Model, name: string): BlockAttribute[] {
  return model.properties.filter((p): p is BlockAttribute => p.type === 'attribute' && (p as BlockAttribute).name === name && !(p as BlockAttribute).group);
}

const line = (err: unknown): number | null => {
  const token = (err as { token?: { startLine?: number } }).token;
  return typeof token?.startLine === 'number' && Number.isFinite(token.startLine) ? token.startLine : null;
};

/** Parses schema.prisma into what it expects of the database. Throws PrismaSchemaParseError with the line. */
export function parsePrismaSchema(source: string): ExpectedSchema {
  let ast;
  try {
    ast = getSchema(source);
  } catch (err) {
    const at = line(err);
    throw new PrismaSchemaParseError(`schema.prisma does not parse${at ? ` at line ${at}` : ''}: ${(err instanceof Error ? err.message : String(err)).split('\n')[0]}`, at);
  }
  const datasource = ast.list.find((b) => b.type === 'datasource');
  const provider = datasource && datasource.type === 'datasource'
    ? (datasource.assignments.find((a) => a.type === 'assignment' && a.key === 'provider') as { value?: Value } | undefined)?.value
    : undefined;
  const models = ast.list.filter((b): b is Model => b.type === 'model');
  const enumBlocks = ast.list.filter((b): b is Enum => b.type === 'enum');
  const defaultSchema = 'public';

  const blockSchema = (attrs: { name: string; group?: string; args?: { value: unknown }[] }[]) => {
    const s = attrs.find((a) => a.name === 'schema' && !a.group);
    return s ? unquote(argsOf(s).positional[0]) : defaultSchema;
  };

  const enums: ExpectedSchema['enums'] = {};
  const enumByName = new Map<string, { qualified: string; values: Map<string, string> }>();
  for (const e of enumBlocks) {
    const attrs = e.enumerators.filter((x): x is BlockAttribute => x.type === 'attribute') as unknown as BlockAttribute[];
    const mapped = attrs.find((a) => a.name === 'map');
    const dbName = mapped ? unquote(argsOf(mapped).positional[0]) : e.name;
    const qualified = `${blockSchema(attrs)}.${dbName}`;
    const values = new Map<string, string>();
    for (const v of e.enumerators) {
      if (v.type !== 'enumerator') continue;
      const m = v.attributes?.find((a) => a.name === 'map');
      values.set(v.name, m ? unquote(argsOf(m).positional[0]) : v.name);
    }
    enums[qualified] = { name: e.name, values: [...values.values()] };
    enumByName.set(e.name, { qualified, values });
  }

  const modelNames = new Set(models.map((m) => m.name));
  const ignored = (m: Model) => blockAttrs(m, 'ignore').length > 0;
  const fieldsOf = (m: Model) => m.properties.filter((p): p is Field => p.type === 'field');
  const tableName = (m: Model) => {
    const mapped = blockAttrs(m, 'map')[0];
    return mapped ? unquote(argsOf(mapped).positional[0]) : m.name;
  };
  const schemaOf = (m: Model) => blockSchema(blockAttrs(m, 'schema'));
  const columnName = (f: Field) => {
    const m = attr(f, 'map');
    return m ? unquote(argsOf(m).positional[0]) : f.name;
  };
  const modelByName = new Map(models.map((m) => [m.name, m]));
  const columnOf = (m: Model, fieldName: string) => {
    const f = fieldsOf(m).find((x) => x.name === fieldName);
    return f ? columnName(f) : fieldName;
  };
  const idColumns = (m: Model): string[] => {
    const fieldId = fieldsOf(m).find((f) => attr(f, 'id'));
    if (fieldId) return [columnName(fieldId)];
    const blockId = blockAttrs(m, 'id')[0];
    return blockId ? fieldList(argsOf(blockId).positional[0]).map((x) => columnOf(m, x.field)) : [];
  };

  const tables: ExpectedTable[] = [];
  for (const m of models) {
    if (ignored(m)) continue;
    const table = tableName(m);
    const qualified = `${schemaOf(m)}.${table}`;
    const columns: ExpectedColumn[] = [];
    const indexes: ExpectedIndex[] = [];
    const foreignKeys: ExpectedForeignKey[] = [];
    let primaryKey: ExpectedTable['primaryKey'] = null;

    for (const f of fieldsOf(m)) {
      const typeName = typeof f.fieldType === 'string' ? f.fieldType : f.fieldType.name;
      if (modelNames.has(typeName)) {
        const rel = attr(f, 'relation');
        const { named } = argsOf(rel);
        if (named.fields === undefined) continue;
        const target = modelByName.get(typeName)!;
        const cols = fieldList(named.fields).map((x) => columnOf(m, x.field));
        const required = cols.length > 0 && !f.optional;
        foreignKeys.push({
          name: named.map !== undefined ? unquote(named.map) : `${table}_${cols.join('_')}_fkey`,
          relation: `${m.name}.${f.name}`,
          columns: cols,
          referencedTable: `${schemaOf(target)}.${tableName(target)}`,
          referencedColumns: fieldList(named.references).map((x) => columnOf(target, x.field)),
          onDelete: REFERENTIAL[String(named.onDelete ?? (required ? 'Restrict' : 'SetNull'))] ?? String(named.onDelete),
          onUpdate: REFERENTIAL[String(named.onUpdate ?? 'Cascade')] ?? String(named.onUpdate),
          onDeleteImplicit: named.onDelete === undefined,
          onUpdateImplicit: named.onUpdate === undefined,
        });
        continue;
      }
      const name = columnName(f);
      const enumInfo = enumByName.get(typeName);
      const native = f.attributes?.find((a) => a.group === 'db');
      let type: string;
      if (typeof f.fieldType !== 'string' && f.fieldType.name === 'Unsupported') type = unquote(f.fieldType.params?.[0] ?? '');
      else if (enumInfo) type = enumInfo.qualified.startsWith(`${defaultSchema}.`) ? enumInfo.qualified.slice(defaultSchema.length + 1) : enumInfo.qualified;
      else if (native) type = nativeType(native.name, argsOf(native).positional.map(String)) ?? SCALAR_TYPES[typeName] ?? typeName;
      else type = SCALAR_TYPES[typeName] ?? typeName;
      if (f.array) type += '[]';
      // Prisma creates scalar lists without NOT NULL.
      columns.push({ field: f.name, name, type, nullable: Boolean(f.optional) || Boolean(f.array), default: defaultOf(f, enumInfo?.values ?? null) });

      const id = attr(f, 'id');
      if (id) {
        const { named } = argsOf(id);
        primaryKey = { name: named.map !== undefined ? unquote(named.map) : `${table}_pkey`, columns: [name] };
      }
      const unique = attr(f, 'unique');
      if (unique) {
        const { named } = argsOf(unique);
        indexes.push({ name: named.map !== undefined ? unquote(named.map) : `${table}_${name}_key`, columns: [name], unique: true, method: 'btree' });
      }
    }
    for (const a of blockAttrs(m, 'id')) {
      const { positional, named } = argsOf(a);
      primaryKey = { name: named.map !== undefined ? unquote(named.map) : `${table}_pkey`, columns: fieldList(named.fields ?? positional[0]).map((x) => columnOf(m, x.field)) };
    }
    for (const kind of ['unique', 'index'] as const) {
      for (const a of blockAttrs(m, kind)) {
        const { positional, named } = argsOf(a);
        const cols = fieldList(named.fields ?? positional[0]).map((x) => `${columnOf(m, x.field)}${x.desc ? ' DESC' : ''}`);
        const plain = cols.map((c) => c.replace(/ DESC$/, ''));
        indexes.push({
          name: named.map !== undefined ? unquote(named.map) : `${table}_${plain.join('_')}_${kind === 'unique' ? 'key' : 'idx'}`,
          columns: cols,
          unique: kind === 'unique',
          method: INDEX_METHODS[String(named.type ?? 'BTree')] ?? String(named.type).toLowerCase(),
        });
      }
    }
    tables.push({ model: m.name, name: qualified, columns, primaryKey, indexes, foreignKeys });
  }

  // Implicit many-to-many relations: a join table "_AToB" (or "_Name") with columns A and B.
  const seen = new Set<string>();
  for (const m of models) {
    for (const f of fieldsOf(m)) {
      const typeName = typeof f.fieldType === 'string' ? f.fieldType : f.fieldType.name;
      if (!f.array || !modelNames.has(typeName)) continue;
      const other = modelByName.get(typeName)!;
      const relationName = (x: Field) => {
        const { positional, named } = argsOf(attr(x, 'relation'));
        const n = positional[0] ?? named.name;
        return n === undefined ? undefined : unquote(n);
      };
      const relName = relationName(f);
      // Both sides lists of each other under the same relation name: Prisma's implicit join table.
      const back = fieldsOf(other).find((x) => x !== f && x.fieldType === m.name && x.array && relationName(x) === relName);
      if (!back) continue;
      const [a, b] = [m, other].sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
      const name = `_${relName ?? `${a.name}To${b.name}`}`;
      if (seen.has(name)) continue;
      seen.add(name);
      const idType = (x: Model) => {
        const col = idColumns(x)[0];
        const t = tables.find((t) => t.model === x.name)?.columns.find((c) => c.name === col);
        return t?.type ?? 'text';
      };
      const schema = schemaOf(a);
      tables.push({
        model: `${a.name} ↔ ${b.name}`, name: `${schema}.${name}`,
        columns: [
          { field: 'A', name: 'A', type: idType(a), nullable: false, default: { kind: 'none' } },
          { field: 'B', name: 'B', type: idType(b), nullable: false, default: { kind: 'none' } },
        ],
        // Prisma 6 makes (A, B) the primary key; older versions a unique index: either is accepted (see compare).
        primaryKey: { name: `${name}_AB_pkey`, columns: ['A', 'B'] },
        indexes: [{ name: `${name}_B_index`, columns: ['B'], unique: false, method: 'btree' }],
        foreignKeys: [
          { name: `${name}_A_fkey`, relation: `${a.name} ↔ ${b.name}`, columns: ['A'], referencedTable: `${schemaOf(a)}.${tableName(a)}`, referencedColumns: idColumns(a), onDelete: 'CASCADE', onUpdate: 'CASCADE' },
          { name: `${name}_B_fkey`, relation: `${a.name} ↔ ${b.name}`, columns: ['B'], referencedTable: `${schemaOf(b)}.${tableName(b)}`, referencedColumns: idColumns(b), onDelete: 'CASCADE', onUpdate: 'CASCADE' },
        ],
      });
    }
  }

  const schemas = [...new Set([...tables.map((t) => t.name.split('.')[0]), ...Object.keys(enums).map((e) => e.split('.')[0]), defaultSchema])].sort();
  return { provider: provider === undefined ? null : unquote(provider), schemas, tables, enums };
}
