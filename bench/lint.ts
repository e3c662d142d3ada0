/**
 * `npm run bench:lint`: Cutover's full analysis of a 10,000-statement migration (parse, impact
 * analysis with its catalog reads, and squawk, as the Analysis step runs them) against `squawk`
 * alone on the same file; median of 5 runs each. The catalog is a scratch database holding the
 * 500 tables the file touches, read through a read-only session opened for each run.
 * Goal: at most 2 times squawk's time. Writes bench/results/lint.json (summary.ratioToSquawk).
 *
 * BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_RUNS (5), BENCH_TABLES (500)
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { readOnlySession, withClient } from '../lib/engine/connection';
import { analyzeMigration } from '../lib/engine/postgres/impact';
import { squawkBinaryPath, SQUAWK_VERSION } from '../lib/engine/squawk';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const TABLES = Number(process.env.BENCH_TABLES ?? 500);
const STATEMENTS = 10_000;
const DB = 'cutover_bench_lint';
const log = (m: string) => console.log(`[bench:lint] ${m}`);

const urlFor = (db: string) => {
  const u = new URL(SERVER);
  u.pathname = `/${db}`;
  return u.toString();
};
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const round = (n: number) => Math.round(n * 10) / 10;

/** The tables the migration works on, each with a few hundred rows (so some are counted exactly, as in life). */
function schemaSql(): string {
  const lines: string[] = ['CREATE TABLE accounts (id bigint PRIMARY KEY, name text NOT NULL);', 'INSERT INTO accounts SELECT g, \'a\' || g FROM generate_series(1, 1000) g;'];
  for (let i = 0; i < TABLES; i++) {
    lines.push(
      `CREATE TABLE t${i} (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts (id), name text, note varchar(50), amount numeric(10,2), qty int, status text, created_at timestamptz DEFAULT now());`,
      `CREATE INDEX t${i}_name_idx ON t${i} (name);`,
      `INSERT INTO t${i} (id, account_id, name, note, amount, qty, status) SELECT g, 1 + g % 1000, 'n' || g, 'x', g, g % 7, 's' FROM generate_series(1, ${i % 10 === 0 ? 5000 : 200}) g;`,
    );
  }
  return lines.join('\n');
}

/**
 * 10,000 statements, twenty a table, the mix of a busy quarter's migrations: new columns,
 * indexes, constraints the safe way and the unsafe way, type changes, backfills, renames,
 * comments, new tables, a few drops.
 */
function migrationSql(): string {
  const out: string[] = [];
  for (let n = 0; out.length < STATEMENTS; n++) {
    const i = n % TABLES;
    const t = `t${i}`;
    const batch = [
      `ALTER TABLE ${t} ADD COLUMN extra_${n} text;`,
      `ALTER TABLE ${t} ADD COLUMN flag_${n} boolean NOT NULL DEFAULT false;`,
      `CREATE INDEX ${t}_status_${n}_idx ON ${t} (status);`,
      `ALTER TABLE ${t} ADD CONSTRAINT ${t}_qty_${n} CHECK (qty >= 0) NOT VALID;`,
      `ALTER TABLE ${t} VALIDATE CONSTRAINT ${t}_qty_${n};`,
      `ALTER TABLE ${t} ALTER COLUMN note TYPE varchar(${100 + n});`,
      `UPDATE ${t} SET status = 'active' WHERE status IS NULL AND id < 100;`,
      `COMMENT ON COLUMN ${t}.extra_${n} IS 'added in batch ${n}';`,
      `ALTER TABLE ${t} ALTER COLUMN extra_${n} SET DEFAULT '';`,
      `ALTER TABLE ${t} ADD CONSTRAINT ${t}_account_${n} FOREIGN KEY (account_id) REFERENCES accounts (id) NOT VALID;`,
      `CREATE TABLE ${t}_audit_${n} (id bigserial PRIMARY KEY, row_id bigint NOT NULL REFERENCES ${t} (id), changed_at timestamptz NOT NULL DEFAULT now());`,
      `CREATE INDEX ${t}_audit_${n}_row_idx ON ${t}_audit_${n} (row_id);`,
      `ALTER TABLE ${t} ALTER COLUMN qty SET NOT NULL;`,
      `ALTER TABLE ${t} ALTER COLUMN amount TYPE numeric(14,2);`,
      `INSERT INTO ${t}_audit_${n} (row_id) SELECT id FROM ${t} WHERE id < 10;`,
      `ALTER TABLE ${t} RENAME COLUMN extra_${n} TO extra_text_${n};`,
      `ALTER TABLE ${t} SET (fillfactor = 90);`,
      `DROP INDEX ${t}_status_${n}_idx;`,
      `ALTER TABLE ${t} DROP COLUMN flag_${n};`,
      `DELETE FROM ${t}_audit_${n} WHERE changed_at < now() - interval '1 year';`,
    ];
    out.push(...batch);
  }
  return out.slice(0, STATEMENTS).join('\n') + '\n';
}

