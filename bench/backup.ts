/**
 * `npm run bench:backup`: Cutover's backup (pg_dump -Fc on an exported snapshot, with per-table
 * checksums in that snapshot) plus its verified restore drill (sha256 of the file, pg_restore
 * into the sandbox as a role without rights, checksums of the copy compared table by table),
 * against the raw pair `pg_dump -Fc -f FILE` + `pg_restore -d` of the same ~1 GB database into
 * the same kind of server (a database of the same embedded sandbox). Medians of BENCH_RUNS runs,
 * the two sides alternating. Writes bench/results/backup.json. Loopback only (127.0.0.1:5432).
 *
 * BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_RUNS (3),
 * BENCH_SCALE (1.0: about 1 GB), BENCH_REGENERATE=1 (rebuild the database even if it is there)
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { DirectoryArtifactStore } from '../lib/artifacts/store';
import { withClient, type PgTargetSettings } from '../lib/engine/connection';
import { backupDatabase, pgToolVersion, type BackupResult } from '../lib/engine/postgres/backup';
import { findPgTool, libpqEnv } from '../lib/engine/postgres/pg-tools';
import { drillRestore, type DrillResult } from '../lib/engine/postgres/restore-drill';
import { startSandbox, type Sandbox } from '../lib/engine/postgres/sandbox';
import { databaseUrl } from './lib/database';
import { median } from './lib/stats';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SCALE = Number(process.env.BENCH_SCALE ?? 1);
const DB = 'cutover_bench_backup';
const DB_URL = databaseUrl(DB, SERVER);
const log = (m: string) => console.log(`[bench:backup] ${new Date().toISOString().slice(11, 19)} ${m}`);

const seconds = (ms: number) => Math.round(ms) / 1000;

const ROWS = { accounts: Math.round(1_000_000 * SCALE), events: Math.round(6_000_000 * SCALE), notes: Math.round(400_000 * SCALE) };

/** A few tables of mixed types, generated in the server; indexes and a foreign key for pg_restore's post-data. */
const GENERATE = `
  CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, name text, balance numeric(12,2) NOT NULL, active boolean NOT NULL, created_at timestamptz NOT NULL);
  INSERT INTO accounts SELECT g, 'user' || g || '@example.com', 'Account ' || md5(g::text), (g % 100000) / 7.0, g % 5 <> 0, timestamptz '2024-01-01' + g * interval '17 seconds'
    FROM generate_series(1, ${ROWS.accounts}) g;
  CREATE TABLE events (id bigint PRIMARY KEY, account_id int NOT NULL REFERENCES accounts(id), kind text NOT NULL, payload text, amount numeric(12,2), at timestamptz NOT NULL);
  INSERT INTO events SELECT g, 1 + ((g::bigint * 7919) % ${ROWS.accounts})::int, (ARRAY['order','refund','login','logout','view'])[1 + g % 5], md5(g::text) || md5((g * 3)::text),
      CASE WHEN g % 3 = 0 THEN NULL ELSE (g % 99999) / 100.0 END, timestamptz '2024-01-01' + g * interval '3 seconds'
    FROM generate_series(1, ${ROWS.events}) g;
  CREATE INDEX events_account ON events (account_id);
  CREATE TABLE notes (id int PRIMARY KEY, account_id int NOT NULL, body text NOT NULL, tags text[], meta jsonb);
  INSERT INTO notes SELECT g, 1 + g % ${ROWS.accounts}, repeat(md5(g::text), 4), ARRAY['t' || g % 10, 't' || g % 7], jsonb_build_object('n', g, 'even', g % 2 = 0)
    FROM generate_series(1, ${ROWS.notes}) g;
  CREATE TABLE bench_marker (scale float8 NOT NULL);
  INSERT INTO bench_marker VALUES (${SCALE});
`;

