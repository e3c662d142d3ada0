import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryArtifactStore } from '@/lib/artifacts/store';
import { backupDatabase } from '@/lib/engine/postgres/backup';
import { findPgTool } from '@/lib/engine/postgres/pg-tools';
import { settingsOf } from '../support/sandbox';
import { createScratchDatabase, withClient } from '../support/scratch-db';

let db: Awaited<ReturnType<typeof createScratchDatabase>>;
const storeDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-backup-locks-'));

beforeAll(async () => {
  db = await createScratchDatabase('cutover_backup_locks');
  // pg_dump dumps a_big, then z_small; the checksums come after, a_big first.
  await withClient(db.url, (c) => c.query(`
    CREATE TABLE a_big (id bigint PRIMARY KEY, pad text);
    INSERT INTO a_big SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g;
    CREATE TABLE z_small (id int PRIMARY KEY, v text);
    INSERT INTO z_small SELECT g, 'v' || g FROM generate_series(1, 100) g;
    ANALYZE;`));
}, 120_000);

afterAll(async () => {
  await db?.drop();
  rmSync(storeDir, { recursive: true, force: true });
});

describe('a backup holds its read locks until its checksums are done', () => {
  it('a TRUNCATE issued while pg_dump runs waits for the checksums: they describe the rows the dump holds', async () => {
    const store = new DirectoryArtifactStore(storeDir);
    const writer = new Client({ connectionString: db.url, application_name: 'ordinary writer' });
    await writer.connect();
    let truncation: Promise<unknown> | null = null;
    try {
      const result = await backupDatabase(settingsOf(db.url), store, 'locks/1.dump', {
        onProgress: (p) => {
          // Not MVCC-safe: the old snapshot would read the table as empty once the TRUNCATE commits.
          if (p.stage === 'dumping' && p.table?.includes('z_small') && !truncation) truncation = writer.query('TRUNCATE z_small');
        },
      });
      expect(truncation).not.toBeNull();
      await truncation;
      const small = result.checksums.find((c) => c.table === 'public.z_small');
      const data = execFileSync(findPgTool('pg_restore'), ['--data-only', '--table=z_small', '-f', '-', store.localPath('locks/1.dump')]).toString();
      const dumpedRows = data.split('\n').filter((l) => /^\d+\tv\d+$/.test(l)).length;
      expect(dumpedRows).toBe(100);
      expect(small?.rows).toBe(100);
      // The writer went ahead once the backup was done.
      expect(await withClient(db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM z_small')).rows[0].n)).toBe(0);
    } finally {
      await writer.end();
    }
  }, 120_000);
});
