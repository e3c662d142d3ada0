/**
 * `npm run bench:runner`: Cutover's migration runner against `psql -1 -f` on fresh copies of the
 * same database, for (a) a 10,000-statement DDL file and (b) a data transformation over
 * 1,000,000 rows; median of 5 runs each. Also rehearsals of (b) in the sandbox: the sandbox's
 * cold start, a rehearsal on a cold and on a warm sandbox, and what the sandbox adds to a warm
 * rehearsal (getting it, creating the role and database, loading the copy, dropping them).
 * Writes bench/results/runner.json. Loopback only (127.0.0.1:5432), bounded loops.
 *
 * BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_RUNS (5), BENCH_ROWS (1000000),
 * BENCH_ONLY=rehearsal (only the rehearsal figures, merged into an existing runner.json)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { withClient } from '../lib/engine/connection';
import { rehearseMigration, type RehearsalResult } from '../lib/engine/postgres/rehearsal';
import { startSandbox } from '../lib/engine/postgres/sandbox';
import { applyMigrations, migrationChecksum } from '../lib/engine/prisma-migrations';
import { DEFAULT_FENCE_ALLOWANCES } from '../lib/engine/postgres/sql-guard';
import { databaseUrl } from './lib/database';
import { median } from './lib/stats';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const ONLY = process.env.BENCH_ONLY;
/** Warm rehearsals start this long after the previous one ended (back to back, the spare database is still being created). */
const WARM_PAUSE_MS = 1000;
const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const log = (m: string) => console.log(`[bench:runner] ${m}`);

const admin = <T>(fn: (c: Client) => Promise<T>) => withClient(SERVER, fn);
const round = (n: number) => Math.round(n * 10) / 10;

/**
 * (a) 10,000 DDL statements: 1,000 tables, each created, indexed, altered, commented and
 * constrained (ten statements a table; one transaction must fit PostgreSQL's default lock table).
 */
function ddlFile(): string {
  const lines: string[] = [];
  for (let i = 0; i < 1000; i++) {
    lines.push(`CREATE TABLE bench_t${i} (id integer PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now());`);
    lines.push(`CREATE INDEX bench_t${i}_name_idx ON bench_t${i} (name);`);
    lines.push(`ALTER TABLE bench_t${i} ADD COLUMN note text;`);
    lines.push(`COMMENT ON TABLE bench_t${i} IS 'table ${i} of the runner benchmark';`);
    lines.push(`ALTER TABLE bench_t${i} ADD CONSTRAINT bench_t${i}_name_len CHECK (length(name) < 200);`);
    lines.push(`ALTER TABLE bench_t${i} ADD COLUMN amount numeric(12,2) NOT NULL DEFAULT 0;`);
    lines.push(`COMMENT ON COLUMN bench_t${i}.note IS 'free text';`);
    lines.push(`ALTER TABLE bench_t${i} ALTER COLUMN note SET DEFAULT '';`);
    lines.push(`ALTER TABLE bench_t${i} ALTER COLUMN name SET STATISTICS 500;`);
    lines.push(`ALTER TABLE bench_t${i} RENAME COLUMN created_at TO inserted_at;`);
  }
  return lines.join('\n') + '\n';
}

/** (b) A data transformation over every row of a 1,000,000-row table. */
const DATA_FILE = `ALTER TABLE items ADD COLUMN total_cents bigint;
UPDATE items SET total_cents = price_cents::bigint * quantity;
ALTER TABLE items ALTER COLUMN total_cents SET NOT NULL;
CREATE INDEX items_total_cents_idx ON items (total_cents);
`;

async function makeTemplate(name: string, setup: string | null) {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${name}`);
    await c.query(`CREATE DATABASE ${name}`);
  });
  if (setup) {
    const c = new Client({ connectionString: databaseUrl(name, SERVER) });
    await c.connect();
    await c.query(setup);
    await c.query('VACUUM ANALYZE');
    await c.end();
  }
}

/** A fresh copy of the template for each run, so every run starts from the same database. */
async function freshCopy(template: string, copy: string) {
  await admin(async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${copy}`);
    await c.query(`CREATE DATABASE ${copy} TEMPLATE ${template}`);
  });
  // Warm the copy's catalog cache the same way for both contenders.
  const c = new Client({ connectionString: databaseUrl(copy, SERVER) });
  await c.connect();
  await c.query('SELECT count(*) FROM pg_class');
  await c.end();
}

async function timeCutover(db: string, file: { name: string; sql: string }): Promise<number> {
  const client = new Client({ connectionString: databaseUrl(db, SERVER), application_name: 'cutover bench' });
  await client.connect();
  const t0 = performance.now();
  try {
    const r = await applyMigrations(client, [{ ...file, checksum: migrationChecksum(file.sql) }], { fence: DEFAULT_FENCE_ALLOWANCES });
    if (r.applied.length !== 1) throw new Error('Cutover applied nothing');
    return performance.now() - t0;
  } finally {
    await client.end();
  }
}

