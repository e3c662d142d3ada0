import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateAppStore } from '@/lib/db/migrate';
import { readPrismaSchema, type ExpectedSchema } from '../support/prisma-schema';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * schema.prisma is what Prisma Client believes; prisma/migrations is what the database gets.
 * Apply the migrations to an empty database, introspect it, and require the two to agree.
 */
describe('schema.prisma and prisma/migrations describe the same database', () => {
  const expected: ExpectedSchema = readPrismaSchema(path.join(process.cwd(), 'prisma', 'schema.prisma'));
  let actual: Awaited<ReturnType<typeof introspect>>;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    const db = await createScratchDatabase('cutover_parity');
    drop = db.drop;
    await migrateAppStore(db.url);
    actual = await introspect(db.url);
  });
  afterAll(() => drop?.());

  it('the reader of schema.prisma found the model (guards the test itself)', () => {
    expect(Object.keys(expected.enums)).toContain('TaskStatus');
    expect(new Set(expected.columns.map((c) => c.table)).size).toBe(28);
    expect(expected.foreignKeys.length).toBeGreaterThan(10);
  });

  it('has the same enums and values', () => {
    expect(actual.enums).toEqual(expected.enums);
  });

  it('has the same tables and columns, with the same types, nullability and database defaults', () => {
    const key = (c: { table: string; column: string }) => `${c.table}.${c.column}`;
    const sortBy = <T extends { table: string; column: string }>(xs: T[]) => [...xs].sort((a, b) => key(a).localeCompare(key(b)));
    expect(sortBy(actual.columns)).toEqual(sortBy(expected.columns));
  });

  it('has the same primary keys, unique constraints and indexes', () => {
    const norm = (xs: { table: string; columns: string[]; unique: boolean }[]) =>
      xs.map((i) => `${i.table}(${i.columns.join(',')})${i.unique ? ' unique' : ''}`).sort();
    expect(norm(actual.indexes)).toEqual(norm(expected.indexes));
  });

  it('has the same foreign keys with the same ON DELETE rules', () => {
    const norm = (xs: ExpectedSchema['foreignKeys']) =>
      xs.map((f) => `${f.table}(${f.columns}) -> ${f.refTable}(${f.refColumns}) ${f.onDelete}`).sort();
    expect(norm(actual.foreignKeys)).toEqual(norm(expected.foreignKeys));
  });
});

async function introspect(url: string) {
  return withClient(url, async (c) => {
    const enumRows = (
      await c.query(`SELECT t.typname, e.enumlabel FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid ORDER BY t.typname, e.enumsortorder`)
    ).rows;
    const enums: Record<string, string[]> = {};
    for (const r of enumRows) (enums[r.typname] ??= []).push(r.enumlabel);

    const columns = (
      await c.query(`
        SELECT table_name AS table, column_name AS column, udt_name AS udt, is_nullable = 'YES' AS nullable, column_default IS NOT NULL AS "hasDbDefault"
        FROM information_schema.columns WHERE table_schema = 'public' AND table_name <> '_prisma_migrations'`)
    ).rows;

    const indexes = (
      await c.query(`
        SELECT t.relname AS table, i.indisunique AS unique,
               array_agg(a.attname::text ORDER BY k.ord) AS columns
        FROM pg_index i
        JOIN pg_class t ON t.oid = i.indrelid
        JOIN pg_namespace n ON n.oid = t.relnamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
        JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum
        WHERE t.relname <> '_prisma_migrations'
        GROUP BY i.indexrelid, t.relname, i.indisunique`)
    ).rows;

    const foreignKeys = (
      await c.query(`
        SELECT cl.relname AS table, ref.relname AS "refTable",
               (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.conkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.n) AS columns,
               (SELECT array_agg(a.attname::text ORDER BY k.ord) FROM unnest(con.confkey) WITH ORDINALITY k(n, ord) JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.n) AS "refColumns",
               CASE con.confdeltype WHEN 'c' THEN 'CASCADE' WHEN 'r' THEN 'RESTRICT' WHEN 'n' THEN 'SET NULL' WHEN 'a' THEN 'NO ACTION' WHEN 'd' THEN 'SET DEFAULT' END AS "onDelete"
        FROM pg_constraint con
        JOIN pg_class cl ON cl.oid = con.conrelid
        JOIN pg_class ref ON ref.oid = con.confrelid
        WHERE con.contype = 'f'`)
    ).rows;
    return { enums, columns, indexes, foreignKeys };
  });
}
