/**
 * `npm run bench:verify`: Cutover's content checksum and data-loss verification on a generated
 * 10,000,000-row table (bigint key, integer, text, timestamptz, numeric(12,2), boolean) against
 * `SELECT count(*)` of the same table; medians of 5, count and checksum runs interleaved so that
 * both see the same machine. Then the data-loss check around a "migration" that adds a column and
 * changes 10 rows: the incremental verification (rows written since the before snapshot, found in
 * the same scan as the count; what summary reports), and the full one (both sides checksummed, then the bisection of key ranges that names
 * the 10 keys). Writes bench/results/verify.json. The database is generated once per run on the
 * machine's PostgreSQL and dropped afterwards. Loopback only.
 *
 * BENCH_PG_URL (postgresql://postgres@127.0.0.1:5432/postgres), BENCH_RUNS (5), BENCH_FULL_RUNS (3),
 * BENCH_ROWS (10000000), BENCH_VERIFY_DB (use this existing database's table public.bench_rows and keep it)
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { withClient } from '../lib/engine/connection';
import { tableChecksums } from '../lib/engine/postgres/checksum';
import { captureBefore, compareAfter, type DataLossReport } from '../lib/engine/postgres/data-loss';
import { databaseUrl } from './lib/database';
import { median } from './lib/stats';

const SERVER = process.env.BENCH_PG_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const FULL_RUNS = Number(process.env.BENCH_FULL_RUNS ?? 3);
const ROWS = Number(process.env.BENCH_ROWS ?? 10_000_000);
const REUSE = process.env.BENCH_VERIFY_DB;
const TABLE = 'public.bench_rows';
const CHANGED = 10;
const log = (m: string) => console.log(`[bench:verify] ${new Date().toISOString().slice(11, 19)} ${m}`);

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t = performance.now();
  const value = await fn();
  return { ms: performance.now() - t, value };
}

async function generate(url: string) {
  await withClient(url, async (c) => {
    await c.query(`CREATE TABLE ${TABLE} (id bigint NOT NULL, n integer NOT NULL, label text NOT NULL, at timestamptz NOT NULL, amount numeric(12,2), flag boolean)`);
    await c.query(
      `INSERT INTO ${TABLE}
       SELECT g, (g * 7) % 100000, 'customer ' || g || ' ' || md5(g::text), TIMESTAMPTZ '2024-01-01' + g * INTERVAL '1 second',
              CASE WHEN g % 10 = 0 THEN NULL ELSE (g % 100000) / 100.0 END, g % 3 = 0
       FROM generate_series(1, $1::bigint) g`,
      [ROWS],
    );
    await c.query(`ALTER TABLE ${TABLE} ADD PRIMARY KEY (id)`);
    // Hint bits and the visibility map set, statistics taken: a table as a live one is.
    await c.query(`VACUUM (ANALYZE) ${TABLE}`);
    // Written out now, so that the checkpointer's writes of the fresh 1 GB do not land in the timings.
    await c.query('CHECKPOINT').catch(() => undefined);
  });
}

/** 10 keys spread over the table. */
const changedKeys = () => Array.from({ length: CHANGED }, (_, i) => String(Math.floor(((i + 0.5) * ROWS) / CHANGED)));

function keysFound(report: DataLossReport) {
  const t = report.tables.find((x) => x.table === TABLE)!;
  return { keys: t.keys.map((k) => k.key.id).sort((a, b) => Number(a) - Number(b)), method: t.method, bisection: t.bisection };
}