function timePsql(db: string, sqlPath: string): number {
  const t0 = performance.now();
  const r = spawnSync('psql', ['-X', '-q', '-1', '-v', 'ON_ERROR_STOP=1', '-d', databaseUrl(db, SERVER), '-f', sqlPath], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`psql failed: ${r.stderr}`);
  return ms;
}

async function scenario(label: string, template: string, file: { name: string; sql: string }, sqlPath: string) {
  const cutover: number[] = [];
  const psql: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    // Alternate who goes first, so neither always gets the warmer cache.
    const order = i % 2 === 0 ? ['cutover', 'psql'] : ['psql', 'cutover'];
    for (const who of order) {
      const copy = `${template}_run`;
      await freshCopy(template, copy);
      if (who === 'cutover') cutover.push(await timeCutover(copy, file));
      else psql.push(timePsql(copy, sqlPath));
      await admin((c) => c.query(`DROP DATABASE IF EXISTS ${copy}`));
    }
    log(`${label} run ${i + 1}/${RUNS}: cutover ${round(cutover[i])} ms, psql ${round(psql[i])} ms`);
  }
  const result = {
    runs: RUNS,
    cutoverMs: cutover.map(round),
    psqlMs: psql.map(round),
    cutoverMedianMs: round(median(cutover)),
    psqlMedianMs: round(median(psql)),
    ratio: Math.round((median(cutover) / median(psql)) * 1000) / 1000,
  };
  return { ...result, goal: 'cutover median <= 1.10 x psql median', pass: result.ratio <= 1.1 };
}

/**
 * Rehearsals of `migration` on `database` in Cutover's sandbox: one on a sandbox started for it
 * (cold), then RUNS on the same, warm sandbox. What the sandbox adds to a rehearsal: getting the
 * server, creating the role and the scratch database, loading the copy (pg_restore) and dropping
 * both; reading the target (pg_dump) and running the scripts are the rehearsal's own work.
 */
