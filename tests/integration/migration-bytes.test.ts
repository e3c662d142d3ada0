import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { tarGz } from '@/lib/engine/archive';
import { migrationChecksum } from '@/lib/engine/prisma-migrations';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { fileRequest } from '@/lib/services/file-request';
import { exportMigrationFolder, requestApply, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { importMigrationFolder, requestStatusCheck } from '@/lib/services/migration-status';
import { SaveRevisionFormSchema, encodeExactSql } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { recordPassingRehearsal } from '../support/step-evidence';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let targetId: string;

// Three files as teams have them: LF endings, CRLF endings (written on Windows), no final newline.
const FILES = {
  lf: Buffer.from('CREATE TABLE "bytes_lf" ("id" SERIAL PRIMARY KEY);\nCREATE INDEX "bytes_lf_idx" ON "bytes_lf" ("id");\n'),
  crlf: Buffer.from('CREATE TABLE "bytes_crlf" ("id" SERIAL PRIMARY KEY);\r\nCREATE INDEX "bytes_crlf_idx" ON "bytes_crlf" ("id");\r\n'),
  nofinal: Buffer.from('-- no newline at the end\nCREATE TABLE "bytes_nofinal" ("id" SERIAL PRIMARY KEY);'),
};

/** Unpacks a .tar.gz with the system's tar, as a team member would, and reads one file's bytes. */
function extract(archive: Buffer, file: string): Buffer {
  const dir = mkdtempSync(path.join(tmpdir(), 'cutover-export-'));
  writeFileSync(path.join(dir, 'm.tar.gz'), archive);
  execFileSync('tar', ['-xzf', 'm.tar.gz'], { cwd: dir });
  return readFileSync(path.join(dir, file));
}

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_bytes');
  admin = await makeUser({ roles: ['admin', 'engineer'] });
  targetId = (await makeLiveTarget(admin.id, shop.name, 'Bytes shop')).id;
  await startWorker({ pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  await shop.drop();
});

describe('a loaded migration.sql keeps its exact bytes, from the form to _prisma_migrations', () => {
  for (const [label, bytes] of Object.entries(FILES)) {
    it(`${label}: exported file == file, stored checksum == sha256(file) == the checksum apply writes`, async () => {
      const request = await fileRequest(admin.id, { title: `Bytes ${label}`, kind: 'schema_change', targetId, description: 'Keep the bytes of the file.', priority: 'HIGH' });
      const name = `20250101000000_bytes_${label}`;
      // As the editor sends it: the file's bytes in base64; the down path typed (with CRLF, as a textarea submits).
      const input = SaveRevisionFormSchema.parse({
        requestId: request.id, name, upSqlExact: encodeExactSql(new Uint8Array(bytes)), downSql: `DROP TABLE "bytes_${label}";\r\n`,
      });
      const saved = await saveMigrationRevision(admin.id, input);
      expect(saved.checksum).toBe(migrationChecksum(bytes));
      const revision = await getDb().migrationRevision.findUniqueOrThrow({ where: { id: saved.id } });
      expect(revision.downSql).toBe(`DROP TABLE "bytes_${label}";\n`);

      const exported = await exportMigrationFolder(admin.id, { requestId: request.id });
      expect(exported.checksum).toBe(saved.checksum);
      const file = extract(tarGz(exported.files), `prisma/migrations/${name}/migration.sql`);
      expect(file.equals(bytes)).toBe(true);

      await recordPassingRehearsal(request.id); // applying beyond local needs a passing rehearsal of the revision
      const run = await waitForRun((await requestApply(admin.id, { requestId: request.id, direction: 'up' })).runId);
      expect(run.status).toBe('succeeded');
      const row = await withClient(shop.url, (c) => c.query<{ checksum: string }>(`SELECT checksum FROM "_prisma_migrations" WHERE migration_name = $1`, [name]));
      expect(row.rows.map((r) => r.checksum)).toEqual([migrationChecksum(bytes)]);
    });
  }

  it('the same files imported as a folder show as applied, not modified', async () => {
    const archive = tarGz(Object.entries(FILES).map(([label, bytes]) => ({ path: `prisma/migrations/20250101000000_bytes_${label}/migration.sql`, content: bytes })));
    const folder = await importMigrationFolder(admin.id, { fileName: 'bytes.tar.gz', bytes: archive });
    await requestStatusCheck(admin.id, { folderId: folder.id });
    const check = await getDb().run.findFirstOrThrow({ where: { folderId: folder.id, targetId } });
    const result = (await waitForRun(check.id)).result as { entries: { name: string; state: string }[] };
    expect(Object.fromEntries(result.entries.map((e) => [e.name, e.state]))).toEqual({
      '20250101000000_bytes_crlf': 'applied',
      '20250101000000_bytes_lf': 'applied',
      '20250101000000_bytes_nofinal': 'applied',
    });
  });
});
