/**
 * `npm run bench:load`: the app under load. 1,000 requests in a scratch store, 100 concurrent
 * keep-alive clients on loopback for 60 s mixing the lead's board, the requests list, request
 * pages (the default view and a step's deep link) and API reads, while a real deploy runs
 * (commit and push to a local git repository, backup, apply to a staging database, checks), run by
 * a worker process as in production. The same deploy runs once on the idle machine first, so the
 * two can be compared. Writes bench/results/load.json: p50, p95, p99 per route, `summary.errors`
 * and `summary.p99Ms` (the worst route's p99). Loopback only; bounded by time.
 *
 * Clients are people, not a closed loop: each waits a think time between its calls, drawn from an
 * exponential distribution (mean BENCH_THINK_MS, capped at 10x the mean, as TPC-W models web users),
 * and starts after one such pause so the clients do not all fire at once. At zero think time, 100
 * clients on 2 cores measure the length of the queue, not how long a page takes (Little's law:
 * mean latency ~ clients / throughput). That closed-loop capacity is measured too, after the main phase,
 * for BENCH_CAPACITY_SECONDS with zero think time and no deploy, and reported as `capacity`.
 *
 * Knobs (env): BENCH_REQUESTS (1000), BENCH_CLIENTS (100), BENCH_SECONDS (60), BENCH_WARMUP (300 calls),
 * BENCH_THINK_MS (3000: the mean think time; 0 = closed loop), BENCH_CAPACITY_SECONDS (20; 0 = skip),
 * BENCH_PORT (3310), BENCH_DB (cutover_bench_load), BENCH_KEEP_DB=1, BENCH_DEPLOY=0 (no deploy),
 * BENCH_DEPLOY_ROWS (400000 rows in the staging database the deploy backs up). The worker lowers its
 * own CPU priority as in production (CUTOVER_WORKER_NICE, default 10; 0 keeps it level with the web server).
 * Flags: --strict (exit 1 when p99 >= 500 ms, an error, or the deploy under load did not succeed).
 * Exit codes: 0 measured, 1 a goal missed with --strict, 2 failed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_WORKER_NICE } from '../lib/jobs/priority';
import { connect, databaseUrl, dropDatabase, recreateDatabase } from './lib/database';
import { signIn, timedGet } from './lib/http';
import { ADMIN_PASSWORD, seed } from './lib/seed';
import { prepareBenchStore } from './lib/app-store';
import { runServedBench } from './lib/run';
import { ensureBuild, startServer, type RunningServer } from './lib/server';
import { percentile, rng } from './lib/stats';

/**
 * The mean pause of a person between two calls. The most often Cutover itself asks for a page
 * without a click is the board's refresh, every 3 s while runs progress (components/board/board-refresh.tsx);
 * a person who opened a request's step, a list or the board reads it before the next click, which
 * takes longer. So 3 s on average is on the busy side for people (TPC-W's web users think 7 s),
 * and 100 of them ask for about 33 pages a second. BENCH_THINK_MS=1000 is the harsher model.
 */
const THINK_MS_DEFAULT = 3000;
/** Think times are capped (a long tail, not an unbounded one): TPC-W truncates at 10x the mean. */
const THINK_CAP = 10;
const TIMELINE_WINDOW_MS = 5000;
/** The deploy under load is queued this far into the main phase. */
const DEPLOY_AFTER_MS = 5000;
const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const CFG = {
  requests: env('BENCH_REQUESTS', 1000),
  clients: env('BENCH_CLIENTS', 100),
  seconds: env('BENCH_SECONDS', 60),
  warmup: env('BENCH_WARMUP', 300),
  port: env('BENCH_PORT', 3310),
  database: process.env.BENCH_DB ?? 'cutover_bench_load',
  keepDb: process.env.BENCH_KEEP_DB === '1',
  deploy: process.env.BENCH_DEPLOY !== '0',
  deployRows: env('BENCH_DEPLOY_ROWS', 400_000),
  thinkMs: env('BENCH_THINK_MS', THINK_MS_DEFAULT),
  capacitySeconds: env('BENCH_CAPACITY_SECONDS', 20),
  strict: process.argv.includes('--strict'),
};
const GOAL_P99_MS = 500;
const RESULTS = path.join(process.cwd(), 'bench', 'results', 'load.json');
const STAGING_DB = `${CFG.database}_staging`;
if (!/^[a-z_][a-z0-9_]*$/.test(CFG.database)) throw new Error(`BENCH_DB must be a plain identifier, got ${CFG.database}`);