async function ensureDatabase(): Promise<number> {
  const present = await withClient(SERVER, async (c) => (await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [DB])).rowCount === 1);
  const reusable =
    present &&
    !process.env.BENCH_REGENERATE &&
    (await withClient(DB_URL, async (c) => (await c.query<{ scale: number }>('SELECT scale FROM bench_marker').catch(() => ({ rows: [] as { scale: number }[] }))).rows[0]?.scale === SCALE));
  if (!reusable) {
    log(`generating ${DB} (${ROWS.accounts} accounts, ${ROWS.events} events, ${ROWS.notes} notes)`);
    const t = performance.now();
    await withClient(SERVER, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${DB}`);
    });
    await withClient(DB_URL, async (c) => {
      await c.query(GENERATE);
      // On its own: a multi-statement query is one implicit transaction, which VACUUM refuses.
      await c.query('VACUUM ANALYZE');
    });
    log(`generated in ${seconds(performance.now() - t)} s`);
  }
  return withClient(DB_URL, async (c) => Number((await c.query<{ n: string }>('SELECT pg_database_size(current_database()) AS n')).rows[0].n));
}

function tool(name: 'pg_dump' | 'pg_restore', args: string[], env: NodeJS.ProcessEnv): number {
  const t = performance.now();
  const r = spawnSync(findPgTool(name), args, { env, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${name} failed: ${r.stderr}`);
  return performance.now() - t;
}

