import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithShape, parsePrismaSchema, PrismaSchemaParseError } from '@/lib/app-schema';
import { migrateAppStore } from '@/lib/db/migrate';
import { takeSnapshot, type SchemaShape } from '@/lib/engine';
import { SHOP_PRISMA_SCHEMA, SHOP_SQL } from '../support/app-schema-fixture';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * Real inputs on both sides: schema.prisma files and the schema their SQL produces in a real
 * PostgreSQL, snapshotted by the engine as a rehearsal does after "up".
 */
const ownSchema = readFileSync(path.join(process.cwd(), 'prisma', 'schema.prisma'), 'utf8');
let cutoverShape: SchemaShape;
let shopShape: SchemaShape;
const drops: (() => Promise<void>)[] = [];

async function shapeOf(prefix: string, build: (url: string) => Promise<void>): Promise<SchemaShape> {
  const db = await createScratchDatabase(prefix);
  drops.push(db.drop);
  await build(db.url);
  return withClient(db.url, async (c) => (await takeSnapshot(c)).shape);
}

beforeAll(async () => {
  cutoverShape = await shapeOf('cutover_appschema', async (url) => { await migrateAppStore(url); });
  shopShape = await shapeOf('cutover_appschema_shop', (url) => withClient(url, async (c) => { await c.query(SHOP_SQL); }));
});
afterAll(async () => {
  for (const drop of drops) await drop();
});

const differencesFor = (schema: string, shape = shopShape) => compareWithShape(parsePrismaSchema(schema), shape);
const keysFor = (schema: string, shape = shopShape) => differencesFor(schema, shape).map((d) => d.key);
/** The shop's schema.prisma with one edit; the edit must apply (guards the test). */
function edited(find: string, replace: string): string {
  expect(SHOP_PRISMA_SCHEMA).toContain(find);
  return SHOP_PRISMA_SCHEMA.replace(find, replace);
}

describe('comparing schema.prisma with the rehearsed schema', () => {
  it("finds no difference between Cutover's own schema.prisma and the database its migrations build", () => {
    const expected = parsePrismaSchema(ownSchema);
    expect(expected.provider).toBe('postgresql');
    expect(expected.tables.length).toBeGreaterThan(25);
    expect(compareWithShape(expected, cutoverShape)).toEqual([]);
  });

  it('agrees with a schema written as Prisma Migrate writes it (maps, enums, native types, lists, many-to-many)', () => {
    expect(differencesFor(SHOP_PRISMA_SCHEMA)).toEqual([]);
  });

  it('lists a field the database lacks, and a column the model lacks', () => {
    const diffs = differencesFor(edited('  notes      String[]\n', '  notes      String[]\n  trackingCode String? @map("tracking_code")\n'));
    expect(diffs).toEqual([{
      key: 'column:public.orders.tracking_code',
      description: 'Model Order (table public.orders), field trackingCode (column tracking_code): the column does not exist in the database after the migration.',
    }]);
    expect(keysFor(edited('  name      String?\n', ''))).toEqual(['column:public.customers.name']);
    expect(differencesFor(edited('  name      String?\n', ''))[0].description).toMatch(/has column name \(text\) that schema.prisma does not declare/);
  });

  it('lists types, nullability and defaults that differ', () => {
    expect(keysFor(edited('@unique @db.VarChar(200)', '@unique'))).toEqual(['column:public.customers.email:type']);
    expect(differencesFor(edited('@unique @db.VarChar(200)', '@unique'))[0].description).toBe(
      'Model Customer (table public.customers), field email: the column is character varying(200) in the database, text in schema.prisma.',
    );
    expect(keysFor(edited('  name      String?', '  name      String'))).toEqual(['column:public.customers.name:nullable']);
    expect(keysFor(edited('@default(PENDING)', '@default(SHIPPED)'))).toEqual(['column:public.orders.status:default']);
    expect(keysFor(edited('@default(0) @db.Decimal(10, 2)', '@db.Decimal(10, 2)'))).toEqual(['column:public.orders.total:default']);
    expect(keysFor(edited('@id @default(uuid()) @db.Uuid', '@id @default(dbgenerated("gen_random_uuid()")) @db.Uuid'))).toEqual(['column:public.orders.id:default']);
    expect(keysFor(edited('DateTime @default(now())', 'DateTime @default(now()) @db.Timestamptz(3)'))).toEqual(['column:public.customers.created_at:type']);
  });

  it('follows @map and @@map: a wrong database name is a missing column or table', () => {
    expect(keysFor(edited('@map("customer_id")', '@map("customerId")'))).toEqual(expect.arrayContaining([
      'column:public.orders.customerId', 'column:public.orders.customer_id',
    ]));
    const unmapped = keysFor(edited('  @@map("customers")\n', ''));
    expect(unmapped).toEqual(expect.arrayContaining(['table:public.Customer', 'table:public.customers']));
  });

  it('lists indexes, unique constraints and relations that differ', () => {
    expect(keysFor(edited('  @@index([customerId, status(sort: Desc)])\n', ''))).toEqual(['index:public.orders(customer_id, status DESC)']);
    // Sort order is part of the index: the ascending one is missing, the descending one has no model.
    expect(keysFor(edited('status(sort: Desc)', 'status'))).toEqual(['index:public.orders(customer_id, status DESC)', 'index:public.orders(customer_id, status)']);
    expect(keysFor(edited('  label     String     @unique', '  label     String'))).toEqual(['index:public.Tag(label)']);
    expect(keysFor(edited('@@index([customerId, status(sort: Desc)])', '@@unique([customerId, status(sort: Desc)])'))).toEqual(['index:public.orders(customer_id, status DESC):unique']);
    expect(keysFor(edited('onDelete: Cascade)', 'onDelete: Restrict)'))).toEqual(['foreign-key:public.orders(customer_id):on-delete']);
    expect(differencesFor(edited('onDelete: Cascade)', 'onDelete: Restrict)'))[0].description).toBe(
      'Model Order (table public.orders): relation Order.customer is ON DELETE CASCADE in the database, ON DELETE RESTRICT in schema.prisma.',
    );
    expect(keysFor(edited('@unique @db.VarChar(200)', '@unique(map: "customer_email") @db.VarChar(200)'))).toEqual(['index:public.customers(email):name']);
  });

  it('lists enum values and models the database lacks', () => {
    expect(keysFor(edited('  SHIPPED @map("shipped")\n', '  SHIPPED @map("shipped")\n  CANCELLED\n'))).toEqual(['enum:public.OrderStatus:values']);
    const withModel = `${SHOP_PRISMA_SCHEMA}\nmodel Coupon {\n  code String @id\n}\n`;
    expect(differencesFor(withModel)).toEqual([{ key: 'table:public.Coupon', description: 'Model Coupon (table public.Coupon): the table does not exist in the database after the migration.' }]);
  });

  it('says where a schema.prisma does not parse', () => {
    const broken = SHOP_PRISMA_SCHEMA.replace('model Tag {', 'model Tag {{');
    expect(() => parsePrismaSchema(broken)).toThrow(PrismaSchemaParseError);
    try {
      parsePrismaSchema(broken);
    } catch (err) {
      expect((err as PrismaSchemaParseError).line).toBe(SHOP_PRISMA_SCHEMA.split('\n').findIndex((l) => l.startsWith('model Tag')) + 1);
      expect((err as Error).message).toMatch(/^schema.prisma does not parse at line \d+/);
    }
  });
});
