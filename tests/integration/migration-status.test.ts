import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { tarGz } from '@/lib/engine/archive';
import { migrationChecksum } from '@/lib/engine/prisma-migrations';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { importMigrationFolder, requestFromPendingMigration, requestStatusCheck } from '@/lib/services/migration-status';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { cutover } from '../support/cli';
import { createScratchDatabase } from '../support/scratch-db';
import { recordPassingRehearsal } from '../support/step-evidence';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
const dbs: Awaited<ReturnType<typeof createScratchDatabase>>[] = [];

const INIT = 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY);\n';
const POSTS = 'CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);\n';
const archive = (posts = POSTS) =>
  tarGz([
    { path: 'prisma/migrations/migration_lock.toml', content: 'provider = "postgresql"\n' },
    { path: 'prisma/migrations/20240101000000_init/migration.sql', content: INIT },
    { path: 'prisma/migrations/20240102000000_posts/migration.sql', content: posts },
    { path: 'prisma/migrations/20240102000000_posts/down.sql', content: 'DROP TABLE "Post";\n' },
  ]);

beforeAll(async () => {
  store = await openTestAppStore();
  await startWorker({ pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  for (const d of dbs) await d.drop();
});

describe('migration status across targets', () => {
  it('imports a folder, refuses archives without migrations and people without the role', async () => {
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const engineer = await makeUser({ roles: ['engineer'] });
    expect(await importMigrationFolder(engineer.id, { fileName: 'm.tar.gz', bytes: archive() }).catch((e) => e)).toMatchObject({ code: 'forbidden' });
    expect(await importMigrationFolder(dba.id, { fileName: 'x.txt', bytes: Buffer.from('hello') }).catch((e) => e)).toMatchObject({ code: 'invalid', field: 'archive' });
    expect(await importMigrationFolder(dba.id, { fileName: 'e.tar.gz', bytes: tarGz([{ path: 'README.md', content: 'x' }]) }).catch((e) => e)).toMatchObject({
      code: 'invalid',
      message: 'No Prisma migrations in this archive (expected <timestamp>_<name>/migration.sql folders).',
    });
    const { migrations } = await importMigrationFolder(dba.id, { fileName: 'm.tar.gz', bytes: archive() });
    expect(migrations).toBe(2);
  });

  it('refuses uploads by people without the role before reading them, and archives past the caps with a clear message', async () => {
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const engineer = await makeUser({ roles: ['engineer'] });
    // 64 MB of zeros in ~64 KB: a 1,000:1 bomb.
    const bomb = gzipSync(Buffer.alloc(64_000_000), { level: 9 });
    expect(64_000_000 / bomb.length).toBeGreaterThan(1000);
    // The role is checked first: an outsider learns nothing about the archive, not even that it is one.
    expect(await importMigrationFolder(engineer.id, { fileName: 'b.tar.gz', bytes: bomb }).catch((e) => e)).toMatchObject({ code: 'forbidden' });
    expect(await importMigrationFolder(dba.id, { fileName: 'b.tar.gz', bytes: bomb }).catch((e) => e)).toMatchObject({
      code: 'invalid', field: 'archive', message: 'The archive unpacks to more than 32 MB; upload only the migrations folder.',
    });
    const huge = tarGz([{ path: 'prisma/migrations/20240101000000_init/migration.sql', content: `-- ${'x'.repeat(1_000_000)}\n` }]);
    expect(await importMigrationFolder(dba.id, { fileName: 'h.tar.gz', bytes: huge }).catch((e) => e)).toMatchObject({
      code: 'invalid', message: 'prisma/migrations/20240101000000_init/migration.sql is larger than 1 MB, the most one migration file may hold.',
    });
    expect(await getDb().migrationFolder.count({ where: { name: { in: ['b.tar.gz', 'h.tar.gz'] } } })).toBe(0);
  });

  it('shows applied, pending and modified per target, and turns a pending one into a request with its migration', async () => {
    const admin = await makeUser({ roles: ['admin', 'engineer'] });
    // Three targets: up to date, behind by one, and one whose applied migration was edited later.
    const names = ['current', 'behind', 'edited'];
    const targets: Record<string, string> = {};
    for (const n of names) {
      const db = await createScratchDatabase(`cutover_status_${n}`);
      dbs.push(db);
      targets[n] = (await makeLiveTarget(admin.id, db.name, `Status ${n}`)).id;
      const dir = mkdtempSync(path.join(tmpdir(), 'status-'));
      const files = n === 'behind' ? { '20240101000000_init': INIT } : { '20240101000000_init': INIT, '20240102000000_posts': n === 'edited' ? 'CREATE TABLE "Post" ("id" INTEGER);\n' : POSTS };
      for (const [name, sql] of Object.entries(files)) {
        mkdirSync(path.join(dir, name));
        writeFileSync(path.join(dir, name, 'migration.sql'), sql);
      }
      expect((await cutover('apply', '--url', db.url, '--dir', dir)).code).toBe(0);
    }
    const folder = await importMigrationFolder(admin.id, { fileName: 'm.tar.gz', bytes: archive() });
    const { runs } = await requestStatusCheck(admin.id, { folderId: folder.id });
    expect(runs).toBe(3);
    const done = await getDb().run.findMany({ where: { folderId: folder.id } });
    const states: Record<string, Record<string, string>> = {};
    for (const r of done) {
      const run = await waitForRun(r.id);
      expect(run.status).toBe('succeeded');
      const entries = (run.result as { entries: { name: string; state: string }[] }).entries;
      const name = Object.entries(targets).find(([, id]) => id === run.targetId)![0];
      states[name] = Object.fromEntries(entries.map((e) => [e.name, e.state]));
    }
    expect(states).toEqual({
      current: { '20240101000000_init': 'applied', '20240102000000_posts': 'applied' },
      behind: { '20240101000000_init': 'applied', '20240102000000_posts': 'pending' },
      edited: { '20240101000000_init': 'applied', '20240102000000_posts': 'modified' },
    });

    const { requestId } = await requestFromPendingMigration(admin.id, { folderId: folder.id, migrationName: '20240102000000_posts', targetId: targets.behind });
    const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId }, include: { revisions: true } });
    expect(request).toMatchObject({ title: 'Apply 20240102000000_posts to Status behind', targetId: targets.behind });
    expect(request.revisions).toHaveLength(1);
    expect(request.revisions[0]).toMatchObject({ name: '20240102000000_posts', upSql: POSTS, downSql: 'DROP TABLE "Post";\n', checksum: migrationChecksum(POSTS) });

    // Applied from the request, it lands under its own name: the board then shows it applied.
    const { requestApply } = await import('@/lib/services/migration-revisions');
    await recordPassingRehearsal(requestId);
    const applied = await waitForRun((await requestApply(admin.id, { requestId, direction: 'up' })).runId);
    expect(applied.result).toMatchObject({ ok: true, migration: '20240102000000_posts' });
    await requestStatusCheck(admin.id, { folderId: folder.id });
    const recheck = await getDb().run.findFirstOrThrow({ where: { folderId: folder.id, targetId: targets.behind }, orderBy: { queuedAt: 'desc' } });
    const after = (await waitForRun(recheck.id)).result as { entries: { name: string; state: string }[] };
    expect(after.entries.map((e) => e.state)).toEqual(['applied', 'applied']);
  });
});