/** The raw pair: pg_dump -Fc to a file, pg_restore of it into a fresh database of the sandbox (as its superuser). */
async function rawPair(target: PgTargetSettings, sandbox: Sandbox, dir: string, run: number, jobs?: number) {
  const file = path.join(dir, `raw-${run}-${jobs ?? 1}.dump`);
  const dumpMs = tool('pg_dump', ['--format=custom', `--file=${file}`], libpqEnv(target, { readOnly: true }));
  const db = `raw_${run}_${jobs ?? 1}`;
  const admin = new Client({ host: sandbox.admin.host, port: sandbox.port, user: sandbox.admin.username, password: sandbox.admin.password ?? undefined, database: 'postgres' });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${db}`);
    const restoreMs = tool('pg_restore', ['--exit-on-error', ...(jobs ? [`--jobs=${jobs}`] : []), '--dbname', db, file], libpqEnv({ ...sandbox.admin, database: db }));
    await admin.query(`DROP DATABASE ${db} WITH (FORCE)`);
    const sizeBytes = statSync(file).size;
    rmSync(file);
    return { dumpMs, restoreMs, totalMs: dumpMs + restoreMs, sizeBytes };
  } finally {
    await admin.end();
  }
}

async function cutoverPair(target: PgTargetSettings, sandbox: Sandbox, store: DirectoryArtifactStore, run: number) {
  const key = `bench/${run}.dump`;
  const t = performance.now();
  const backup: BackupResult = await backupDatabase(target, store, key);
  const backupMs = performance.now() - t;
  const t2 = performance.now();
  const drill: DrillResult = await drillRestore(store, backup, sandbox, { jobs: 2 });
  const drillMs = performance.now() - t2;
  if (!drill.ok) throw new Error(`the drill failed: ${drill.error}`);
  await store.delete(key);
  return {
    totalMs: backupMs + drillMs,
    backupMs,
    dumpMs: backup.dumpMs,
    checksumMs: backup.checksumMs,
    drillMs,
    integrityMs: drill.integrityMs,
    restoreMs: drill.restoreMs,
    verifyMs: drill.verifyMs,
    sizeBytes: backup.sizeBytes,
    tables: backup.checksums.length,
    rows: backup.checksums.reduce((n, c) => n + c.rows, 0),
  };
}

async function main() {
  const databaseBytes = await ensureDatabase();
  log(`database ${DB}: ${(databaseBytes / 2 ** 30).toFixed(2)} GiB`);
  const u = new URL(DB_URL);
  const target: PgTargetSettings = {
    host: u.hostname, port: Number(u.port || 5432), database: DB, username: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : null, sslMode: 'disable', connectTimeoutMs: 5000,
  };
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-backup-'));
  const store = new DirectoryArtifactStore(path.join(dir, 'artifacts'));
  const sandbox = await startSandbox();
  const sandboxVersion = await withClient(
    `postgresql://${sandbox.admin.username}:${encodeURIComponent(sandbox.admin.password ?? '')}@127.0.0.1:${sandbox.port}/postgres`,
    async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v,
  );
  const serverVersion = await withClient(SERVER, async (c) => (await c.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0].v);
  const raw: Awaited<ReturnType<typeof rawPair>>[] = [];
  const rawJobs: Awaited<ReturnType<typeof rawPair>>[] = [];
  const cutover: Awaited<ReturnType<typeof cutoverPair>>[] = [];
  try {
    for (let run = 1; run <= RUNS; run++) {
      // Alternate which side goes first, so neither always meets a warmer cache.
      const sides = run % 2 ? ['raw', 'cutover'] : ['cutover', 'raw'];
      for (const side of sides) {
        if (side === 'raw') {
          const r = await rawPair(target, sandbox, dir, run);
          raw.push(r);
          log(`run ${run} raw: pg_dump ${seconds(r.dumpMs)} s + pg_restore ${seconds(r.restoreMs)} s = ${seconds(r.totalMs)} s`);
        } else {
          const c = await cutoverPair(target, sandbox, store, run);
          cutover.push(c);
          log(
            `run ${run} cutover: backup ${seconds(c.backupMs)} s (pg_dump ${seconds(c.dumpMs)} s, then checksums ${seconds(c.checksumMs)} s) + ` +
              `drill ${seconds(c.drillMs)} s (sha256 ${seconds(c.integrityMs)} s, restore ${seconds(c.restoreMs)} s, checksums ${seconds(c.verifyMs)} s) = ${seconds(c.totalMs)} s`,
          );
        }
      }
      // For reference: the raw pair with pg_restore --jobs=2, as the drill restores.
      const rj = await rawPair(target, sandbox, dir, run, 2);
      rawJobs.push(rj);
      log(`run ${run} raw with pg_restore -j 2: ${seconds(rj.totalMs)} s`);
    }
  } finally {
    await sandbox.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const m = <T>(xs: T[], f: (x: T) => number) => Math.round(median(xs.map(f)));
  const cutoverMs = m(cutover, (c) => c.totalMs);
  const rawMs = m(raw, (r) => r.totalMs);
  const rawJobsMs = m(rawJobs, (r) => r.totalMs);
  const verificationMs = m(cutover, (c) => c.checksumMs + c.integrityMs + c.verifyMs);
  const result = {
    summary: {
      ratioToRaw: Math.round((cutoverMs / rawMs) * 100) / 100,
      goal: 1.5,
      meetsGoal: cutoverMs / rawMs <= 1.5,
      cutoverMs,
      rawMs,
      ratioToRawWithParallelRestore: Math.round((cutoverMs / rawJobsMs) * 100) / 100,
      rawWithParallelRestoreMs: rawJobsMs,
      /** The verification's own time: checksums at backup time (alongside pg_dump), the file's sha256, checksums of the copy. */
      verificationMs,
      verification: {
        backupChecksumsMs: m(cutover, (c) => c.checksumMs),
        fileSha256Ms: m(cutover, (c) => c.integrityMs),
        restoredChecksumsMs: m(cutover, (c) => c.verifyMs),
      },
      databaseBytes,
      dumpBytes: m(cutover, (c) => c.sizeBytes),
      runs: RUNS,
    },
    machine: { cpus: os.availableParallelism(), node: process.version, server: serverVersion, sandbox: sandboxVersion, pgDump: (await pgToolVersion('pg_dump')).version },
    rows: ROWS,
    cutover: cutover.map((c) => Object.fromEntries(Object.entries(c).map(([k, v]) => [k, Math.round(v)]))),
    raw: raw.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]))),
    rawWithParallelRestore: rawJobs.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Math.round(v)]))),
    measuredAt: new Date().toISOString(),
  };
  mkdirSync(path.join('bench', 'results'), { recursive: true });
  writeFileSync(path.join('bench', 'results', 'backup.json'), JSON.stringify(result, null, 2) + '\n');
  log(`cutover ${seconds(cutoverMs)} s vs raw ${seconds(rawMs)} s: ratio ${result.summary.ratioToRaw} (goal <= 1.5); verification ${seconds(verificationMs)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