const t0 = performance.now();
const log = (m: string) => console.log(`[bench:load ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const round = (x: number) => Math.round(x * 10) / 10;

interface Route {
  name: string;
  weight: number;
  path: (r: () => number) => string;
  /** What the body must contain: proof that the real page (or JSON) was served. */
  expect: string;
}

interface RouteResult {
  calls: number;
  errors: number;
  firstError: string | null;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
  throughputRps: number;
}

// Cleanup state, reachable from a signal handler.
let server: RunningServer | null = null;
let worker: ChildProcess | null = null;
let workDir: string | null = null;
const created: string[] = [];
let cleaning: Promise<void> | null = null;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await server?.stop().catch((e) => console.error('[bench:load] stopping the server failed:', e));
    server = null;
    if (worker?.pid && worker.exitCode === null) {
      const w = worker;
      const exited = new Promise((r) => w.once('exit', r));
      try { process.kill(-w.pid!, 'SIGTERM'); } catch { /* gone */ }
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    }
    worker = null;
    // Queuing the deploys started pg-boss in this process too; it would keep the process alive.
    const { stopBoss } = await import('../lib/jobs/queue');
    await stopBoss().catch(() => undefined);
    const { disconnectDb } = await import('../lib/db/client');
    await disconnectDb().catch(() => undefined);
    if (!CFG.keepDb) for (const db of created) await dropDatabase(db).catch((e) => console.error(`[bench:load] dropping ${db} failed:`, e));
    if (workDir) rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n[bench:load] ${sig}: stopping and dropping the scratch databases...`);
    void cleanup().finally(() => process.exit(130));
  });
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
  cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  env: { ...process.env, GIT_AUTHOR_NAME: 'Bench', GIT_AUTHOR_EMAIL: 'bench@app.test', GIT_COMMITTER_NAME: 'Bench', GIT_COMMITTER_EMAIL: 'bench@app.test', GIT_CONFIG_NOSYSTEM: '1' },
}).trim();

/**
 * A project to deploy to: a bare git repository as the application's, a staging database with
 * BENCH_DEPLOY_ROWS rows (the deploy backs it up), and two requests each with a saved revision and
 * a passing rehearsal: one to deploy on the idle machine, one under load.
 */
