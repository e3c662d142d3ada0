import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import { migrationChecksum } from '@/lib/engine/prisma-migrations';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { fileRequest } from '@/lib/services/file-request';
import { requestApply, requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { recordPassingRehearsal } from '../support/step-evidence';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let requestId: string;
let dba: Awaited<ReturnType<typeof makeUser>>;

const UP = 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n';
const DOWN = 'ALTER TABLE orders DROP COLUMN shipped_at;\n';
const save = (who: string, fields: Partial<{ name: string; upSql: string; downSql: string; dataSql: string }> = {}) =>
  saveMigrationRevision(who, SaveRevisionSchema.parse({ requestId, name: 'add_shipped_at', upSql: UP, downSql: DOWN, ...fields }));

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_shop');
  await withClient(shop.url, (c) => c.query(`CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now())`));
  const admin = await makeUser({ roles: ['admin'] });
  const target = await makeLiveTarget(admin.id, shop.name);
  dba = await makeUser({ agentRoles: ['database-administrator'] });
  requestId = (await fileRequest(admin.id, { title: 'Ship dates', kind: 'table_column_change', targetId: target.id, description: 'Track when orders ship.', priority: 'HIGH' })).id;
  await startWorker({ pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  await shop.drop();
});

describe('migration revisions', () => {
  it('refuses a syntax error on its field with line and column, saving nothing', async () => {
    const err = await save(dba.id, { downSql: 'ALTER TABLE orders\n  DROP COLUM shipped_at;' }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'invalid', field: 'downSql', message: 'down.sql: syntax error at or near "shipped_at" (line 2, column 14)' });
    expect(await getDb().migrationRevision.count({ where: { requestId } })).toBe(0);
  });

  it('refuses people without the Create migration role', async () => {
    const optimizer = await makeUser({ agentRoles: ['database-optimizer'] });
    expect(await save(optimizer.id).catch((e) => e)).toMatchObject({ code: 'forbidden' });
  });

  it('numbers revisions, checksums the migration.sql they stand for, and audits each save', async () => {
    const first = await save(dba.id);
    expect(first).toMatchObject({ revision: 1, checksum: migrationChecksum(UP) });
    expect((await getDb().migrationRevision.findUniqueOrThrow({ where: { id: first.id } })).plan).toEqual({
      up: { statements: 1, atomic: true, ownsTransactions: false, outside: [] },
      down: { statements: 1, atomic: true, ownsTransactions: false, outside: [] },
    });
    const cic = await save(dba.id, { upSql: 'CREATE INDEX CONCURRENTLY orders_placed_at_idx ON orders (placed_at);' });
    expect((await getDb().migrationRevision.findUniqueOrThrow({ where: { id: cic.id } })).plan).toMatchObject({
      up: { statements: 1, atomic: false, outside: [{ line: 1, kind: 'IndexStmt', reason: 'CREATE INDEX CONCURRENTLY cannot run inside a transaction' }] },
    });
    const second = await save(dba.id, { dataSql: "UPDATE orders SET shipped_at = placed_at WHERE placed_at < now() - interval '30 days';" });
    expect(second.revision).toBe(3);
    expect(second.checksum).not.toBe(first.checksum);
    expect(await getDb().auditLog.count({ where: { requestId, action: 'migration.revision_saved' } })).toBe(3);
  });
});

