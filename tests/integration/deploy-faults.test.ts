import { execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { stopBoss } from '@/lib/jobs/queue';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { requestDeploy, requestRecovery } from '@/lib/services/deploy';
import { recordEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { migrationFolderName, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { markInterruptedRuns } from '@/lib/services/runs';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { startWorkerProcess } from '../support/worker-process';

/**
 * The worker killed in the middle of a deploy (before the push, after the push, mid-apply): each
 * ends in a clear recorded state, the target consistent, nothing lost, and what is offered works.
 * The worker is its own process group (`npm run worker`), killed whole with SIGKILL, as a machine
 * that dies takes git and its hooks with it.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let work: string;
let worker: ChildProcess | undefined;
const saved = { artifacts: process.env.CUTOVER_ARTIFACTS_DIR, data: process.env.CUTOVER_DATA_DIR };

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@app.test', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@app.test' } }).trim();

function makeAppRepository(name: string) {
  const bare = path.join(work, `${name}.git`);
  const dev = path.join(work, `${name}-dev`);
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', bare]);
  execFileSync('git', ['init', '-q', '--initial-branch=main', dev]);
  writeFileSync(path.join(dev, 'package.json'), '{\n  "name": "shop-app",\n  "version": "2.3.4"\n}\n');
  git(dev, 'add', '.');
  git(dev, 'commit', '-q', '-m', 'init');
  git(dev, 'push', '-q', bare, 'main');
  return bare;
}

/** A hook that says it started (a marker file) and then hangs: the worker is killed while git waits for it. */
function hangingHook(repo: string, name: 'pre-receive' | 'post-receive') {
  const marker = path.join(work, `${path.basename(repo)}.${name}.started`);
  const hook = path.join(repo, 'hooks', name);
  writeFileSync(hook, `#!/bin/sh\ncat > /dev/null\ntouch "${marker}"\nsleep 60\n`);
  chmodSync(hook, 0o755);
  return { marker, remove: () => rmSync(hook, { force: true }) };
}


/** Kills the worker's whole process group and waits until the store and the target let go of its sessions. */
async function killWorker(runId: string) {
  const child = worker!;
  worker = undefined;
  const exited = new Promise((r) => child.once('exit', r));
  process.kill(-child.pid!, 'SIGKILL');
  await exited;
  for (let i = 0; ; i++) {
    const held = await withClient(store.url, async (c) =>
      (await c.query(`SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND classid = 21845 AND objid = hashtext($1)::oid AND granted`, [runId])).rowCount);
    const onTarget = await withClient(shop.url, async (c) => (await c.query('SELECT 1 FROM pg_stat_activity WHERE application_name = $1', [`cutover run ${runId}`])).rowCount);
    if (!held && !onTarget) return;
    if (i > 200) throw new Error('the killed worker is still connected');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** What a worker starting again does with runs a dead worker left (startWorker's sweep). */
async function sweepAsAWorkerWould() {
  const ids = await markInterruptedRuns();
  for (const run of await getDb().run.findMany({ where: { id: { in: ids } }, include: { target: true } })) await handlerFor(run.kind).afterInterrupted?.(run);
  return ids;
}

async function until<T>(what: string, probe: () => Promise<T | null | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const got = await probe();
    if (got) return got;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const columnExists = (column: string) =>
  withClient(shop.url, async (c) => (await c.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = $1`, [column])).rowCount === 1);

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_deploy_faults');
  await withClient(shop.url, (c) => c.query(`
    CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2));
    INSERT INTO orders SELECT g, g * 0.5 FROM generate_series(1, 300) g;`));
  work = mkdtempSync(path.join(os.tmpdir(), 'cutover-deploy-faults-'));
  chmodSync(work, 0o755);
  process.env.CUTOVER_ARTIFACTS_DIR = path.join(work, 'artifacts');
  process.env.CUTOVER_DATA_DIR = path.join(work, 'data');
}, 60_000);

afterAll(async () => {
  if (worker?.pid) process.kill(-worker.pid, 'SIGKILL');
  for (const [k, v] of [['CUTOVER_ARTIFACTS_DIR', saved.artifacts], ['CUTOVER_DATA_DIR', saved.data]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await stopBoss();
  await store?.close();
  await shop?.drop();
  rmSync(work, { recursive: true, force: true });
});

async function world(upSql: (column: string) => string) {
  const tag = Math.random().toString(36).slice(2, 8);
  const admin = await makeUser({ roles: ['admin'] });
  const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
  const dev = await makeLiveTarget(admin.id, shop.name, `Dev ${tag}`);
  const staging = await makeLiveTarget(admin.id, shop.name, `Staging ${tag}`);
  const repo = makeAppRepository(`app-${tag}`);
  const project = await getDb().project.create({
    data: { name: `Faults ${tag}`, repositoryUrl: repo, deployBranch: 'main', environments: { create: [{ position: 1, name: 'staging', targetId: staging.id }] } },
    include: { environments: true },
  });
  const { id: requestId } = await fileRequest(admin.id, { title: `Faults ${tag}`, kind: 'schema_change', targetId: dev.id, description: 'A deploy that meets trouble.', priority: 'HIGH' });
  await getDb().migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id } });
  const column = `c_${tag}`;
  await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: `add_${column}`, upSql: upSql(column), downSql: `ALTER TABLE orders DROP COLUMN ${column};\n` }));
  const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
  await getDb().$transaction((tx) => recordEvidence(tx, {
    kind: 'rehearsal', targetId: dev.id, requestId, revision: { id: revision.id, checksum: revision.checksum }, passed: true, summary: 'rehearsal passed',
    detail: { revision: 1, ok: true, phases: [], hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null },
  }));
  const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
  return { dba, repo, requestId, column, env: project.environments[0], folder: migrationFolderName(request.createdAt, revision.name) };
}

describe('the worker killed during a deploy', () => {
  it('before the push: recorded failed in push, nothing on the branch, the target untouched; deploying again pushes once', async () => {
    const w = await world((c) => `ALTER TABLE orders ADD COLUMN ${c} text;\n`);
    const before = git(w.repo, 'rev-parse', 'main');
    const hook = hangingHook(w.repo, 'pre-receive');
    worker = await startWorkerProcess(store.url, { detached: true });
    const { deploymentId, runId } = await requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.env.id });
    await until('the push to reach the hook', async () => existsSync(hook.marker));
    await killWorker(runId);
    hook.remove();

    expect(await sweepAsAWorkerWould()).toEqual([runId]);
    const d = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(d).toMatchObject({ status: 'failed', phase: 'push' });
    expect(d.error).toMatch(/The worker stopped during push\. Nothing was pushed to main\. The target .* was not changed\./);
    expect(git(w.repo, 'rev-parse', 'main')).toBe(before);
    expect(await columnExists(w.column)).toBe(false);
    await expect(requestRecovery(w.dba.id, { deploymentId, recovery: 'restore', confirm: true })).rejects.toThrow(/nothing to recover; deploy again/);

    const retry = await requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.env.id });
    await runJob(handlerFor('deploy'), { runId: retry.runId });
    const done = await getDb().deployment.findUniqueOrThrow({ where: { id: retry.deploymentId } });
    expect(done).toMatchObject({ status: 'succeeded', appVersion: '2.3.5' });
    expect(git(w.repo, 'rev-list', '--count', 'main')).toBe('2');
    expect(await columnExists(w.column)).toBe(true);
    await withClient(shop.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN ${w.column}`));
  }, 120_000);

  it('after the push: recorded failed with the commit found on the branch; deploying again reuses it (no second bump)', async () => {
    const w = await world((c) => `ALTER TABLE orders ADD COLUMN ${c} text;\n`);
    const hook = hangingHook(w.repo, 'post-receive');
    worker = await startWorkerProcess(store.url, { detached: true });
    const { deploymentId, runId } = await requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.env.id });
    await until('the push to land', async () => existsSync(hook.marker));
    const pushed = git(w.repo, 'rev-parse', 'main');
    await killWorker(runId);
    hook.remove();

    await sweepAsAWorkerWould();
    const d = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(d).toMatchObject({ status: 'failed', phase: 'push' });
    expect(d.error).toContain(`The commit ${pushed.slice(0, 12)} is on main: deploying again reuses it.`);
    expect(await columnExists(w.column)).toBe(false);

    const retry = await requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.env.id });
    await runJob(handlerFor('deploy'), { runId: retry.runId });
    const done = await getDb().deployment.findUniqueOrThrow({ where: { id: retry.deploymentId } });
    expect(done).toMatchObject({ status: 'succeeded', commitSha: pushed, appVersion: '2.3.5' });
    expect(git(w.repo, 'rev-parse', 'main')).toBe(pushed);
    expect(await columnExists(w.column)).toBe(true);
    await withClient(shop.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN ${w.column}`));
  }, 120_000);

  it('mid-apply: the transaction rolls back, recorded failed in apply with the target as it was; the offered restore works', async () => {
    const w = await world((c) => `ALTER TABLE orders ADD COLUMN ${c} text;\nSELECT pg_sleep(60);\n`);
    const rows = async () => withClient(shop.url, async (c) => (await c.query('SELECT count(*)::int AS n, sum(total)::text AS s FROM orders')).rows[0]);
    const before = await rows();
    worker = await startWorkerProcess(store.url, { detached: true });
    const { deploymentId, runId } = await requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.env.id });
    await until('the apply to reach its pg_sleep', async () =>
      (await withClient(shop.url, async (c) => (await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`, [`cutover run ${runId}`])).rowCount)) === 1, 60_000);
    await killWorker(runId);

    await sweepAsAWorkerWould();
    const d = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(d).toMatchObject({ status: 'failed', phase: 'apply' });
    expect(d.error).toContain(`${w.folder} is not applied on`);
    expect(d.error).toContain('the target is as it was');
    expect(d.backupArtifactId).not.toBeNull();
    expect(await columnExists(w.column)).toBe(false);
    expect(await rows()).toEqual(before);
    expect(await withClient(shop.url, async (c) => (await c.query(`SELECT pg_try_advisory_lock(72707369) AS ok`)).rows[0].ok)).toBe(true);
    // Nothing to roll back; the pre-deploy backup is offered and restores the target to it, checked table by table.
    await expect(requestRecovery(w.dba.id, { deploymentId, recovery: 'down', confirm: true })).rejects.toThrow(/not recorded as applied/);
    const { runId: restoreRun } = await requestRecovery(w.dba.id, { deploymentId, recovery: 'restore', confirm: true });
    await runJob(handlerFor('restore'), { runId: restoreRun });
    expect(await getDb().run.findUniqueOrThrow({ where: { id: restoreRun } })).toMatchObject({ status: 'succeeded', error: null });
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } })).toMatchObject({ status: 'recovered', recovery: 'restore' });
    expect(await rows()).toEqual(before);
  }, 150_000);
});
