import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareWithShape, parsePrismaSchema, PrismaSchemaParseError } from '@/lib/app-schema';
import { getDb } from '@/lib/db/client';
import { migrateAppStore } from '@/lib/db/migrate';
import type { SchemaShapeEvidence } from '@/lib/domain/step-evidence';
import { takeSnapshot, type SchemaShape } from '@/lib/engine';
import { stopBoss } from '@/lib/jobs/queue';
import { compareAppSchema } from '@/lib/services/app-schema';
import { latestEvidence, recordEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { saveMigrationRevision } from '@/lib/services/migration-revisions';
import { createProject } from '@/lib/services/projects';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { ProjectSchema } from '@/lib/validation/project';
import { FileRequestSchema } from '@/lib/validation/request';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { SHOP_PRISMA_SCHEMA, SHOP_SQL } from '../support/app-schema-fixture';
import { createAppRepository } from '../support/git-repo';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * Real inputs on both sides: schema.prisma files and the schema their SQL produces in a real
 * PostgreSQL, snapshotted by the engine as a rehearsal does after "up".
 */
const ownSchema = readFileSync(path.join(process.cwd(), 'prisma', 'schema.prisma'), 'utf8');
let cutoverShape: SchemaShape;
let shopShape: SchemaShape;
let handMadeShape: SchemaShape;

/**
 * A database a team made by hand (issue 8's trial): serial ids, timestamptz DEFAULT now(), foreign keys
 * that name no action (NO ACTION), a uuid filled in by the database, an updated_at with a default, a
 * numeric default written with its scale and a timestamp(3) default with a cast.
 */
const HAND_MADE_SQL = `
CREATE TABLE customers (
  id serial PRIMARY KEY,
  email varchar(200) NOT NULL UNIQUE,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE coupons (
  id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  code text NOT NULL,
  created_at timestamp(3) NOT NULL DEFAULT now()::timestamp(3),
  valid_from timestamptz NOT NULL DEFAULT transaction_timestamp()
);
CREATE TABLE orders (
  id serial PRIMARY KEY,
  customer_id integer NOT NULL REFERENCES customers(id),
  coupon_id uuid REFERENCES coupons(id),
  status text NOT NULL DEFAULT 'placed',
  total numeric(10,2) NOT NULL DEFAULT 0.00,
  created_at timestamptz NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX orders_customer_id_idx ON orders(customer_id);
`;

/** The same database as \`prisma db pull\` writes it: actions named where they are not Prisma's defaults. */
const HAND_MADE_PULLED = `generator client {
  provider = "prisma-client-js"
}

datasource db {
  provider = "postgresql"
}

model customers {
  id         Int      @id @default(autoincrement())
  email      String   @unique @db.VarChar(200)
  name       String
  created_at DateTime @default(now()) @db.Timestamptz(6)
  updated_at DateTime @default(now()) @db.Timestamptz(6)
  orders     orders[]
}

model coupons {
  id         String   @id @default(dbgenerated("gen_random_uuid()")) @db.Uuid
  code       String
  created_at DateTime @default(dbgenerated("(now())::timestamp(3) without time zone")) @db.Timestamp(3)
  valid_from DateTime @default(dbgenerated("transaction_timestamp()")) @db.Timestamptz(6)
  orders     orders[]
}

model orders {
  id          Int       @id @default(autoincrement())
  customer_id Int
  coupon_id   String?   @db.Uuid
  status      String    @default("placed")
  total       Decimal   @default(0.00) @db.Decimal(10, 2)
  created_at  DateTime  @default(now()) @db.Timestamptz(6)
  coupons     coupons?  @relation(fields: [coupon_id], references: [id], onDelete: NoAction, onUpdate: NoAction)
  customers   customers @relation(fields: [customer_id], references: [id], onDelete: NoAction, onUpdate: NoAction)

  @@index([customer_id])
}
`;

/** The same database as a developer writes it by hand: Prisma's own defaults, no actions named on the required relation. */
const HAND_MADE_WRITTEN = `generator client {
  provider = "prisma-client"
}

datasource db {
  provider = "postgresql"
}

model Customer {
  id        Int      @id @default(autoincrement())
  email     String   @unique @db.VarChar(200)
  name      String
  createdAt DateTime @default(now()) @map("created_at") @db.Timestamptz(6)
  updatedAt DateTime @updatedAt @map("updated_at") @db.Timestamptz(6)
  orders    Order[]

  @@map("customers")
}

model Coupon {
  id        String   @id @default(uuid()) @db.Uuid
  code      String
  createdAt DateTime @default(now()) @map("created_at")
  validFrom DateTime @default(now()) @map("valid_from") @db.Timestamptz(6)
  orders    Order[]

  @@map("coupons")
}

model Order {
  id         Int      @id @default(autoincrement())
  customerId Int      @map("customer_id")
  couponId   String?  @map("coupon_id") @db.Uuid
  status     String   @default("placed")
  total      Decimal  @default(0) @db.Decimal(10, 2)
  createdAt  DateTime @default(now()) @map("created_at") @db.Timestamptz(6)
  customer   Customer @relation(fields: [customerId], references: [id])
  coupon     Coupon?  @relation(fields: [couponId], references: [id], onDelete: NoAction)

  @@index([customerId])
  @@map("orders")
}
`;
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
  handMadeShape = await shapeOf('cutover_appschema_hand', (url) => withClient(url, async (c) => { await c.query(HAND_MADE_SQL); }));
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
  it("finds no difference between Cutover's own schema.prisma and the database its migrations build, but the one index schema.prisma cannot state", () => {
    const expected = parsePrismaSchema(ownSchema);
    expect(expected.provider).toBe('postgresql');
    expect(expected.tables.length).toBeGreaterThan(25);
    // Agent names are unique whatever their case (UNIQUE (lower(name)) WHERE kind = 'agent'): an index on
    // an expression, which Prisma has no syntax for. The comparison says so, as it would in an app.
    expect(compareWithShape(expected, cutoverShape)).toEqual([
      { key: 'index:public.users(lower(name))', description: expect.stringContaining('unique index users_agent_name_key on (lower(name)) that schema.prisma does not declare') },
    ]);
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

  it('finds no difference with a hand-made database, as prisma db pull writes its schema.prisma or as a developer writes it', () => {
    expect(differencesFor(HAND_MADE_PULLED, handMadeShape)).toEqual([]);
    expect(differencesFor(HAND_MADE_WRITTEN, handMadeShape)).toEqual([]);
  });

  it('treats the spellings of "the start of the transaction" as one default, and no other', () => {
    for (const spelling of ['now()', 'CURRENT_TIMESTAMP', 'CURRENT_TIMESTAMP(3)', 'transaction_timestamp()', 'LOCALTIMESTAMP', '(now())::timestamp(3) without time zone']) {
      const schema = HAND_MADE_WRITTEN.replace('@default(now()) @map("valid_from")', `@default(dbgenerated("${spelling}")) @map("valid_from")`);
      expect(schema).not.toBe(HAND_MADE_WRITTEN);
      expect(keysFor(schema, handMadeShape)).toEqual([]);
    }
    const clock = HAND_MADE_WRITTEN.replace('@default(now()) @map("valid_from")', '@default(dbgenerated("clock_timestamp()")) @map("valid_from")');
    expect(keysFor(clock, handMadeShape)).toEqual(['column:public.coupons.valid_from:default']);
    // A default the app does not fill in is still compared: the database has one, schema.prisma none.
    expect(keysFor(HAND_MADE_WRITTEN.replace('@default(now()) @map("created_at") @db.Timestamptz(6)\n  updatedAt', '@map("created_at") @db.Timestamptz(6)\n  updatedAt'), handMadeShape))
      .toEqual(['column:public.customers.created_at:default']);
  });

  it("accepts NO ACTION for Prisma's implicit actions, but reports an action schema.prisma names and an implicit SetNull", () => {
    const cascade = HAND_MADE_WRITTEN.replace('@relation(fields: [customerId], references: [id])', '@relation(fields: [customerId], references: [id], onDelete: Cascade, onUpdate: Cascade)');
    expect(differencesFor(cascade, handMadeShape)).toEqual([
      { key: 'foreign-key:public.orders(customer_id):on-delete', description: 'Model Order (table public.orders): relation Order.customer is ON DELETE NO ACTION in the database, ON DELETE CASCADE in schema.prisma.' },
      { key: 'foreign-key:public.orders(customer_id):on-update', description: 'Model Order (table public.orders): relation Order.customer is ON UPDATE NO ACTION in the database, ON UPDATE CASCADE in schema.prisma.' },
    ]);
    // An optional relation without onDelete is SetNull in Prisma: deleting a coupon would fail, not clear the orders' coupon.
    const implicitSetNull = HAND_MADE_WRITTEN.replace('references: [id], onDelete: NoAction)', 'references: [id])');
    expect(differencesFor(implicitSetNull, handMadeShape)).toEqual([{
      key: 'foreign-key:public.orders(coupon_id):on-delete',
      description: "Model Order (table public.orders): relation Order.coupon is ON DELETE NO ACTION in the database, ON DELETE SET NULL in schema.prisma (Prisma's default: the relation names no onDelete).",
    }]);
    // Explicit Restrict against NO ACTION: the app named it, so it is reported.
    const restrict = HAND_MADE_WRITTEN.replace('@relation(fields: [customerId], references: [id])', '@relation(fields: [customerId], references: [id], onDelete: Restrict)');
    expect(keysFor(restrict, handMadeShape)).toEqual(['foreign-key:public.orders(customer_id):on-delete']);
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

describe('Update app code: differences already there before the migration', () => {
  /** The hand-made shop has an index the app never declared; the migration adds shipped_at to orders. */
  const EXTRA_INDEX_SQL = 'CREATE INDEX orders_status_idx ON orders(status);';
  const ADD_SHIPPED_AT = 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;';
  const SHIPPED_AT_FIELD = '  shippedAt  DateTime? @map("shipped_at") @db.Timestamptz(6)\n  customer   Customer @relation';
  const withShippedAt = HAND_MADE_WRITTEN.replace('  customer   Customer @relation', SHIPPED_AT_FIELD);

  let store: Awaited<ReturnType<typeof openTestAppStore>>;
  let admin: Awaited<ReturnType<typeof makeUser>>;
  let specialist: Awaited<ReturnType<typeof makeUser>>;
  let before: { hash: string; shape: SchemaShape };
  let afterUp: SchemaShape;
  let dataDir: string;
  const savedDataDir = process.env.CUTOVER_DATA_DIR;

  beforeAll(async () => {
    // The database before and after up, as the rehearsal snapshots them.
    const db = await createScratchDatabase('cutover_appschema_before');
    drops.push(db.drop);
    await withClient(db.url, async (c) => {
      await c.query(HAND_MADE_SQL);
      await c.query(EXTRA_INDEX_SQL);
      const s = await takeSnapshot(c);
      before = { hash: s.hash, shape: s.shape };
      await c.query(ADD_SHIPPED_AT);
      afterUp = (await takeSnapshot(c)).shape;
    });
    store = await openTestAppStore();
    dataDir = mkdtempSync(path.join(tmpdir(), 'cutover-appschema-data-'));
    process.env.CUTOVER_DATA_DIR = dataDir;
    admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
    specialist = await makeUser({ roles: ['engineer'], agentRoles: ['language-specialist'], name: 'Lina Specialist' });
  });
  afterAll(async () => {
    await stopBoss();
    await store?.close();
    if (savedDataDir === undefined) delete process.env.CUTOVER_DATA_DIR;
    else process.env.CUTOVER_DATA_DIR = savedDataDir;
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  /** A request whose project deploys main (the app as deployed) and whose branch carries the change; a passing rehearsal started from `beforeHash`. */
  async function requestFor(branchSchema: string, options: { snapshotStored: boolean }) {
    const repo = createAppRepository({ 'prisma/schema.prisma': HAND_MADE_WRITTEN, 'package.json': '{"name":"shop","version":"1.0.0"}' });
    repo.commit('feature/shipped-at', { 'prisma/schema.prisma': branchSchema }, 'orders get shipped_at');
    const { id: projectId } = await createProject(admin.id, ProjectSchema.parse({ name: `Shop ${Math.random().toString(16).slice(2, 8)}`, repositoryUrl: repo.origin }));
    const target = await makeTarget();
    if (options.snapshotStored) {
      // The target's snapshot (Analyze database change): the same schema the rehearsal's copy started from.
      await getDb().schemaSnapshot.create({ data: { targetId: target.id, hash: before.hash, serverVersion: '15', shape: before.shape as object, stats: {} } });
    }
    const { id: requestId } = await fileRequest(admin.id, FileRequestSchema.parse({
      title: 'Shipped at', kind: 'schema_change', targetId: target.id, description: 'Orders get shipped_at.', projectId, appBranch: 'feature/shipped-at',
    }));
    const revision = await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'add_shipped_at', upSql: ADD_SHIPPED_AT, downSql: 'ALTER TABLE orders DROP COLUMN shipped_at;' }));
    // The rehearsal handler records this when a rehearsal passes; here it is a fixture with real shapes.
    await getDb().$transaction((tx) => recordEvidence(tx, {
      kind: 'rehearsal', targetId: target.id, requestId, revision, passed: true, summary: 'rehearsal passed',
      detail: {
        revision: revision.revision, ok: true, phases: [{ phase: 'up', label: 'Up', status: 'ok', durationMs: 5 }], hashes: { before: before.hash, afterUp: 'x' },
        sampleRows: 0, dataLoss: { passed: true, summary: 'no data lost' }, afterUpShape: afterUp as unknown as SchemaShapeEvidence,
      },
    }));
    return { repo, requestId };
  }

  it('lists a difference the deployed app already had apart, and it does not block the step', async () => {
    const { repo, requestId } = await requestFor(withShippedAt, { snapshotStored: true });
    try {
      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: true, differences: 1, open: 0, preExisting: 1 });
      const evidence = await latestEvidence(requestId, 'app_schema');
      expect(evidence?.detail?.differences).toEqual([expect.objectContaining({ key: 'index:public.orders(status)', preExisting: true })]);
      expect(evidence?.detail?.baseline).toEqual({ branch: 'main', commit: repo.head('main'), snapshotHash: before.hash });
      expect(evidence?.summary).toMatch(/agrees with what this migration changes; 1 already different before this migration \(not blocking\)$/);
    } finally {
      repo.remove();
    }
  });

  it("still blocks on what this change gets wrong: a field the branch adds that the migration forgot", async () => {
    const forgot = withShippedAt.replace(SHIPPED_AT_FIELD, `  trackingCode String? @map("tracking_code")\n${SHIPPED_AT_FIELD}`);
    const { repo, requestId } = await requestFor(forgot, { snapshotStored: true });
    try {
      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: false, differences: 2, open: 1, preExisting: 1 });
      const evidence = await latestEvidence(requestId, 'app_schema');
      expect(evidence?.detail?.differences.find((d) => d.key === 'column:public.orders.tracking_code')?.preExisting).toBeUndefined();
      expect(evidence?.summary).toMatch(/1 of 1 difference not explained; 1 already different before this migration/);
    } finally {
      repo.remove();
    }
  });

  it('counts every difference as the migration\'s when the schema before is not known', async () => {
    const { repo, requestId } = await requestFor(withShippedAt, { snapshotStored: false });
    try {
      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: false, differences: 1, open: 1, preExisting: 0 });
      expect((await latestEvidence(requestId, 'app_schema'))?.detail?.baseline).toBeNull();
    } finally {
      repo.remove();
    }
  });
});
