import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { tarGz } from '@/lib/engine/archive';
import { migrationChecksum } from '@/lib/engine/prisma-migrations';
import { exportMigrationFolder, requestApply, requestRehearsal } from '@/lib/services/migration-revisions';
import { importMigrationFolder, requestFromPendingMigration } from '@/lib/services/migration-status';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';

let store: Awaited<ReturnType<typeof openTestAppStore>>;

// Most real Prisma folders have no down.sql; this one is CRLF, to prove the bytes survive too.
const INIT = 'CREATE TABLE "User" ("id" SERIAL PRIMARY KEY,\r\n  "email" TEXT NOT NULL);\r\n';
const POSTS = 'CREATE TABLE "Post" ("id" SERIAL PRIMARY KEY);';

beforeAll(async () => {
  store = await openTestAppStore();
});
afterAll(async () => {
  await store.close();
});

async function importFolder(actorId: string) {
  return importMigrationFolder(actorId, {
    fileName: 'team.tar.gz',
    bytes: tarGz([
      { path: 'prisma/migrations/20230404095503_initial_migration/migration.sql', content: INIT },
      { path: 'prisma/migrations/20230405000000_posts/migration.sql', content: POSTS },
      { path: 'prisma/migrations/20230405000000_posts/down.sql', content: 'DROP TABLE "Post";\n' },
    ]),
  });
}

describe('a pending migration becomes a request with its SQL', () => {
  it('without a down.sql: revision 1 holds migration.sql byte for byte and the way back is still to write', async () => {
    const lead = await makeUser({ roles: ['lead', 'engineer'] });
    const target = await makeTarget();
    const folder = await importFolder(lead.id);
    // A lead files it: no database-administrator role is needed to record the team's own file.
    const { requestId, existing } = await requestFromPendingMigration(lead.id, { folderId: folder.id, migrationName: '20230404095503_initial_migration', targetId: target.id });
    expect(existing).toBe(false);
    const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId }, include: { revisions: true } });
    expect(request.sourceMigration).toBe('20230404095503_initial_migration');
    expect(request.revisions).toHaveLength(1);
    expect(request.revisions[0]).toMatchObject({
      revision: 1, name: '20230404095503_initial_migration', upSql: INIT, downSql: '', dataSql: null, checksum: migrationChecksum(Buffer.from(INIT)),
    });
    expect(request.revisions[0].plan).toMatchObject({ up: { statements: 1, atomic: true }, down: null });
    // Filing and revision 1 are audited together.
    const audit = await getDb().auditLog.findMany({ where: { requestId }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['request.filed', 'migration.revision_imported']);
    expect(audit[1].after).toMatchObject({ revision: 1, downSql: 'still to write', migration: '20230404095503_initial_migration' });

    // The export has no down.sql, and the checksum is of the exact file.
    const exported = await exportMigrationFolder(lead.id, { requestId });
    expect(exported.files.map((f) => f.path)).toEqual(['prisma/migrations/migration_lock.toml', 'prisma/migrations/20230404095503_initial_migration/migration.sql']);
    expect(exported.checksum).toBe(request.revisions[0].checksum);

    // What needs the way back says so, and queues nothing.
    const admin = await makeUser({ roles: ['admin'] });
    expect(await requestRehearsal(admin.id, { requestId }).catch((e) => e)).toMatchObject({ code: 'conflict', message: expect.stringContaining('down.sql is still to write') });
    expect(await requestApply(admin.id, { requestId, direction: 'down' }).catch((e) => e)).toMatchObject({ code: 'conflict', message: 'down.sql is still to write: revision 1 has no way back to run.' });
    expect(await getDb().run.count({ where: { requestId } })).toBe(0);
  });

  it('keeps a down.sql when the folder has one', async () => {
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const target = await makeTarget();
    const folder = await importFolder(dba.id);
    const { requestId } = await requestFromPendingMigration(dba.id, { folderId: folder.id, migrationName: '20230405000000_posts', targetId: target.id });
    const [revision] = await getDb().migrationRevision.findMany({ where: { requestId } });
    expect(revision).toMatchObject({ upSql: POSTS, downSql: 'DROP TABLE "Post";\n' });
  });

  it('asking twice, or twice at once, opens the request made the first time', async () => {
    const engineer = await makeUser({ roles: ['engineer'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const target = await makeTarget();
    const folder = await importFolder(dba.id);
    const ask = { folderId: folder.id, migrationName: '20230405000000_posts', targetId: target.id };
    const first = await requestFromPendingMigration(engineer.id, ask);
    const again = await requestFromPendingMigration(engineer.id, ask);
    expect(again).toEqual({ requestId: first.requestId, existing: true });

    // Two people at once on another target: one request, both sent to it.
    const other = await makeTarget();
    const both = await Promise.all([
      requestFromPendingMigration(engineer.id, { ...ask, targetId: other.id }),
      requestFromPendingMigration(dba.id, { ...ask, targetId: other.id }),
    ]);
    expect(both[0].requestId).toBe(both[1].requestId);
    expect(both.map((b) => b.existing).sort()).toEqual([false, true]);
    expect(await getDb().migrationRequest.count({ where: { sourceMigration: '20230405000000_posts', targetId: { in: [target.id, other.id] } } })).toBe(2);
    expect(await getDb().migrationRevision.count({ where: { request: { targetId: other.id } } })).toBe(1);
  });

  it('refuses people who may not file requests, and unknown migrations, changing nothing', async () => {
    const reviewer = await makeUser({ roles: ['reviewer'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const target = await makeTarget();
    const folder = await importFolder(dba.id);
    const before = await getDb().migrationRequest.count();
    expect(await requestFromPendingMigration(reviewer.id, { folderId: folder.id, migrationName: '20230405000000_posts', targetId: target.id }).catch((e) => e)).toMatchObject({ code: 'forbidden' });
    expect(await requestFromPendingMigration(dba.id, { folderId: folder.id, migrationName: 'nope', targetId: target.id }).catch((e) => e)).toMatchObject({ code: 'not_found' });
    expect(await getDb().migrationRequest.count()).toBe(before);
  });

  it('checks who is asking before anything else: no not-found messages for people who may not file', async () => {
    const noRole = await makeUser({ roles: [] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const target = await makeTarget();
    const folder = await importFolder(dba.id);
    const unknownFolder = '00000000-0000-4000-8000-000000000000';
    for (const input of [
      { folderId: unknownFolder, migrationName: '20230405000000_posts', targetId: target.id },
      { folderId: folder.id, migrationName: 'nope', targetId: target.id },
    ]) {
      expect(await requestFromPendingMigration(noRole.id, input).catch((e) => e)).toMatchObject({ code: 'forbidden' });
    }
  });
});
