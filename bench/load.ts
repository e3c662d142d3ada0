/**
 * `npm run bench:load`: the app under load. 1,000 requests in a scratch store, 100 concurrent
 * keep-alive clients on loopback for 60 s mixing the lead's board, the requests list, request
 * pages (the default view and a step's deep link) and API reads, while a real deploy runs
 * (commit and push to a local git repository, backup, apply to a staging database, checks), run by
 * a worker process as in production. The same deploy runs once on the idle machine first, so the
 * two can be compared. Writes bench/results/load.json: p50, p95, p99 per route, `summary.errors`
 * and `summary.p99Ms` (the worst route's p99). Loopback only; bounded by time.
 *
 * Knobs (env): BENCH_REQUESTS (1000), BENCH_CLIENTS (100), BENCH_SECONDS (60), BENCH_WARMUP (300 calls),
 * BENCH_PORT (3310), BENCH_DB (cutover_bench_load), BENCH_KEEP_DB=1, BENCH_DEPLOY=0 (no deploy),
 * BENCH_DEPLOY_ROWS (400000 rows in the staging database the deploy backs up).
 * Flags: --strict (exit 1 when p99 >= 500 ms, an error, or the deploy under load did not succeed).
 * Exit codes: 0 measured, 1 a goal missed with --strict, 2 failed.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { migrateAppStore } from '../lib/db/migrate';
import { connect, databaseUrl, dropDatabase, recreateDatabase } from './lib/database';
import { signIn, timedGet } from './lib/http';
import { ADMIN_PASSWORD, seed } from './lib/seed';
import { ensureBuild, startServer, type RunningServer } from './lib/server';
import { percentile, rng } from './lib/stats';

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

/** 100 clients, each calling the next route as soon as its last call ended, until the time is up. */
async function load(base: string, cookie: string, routes: Route[], clients: number, seconds: number, seed: number) {
  const samples = new Map(routes.map((r) => [r.name, [] as number[]]));
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
  const client = async () => {
    while (performance.now() < until) {
      const route = pick();
      const url = base + route.path(rand);
      try {
        const r = await timedGet(url, cookie);
        samples.get(route.name)!.push(r.ms);
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
  return { routes: result, wallMs };
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
  await recreateDatabase(CFG.database);
  created.push(CFG.database);
  await migrateAppStore(url);
  const serverEnv: Record<string, string> = {
    DATABASE_URL: url,
    NEXTAUTH_SECRET: randomBytes(32).toString('base64url'),
    NEXTAUTH_URL: `http://localhost:${CFG.port}`,
    CUTOVER_SECRET_KEY: randomBytes(32).toString('hex'),
    CUTOVER_ARTIFACTS_DIR: path.join(workDir, 'artifacts'),
    CUTOVER_DATA_DIR: path.join(workDir, 'data'),
  };
  // This process uses the services too (to queue the deploys): same store, same key.
  Object.assign(process.env, { DATABASE_URL: url, CUTOVER_SECRET_KEY: serverEnv.CUTOVER_SECRET_KEY, CUTOVER_ARTIFACTS_DIR: serverEnv.CUTOVER_ARTIFACTS_DIR, CUTOVER_DATA_DIR: serverEnv.CUTOVER_DATA_DIR });
  const { ensureTemplate } = await import('../lib/services/bootstrap');
  const { hashPassword } = await import('../lib/services/manage-users');
  await ensureTemplate();
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

  log(`load: ${CFG.clients} clients for ${CFG.seconds} s${deploySetup ? ', deploying 5 s in' : ''}`);
  const loadDeploy = deploySetup && idleDeploy
    ? new Promise((r) => setTimeout(r, 5000)).then(() => runDeploy(seeded.admin.id, deploySetup!.requests[1], deploySetup!.environmentId))
      .catch((err) => ({ status: 'not queued', phase: null, error: err instanceof Error ? err.message : String(err), seconds: 0, phases: [] }) as DeployTiming)
    : null;
  const measured = await load(server.baseUrl, cookie, routes, CFG.clients, CFG.seconds, 20261126);
  const underLoad = loadDeploy ? await loadDeploy : null;
  if (underLoad) log(`deploy under load: ${underLoad.status} in ${underLoad.seconds} s`);

  const routeResults = measured.routes;
  const errors = Object.values(routeResults).reduce((n, r) => n + r.errors, 0);
  const calls = Object.values(routeResults).reduce((n, r) => n + r.calls, 0);
  const worst = Object.entries(routeResults).sort((a, b) => b[1].p99 - a[1].p99)[0];
  const deployOk = !underLoad || underLoad.status === 'succeeded';
  const summary = {
    errors,
    calls,
    p99Ms: worst[1].p99,
    worstRoute: worst[0],
    throughputRps: round((calls / measured.wallMs) * 1000),
    goalP99Ms: GOAL_P99_MS,
    pass: errors === 0 && worst[1].p99 < GOAL_P99_MS && deployOk,
  };
  const cpus = os.cpus();
  const result = {
    benchmark: 'load',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, node: process.version, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    config: { requests: CFG.requests, clients: CFG.clients, seconds: CFG.seconds, port: CFG.port, build, weights: Object.fromEntries(routes.map((r) => [r.name, r.weight])) },
    summary,
    routes: routeResults,
    deploy: {
      ran: !!underLoad,
      note: deployNote,
      idle: idleDeploy,
      underLoad,
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
  console.log(underLoad ? `deploy: idle ${idleDeploy?.status} in ${idleDeploy?.seconds} s; under load ${underLoad.status} in ${underLoad.seconds} s` : `deploy: ${deployNote}`);
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  return summary.pass;
}

main()
  .then(async (pass) => {
    await cleanup();
    // Explicitly: a library's timer must not keep the bench (and the e2e lock it may run under) alive.
    process.exit(pass || !CFG.strict ? 0 : 1);
  })
  .catch(async (err) => {
    console.error('[bench:load] failed:', err instanceof Error ? err.stack ?? err.message : err);
    if (server) console.error(`[bench:load] last server output:\n${server.output().slice(-4000)}`);
    await cleanup();
    process.exit(2);
  });