async function benchRehearsals(database: string, migration: { name: string; sql: string }) {
  const server = new URL(databaseUrl(database, SERVER));
  const target = {
    host: server.hostname, port: Number(server.port || 5432), database, username: decodeURIComponent(server.username) || 'postgres',
    password: server.password ? decodeURIComponent(server.password) : null, sslMode: 'disable', connectTimeoutMs: 5000,
  };
  const downSql = 'DROP INDEX items_total_cents_idx;\nALTER TABLE items DROP COLUMN total_cents;\n';
  const rehearse = async (sandbox: Promise<Awaited<ReturnType<typeof startSandbox>>>) => {
    const r = await rehearseMigration(target, { name: migration.name, upSql: migration.sql, downSql }, { sandbox, fence: DEFAULT_FENCE_ALLOWANCES });
    if (!r.ok) throw new Error(`rehearsal failed: ${r.error}`);
    return r;
  };
  log('rehearsal on a cold sandbox (started for it)...');
  const coldStarted = performance.now();
  // As a worker keeps it: warm, with a spare database ready.
  const starting = startSandbox({ keepSpare: true });
  const cold = await rehearse(starting);
  const coldMs = performance.now() - coldStarted;
  const sandbox = await starting;
  const warm: RehearsalResult[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      // A worker's sandbox is idle between rehearsals, and prepares its spare database then.
      await new Promise((r) => setTimeout(r, WARM_PAUSE_MS));
      warm.push(await rehearse(Promise.resolve(sandbox)));
      const t = warm[i].timings!;
      log(`warm rehearsal ${i + 1}/${RUNS}: ${warm[i].durationMs} ms (sandbox adds ${t.sandboxMs + t.prepareMs + t.loadMs + t.cleanupMs} ms)`);
    }
  } finally {
    await sandbox.stop();
  }
  const med = (f: (r: RehearsalResult) => number) => round(median(warm.map(f)));
  const adds = (r: RehearsalResult) => r.timings!.sandboxMs + r.timings!.prepareMs + r.timings!.loadMs + r.timings!.cleanupMs;
  const summary = {
    sandboxColdStartMs: sandbox.startMs,
    coldRehearsalMs: round(coldMs),
    warmRehearsalMs: med((r) => r.durationMs),
    warmAcquireMs: med((r) => r.timings!.sandboxMs),
    warmPrepareMs: med((r) => r.timings!.prepareMs),
    warmLoadMs: med((r) => r.timings!.loadMs),
    warmCleanupMs: med((r) => r.timings!.cleanupMs),
    warmDumpMs: med((r) => r.timings!.dumpMs),
    warmSandboxAddsMs: med(adds),
    warmPauseMs: WARM_PAUSE_MS,
    goal: 'a warm sandbox adds at most 500 ms to a rehearsal',
    pass: median(warm.map(adds)) <= 500,
  };
  const phases = (r: RehearsalResult) => r.phases.map((p) => ({ phase: p.phase, ms: p.durationMs }));
  return {
    summary,
    cold: { totalMs: cold.durationMs, timings: cold.timings, phases: phases(cold) },
    warm: warm.map((r) => ({ totalMs: r.durationMs, timings: r.timings, phases: phases(r) })),
  };
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-runner-'));
  const ddl = { name: '20250101000000_ten_thousand_statements', sql: ddlFile() };
  const data = { name: '20250101000000_total_cents', sql: DATA_FILE };
  writeFileSync(path.join(dir, 'ddl.sql'), ddl.sql);
  writeFileSync(path.join(dir, 'data.sql'), data.sql);
  const templates = ['cutover_bench_ddl', 'cutover_bench_rows'];
  try {
    log('preparing templates...');
    await makeTemplate(templates[0], null);
    const t0 = performance.now();
    await makeTemplate(
      templates[1],
      `CREATE TABLE items (id bigserial PRIMARY KEY, sku text NOT NULL, price_cents integer NOT NULL, quantity integer NOT NULL);
       INSERT INTO items (sku, price_cents, quantity) SELECT 'SKU-' || g, 100 + g % 9000, 1 + g % 7 FROM generate_series(1, ${ROWS}) g;`,
    );
    log(`${ROWS} rows loaded in ${round((performance.now() - t0) / 1000)} s`);

    const ddlResult = ONLY === 'rehearsal' ? undefined : await scenario('10,000-statement DDL', templates[0], ddl, path.join(dir, 'ddl.sql'));
    const dataResult = ONLY === 'rehearsal' ? undefined : await scenario(`data transformation over ${ROWS} rows`, templates[1], data, path.join(dir, 'data.sql'));
    const rehearsal = await benchRehearsals(templates[1], data);

    const file = path.join('bench', 'results', 'runner.json');
    const previous = ONLY === 'rehearsal' && existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : {};
    const out = {
      ...previous,
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, node: process.version, date: new Date().toISOString() },
      server: SERVER.replace(/:[^:@/]*@/, ':***@'),
      ...(ddlResult ? { ddl10k: { statements: 10_000, ...ddlResult } } : {}),
      ...(dataResult ? { dataTransformation: { rows: ROWS, ...dataResult } } : {}),
      rehearsal,
    };
    mkdirSync(path.join('bench', 'results'), { recursive: true });
    writeFileSync(file, JSON.stringify(out, null, 2) + '\n');
    if (ddlResult && dataResult) {
      console.log(`
Runner vs psql -1 -f (median of ${RUNS}, ms)
scenario                 cutover     psql   ratio  goal <= 1.10
10,000 DDL statements  ${String(ddlResult.cutoverMedianMs).padStart(9)} ${String(ddlResult.psqlMedianMs).padStart(8)} ${String(ddlResult.ratio).padStart(7)}  ${ddlResult.pass ? 'PASS' : 'FAIL'}
update ${ROWS} rows   ${String(dataResult.cutoverMedianMs).padStart(9)} ${String(dataResult.psqlMedianMs).padStart(8)} ${String(dataResult.ratio).padStart(7)}  ${dataResult.pass ? 'PASS' : 'FAIL'}`);
    }
    const r = rehearsal.summary;
    console.log(`
Rehearsal of the data migration in the sandbox (schema-only copy; warm: median of ${RUNS}, ms)
sandbox cold start (initdb + start)   ${r.sandboxColdStartMs}
rehearsal on a cold sandbox           ${r.coldRehearsalMs}  (start included)
rehearsal on a warm sandbox           ${r.warmRehearsalMs}
  of which the sandbox adds           ${r.warmSandboxAddsMs}  (get ${r.warmAcquireMs}, role and database ${r.warmPrepareMs}, load the copy ${r.warmLoadMs}, drop ${r.warmCleanupMs})  goal <= 500: ${r.pass ? 'PASS' : 'FAIL'}
  reading the target (pg_dump)        ${r.warmDumpMs}
wrote bench/results/runner.json`);
  } finally {
    await admin(async (c) => {
      for (const t of templates) {
        await c.query(`DROP DATABASE IF EXISTS ${t}_run`);
        await c.query(`DROP DATABASE IF EXISTS ${t}`);
      }
    }).catch(() => undefined);
  }
}

main().catch((err) => {
  console.error('[bench:runner] failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