async function prepareDeploys(adminId: string, dir: string) {
  const { getDb } = await import('../lib/db/client');
  const { createTarget } = await import('../lib/services/manage-targets');
  const { fileRequest } = await import('../lib/services/file-request');
  const { saveMigrationRevision } = await import('../lib/services/migration-revisions');
  const { recordEvidence } = await import('../lib/services/evidence');
  const { SaveRevisionSchema } = await import('../lib/validation/migration');

  await recreateDatabase(STAGING_DB);
  created.push(STAGING_DB);
  const c = await connect(databaseUrl(STAGING_DB));
  try {
    await c.query(`CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
      INSERT INTO customers SELECT g, 'c' || g || '@shop.test' FROM generate_series(1, 5000) g;
      CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10,2), placed_at timestamptz NOT NULL);
      INSERT INTO orders SELECT g, 1 + g % 5000, g * 0.5, now() - g * interval '1 minute' FROM generate_series(1, ${CFG.deployRows}) g;`);
    // On its own: a multi-statement query is one implicit transaction, which VACUUM refuses.
    await c.query('VACUUM ANALYZE');
  } finally {
    await c.end();
  }
  const bare = path.join(dir, 'shop.git');
  const dev = path.join(dir, 'shop-dev');
  git(dir, 'init', '--bare', '--initial-branch=main', bare);
  git(dir, 'init', '--initial-branch=main', dev);
  writeFileSync(path.join(dev, 'package.json'), '{\n  "name": "shop-app",\n  "version": "1.0.0",\n  "private": true\n}\n');
  git(dev, 'add', '.');
  git(dev, 'commit', '-q', '-m', 'init');
  git(dev, 'push', '-q', bare, 'main');

  const server = new URL(databaseUrl(STAGING_DB));
  const target = await createTarget(adminId, {
    name: 'Bench shop staging', engine: 'postgresql', environment: 'staging', host: server.hostname, port: Number(server.port || 5432),
    database: STAGING_DB, username: decodeURIComponent(server.username) || 'postgres', password: decodeURIComponent(server.password) || undefined,
    sslMode: 'disable', connectTimeoutMs: 3000, lockTimeoutMs: 5000, statementTimeoutMs: 600_000,
  });
  const project = await getDb().project.create({
    data: {
      name: 'Bench shop', repositoryUrl: bare, deployBranch: 'main',
      environments: { create: [{ position: 1, name: 'staging', targetId: target.id }] },
    },
    include: { environments: true },
  });
  const requests: string[] = [];
  for (const label of ['idle', 'load']) {
    const { id } = await fileRequest(adminId, { title: `Bench deploy (${label})`, kind: 'schema_change', targetId: target.id, description: 'Orders get a note column.', priority: 'HIGH' });
    await getDb().migrationRequest.update({ where: { id }, data: { projectId: project.id, appBranch: 'main' } });
    await saveMigrationRevision(adminId, SaveRevisionSchema.parse({
      requestId: id, name: `add_note_${label}`,
      upSql: `ALTER TABLE orders ADD COLUMN note_${label} text;\nCREATE INDEX orders_placed_${label} ON orders (placed_at);\n`,
      downSql: `DROP INDEX orders_placed_${label};\nALTER TABLE orders DROP COLUMN note_${label};\n`,
    }));
    const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId: id }, orderBy: { revision: 'desc' } });
    // The rehearsal is step 3's work and is benchmarked elsewhere: recorded as its handler records it.
    await getDb().$transaction((tx) => recordEvidence(tx, {
      kind: 'rehearsal', targetId: target.id, requestId: id, revision: { id: revision.id, checksum: revision.checksum }, passed: true,
      summary: 'rehearsal passed (bench fixture)',
      detail: {
        revision: revision.revision, ok: true, phases: ['up', 'verify', 'down', 'rollback', 'redo'].map((phase) => ({ phase, label: phase, status: 'ok' as const, durationMs: 1 })),
        hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null,
      },
    }));
    requests.push(id);
  }
  return { environmentId: project.environments[0].id, requests };
}

interface DeployTiming { status: string; phase: string | null; error: string | null; seconds: number; phases: unknown }

/** Queues a deploy through the service (as the Deploy button does) and waits (bounded) for the worker to finish it. */
async function runDeploy(adminId: string, requestId: string, environmentId: string): Promise<DeployTiming> {
  const { getDb } = await import('../lib/db/client');
  const { requestDeploy } = await import('../lib/services/deploy');
  const started = performance.now();
  const { deploymentId } = await requestDeploy(adminId, { requestId, environmentId });
  const deadline = Date.now() + 180_000;
  for (;;) {
    const d = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    if (!['queued', 'running'].includes(d.status)) {
      return { status: d.status, phase: d.phase, error: d.error, seconds: round((performance.now() - started) / 1000), phases: d.phases };
    }
    if (Date.now() > deadline) return { status: `still ${d.status} after 180 s`, phase: d.phase, error: null, seconds: 180, phases: d.phases };
    await new Promise((r) => setTimeout(r, 200));
  }
}

