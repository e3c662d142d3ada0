import { execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client, escapeIdentifier as id } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryArtifactStore } from '@/lib/artifacts/store';
import { PgDumpTooOldError, backupDatabase, type BackupProgress, type BackupResult } from '@/lib/engine/postgres/backup';
import { tableChecksums } from '@/lib/engine/postgres/checksum';
import { drillRestore, type DrillProgress } from '@/lib/engine/postgres/restore-drill';
import { restoreProcedure, restoreScript, verifySql } from '@/lib/engine/postgres/restore-script';
import { cutover } from '../support/cli';
import { sandboxForFile, settingsOf, withSandbox } from '../support/sandbox';
import { TEST_SERVER_URL, createScratchDatabase, urlForDatabase, withClient } from '../support/scratch-db';

const run = promisify(execFile);

/** A shop whose tables exercise the checksum's types, a second schema and an awkward name. */
const SCHEMA = `
  CREATE TYPE mood AS ENUM ('happy', 'sad');
  CREATE SCHEMA billing;
  CREATE TABLE accounts (id serial PRIMARY KEY, name text NOT NULL, balance numeric(12,2) NOT NULL DEFAULT 0, mood mood, updated_at timestamptz NOT NULL DEFAULT now());
  CREATE TABLE events (id bigserial PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), kind text, payload jsonb, tags text[], blob bytea, at timestamptz DEFAULT now());
  CREATE TABLE billing."Invoice Lines" (invoice int, line int, amount float8, note varchar(40));
  CREATE INDEX events_account ON events (account_id);
  CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
  CREATE TRIGGER accounts_touch BEFORE UPDATE ON accounts FOR EACH ROW EXECUTE FUNCTION touch();
  INSERT INTO accounts (name, balance, mood) SELECT 'account ' || g, g * 1.5, CASE WHEN g % 3 = 0 THEN 'sad'::mood WHEN g % 3 = 1 THEN 'happy' END FROM generate_series(1, 2000) g;
  INSERT INTO events (account_id, kind, payload, tags, blob)
    SELECT 1 + g % 2000, 'kind ' || (g % 7), jsonb_build_object('n', g, 'even', g % 2 = 0), ARRAY['a' || g, NULL], decode(md5(g::text), 'hex')
    FROM generate_series(1, 60000) g;
  INSERT INTO billing."Invoice Lines" SELECT g / 10, g % 10, g / 7.0, CASE WHEN g % 5 = 0 THEN NULL ELSE 'n' || g END FROM generate_series(1, 20000) g;
`;

/** Sessions that keep inserting and updating until stopped; `commits` counts what they committed. */
function startWriters(url: string, sessions = 3) {
  let stopping = false;
  const state = { commits: 0 };
  const loops = Array.from({ length: sessions }, async (_, n) => {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      for (let i = 0; !stopping; i++) {
        await c.query(`INSERT INTO events (account_id, kind, payload) VALUES (1 + $1::int % 2000, 'writer', jsonb_build_object('w', $2::int, 'i', $1::int))`, [i, n]);
        await c.query(`UPDATE accounts SET balance = balance + 1 WHERE id = 1 + ($1::int * 37) % 2000`, [i + n]);
        if (i % 5 === 0) await c.query(`DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE kind = 'kind 3')`);
        state.commits += 3;
      }
    } finally {
      await c.end();
    }
  });
  return {
    state,
    async stop() {
      stopping = true;
      await Promise.all(loops);
    },
  };
}

/** Row counts read with count(*) in a database restored by plain pg_restore: a reference independent of Cutover's checksums. */
async function countRows(url: string, tables: string[]) {
  return withClient(url, async (c) => {
    const out: Record<string, number> = {};
    for (const t of tables) {
      const [schema, name] = t.split('.').map((p) => (p.startsWith('"') ? p.slice(1, -1).replace(/""/g, '"') : p));
      out[t] = Number((await c.query<{ n: string }>(`SELECT count(*) AS n FROM ONLY ${id(schema)}.${id(name)}`)).rows[0].n);
    }
    return out;
  });
}

