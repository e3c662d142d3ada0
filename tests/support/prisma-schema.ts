import { readFileSync } from 'node:fs';

/**
 * A small reader of schema.prisma, enough to say which tables, columns, enums, indexes and
 * foreign keys the Prisma model expects (Prisma's own DMMF needs its CLI engine, absent here).
 */
export interface ExpectedColumn {
  table: string;
  column: string;
  /** PostgreSQL type as information_schema's udt_name shows it (`_` prefix for arrays). */
  udt: string;
  nullable: boolean;
  hasDbDefault: boolean;
}
export interface ExpectedIndex {
  table: string;
  columns: string[];
  unique: boolean;
}
export interface ExpectedForeignKey {
  table: string;
  columns: string[];
  refTable: string;
  refColumns: string[];
  onDelete: string;
}
export interface ExpectedSchema {
  enums: Record<string, string[]>;
  columns: ExpectedColumn[];
  indexes: ExpectedIndex[];
  foreignKeys: ExpectedForeignKey[];
}

const SCALAR_UDT: Record<string, string> = { String: 'text', Int: 'int4', Boolean: 'bool', DateTime: 'timestamp', Json: 'jsonb', BigInt: 'int8', Float: 'float8' };
const NATIVE_UDT: Record<string, string> = { Uuid: 'uuid', Timestamptz: 'timestamptz', Text: 'text', Integer: 'int4' };
const ON_DELETE: Record<string, string> = { Cascade: 'CASCADE', Restrict: 'RESTRICT', SetNull: 'SET NULL', NoAction: 'NO ACTION', SetDefault: 'SET DEFAULT' };

function blocks(src: string, kind: 'model' | 'enum') {
  return [...src.matchAll(new RegExp(`^${kind}\\s+(\\w+)\\s*\\{([\\s\\S]*?)^\\}`, 'gm'))].map((m) => ({ name: m[1], body: m[2] }));
}
const lines = (body: string) => body.split('\n').map((l) => l.replace(/\/\/.*$/, '').trim()).filter(Boolean);
const list = (s: string) => s.split(',').map((x) => x.trim().replace(/\(.*\)$/, '')).filter(Boolean);

export function readPrismaSchema(file: string): ExpectedSchema {
  const src = readFileSync(file, 'utf8');
  const enums = Object.fromEntries(blocks(src, 'enum').map((e) => [e.name, lines(e.body).filter((l) => !l.startsWith('@@')).map((l) => l.split(/\s+/)[0])]));
  const models = blocks(src, 'model').map((m) => {
    const ls = lines(m.body);
    const table = /@@map\("([^"]+)"\)/.exec(m.body)?.[1] ?? m.name;
    const fields = ls.filter((l) => !l.startsWith('@@')).map((l) => {
      const [name, rawType] = l.split(/\s+/);
      const attrs = l.slice(l.indexOf(rawType) + rawType.length);
      return { name, base: rawType.replace(/[?[\]]/g, ''), optional: rawType.endsWith('?'), isList: rawType.endsWith('[]'), attrs, column: /@map\("([^"]+)"\)/.exec(attrs)?.[1] ?? name };
    });
    return { name: m.name, table, fields, blockAttrs: ls.filter((l) => l.startsWith('@@')) };
  });
  const modelNames = new Set(models.map((m) => m.name));
  const tableOf = (model: string) => models.find((m) => m.name === model)!.table;

  const schema: ExpectedSchema = { enums, columns: [], indexes: [], foreignKeys: [] };
  for (const m of models) {
    const col = (field: string) => m.fields.find((f) => f.name === field)!.column;
    for (const f of m.fields) {
      if (modelNames.has(f.base)) {
        const rel = /@relation\([^)]*fields:\s*\[([^\]]+)\][^)]*references:\s*\[([^\]]+)\](?:[^)]*onDelete:\s*(\w+))?/.exec(f.attrs);
        if (rel) {
          const target = models.find((x) => x.name === f.base)!;
          schema.foreignKeys.push({
            table: m.table,
            columns: list(rel[1]).map(col),
            refTable: tableOf(f.base),
            refColumns: list(rel[2]).map((c) => target.fields.find((x) => x.name === c)!.column),
            onDelete: ON_DELETE[rel[3] ?? (f.optional ? 'SetNull' : 'Restrict')],
          });
        }
        continue;
      }
      const native = /@db\.(\w+)/.exec(f.attrs)?.[1];
      const udt = enums[f.base] ? f.base : native ? NATIVE_UDT[native] : SCALAR_UDT[f.base];
      const dflt = /@default\(([^)]*\)?)\)/.exec(f.attrs)?.[1];
      schema.columns.push({
        table: m.table,
        column: f.column,
        udt: f.isList ? `_${udt}` : udt,
        nullable: f.optional || f.isList,
        hasDbDefault: dflt !== undefined && !/^(uuid|cuid|nanoid|ulid)\(/.test(dflt),
      });
      if (/@id\b/.test(f.attrs)) schema.indexes.push({ table: m.table, columns: [f.column], unique: true });
      if (/@unique\b/.test(f.attrs)) schema.indexes.push({ table: m.table, columns: [f.column], unique: true });
    }
    for (const a of m.blockAttrs) {
      const idx = /^@@(unique|index|id)\(\[([^\]]+)\]/.exec(a);
      if (idx) schema.indexes.push({ table: m.table, columns: list(idx[2]).map(col), unique: idx[1] !== 'index' });
    }
  }
  return schema;
}