describe('rehearsal runs', () => {
  it('rehearses the latest revision through the worker and keeps every phase as evidence', async () => {
    const optimizer = await makeUser({ agentRoles: ['database-optimizer'] });
    expect(await requestRehearsal(optimizer.id, { requestId }).catch((e) => e)).toMatchObject({ code: 'forbidden' });

    const { runId } = await requestRehearsal(dba.id, { requestId });
    const run = await waitForRun(runId);
    expect(run.error).toBeNull();
    expect(run.status).toBe('succeeded');
    const result = run.result as { ok: boolean; revision: number; phases: { phase: string; status: string; changes?: string[] }[] };
    expect(result).toMatchObject({ ok: true, revision: 3 });
    expect(result.phases.map((p) => `${p.phase}:${p.status}`)).toEqual([
      'clone:ok', 'snapshot:ok', 'up:ok', 'verify-schema:ok', 'down:ok', 'verify-rollback:ok', 'redo:ok', 'drop:ok',
    ]);
    expect(result.phases.find((p) => p.phase === 'verify-schema')!.changes).toEqual(['+ column public.orders.shipped_at timestamp with time zone']);
    const log = (run.result as { log: string[] }).log;
    expect(log.some((l) => /^\d\d:\d\d:\d\d\.\d{3} ok: Verify rollback works \(\d+ ms\): the schema after down equals the original$/.test(l))).toBe(true);
  });

  it('fails the rehearsal when the down path does not restore the schema', async () => {
    await save(dba.id, { downSql: 'SELECT 1;' });
    const run = await waitForRun((await requestRehearsal(dba.id, { requestId })).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toBe('the schema after down differs from the original in 1 place(s)');
    expect(await getDb().auditLog.findFirst({ where: { entityId: run.id, action: 'run.failed' } })).not.toBeNull();
  });
});

describe('apply and roll back on a non-production target', () => {
  it('applies the latest revision with a Prisma history row, is a no-op twice, rolls back, and refuses outsiders and production', async () => {
    await save(dba.id); // revision with a working down path
    const engineer = await makeUser({ roles: ['engineer'], agentRoles: ['test-automator'] });
    expect(await requestApply(engineer.id, { requestId, direction: 'up' }).catch((e) => e)).toMatchObject({ code: 'forbidden' });

    // Beyond local, only a revision whose rehearsal passed is applied.
    expect(await requestApply(dba.id, { requestId, direction: 'up' }).catch((e) => e)).toMatchObject({
      code: 'conflict', message: expect.stringMatching(/^Revision \d+ has no passing rehearsal: rehearse it \(Test migration locally\) before applying it to Shop \(staging\)\.$/),
    });
    await recordPassingRehearsal(requestId);
    const applied = await waitForRun((await requestApply(dba.id, { requestId, direction: 'up' })).runId);
    expect(applied.error).toBeNull();
    expect(applied.status).toBe('succeeded');
    const result = applied.result as { migration: string; script: { statements: { status: string }[] } };
    expect(result.migration).toMatch(/^\d{14}_add_shipped_at$/);
    expect(result.script.statements.map((s) => s.status)).toEqual(['ok']);
    const history = await withClient(shop.url, async (c) => (await c.query(`SELECT migration_name, checksum, finished_at, applied_steps_count FROM _prisma_migrations`)).rows);
    const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
    expect(history).toEqual([{ migration_name: result.migration, checksum: revision.checksum, finished_at: expect.any(Date), applied_steps_count: 1 }]);
    const columns = () => withClient(shop.url, async (c) => (await c.query(`SELECT column_name FROM information_schema.columns WHERE table_name = 'orders' ORDER BY 1`)).rows.map((r) => r.column_name));
    expect(await columns()).toContain('shipped_at');

    const again = await waitForRun((await requestApply(dba.id, { requestId, direction: 'up' })).runId);
    expect(again.result).toMatchObject({ ok: true, note: 'already applied: nothing to do' });

    const down = await waitForRun((await requestApply(dba.id, { requestId, direction: 'down' })).runId);
    expect(down.status).toBe('succeeded');
    expect(await columns()).not.toContain('shipped_at');
    const [row] = await withClient(shop.url, async (c) => (await c.query(`SELECT rolled_back_at FROM _prisma_migrations`)).rows);
    expect(row.rolled_back_at).toBeInstanceOf(Date);

    await getDb().targetDatabase.updateMany({ data: { environment: 'production' } });
    const prod = await requestApply(dba.id, { requestId, direction: 'up' }).catch((e) => e);
    expect(prod).toMatchObject({ code: 'forbidden' });
    expect(prod.message).toContain('production target');
    await getDb().targetDatabase.updateMany({ data: { environment: 'staging' } });
  });

  it('records a failing statement with its position and leaves the target as it was', async () => {
    await save(dba.id, { upSql: 'ALTER TABLE orders ADD COLUMN a int;\nALTER TABLE orders ADD COLUMN a int;\n', name: 'twice' });
    await recordPassingRehearsal(requestId);
    const run = await waitForRun((await requestApply(dba.id, { requestId, direction: 'up' })).runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/^Migration \d{14}_twice failed and was rolled back: column "a" of relation "orders" already exists \(statement at line 2\)$/);
    expect((run.result as { script: { statements: { status: string }[] } }).script.statements.map((s) => s.status)).toEqual(['rolled_back', 'failed']);
    const cols = await withClient(shop.url, async (c) => (await c.query(`SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'a'`)).rows[0].n);
    expect(cols).toBe(0);
  });
});

describe('download as a Prisma migrations folder', () => {
  it('exports a .tar.gz that tar extracts and cutover applies, with the revision checksum', async () => {
    const { execFileSync } = await import('node:child_process');
    const { mkdtempSync, readFileSync, writeFileSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const path = await import('node:path');
    const { tarGz } = await import('@/lib/engine/archive');
    const { exportMigrationFolder } = await import('@/lib/services/migration-revisions');
    const { cutover } = await import('../support/cli');

    await save(dba.id, { name: 'export_me', upSql: 'CREATE TABLE exported (id int);\n', downSql: 'DROP TABLE exported;\n', dataSql: 'INSERT INTO exported VALUES (1);' });
    const folder = await exportMigrationFolder(dba.id, { requestId });
    const dir = mkdtempSync(path.join(tmpdir(), 'export-'));
    writeFileSync(path.join(dir, folder.fileName), tarGz(folder.files));
    execFileSync('tar', ['-xzf', folder.fileName], { cwd: dir });
    const migrationsDir = path.join(dir, 'prisma', 'migrations');
    const [name] = folder.files[1].path.split('/').slice(-2, -1);
    expect(readFileSync(path.join(migrationsDir, name, 'migration.sql'), 'utf8')).toBe('CREATE TABLE exported (id int);\n\n-- Data transformation\nINSERT INTO exported VALUES (1);\n');
    expect(readFileSync(path.join(migrationsDir, name, 'down.sql'), 'utf8')).toBe('DROP TABLE exported;\n');
    expect(readFileSync(path.join(migrationsDir, 'migration_lock.toml'), 'utf8')).toContain('provider = "postgresql"');

    const empty = await createScratchDatabase('cutover_export');
    try {
      expect((await cutover('apply', '--url', empty.url, '--dir', migrationsDir)).code).toBe(0);
      const rows = await withClient(empty.url, async (c) => (await c.query('SELECT migration_name, checksum FROM _prisma_migrations')).rows);
      expect(rows).toEqual([{ migration_name: name, checksum: folder.checksum }]);
    } finally {
      await empty.drop();
    }
    expect(await exportMigrationFolder(dba.id, { requestId, revision: 999 }).catch((e) => e)).toMatchObject({ code: 'not_found' });
  });
});

describe('the migration panel', () => {
  it('shows the latest revision and what changed from the one before, file by file', async () => {
    const { getMigrationPanel } = await import('@/lib/data/runs');
    await save(dba.id, { name: 'panel', upSql: 'CREATE TABLE p (id int);\n', downSql: 'DROP TABLE p;\n' });
    await save(dba.id, { name: 'panel', upSql: 'CREATE TABLE p (id int);\nCREATE INDEX p_id ON p (id);\n', downSql: 'DROP TABLE p;\n' });
    const panel = await getMigrationPanel(dba, requestId);
    expect(panel.latest).toMatchObject({ name: 'panel', upSql: 'CREATE TABLE p (id int);\nCREATE INDEX p_id ON p (id);\n' });
    expect(panel.revisions[0].revision).toBe(panel.revisions[1].revision + 1);
    expect(panel.changesFromPrevious!.files.map((f) => f.file)).toEqual(['migration.sql']);
    expect(panel.changesFromPrevious!.files[0].lines!.filter((l) => l.op !== ' ')).toEqual([{ op: '+', text: 'CREATE INDEX p_id ON p (id);' }]);
    expect(panel.lastChange).toMatchObject({ kind: expect.stringMatching(/apply|down/) });
  });
});