describe('backups and restore drills', () => {
  const sandbox = sandboxForFile();
  let source: Awaited<ReturnType<typeof createScratchDatabase>>;
  let storeDir: string;
  let store: DirectoryArtifactStore;
  let backup: BackupResult;
  const extraDatabases: string[] = [];

  beforeAll(async () => {
    source = await createScratchDatabase('cutover_backup');
    await withClient(source.url, (c) => c.query(SCHEMA));
    storeDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-backup-test-'));
    store = new DirectoryArtifactStore(storeDir);
  }, 60_000);

  afterAll(async () => {
    await source?.drop();
    await withClient(TEST_SERVER_URL, async (c) => {
      for (const d of extraDatabases) await c.query(`DROP DATABASE IF EXISTS ${id(d)} WITH (FORCE)`);
    });
    rmSync(storeDir, { recursive: true, force: true });
  });

  it('takes a backup while writers run whose checksums match the restored copy exactly', async () => {
    const writers = startWriters(source.url);
    const progress: BackupProgress[] = [];
    let commitsAtStart = 0;
    let commitsAtEnd = 0;
    try {
      // Let the writers get going, so the backup starts in the middle of their work.
      while (writers.state.commits < 30) await new Promise((r) => setTimeout(r, 10));
      commitsAtStart = writers.state.commits;
      backup = await backupDatabase(settingsOf(source.url), store, 'backups/shop/1.dump', { onProgress: (p) => progress.push(p) });
      commitsAtEnd = writers.state.commits;
    } finally {
      await writers.stop();
    }
    // The writers committed while the backup ran.
    expect(commitsAtEnd).toBeGreaterThan(commitsAtStart);

    expect(backup).toMatchObject({ key: 'backups/shop/1.dump', format: 'custom', database: source.name, pgDumpVersion: expect.stringMatching(/^\d+/) });
    expect(backup.serverVersion).toMatch(/^\d+\.\d+/);
    expect(backup.sha256).toMatch(/^[0-9a-f]{64}$/);
    const stored = readFileSync(store.localPath(backup.key));
    expect(stored.length).toBe(backup.sizeBytes);
    expect(stored.subarray(0, 5).toString()).toBe('PGDMP'); // pg_dump's custom format
    expect(backup.checksums.map((c) => c.table)).toEqual(['accounts', 'billing."Invoice Lines"', 'events'].map((t) => (t.includes('.') ? t : `public.${t}`)).sort());
    expect(progress.filter((p) => p.stage === 'dumping' && p.table).map((p) => p.table)).toEqual(expect.arrayContaining(['public.events', 'public.accounts']));

    // The live database has moved on since the snapshot (the writers' last commits are not in the backup).
    const live = await withClient(source.url, (c) => tableChecksums(c));
    expect(live.find((t) => t.table === 'public.events')).not.toEqual(backup.checksums.find((t) => t.table === 'public.events'));

    // The drill: the copy restored in the sandbox has exactly the backup's rows and checksums.
    const drillProgress: DrillProgress[] = [];
    const drill = await drillRestore(store, backup, sandbox(), { onProgress: (p) => drillProgress.push(p) });
    expect(drill.error).toBeUndefined();
    expect(drill).toMatchObject({ ok: true, differing: [], sha256: backup.sha256, pgRestoreVersion: expect.any(String) });
    expect(drill.tables).toHaveLength(3);
    expect(drill.tables.every((t) => t.equal && t.actual === t.expected && t.actualRows === t.rows)).toBe(true);
    expect(drill.archive?.dumpedBy).toContain(backup.pgDumpVersion);
    expect(drillProgress.map((p) => p.step)).toEqual(expect.arrayContaining(['integrity', 'archive', 'restore', 'verify', 'cleanup']));
    // The scratch database and its role are gone.
    await withSandbox(sandbox(), async (c) => {
      expect((await c.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [drill.scratchDatabase])).rowCount).toBe(0);
      expect((await c.query(`SELECT 1 FROM pg_roles WHERE rolname = $1`, [drill.scratchDatabase])).rowCount).toBe(0);
    });

    // Independently: plain pg_restore of the file into a new database, rows counted with count(*).
    const plain = `cutover_backup_plain_${process.pid}`;
    extraDatabases.push(plain);
    await withClient(TEST_SERVER_URL, (c) => c.query(`CREATE DATABASE ${id(plain)}`));
    const u = new URL(TEST_SERVER_URL);
    await run('pg_restore', ['--exit-on-error', '-h', u.hostname, '-p', u.port || '5432', '-U', decodeURIComponent(u.username) || 'postgres', '-d', plain, store.localPath(backup.key)]);
    const counted = await countRows(urlForDatabase(plain), backup.checksums.map((c) => c.table));
    expect(counted).toEqual(Object.fromEntries(backup.checksums.map((c) => [c.table, c.rows])));
    // ... and the live source has more events now than the snapshot held.
    const liveEvents = await countRows(source.url, ['public.events']);
    expect(liveEvents['public.events']).not.toBe(counted['public.events']);
  });

  it('reports a table whose restored content differs from the backup-time checksum', async () => {
    const tampered = { ...backup, checksums: backup.checksums.map((c) => (c.table === 'public.accounts' ? { ...c, checksum: '0000000000000000' } : c)) };
    const drill = await drillRestore(store, tampered, sandbox());
    expect(drill).toMatchObject({ ok: false, failedStep: 'verify', differing: ['public.accounts'] });
    expect(drill.error).toMatch(/1 table\(s\) differ.*public\.accounts/);
  });

  it('detects a corrupted and a truncated backup before restoring anything', async () => {
    const bytes = readFileSync(store.localPath(backup.key));
    const flipped = Buffer.from(bytes);
    flipped[Math.floor(bytes.length / 2)] ^= 0x40;
    writeFileSync(path.join(storeDir, 'corrupted.dump'), flipped);
    writeFileSync(path.join(storeDir, 'truncated.dump'), bytes);
    truncateSync(path.join(storeDir, 'truncated.dump'), bytes.length - 1000);
    const databasesBefore = await withSandbox(sandbox(), async (c) => (await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_database')).rows[0].n);

    const corrupted = await drillRestore(store, { ...backup, key: 'corrupted.dump' }, sandbox());
    expect(corrupted).toMatchObject({ ok: false, failedStep: 'integrity', restoreMs: 0, tables: [] });
    expect(corrupted.error).toMatch(/corrupted\.dump is corrupted: its sha256 is [0-9a-f]{64}, but [0-9a-f]{64} was recorded.*cannot be restored/);
    expect(corrupted.server).toBeUndefined(); // the sandbox was never touched

    const truncated = await drillRestore(store, { ...backup, key: 'truncated.dump' }, sandbox());
    expect(truncated).toMatchObject({ ok: false, failedStep: 'integrity', restoreMs: 0 });
    expect(truncated.error).toMatch(/truncated\.dump is truncated: [\d,]+ bytes stored, [\d,]+ bytes recorded/);

    // A file that is whole but no archive fails at pg_restore --list, still before any restore.
    writeFileSync(path.join(storeDir, 'not-a-dump.dump'), 'hello');
    const notDump = await drillRestore(store, { ...backup, key: 'not-a-dump.dump', sizeBytes: 5, sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824' }, sandbox());
    expect(notDump).toMatchObject({ ok: false, failedStep: 'archive' });
    expect(notDump.error).toMatch(/not a readable pg_dump archive/);

    const databasesAfter = await withSandbox(sandbox(), async (c) => (await c.query<{ n: string }>('SELECT count(*) AS n FROM pg_database')).rows[0].n);
    expect(databasesAfter).toBe(databasesBefore);
  });

  it('restores the bytes it checked: a valid backup of other content renamed over the file after the check is not restored', async () => {
    // Another backup of the same database, taken later: a readable archive whose tables differ from the first one's.
    await withClient(source.url, (c) => c.query(`UPDATE accounts SET name = 'swapped' WHERE id <= 10`));
    const other = await backupDatabase(settingsOf(source.url), store, 'backups/shop/other.dump');
    expect(other.checksums).not.toEqual(backup.checksums);
    const swapPath = path.join(storeDir, 'backups/shop/swap.dump');
    copyFileSync(store.localPath(backup.key), swapPath);
    let swapped = false;
    const drill = await drillRestore(store, { ...backup, key: 'backups/shop/swap.dump' }, sandbox(), {
      // Right after the size and sha256 were checked, before pg_restore reads the archive.
      onProgress: (p) => {
        if (p.step !== 'archive' || swapped) return;
        renameSync(store.localPath(other.key), swapPath);
        swapped = true;
      },
    });
    expect(swapped).toBe(true);
    expect(readFileSync(swapPath).equals(readFileSync(store.localPath(backup.key)))).toBe(false);
    // The first backup's bytes were restored: every table equals its checksums (the swapped-in file would differ in public.accounts).
    expect(drill.error).toBeUndefined();
    expect(drill).toMatchObject({ ok: true, differing: [] });
    expect(drill.tables.every((t) => t.equal)).toBe(true);
    // The drill's private link is gone with its folder.
    expect(readdirSync(path.join(storeDir, 'backups/shop')).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('refuses at once when pg_dump is older than the server, naming both versions and what to install', async () => {
    const fakeDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-fake-pg-'));
    const fake = path.join(fakeDir, 'pg_dump');
    // Reports an old version; dumping with it would write this line as the "backup".
    writeFileSync(fake, '#!/bin/sh\necho "pg_dump (PostgreSQL) 12.0"\n');
    chmodSync(fake, 0o755);
    const saved = process.env.CUTOVER_PG_BIN_DIR;
    process.env.CUTOVER_PG_BIN_DIR = fakeDir;
    const oldStore = new DirectoryArtifactStore(path.join(fakeDir, 'store'));
    try {
      const error = await backupDatabase(settingsOf(source.url), oldStore, 'backups/old.dump').then(() => null, (e: Error) => e);
      expect(error).toBeInstanceOf(PgDumpTooOldError);
      const server = await withClient(source.url, async (c) => (await c.query<{ v: string; n: number }>(`SELECT current_setting('server_version') AS v, current_setting('server_version_num')::int / 10000 AS n`)).rows[0]);
      expect(error!.message).toContain('pg_dump 12.0 is older than the target\'s PostgreSQL ' + server.v.split(' ')[0]);
      expect(error!.message).toContain(`apt-get install postgresql-client-${server.n}`);
      expect(error!.message).toContain('CUTOVER_PG_BIN_DIR');
      expect(() => readdirSync(path.join(fakeDir, 'store'))).toThrow(); // nothing was written
    } finally {
      if (saved === undefined) delete process.env.CUTOVER_PG_BIN_DIR;
      else process.env.CUTOVER_PG_BIN_DIR = saved;
      rmSync(fakeDir, { recursive: true, force: true });
    }
  });

  it('generates a restore script that restores the backup and proves it, with no secret inside', async () => {
    const target = { name: 'shop', host: '127.0.0.1', port: 5432, database: source.name, username: 'postgres', sslMode: 'disable' };
    const meta = { ...backup, fileName: '1.dump' };
    const script = restoreScript(meta, { ...target }, { jobs: 2 });
    const procedure = restoreProcedure(meta, target);
    expect(script).not.toMatch(/PGPASSWORD=[^'<]/);
    expect(procedure).toContain(backup.sha256);
    expect(procedure).toContain(verifySql(backup.layouts).trim());
    for (const c of backup.checksums) expect(procedure).toContain(`${c.rows} | \`${c.checksum}\``);

    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-restore-script-'));
    try {
      writeFileSync(path.join(dir, 'restore.sh'), script);
      const restored = `cutover_backup_script_${process.pid}`;
      extraDatabases.push(restored);
      const u = new URL(TEST_SERVER_URL);
      const env: NodeJS.ProcessEnv = { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username) || 'postgres', TARGET_DB: restored, HOME: dir };
      const { stdout } = await run('bash', [path.join(dir, 'restore.sh'), store.localPath(backup.key)], { env });
      expect(stdout).toContain(`created ${restored}`);
      expect(stdout).toContain('ok: 3 tables');

      // The restored database, read by Cutover's checksum and by count(*), is the backup.
      const after = await withClient(urlForDatabase(restored), (c) => tableChecksums(c));
      expect(after).toEqual(backup.checksums);
      expect(await countRows(urlForDatabase(restored), backup.checksums.map((c) => c.table))).toEqual(Object.fromEntries(backup.checksums.map((c) => [c.table, c.rows])));

      // Run again: the database now holds tables, and the script refuses to restore over them.
      const again = await run('bash', [path.join(dir, 'restore.sh'), store.localPath(backup.key)], { env }).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(again?.code).toBe(1);
      expect(again?.stderr).toMatch(/already holds 3 tables/);

      // A damaged file stops the script at its first step.
      const bad = path.join(dir, 'bad.dump');
      writeFileSync(bad, readFileSync(store.localPath(backup.key)).subarray(0, 100));
      const damaged = await run('bash', [path.join(dir, 'restore.sh'), bad], { env: { ...env, TARGET_DB: 'never_created' } }).then(() => null, (e: { code: number; stderr: string }) => e);
      expect(damaged?.code).toBe(1);
      expect(damaged?.stderr).toMatch(/truncated or another file/);

      // A changed row makes the verification step fail and name the table.
      await withClient(urlForDatabase(restored), (c) => c.query(`UPDATE billing."Invoice Lines" SET note = 'changed' WHERE line = 3 AND invoice = 7`));
      const { stdout: lines } = await run('bash', ['-c', `psql -X -q -At -F '|' -v ON_ERROR_STOP=1 -d "$TARGET_DB" -f "$1"`, 'verify', writeTemp(dir, 'verify.sql', verifySql(backup.layouts))], { env });
      const changed = lines.trim().split('\n').find((l) => l.startsWith('billing."Invoice Lines"|'));
      const recorded = backup.checksums.find((c) => c.table === 'billing."Invoice Lines"')!;
      expect(changed).toBeDefined();
      expect(changed).not.toBe(`${recorded.table}|${recorded.rows}|${recorded.checksum}`);
      expect(lines.trim().split('\n').filter((l) => !l.startsWith('billing.'))).toEqual(
        backup.checksums.filter((c) => !c.table.startsWith('billing.')).map((c) => `${c.table}|${c.rows}|${c.checksum}`),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('cutover backup and cutover drill', () => {
  it('writes the dump and its checksums, proves them in a sandbox, and fails on a corrupted or truncated file', async () => {
    const db = await createScratchDatabase('cutover_backup_cli');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-backup-cli-'));
    try {
      await withClient(db.url, (c) => c.query(`CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t SELECT g, md5(g::text) FROM generate_series(1, 5000) g;`));
      const out = path.join(dir, 'shop.dump');
      const backup = await cutover('backup', '--url', db.url, '--out', out, '--json');
      expect(backup.stderr).toBe('');
      expect(backup.code).toBe(0);
      const written = JSON.parse(backup.stdout);
      const recorded = JSON.parse(readFileSync(`${out}.checksums.json`, 'utf8'));
      expect(recorded).toMatchObject({ schema: 'cutover-backup-checksums/1', file: 'shop.dump', sha256: written.sha256, sizeBytes: readFileSync(out).length, checksums: [{ table: 'public.t', rows: 5000 }] });
      // Never overwritten.
      expect((await cutover('backup', '--url', db.url, '--out', out)).code).toBe(2);

      const drill = await cutover('drill', '--backup', out, '--json');
      expect(drill.code).toBe(0);
      expect(JSON.parse(drill.stdout)).toMatchObject({ ok: true, differing: [], tables: [{ table: 'public.t', rows: 5000, equal: true }] });

      const bytes = readFileSync(out);
      bytes[bytes.length - 10] ^= 0xff;
      writeFileSync(out, bytes);
      const corrupted = await cutover('drill', '--backup', out);
      expect(corrupted.code).toBe(1);
      expect(corrupted.stdout).toMatch(/Restore drill failed at integrity: shop\.dump is corrupted/);
      expect(corrupted.stderr).not.toMatch(/sandbox:/); // no sandbox was started for it

      truncateSync(out, 100);
      const truncated = await cutover('drill', '--backup', out, '--json');
      expect(truncated.code).toBe(1);
      expect(JSON.parse(truncated.stdout)).toMatchObject({ ok: false, failedStep: 'integrity', error: expect.stringMatching(/truncated/) });

      expect((await cutover('drill', '--backup', path.join(dir, 'nothing.dump'))).code).toBe(2); // no checksums file beside it
    } finally {
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

function writeTemp(dir: string, name: string, content: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, content);
  return file;
}