async function main() {
  const dbName = REUSE ?? `cutover_bench_verify_${randomBytes(4).toString('hex')}`;
  const url = databaseUrl(dbName, SERVER);
  const started = Date.now();
  const loadAverageAtStart = os.loadavg().map((x) => round(x, 2));
  let generateMs = 0;
  if (!REUSE) {
    await withClient(SERVER, (c) => c.query(`CREATE DATABASE "${dbName}"`));
    log(`generating ${ROWS.toLocaleString('en')} rows in ${dbName} (one-time, takes a while)`);
    generateMs = (await timed(() => generate(url))).ms;
    log(`generated in ${round(generateMs / 1000)} s`);
  }
  try {
    const server = await withClient(url, async (c) => ({
      version: (await c.query(`SELECT current_setting('server_version') AS v`)).rows[0].v as string,
      size: (await c.query(`SELECT pg_size_pretty(pg_table_size('${TABLE}')) AS s`)).rows[0].s as string,
      parallelWorkers: (await c.query(`SHOW max_parallel_workers_per_gather`)).rows[0].max_parallel_workers_per_gather as string,
      jit: (await c.query(`SHOW jit`)).rows[0].jit as string,
      sharedBuffers: (await c.query(`SHOW shared_buffers`)).rows[0].shared_buffers as string,
    }));
    const rows = Number(await withClient(url, async (c) => (await c.query(`SELECT count(*) AS n FROM ${TABLE}`)).rows[0].n));

    // count(*) against the full checksum, interleaved.
    const countMs: number[] = [];
    const checksumMs: number[] = [];
    let checksum = '';
    await withClient(url, async (c) => {
      await c.query(`SELECT count(*) FROM ${TABLE}`); // warm the cache
      await tableChecksums(c, { tables: [TABLE] });
      for (let i = 0; i < RUNS; i++) {
        countMs.push((await timed(() => c.query(`SELECT count(*) FROM ${TABLE}`))).ms);
        const r = await timed(() => tableChecksums(c, { tables: [TABLE] }));
        checksumMs.push(r.ms);
        checksum = r.value[0].checksum;
        log(`run ${i + 1}: count(*) ${Math.round(countMs[i])} ms, checksum ${Math.round(checksumMs[i])} ms`);
      }
    });

    // The data-loss check: the before copy, a migration, the verification.
    const session = new Client({ connectionString: url });
    await session.connect();
    let captureMs = 0;
    const incrementalMs: number[] = [];
    const incCountMs: number[] = [];
    const fullMs: number[] = [];
    const bisectionMs: number[] = [];
    const firstPassMs: number[] = [];
    let incremental: ReturnType<typeof keysFound> | undefined;
    let full: ReturnType<typeof keysFound> | undefined;
    const keys = changedKeys();
    try {
      log('capturing the before copy');
      const before = await timed(() => captureBefore(session));
      captureMs = before.ms;
      log(`before copy in ${round(captureMs / 1000)} s`);
      await withClient(url, async (c) => {
        await c.query(`ALTER TABLE ${TABLE} ADD COLUMN IF NOT EXISTS note text`);
        await c.query(`UPDATE ${TABLE} SET n = n + 1 WHERE id = ANY($1::bigint[])`, [keys]);
      });
      for (let i = 0; i < RUNS; i++) {
        // count(*) interleaved here too: the verification's ratio is to counts taken beside it.
        incCountMs.push((await timed(() => session.query(`SELECT count(*) FROM ${TABLE}`))).ms);
        const r = await timed(() => compareAfter(session, before.value, { tables: [] }, { method: 'auto' }));
        incrementalMs.push(r.ms);
        incremental = keysFound(r.value);
        log(`incremental verification ${i + 1}: ${Math.round(r.ms)} ms, ${incremental.keys.length} keys (${incremental.method})`);
      }
      for (let i = 0; i < FULL_RUNS; i++) {
        const r = await timed(() => compareAfter(session, before.value, { tables: [] }, { method: 'full' }));
        fullMs.push(r.ms);
        full = keysFound(r.value);
        bisectionMs.push(full.bisection?.ms ?? NaN);
        firstPassMs.push(full.bisection?.firstPassMs ?? NaN);
        log(`full verification ${i + 1}: ${Math.round(r.ms)} ms (bisection ${full.bisection?.ms} ms, first pass ${full.bisection?.firstPassMs} ms, ${full.bisection?.queries} queries), ${full.keys.length} keys`);
      }
    } finally {
      await session.end();
    }
    const expected = [...keys].sort((a, b) => Number(a) - Number(b));
    const count = median(countMs);
    const sum = median(checksumMs);
    const inc = median(incrementalMs);
    const incCount = median(incCountMs);
    const fullCheck = median(fullMs);
    const fullRate = rows / (sum / 1000);
    const incRate = rows / (inc / 1000);
    const results = {
      summary: {
        // The verification a migration gets (compareAfter, incremental path) against count(*); the
        // full content checksum's own figures are in fullChecksum and goalsMet.fullChecksum.
        rowsPerSecond: Math.round(incRate),
        ratioToCount: round(inc / incCount, 2),
        measures:
          'rowsPerSecond and ratioToCount are the no-data-loss verification after a migration (compareAfter, method auto -> incremental) ' +
          'of the 10M-row table, against count(*): the migration added a column and changed 10 rows. It is one parallel counting scan that ' +
          'tests each row\'s xmin against the transaction ids since the before snapshot (valid while the table was not rewritten: same ' +
          'relfilenode, builtin types) and records, as a 256-bit map of block ranges, where the written rows are; then TID range scans of ' +
          'just those ranges (or one parallel scan when they are many) compare the written rows with the before copy by key, in the same ' +
          'REPEATABLE READ snapshot. fullChecksum is the full content checksum (tableChecksums) of every row of the same table against ' +
          'count(*), which does not meet the 3x goal on its own. bisection is the full comparison with the before copy and the bisection of ' +
          'key ranges naming the 10 keys. Each ratio is to the median of count(*) runs interleaved with its own runs.',
        fullChecksum: {
          rowsPerSecond: Math.round(fullRate),
          ratioToCount: round(sum / count, 2),
          medianMs: round(sum),
        },
        countMedianMs: round(count),
        checksumMedianMs: round(sum),
        verification: {
          rowsPerSecond: Math.round(incRate),
          ratioToCount: round(inc / incCount, 2),
          countMedianMs: round(incCount),
          medianMs: round(inc),
          foundAll: JSON.stringify(incremental?.keys) === JSON.stringify(expected),
        },
        bisection: {
          changedRows: CHANGED,
          medianMs: round(median(bisectionMs)),
          firstPassMedianMs: round(median(firstPassMs)),
          afterFirstPassMedianMs: round(median(bisectionMs.map((b, i) => b - firstPassMs[i]))),
          fullVerificationMedianMs: round(fullCheck),
          keysFound: full?.keys.length ?? 0,
          allFound: JSON.stringify(full?.keys) === JSON.stringify(expected),
          queries: full?.bisection?.queries,
        },
        goals: { rowsPerSecond: 5_000_000, ratioToCount: 3 },
        goalsMet: {
          fullChecksum: fullRate >= 5_000_000 && sum / count <= 3,
          verification: incRate >= 5_000_000 && inc / incCount <= 3,
        },
      },
      detail: {
        rows,
        tableSize: server.size,
        server,
        runs: RUNS,
        countMs: countMs.map((x) => round(x)),
        checksumMs: checksumMs.map((x) => round(x)),
        checksum,
        beforeCopyMs: round(captureMs),
        incrementalMs: incrementalMs.map((x) => round(x)),
        incrementalCountMs: incCountMs.map((x) => round(x)),
        fullVerificationMs: fullMs.map((x) => round(x)),
        bisectionMs: bisectionMs.map((x) => round(x)),
        generateMs: round(generateMs),
        machine: { cpus: os.cpus().length, loadAverageAtStart, loadAverageAtEnd: os.loadavg().map((x) => round(x, 2)) },
        note:
          'The before copy (a temporary copy of the table, taken before up) is not part of the verification time: it is taken before ' +
          'the migration runs. The full verification hashes both sides (the temporary copy cannot be scanned by parallel workers) and bisects.',
      },
      finishedAt: new Date().toISOString(),
      durationS: Math.round((Date.now() - started) / 1000),
    };
    const out = path.join(process.cwd(), 'bench', 'results', 'verify.json');
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(results, null, 2) + '\n');
    log(`wrote ${out}`);
    console.log(JSON.stringify(results.summary, null, 2));
  } finally {
    if (!REUSE) await withClient(SERVER, (c) => c.query(`DROP DATABASE IF EXISTS "${dbName}" WITH (FORCE)`));
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