function runSquawkAlone(file: string): Promise<{ ms: number; bytes: number }> {
  const binary = squawkBinaryPath();
  const started = performance.now();
  return new Promise((resolve, reject) => {
    execFile(binary, ['--reporter', 'json', file], { maxBuffer: 1024 * 1024 * 1024, cwd: path.dirname(file) }, (err, stdout) => {
      if (err && !(err.code === 1 && stdout.startsWith('['))) return reject(err);
      resolve({ ms: performance.now() - started, bytes: stdout.length });
    });
  });
}

async function main() {
  log(`scratch database ${DB} with ${TABLES} tables`);
  await withClient(SERVER, async (c) => {
    await c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`);
    await c.query(`CREATE DATABASE ${DB}`);
  });
  const url = urlFor(DB);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-lint-'));
  try {
    await withClient(url, async (c) => {
      await c.query(schemaSql());
      // As autovacuum keeps a live database: statistics current, and no dead catalog rows left by the set-up.
      await c.query('VACUUM ANALYZE');
    });
    const base = migrationSql();
    const cutoverMs: number[] = [];
    const squawkMs: number[] = [];
    const detail: Record<string, unknown>[] = [];
    // One warm-up of each (the WASM parser's first load, the binary's first start), not counted.
    for (let run = -1; run < RUNS; run++) {
      // Each run's file differs by a comment, so the parser's cache of recent files cannot help.
      const sql = `-- run ${run}\n${base}`;
      const file = path.join(dir, `migration-${run}.sql`);
      writeFileSync(file, sql);
      const alone = await runSquawkAlone(file);
      const started = performance.now();
      const client = new Client(readOnlySession({ connectionString: url }));
      await client.connect();
      let analysis;
      try {
        analysis = await analyzeMigration(sql, { client });
      } finally {
        await client.end();
      }
      const ms = performance.now() - started;
      if (analysis.squawk.error) throw new Error(analysis.squawk.error);
      log(`run ${run}: cutover ${round(ms)} ms, squawk alone ${round(alone.ms)} ms (${analysis.impact.statements.length} statements, ${analysis.squawk.findings.length} squawk findings, risk ${analysis.impact.risk.level})`);
      if (run < 0) continue;
      cutoverMs.push(ms);
      squawkMs.push(alone.ms);
      detail.push({
        run,
        cutoverMs: round(ms),
        squawkMs: round(alone.ms),
        statements: analysis.impact.statements.length,
        unknownStatements: analysis.impact.unknownStatements,
        tablesRead: analysis.impact.tables.length,
        destructive: analysis.impact.destructive.length,
        strategies: analysis.impact.strategies.length,
        squawkFindings: analysis.squawk.findings.length,
        risk: analysis.impact.risk.level,
      });
    }
    const summary = {
      statements: STATEMENTS,
      tables: TABLES,
      runs: RUNS,
      cutoverMedianMs: round(median(cutoverMs)),
      squawkMedianMs: round(median(squawkMs)),
      ratioToSquawk: Math.round((median(cutoverMs) / median(squawkMs)) * 1000) / 1000,
      goal: 'cutover median <= 2 x squawk median',
      pass: median(cutoverMs) <= 2 * median(squawkMs),
    };
    const out = {
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString(), loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
      server: SERVER.replace(/:[^:@/]*@/, ':***@'),
      squawk: SQUAWK_VERSION,
      what:
        'cutover: connect a read-only session, analyzeMigration (parse, catalog reads, impact analysis, squawk with --pg-version, in parallel), close; squawk: the binary alone with --reporter json on the same file',
      summary,
      cutoverMs: cutoverMs.map(round),
      squawkMs: squawkMs.map(round),
      runs: detail,
    };
    const results = path.join('bench', 'results');
    mkdirSync(results, { recursive: true });
    writeFileSync(path.join(results, 'lint.json'), JSON.stringify(out, null, 2) + '\n');
    log(`median cutover ${summary.cutoverMedianMs} ms, squawk ${summary.squawkMedianMs} ms, ratio ${summary.ratioToSquawk} (goal <= 2): ${summary.pass ? 'pass' : 'FAIL'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await withClient(SERVER, (c) => c.query(`DROP DATABASE IF EXISTS ${DB} WITH (FORCE)`));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