function startWorker(serverEnv: Record<string, string>): ChildProcess {
  // `npm run worker`, which lowers its own CPU priority as `npm start`'s worker does (lib/jobs/priority.ts).
  const child = spawn(process.execPath, [path.join(process.cwd(), 'node_modules', 'tsx', 'dist', 'cli.mjs'), 'scripts/worker.ts'], {
    env: { ...process.env, ...serverEnv }, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-8000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.once('exit', (code) => { if (code) log(`worker exited with ${code}:\n${out}`); });
  return child;
}

/**
 * `clients` people until the time is up, each calling a route, then thinking for an exponentially
 * distributed time (mean `thinkMs`, capped at THINK_CAP x the mean) before the next; thinkMs 0 is a
 * closed loop (the next call as soon as the last ended). Latency is from sending a request to the
 * last byte of its answer; think time is not in it.
 */
async function load(base: string, cookie: string, routes: Route[], clients: number, seconds: number, seed: number, thinkMs = 0) {
  const samples = new Map(routes.map((r) => [r.name, [] as number[]]));
  // Every call's start (ms into the phase) and latency, for the per-window timeline.
  const calls: { at: number; ms: number }[] = [];
  const errors = new Map(routes.map((r) => [r.name, { n: 0, first: null as string | null }]));
  const total = routes.reduce((n, r) => n + r.weight, 0);
  const rand = rng(seed);
  const pick = () => {
    let x = rand() * total;
    for (const r of routes) if ((x -= r.weight) < 0) return r;
    return routes[routes.length - 1];
  };
  const until = performance.now() + seconds * 1000;
  const started = performance.now();
  // Never past the end: the phase's wall time (and so its throughput) is the time asked for.
  const think = () => thinkMs > 0
    ? new Promise((r) => setTimeout(r, Math.max(0, Math.min(-thinkMs * Math.log(1 - rand()), thinkMs * THINK_CAP, until - performance.now()))))
    : null;
  const client = async () => {
    // A first pause, so that people arrive spread out rather than all at once.
    await think();
    while (performance.now() < until) {
      const route = pick();
      const url = base + route.path(rand);
      try {
        const at = performance.now() - started;
        const r = await timedGet(url, cookie);
        samples.get(route.name)!.push(r.ms);
        calls.push({ at, ms: r.ms });
        if (r.status !== 200 || !r.body.includes(route.expect)) {
          const e = errors.get(route.name)!;
          e.n++;
          e.first ??= `${url}: HTTP ${r.status}${r.location ? ` -> ${r.location}` : ''}${r.status === 200 ? `, missing ${JSON.stringify(route.expect)}` : ''}`;
        }
      } catch (err) {
        const e = errors.get(route.name)!;
        e.n++;
        e.first ??= `${url}: ${err instanceof Error ? err.message : String(err)}`;
      }
      await think();
    }
  };
  await Promise.all(Array.from({ length: clients }, client));
  const wallMs = performance.now() - started;
  const result: Record<string, RouteResult> = {};
  for (const r of routes) {
    const s = samples.get(r.name)!.sort((a, b) => a - b);
    const e = errors.get(r.name)!;
    result[r.name] = {
      calls: s.length, errors: e.n, firstError: e.first,
      p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? NaN),
      mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)), throughputRps: round((s.length / wallMs) * 1000),
    };
  }
  // Per 5 s window, so a burst (the deploy's backup, another process) shows when it happened.
  const timeline = Array.from({ length: Math.ceil(wallMs / TIMELINE_WINDOW_MS) }, (_, i) => {
    const ms = calls.filter((c) => c.at >= i * TIMELINE_WINDOW_MS && c.at < (i + 1) * TIMELINE_WINDOW_MS).map((c) => c.ms).sort((a, b) => a - b);
    return { fromS: (i * TIMELINE_WINDOW_MS) / 1000, calls: ms.length, p50: round(percentile(ms, 50)), p99: round(percentile(ms, 99)), max: round(ms[ms.length - 1] ?? NaN) };
  });
  return { routes: result, wallMs, timeline };
}

/** A phase's totals: calls, errors, throughput, and the worst route's p99. */
function phaseSummary(m: { routes: Record<string, RouteResult>; wallMs: number }) {
  const all = Object.values(m.routes);
  const calls = all.reduce((n, r) => n + r.calls, 0);
  const worst = Object.entries(m.routes).sort((a, b) => b[1].p99 - a[1].p99)[0];
  return { errors: all.reduce((n, r) => n + r.errors, 0), calls, p99Ms: worst[1].p99, worstRoute: worst[0], throughputRps: round((calls / m.wallMs) * 1000) };
}

async function main() {
  const startedAt = new Date();
  const url = databaseUrl(CFG.database);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-load-'));
  // mkdtemp makes it 0700; the deploy's backup drill starts an embedded PostgreSQL under it,
  // which runs as the unprivileged `postgres` user when the bench runs as root.
  chmodSync(workDir, 0o755);
  const build = ensureBuild(log);

  log(`recreating ${CFG.database}, applying the app's migrations, seeding ${CFG.requests} requests`);
  // This process uses the services too (to queue the deploys): same store, same key.
  const { serverEnv } = await prepareBenchStore({ database: CFG.database, port: CFG.port, workDir, onCreated: () => created.push(CFG.database) });
  const { hashPassword } = await import('../lib/services/manage-users');
  const db = await connect(url);
  let seeded: Awaited<ReturnType<typeof seed>>;
  try {
    seeded = await seed(db, { requests: CFG.requests, passwordHash: await hashPassword(ADMIN_PASSWORD) });
    await db.query('VACUUM ANALYZE');
  } finally {
    await db.end();
  }
  log(`seeded ${seeded.requests} requests (${seeded.tasks} tasks, ${seeded.auditRows} audit rows)`);

  let deploySetup: Awaited<ReturnType<typeof prepareDeploys>> | null = null;
  let deployNote: string | null = null;
  if (CFG.deploy) {
    try {
      deploySetup = await prepareDeploys(seeded.admin.id, workDir);
    } catch (err) {
      deployNote = `no deploy ran during the load: setting one up failed (${err instanceof Error ? err.message : String(err)})`;
      log(deployNote);
    }
  } else {
    deployNote = 'no deploy ran during the load (BENCH_DEPLOY=0)';
  }

  server = await startServer({ port: CFG.port, env: serverEnv });
  if (deploySetup) worker = startWorker(serverEnv);
  const cookie = await signIn(server.baseUrl, seeded.admin.email, seeded.admin.password);
  const sample = seeded.sample;
  const STEPS = ['analysis', 'create-migration', 'test-locally', 'create-backup', 'quality-gate', 'deploy'];
  const one = <T>(xs: readonly T[], r: () => number) => xs[Math.floor(r() * xs.length)];
  const routes: Route[] = [
    { name: 'board', weight: 15, path: () => '/overview', expect: 'What needs you' },
    { name: 'list', weight: 20, path: () => '/requests', expect: 'Migration requests' },
    { name: 'listFiltered', weight: 5, path: () => '/requests?status=in_progress', expect: 'Migration requests' },
    { name: 'request', weight: 25, path: (r) => `/requests/${one(sample, r).id}`, expect: 'Workflow steps' },
    { name: 'requestStep', weight: 10, path: (r) => `/requests/${one(sample, r).id}/steps/${one(STEPS, r)}`, expect: 'Workflow steps' },
    { name: 'apiList', weight: 10, path: () => '/api/v1/requests', expect: '"data"' },
    { name: 'apiRequest', weight: 15, path: (r) => `/api/v1/requests/${one(sample, r).id}`, expect: '"tasks"' },
  ];

  // The deploy on the idle machine, for comparison.
  let idleDeploy: DeployTiming | null = null;
  if (deploySetup) {
    log('deploying on the idle machine (for comparison)');
    idleDeploy = await runDeploy(seeded.admin.id, deploySetup.requests[0], deploySetup.environmentId).catch((err) => {
      deployNote = `the idle deploy could not be queued: ${err instanceof Error ? err.message : String(err)}`;
      return null;
    });
    if (idleDeploy) log(`idle deploy: ${idleDeploy.status} in ${idleDeploy.seconds} s`);
  }

  log(`warm-up: ${CFG.warmup} calls from 20 clients`);
  await load(server.baseUrl, cookie, routes, 20, Math.max(3, Math.round(CFG.warmup / 60)), 7);

  log(`load: ${CFG.clients} clients for ${CFG.seconds} s, thinking ${CFG.thinkMs ? `${CFG.thinkMs} ms on average` : 'not at all'} between calls${deploySetup ? ', deploying 5 s in' : ''}`);
  const loadDeploy = deploySetup && idleDeploy
    ? new Promise((r) => setTimeout(r, DEPLOY_AFTER_MS)).then(() => runDeploy(seeded.admin.id, deploySetup!.requests[1], deploySetup!.environmentId))
      .catch((err) => ({ status: 'not queued', phase: null, error: err instanceof Error ? err.message : String(err), seconds: 0, phases: [] }) as DeployTiming)
    : null;
  const measured = await load(server.baseUrl, cookie, routes, CFG.clients, CFG.seconds, 20261126, CFG.thinkMs);
  const underLoad = loadDeploy ? await loadDeploy : null;
  if (underLoad) log(`deploy under load: ${underLoad.status} in ${underLoad.seconds} s`);

  // What the machine serves flat out: the same clients and routes in a closed loop (no think time, no deploy).
  let capacity: (ReturnType<typeof phaseSummary> & { clients: number; seconds: number; thinkMs: 0; deploy: false; routes: Record<string, RouteResult> }) | null = null;
  if (CFG.capacitySeconds > 0 && CFG.thinkMs > 0) {
    log(`capacity: ${CFG.clients} clients for ${CFG.capacitySeconds} s in a closed loop (no think time)`);
    const closed = await load(server.baseUrl, cookie, routes, CFG.clients, CFG.capacitySeconds, 20261127, 0);
    capacity = { clients: CFG.clients, seconds: CFG.capacitySeconds, thinkMs: 0, deploy: false, ...phaseSummary(closed), routes: closed.routes };
    log(`capacity: ${capacity.throughputRps} calls/s, worst p99 ${capacity.p99Ms} ms (${capacity.worstRoute})`);
  }

  const routeResults = measured.routes;
  const { errors, calls, p99Ms, worstRoute, throughputRps } = phaseSummary(measured);
  const deployOk = !underLoad || underLoad.status === 'succeeded';
  const summary = {
    errors,
    calls,
    p99Ms,
    worstRoute,
    throughputRps,
    goalP99Ms: GOAL_P99_MS,
    pass: errors === 0 && p99Ms < GOAL_P99_MS && deployOk,
  };
  const cpus = os.cpus();
  const result = {
    benchmark: 'load',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, node: process.version, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    config: {
      workerNice: process.env.CUTOVER_WORKER_NICE ?? String(DEFAULT_WORKER_NICE),
      requests: CFG.requests, clients: CFG.clients, seconds: CFG.seconds, port: CFG.port, build, weights: Object.fromEntries(routes.map((r) => [r.name, r.weight])),
      // How the clients behave (see the header): people who think between calls, or a closed loop at 0.
      clientModel: CFG.thinkMs > 0
        ? { kind: 'people', thinkTime: { distribution: 'exponential', meanMs: CFG.thinkMs, maxMs: CFG.thinkMs * THINK_CAP }, firstCallAfterOneThinkTime: true }
        : { kind: 'closed loop', thinkTime: null },
    },
    summary,
    routes: routeResults,
    // All routes per 5 s window of the main phase; the deploy ran from `deploy.underLoadWindowS`.
    timeline: measured.timeline,
    // The closed-loop capacity (zero think time, no deploy): throughput flat out, and the queueing latency that comes with it.
    capacity,
    deploy: {
      ran: !!underLoad,
      note: deployNote,
      idle: idleDeploy,
      underLoad,
      underLoadWindowS: underLoad ? [DEPLOY_AFTER_MS / 1000, round(DEPLOY_AFTER_MS / 1000 + underLoad.seconds)] : null,
      // "The deploy ends as it does on an idle machine": the same status, and how much longer it took.
      sameOutcome: idleDeploy && underLoad ? idleDeploy.status === underLoad.status : null,
      slowdown: idleDeploy && underLoad && idleDeploy.seconds > 0 ? round(underLoad.seconds / idleDeploy.seconds) : null,
    },
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');

  console.log(`\n${'route'.padEnd(13)}${'calls'.padStart(7)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'req/s'.padStart(8)}${'err'.padStart(5)}`);
  for (const [name, r] of Object.entries(routeResults)) {
    console.log(`${name.padEnd(13)}${String(r.calls).padStart(7)}${r.p50.toFixed(1).padStart(8)}${r.p95.toFixed(1).padStart(8)}${r.p99.toFixed(1).padStart(8)}${r.max.toFixed(1).padStart(8)}${String(r.throughputRps).padStart(8)}${String(r.errors).padStart(5)}`);
    if (r.firstError) console.log(`  first error: ${r.firstError}`);
  }
  console.log(`\n${calls} calls, ${errors} errors, worst p99 ${summary.p99Ms} ms (${summary.worstRoute}); goal p99 < ${GOAL_P99_MS} ms: ${summary.p99Ms < GOAL_P99_MS ? 'PASS' : 'FAIL'}`);
  console.log(`p99 per ${TIMELINE_WINDOW_MS / 1000} s window (ms): ${measured.timeline.map((w) => Math.round(w.p99)).join(' ')}`);
  if (capacity) console.log(`capacity (closed loop, ${capacity.clients} clients, no think time, no deploy): ${capacity.throughputRps} calls/s, worst p99 ${capacity.p99Ms} ms (${capacity.worstRoute})`);
  console.log(underLoad ? `deploy: idle ${idleDeploy?.status} in ${idleDeploy?.seconds} s; under load ${underLoad.status} in ${underLoad.seconds} s` : `deploy: ${deployNote}`);
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  return summary.pass;
}

runServedBench('bench:load', main, { strict: CFG.strict, cleanup, server: () => server });
