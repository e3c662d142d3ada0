import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { approveDeployment, requestDeploy, requestRecovery } from '@/lib/services/deploy';
import { getStepEvidence } from '@/lib/services/step-evidence';
import { cancelRun, checkClaimedRun } from '@/lib/services/runs';
import { getDeployPanel } from '@/lib/data/deploy';
import { recordEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { migrationFolderName, requestApply, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { createAgent } from '@/lib/services/agent-accounts';
import { loadActor } from '@/lib/auth/actor';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { completeStepWithEvidence, passGate } from '../support/step-evidence';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';
import { defaultArtifactStore } from '@/lib/artifacts/store';
import { backupDatabase, restoreBackupOntoTarget } from '@/lib/engine';

/**
 * The Deploy step end to end on real things: two databases of the test server as staging and
 * production, a bare git repository as the application's, a local HTTP server as its health
 * check. Runs are executed with the worker's own runJob (no pg-boss worker: each step is awaited).
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let staging: Awaited<ReturnType<typeof createScratchDatabase>>;
let production: Awaited<ReturnType<typeof createScratchDatabase>>;
let work: string;
let health: Server;
let healthy = true;
let healthUrl = '';
const saved = { artifacts: process.env.CUTOVER_ARTIFACTS_DIR, data: process.env.CUTOVER_DATA_DIR, attempts: process.env.CUTOVER_DEPLOY_HEALTH_ATTEMPTS, interval: process.env.CUTOVER_DEPLOY_HEALTH_INTERVAL_MS };

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@app.test', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@app.test' } }).trim();

const SHOP = `
  CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL);
  CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10,2));
  INSERT INTO customers SELECT g, 'c' || g || '@shop.test' FROM generate_series(1, 50) g;
  INSERT INTO orders SELECT g, 1 + g % 50, g * 0.5 FROM generate_series(1, 400) g;`;

/** A bare repository with package.json 1.0.0 on main, and a clone to push from as a developer would. */
function makeAppRepository(name: string) {
  const bare = path.join(work, `${name}.git`);
  const dev = path.join(work, `${name}-dev`);
  execFileSync('git', ['init', '--bare', '--initial-branch=main', bare]);
  execFileSync('git', ['init', '--initial-branch=main', dev]);
  writeFileSync(path.join(dev, 'package.json'), '{\n  "name": "shop-app",\n  "version": "1.0.0",\n  "private": true\n}\n');
  git(dev, 'add', '.');
  git(dev, 'commit', '-m', 'init');
  git(dev, 'remote', 'add', 'origin', bare);
  git(dev, 'push', 'origin', 'main');
  return { bare, dev };
}

const columnExists = (url: string, table: string, column: string) =>
  withClient(url, async (c) => (await c.query('SELECT 1 FROM information_schema.columns WHERE table_name = $1 AND column_name = $2', [table, column])).rowCount === 1);
const orderTotals = (url: string) => withClient(url, async (c) => (await c.query<{ n: number; s: string }>('SELECT count(*)::int AS n, sum(total)::text AS s FROM orders')).rows[0]);

beforeAll(async () => {
  store = await openTestAppStore();
  staging = await createScratchDatabase('cutover_deploy_staging');
  production = await createScratchDatabase('cutover_deploy_prod');
  for (const db of [staging, production]) await withClient(db.url, (c) => c.query(SHOP));
  work = mkdtempSync(path.join(os.tmpdir(), 'cutover-deploy-'));
  // The sandbox (under CUTOVER_DATA_DIR) runs initdb as another user, who must reach its folder.
  chmodSync(work, 0o755);
  process.env.CUTOVER_ARTIFACTS_DIR = path.join(work, 'artifacts');
  process.env.CUTOVER_DATA_DIR = path.join(work, 'data');
  process.env.CUTOVER_DEPLOY_HEALTH_ATTEMPTS = '2';
  process.env.CUTOVER_DEPLOY_HEALTH_INTERVAL_MS = '50';
  health = createServer((_req, res) => {
    res.statusCode = healthy ? 200 : 503;
    res.end(healthy ? 'ok' : 'down');
  });
  await new Promise<void>((r) => health.listen(0, '127.0.0.1', r));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
}, 60_000);

afterAll(async () => {
  for (const [k, v] of [['CUTOVER_ARTIFACTS_DIR', saved.artifacts], ['CUTOVER_DATA_DIR', saved.data], ['CUTOVER_DEPLOY_HEALTH_ATTEMPTS', saved.attempts], ['CUTOVER_DEPLOY_HEALTH_INTERVAL_MS', saved.interval]] as const) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  await new Promise((r) => health?.close(r));
  await stopBoss();
  await store?.close();
  await staging?.drop();
  await production?.drop();
  rmSync(work, { recursive: true, force: true });
});

/** People, targets, a project with staging then production, and a request with a saved revision and a passing rehearsal. */
async function world(opts: { repo?: string; upSql?: string; downSql?: string; stagingHealth?: string | null } = {}) {
  const tag = Math.random().toString(36).slice(2, 8);
  const admin = await makeUser({ roles: ['admin'] });
  const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
  const author = await makeUser({ roles: ['engineer'] });
  const lead = await makeUser({ roles: ['lead'] });
  const engineer = await makeUser({ roles: ['engineer'] });
  // The request is filed on a developer's database; its environments are staging then production.
  const devTarget = await makeLiveTarget(admin.id, staging.name, `Dev ${tag}`);
  await getDb().targetDatabase.update({ where: { id: devTarget.id }, data: { environment: 'local' } });
  const stagingTarget = await makeLiveTarget(admin.id, staging.name, `Staging ${tag}`);
  const prodTarget = await makeLiveTarget(admin.id, production.name, `Production ${tag}`);
  await getDb().targetDatabase.update({ where: { id: prodTarget.id }, data: { environment: 'production' } });
  const repo = opts.repo ?? makeAppRepository(`app-${tag}`).bare;
  const project = await getDb().project.create({
    data: {
      name: `Shop ${tag}`, repositoryUrl: repo, deployBranch: 'main', minGateReviewers: 1,
      environments: {
        create: [
          { position: 1, name: 'staging', targetId: stagingTarget.id, healthCheckUrl: opts.stagingHealth === undefined ? healthUrl : opts.stagingHealth },
          { position: 2, name: 'production', targetId: prodTarget.id, healthCheckUrl: healthUrl, requiresApproval: true },
        ],
      },
    },
    include: { environments: { orderBy: { position: 'asc' } } },
  });
  const { id: requestId } = await fileRequest(author.id, { title: `Add a note ${tag}`, kind: 'schema_change', targetId: devTarget.id, description: 'Orders get a note.', priority: 'HIGH' });
  await getDb().migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id, appBranch: 'feature/note' } });
  const column = `note_${tag}`;
  await saveMigrationRevision(dba.id, SaveRevisionSchema.parse({
    requestId, name: `add_${column}`,
    upSql: opts.upSql ?? `ALTER TABLE orders ADD COLUMN ${column} text;\n`,
    downSql: opts.downSql ?? `ALTER TABLE orders DROP COLUMN ${column};\n`,
  }));
  const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
  const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
  return {
    tag, admin, dba, author, lead, engineer, project, requestId, revision, column, repo, devTarget, stagingTarget, prodTarget,
    stagingEnv: project.environments[0], prodEnv: project.environments[1],
    folder: migrationFolderName(request.createdAt, revision.name),
  };
}

/** A passing rehearsal of the revision, recorded as the rehearsal handler records it (these tests are about deploying). */
async function rehearsed(w: Awaited<ReturnType<typeof world>>) {
  await getDb().$transaction((tx) => recordEvidence(tx, {
    kind: 'rehearsal', targetId: w.devTarget.id, requestId: w.requestId, revision: { id: w.revision.id, checksum: w.revision.checksum }, passed: true,
    summary: 'rehearsal passed',
    detail: {
      revision: w.revision.revision, ok: true, phases: ['up', 'verify', 'down', 'rollback', 'redo'].map((phase) => ({ phase, label: phase, status: 'ok' as const, durationMs: 1 })),
      hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null,
    },
  }));
}

async function deployRun(actorId: string, requestId: string, environmentId: string) {
  const { deploymentId, runId } = await requestDeploy(actorId, { requestId, environmentId });
  await runJob(handlerFor('deploy'), { runId });
  return {
    deployment: await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } }),
    run: await getDb().run.findUniqueOrThrow({ where: { id: runId } }),
  };
}

describe('promotion through environments', () => {
  it('refuses what the rules refuse, on the server, and changes nothing', async () => {
    const w = await world();
    const count = () => getDb().deployment.count({ where: { requestId: w.requestId } });
    // Who: the Deploy step's holders (database-administrator) and admins.
    await expect(requestDeploy(w.engineer.id, { requestId: w.requestId, environmentId: w.stagingEnv.id })).rejects.toThrow(/can deploy the migration/);
    // A passing rehearsal of the current revision comes first.
    await expect(requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.stagingEnv.id })).rejects.toThrow(/no passing rehearsal/);
    await rehearsed(w);
    // Environments in order: production only after staging succeeded with this revision.
    await expect(requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.prodEnv.id })).rejects.toThrow(/Deploy revision 1 to staging first/);
    // A lead's approval: only leads, never the author, and not before the gate passed.
    await expect(approveDeployment(w.dba.id, { requestId: w.requestId, environmentId: w.prodEnv.id })).rejects.toThrow(/Only a lead/);
    await expect(approveDeployment(w.lead.id, { requestId: w.requestId, environmentId: w.stagingEnv.id })).rejects.toThrow(/does not require approval/);
    await expect(approveDeployment(w.lead.id, { requestId: w.requestId, environmentId: w.prodEnv.id })).rejects.toThrow(/quality gate is not passed/);
    expect(await count()).toBe(0);
    expect(await getDb().deploymentApproval.count({ where: { requestId: w.requestId } })).toBe(0);
  });

  it('one deploy at a time: two at once, one wins', async () => {
    const w = await world();
    await rehearsed(w);
    const results = await Promise.allSettled([
      requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.stagingEnv.id }),
      requestDeploy(w.admin.id, { requestId: w.requestId, environmentId: w.stagingEnv.id }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(String(refused.reason)).toMatch(/already queued or running/);
    expect(await getDb().deployment.count({ where: { requestId: w.requestId } })).toBe(1);
    const won = (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<{ runId: string }>).value;
    await runJob(handlerFor('deploy'), { runId: won.runId });
  }, 60_000);

  it('a request without a project is told so in words', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const target = await makeLiveTarget(admin.id, staging.name, `No project ${Math.random().toString(36).slice(2, 6)}`);
    const { id } = await fileRequest(admin.id, { title: 'Old request', kind: 'schema_change', targetId: target.id, description: 'Filed before projects.', priority: 'LOW' });
    await expect(requestDeploy(admin.id, { requestId: id, environmentId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow(/has no project/);
  });
});

describe('the deploy run', () => {
  it('commits, bumps, pushes, backs up, applies, verifies, checks data and health, and reuses the commit for the next environment', async () => {
    const w = await world();
    await rehearsed(w);
    const { deployment, run } = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(run.error).toBeNull();
    expect(deployment).toMatchObject({ status: 'succeeded', appVersion: '1.0.1' });
    expect(deployment.commitSha).toMatch(/^[0-9a-f]{40}$/);
    // The repository: migration.sql and down.sql in Prisma's layout, package.json bumped, on main.
    expect(git(w.repo, 'rev-parse', 'main')).toBe(deployment.commitSha);
    expect(git(w.repo, 'show', `main:prisma/migrations/${w.folder}/migration.sql`)).toBe(w.revision.upSql.trim());
    expect(git(w.repo, 'show', `main:prisma/migrations/${w.folder}/down.sql`)).toBe(w.revision.downSql.trim());
    expect(JSON.parse(git(w.repo, 'show', 'main:package.json')).version).toBe('1.0.1');
    // The branch had no migration_lock.toml: Prisma's, for the target's provider, so `prisma migrate deploy` takes the folder.
    expect(git(w.repo, 'show', 'main:prisma/migrations/migration_lock.toml')).toBe('# Please do not edit this file manually\n# It should be added in your version-control system (e.g., Git)\nprovider = "postgresql"');
    expect(git(w.repo, 'log', '-1', '--format=%s', 'main')).toMatch(new RegExp(`Deploy migration ${w.folder}`));
    // The target: applied and recorded as Prisma records it; no data lost.
    expect(await columnExists(staging.url, 'orders', w.column)).toBe(true);
    expect(await withClient(staging.url, async (c) => (await c.query('SELECT 1 FROM _prisma_migrations WHERE migration_name = $1 AND finished_at IS NOT NULL', [w.folder])).rowCount)).toBe(1);
    // Phases in order, each ok; the live log names the statements it ran.
    const phases = deployment.phases as { phase: string; status: string }[];
    expect(phases.map((p) => `${p.phase}:${p.status}`)).toEqual(['commit:ok', 'push:ok', 'backup:ok', 'apply:ok', 'verify:ok', 'data_loss:ok', 'health:ok']);
    const log = ((run.result ?? {}) as { log?: string[] }).log ?? [];
    expect(log.some((l) => l.includes(`statement 1 of 1 (line 1): ALTER TABLE orders ADD COLUMN ${w.column}`))).toBe(true);
    // Evidence for the Deploy step, and a verified backup beside it.
    const evidence = await getDb().evidence.findFirstOrThrow({ where: { requestId: w.requestId, kind: 'deploy' } });
    expect(evidence.passed).toBe(true);
    expect(evidence.detail).toMatchObject({
      environment: { name: 'staging', production: false }, commit: deployment.commitSha, version: '1.0.1', backupArtifactId: deployment.backupArtifactId,
      applied: { migration: w.folder, recorded: true }, dataLoss: { ok: true }, health: { ok: true, status: 200 },
    });
    expect(await getDb().artifact.count({ where: { id: deployment.backupArtifactId!, kind: 'backup', targetId: w.stagingTarget.id } })).toBe(1);
    // Post-deployment checks were scheduled in the same transaction.
    expect(await getDb().run.count({ where: { deploymentId: deployment.id, kind: 'verify' } })).toBeGreaterThan(0);
    const audit = await getDb().auditLog.findMany({ where: { requestId: w.requestId, action: { startsWith: 'deployment.' } }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['deployment.requested', 'deployment.succeeded']);

    // Once per revision: a second deploy of the same revision (another environment) reuses the commit, no second bump.
    const again = await commitOnly(w);
    expect(again).toMatchObject({ commit: deployment.commitSha, version: '1.0.1', reused: true });
    expect(git(w.repo, 'rev-parse', 'main')).toBe(deployment.commitSha);
  }, 120_000);

  it('push rejected (the branch moved): the deploy stops before the target, recorded, nothing half-done; deploying again commits on top', async () => {
    const w = await world();
    await rehearsed(w);
    // Someone pushes between Cutover's fetch and its push: a pre-receive hook refuses Cutover's push the first time.
    const hook = path.join(w.repo, 'hooks', 'pre-receive');
    writeFileSync(hook, `#!/bin/sh\nif [ ! -f "${w.repo}/.once" ]; then touch "${w.repo}/.once"; echo "! [rejected] main -> main (non-fast-forward)" >&2; exit 1; fi\nexit 0\n`);
    chmodSync(hook, 0o755);
    const before = git(w.repo, 'rev-parse', 'main');
    const { deployment, run } = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(run.status).toBe('failed');
    expect(deployment).toMatchObject({ status: 'failed', phase: 'push', backupArtifactId: null });
    expect(deployment.error).toMatch(/push to main was rejected.*Nothing was pushed/s);
    expect(git(w.repo, 'rev-parse', 'main')).toBe(before);
    expect(await columnExists(staging.url, 'orders', w.column)).toBe(false);
    const evidence = await getDb().evidence.findFirstOrThrow({ where: { requestId: w.requestId, kind: 'deploy' } });
    expect(evidence).toMatchObject({ passed: false });
    expect(evidence.detail).toMatchObject({ failedPhase: 'push', commit: null });
    // Nothing to recover: the target was never touched.
    await expect(requestRecovery(w.dba.id, { deploymentId: deployment.id, recovery: 'restore', confirm: true })).rejects.toThrow(/before it changed the target/);
    const retry = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(retry.deployment.status).toBe('succeeded');
    expect(git(w.repo, 'rev-parse', 'main')).toBe(retry.deployment.commitSha);
    // Cleanly reverse what the retry applied, so later tests start from the same staging.
    await withClient(staging.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN ${w.column}`));
  }, 120_000);

  it('target down: the deploy stops at the backup, recorded; the target is as it was', async () => {
    const w = await world();
    await rehearsed(w);
    await getDb().targetDatabase.update({ where: { id: w.stagingTarget.id }, data: { port: 1, connectTimeoutMs: 1000 } });
    const { deployment, run } = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(run.status).toBe('failed');
    expect(deployment).toMatchObject({ status: 'failed', phase: 'backup' });
    expect(deployment.error).toMatch(/backup of .* failed, so nothing was applied/);
    expect(await columnExists(staging.url, 'orders', w.column)).toBe(false);
    // The push already happened: deploying again (target back) reuses that commit.
    await getDb().targetDatabase.update({ where: { id: w.stagingTarget.id }, data: { port: Number(new URL(staging.url).port || 5432) } });
    const retry = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(retry.deployment).toMatchObject({ status: 'succeeded', commitSha: deployment.commitSha, appVersion: '1.0.1' });
    await withClient(staging.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN ${w.column}`));
  }, 120_000);

  it('health check failing: stops after applying, offers down and restore; the down path recovers', async () => {
    const w = await world();
    await rehearsed(w);
    healthy = false;
    let result;
    try {
      result = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    } finally {
      healthy = true;
    }
    const { deployment } = result;
    expect(deployment).toMatchObject({ status: 'failed', phase: 'health' });
    expect(deployment.error).toMatch(/health check failed after 2 attempt\(s\).*HTTP 503/);
    // What everyone reads (the error, the phases, the log, the evidence) has the status only, not the check's own words.
    const failedRun = await getDb().run.findFirstOrThrow({ where: { deploymentId: deployment.id, kind: 'deploy' } });
    const healthEvidence = await getDb().evidence.findFirstOrThrow({ where: { runId: failedRun.id, kind: 'deploy' } });
    expect(healthEvidence.detail).toMatchObject({ health: { ok: false, status: 503, error: 'unhealthy (HTTP 503)' } });
    for (const text of [deployment.error, JSON.stringify(deployment.phases), JSON.stringify(failedRun.result), failedRun.error, JSON.stringify(healthEvidence.detail)]) {
      expect(text).not.toContain('a healthy application answers 2xx');
    }
    expect(await columnExists(staging.url, 'orders', w.column)).toBe(true);
    // Recovery is confirmed, by a Deploy step holder.
    await expect(requestRecovery(w.engineer.id, { deploymentId: deployment.id, recovery: 'down', confirm: true })).rejects.toThrow(/restore a backup after a failed deploy/);
    const { runId } = await requestRecovery(w.dba.id, { deploymentId: deployment.id, recovery: 'down', confirm: true });
    await expect(requestRecovery(w.dba.id, { deploymentId: deployment.id, recovery: 'restore', confirm: true })).rejects.toThrow(/already queued or running|is changing/);
    await runJob(handlerFor('down'), { runId });
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('succeeded');
    expect(await columnExists(staging.url, 'orders', w.column)).toBe(false);
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } })).toMatchObject({ status: 'recovered', recovery: 'down' });
    const audit = await getDb().auditLog.findMany({ where: { requestId: w.requestId, action: { startsWith: 'deployment.' } }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['deployment.requested', 'deployment.failed', 'deployment.recovery_requested', 'deployment.recovered']);
  }, 120_000);

  it('undeclared data loss: stops after applying; the restore of the pre-deploy backup brings every row back', async () => {
    const w = await world({ upSql: 'DELETE FROM orders WHERE id > 390;\n', downSql: 'SELECT 1;\n' });
    await rehearsed(w);
    const before = await orderTotals(staging.url);
    const { deployment } = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(deployment).toMatchObject({ status: 'failed', phase: 'data_loss' });
    expect(deployment.error).toMatch(/Undeclared data changes/);
    expect((await orderTotals(staging.url)).n).toBe(before.n - 10);
    const { runId } = await requestRecovery(w.dba.id, { deploymentId: deployment.id, recovery: 'restore', confirm: true });
    await runJob(handlerFor('restore'), { runId });
    const restore = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(restore.error).toBeNull();
    expect(restore.status).toBe('succeeded');
    expect(await orderTotals(staging.url)).toEqual(before);
    // The history is as it was before the deploy: the migration is not recorded.
    expect(await withClient(staging.url, async (c) => (await c.query('SELECT 1 FROM _prisma_migrations WHERE migration_name = $1', [w.folder])).rowCount)).toBe(0);
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } })).toMatchObject({ status: 'recovered', recovery: 'restore' });
  }, 120_000);
});

describe('the no-data-loss check of a live database', () => {
  it('compares only the tables the migration touches: writes of the application elsewhere pass; an undeclared DELETE in a touched table fails', async () => {
    const events = `app_events_${Math.random().toString(36).slice(2, 8)}`;
    await withClient(staging.url, (c) => c.query(`CREATE TABLE ${events} (id serial PRIMARY KEY, what text); INSERT INTO ${events} (what) SELECT 'seed' FROM generate_series(1, 50);`));
    // up sleeps so that the application's writes land between the check's two pictures.
    const w = await world({ upSql: 'ALTER TABLE orders ADD COLUMN scoped_note text;\nSELECT pg_sleep(1.5);\n', downSql: 'ALTER TABLE orders DROP COLUMN scoped_note;\n' });
    await rehearsed(w);
    // The application at work: each tick deletes its oldest event and writes a new one.
    let writing = true;
    let writes = 0;
    const writer = withClient(staging.url, async (c) => {
      while (writing) {
        await c.query(`DELETE FROM ${events} WHERE id = (SELECT min(id) FROM ${events}); INSERT INTO ${events} (what) VALUES ('live')`);
        writes++;
        await new Promise((r) => setTimeout(r, 40));
      }
    });
    let result;
    try {
      result = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    } finally {
      writing = false;
      await writer;
    }
    expect(writes).toBeGreaterThan(20);
    expect(result.run.error).toBeNull();
    expect(result.deployment.status).toBe('succeeded');
    const dataLoss = (result.deployment.phases as { phase: string; detail?: string }[]).find((p) => p.phase === 'data_loss');
    expect(dataLoss?.detail).toMatch(/Compared 1 table\(s\) the migration can change .*: public\.orders; the other tables were not compared/);
    expect(dataLoss?.detail).not.toContain(events);
    const evidence = await getDb().evidence.findFirstOrThrow({ where: { runId: result.run.id, kind: 'deploy' } });
    expect(evidence.detail).toMatchObject({ dataLoss: { ok: true, tables: ['public.orders'] } });
    await withClient(staging.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN scoped_note; DROP TABLE ${events}`));

    // A table that references a touched one by foreign key is compared too (a cascade reaches it); an undeclared DELETE fails.
    const doomed = await world({ upSql: 'DELETE FROM customers WHERE id = 50;\n', downSql: 'SELECT 1;\n' });
    await rehearsed(doomed);
    await withClient(staging.url, (c) => c.query('UPDATE orders SET customer_id = 1 WHERE customer_id = 50'));
    const failed = await deployRun(doomed.dba.id, doomed.requestId, doomed.stagingEnv.id);
    expect(failed.deployment).toMatchObject({ status: 'failed', phase: 'data_loss' });
    expect(failed.deployment.error).toMatch(/Undeclared data changes in 1 table\(s\): public\.customers .*Compared 2 table\(s\) .*public\.customers, public\.orders/);
    const { runId } = await requestRecovery(doomed.dba.id, { deploymentId: failed.deployment.id, recovery: 'restore', confirm: true });
    await runJob(handlerFor('restore'), { runId });
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('succeeded');
  }, 180_000);
});

describe('restore onto a target whose user does not own its schemas', () => {
  it('refuses before anything is dropped, naming each schema and the owner it needs', async () => {
    const tag = Math.random().toString(36).slice(2, 8);
    const db = await createScratchDatabase('cutover_restore_owner');
    const role = `cutover_restorer_${tag}`;
    const server = new URL(TEST_SERVER_URL);
    const settings = (username: string) => ({ host: server.hostname, port: Number(server.port || 5432), database: db.name, username, password: null, sslMode: 'disable', connectTimeoutMs: 3000 });
    try {
      await withClient(db.url, (c) => c.query(`
        CREATE ROLE ${role} LOGIN;
        GRANT CREATE ON DATABASE ${db.name} TO ${role};
        CREATE SCHEMA app;
        CREATE TABLE app.things (id int PRIMARY KEY);
        INSERT INTO app.things SELECT generate_series(1, 20);
        GRANT USAGE ON SCHEMA app TO ${role};
        GRANT SELECT ON app.things TO ${role};`));
      const store = defaultArtifactStore();
      const key = `backups/owner-test-${tag}.dump`;
      const backup = await backupDatabase(settings(decodeURIComponent(server.username) || 'postgres'), store, key);
      const result = await restoreBackupOntoTarget(store, { key, sha256: backup.sha256, sizeBytes: backup.sizeBytes, checksums: backup.checksums }, settings(role));
      expect(result).toMatchObject({ ok: false, step: 'restore' });
      expect(result.error).toBe(
        `Nothing was restored: the restore replaces every schema of ${db.name}, and ${role} does not own schema app (owned by postgres), schema public (owned by pg_database_owner). ` +
        `Make ${role} their owner (ALTER SCHEMA app OWNER TO ${role}), or give the target a user that owns them, then restore again.`,
      );
      // Nothing was dropped.
      expect(await withClient(db.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM app.things')).rows[0].n)).toBe(20);
      // With the schemas its own, the same restore goes through.
      await withClient(db.url, (c) => c.query(`ALTER SCHEMA app OWNER TO ${role}; ALTER TABLE app.things OWNER TO ${role}; ALTER SCHEMA public OWNER TO ${role}`));
      const again = await restoreBackupOntoTarget(store, { key, sha256: backup.sha256, sizeBytes: backup.sizeBytes, checksums: backup.checksums }, settings(role));
      expect(again.error).toBeUndefined();
      expect(again.ok).toBe(true);
    } finally {
      await db.drop();
      await withClient(TEST_SERVER_URL, (c) => c.query(`DROP ROLE IF EXISTS ${role}`));
    }
  }, 60_000);
});

describe('recovery of a deploy that succeeded', () => {
  it('only while its checks still watch it and one fails, and never once the target changed again since', async () => {
    const w = await world();
    await rehearsed(w);
    const { deployment } = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(deployment.status).toBe('succeeded');
    const recover = (recovery: 'down' | 'restore') => requestRecovery(w.dba.id, { deploymentId: deployment.id, recovery, confirm: true });
    // Succeeded and healthy: no restore of its backup over the target, whatever the browser sends.
    await expect(recover('restore')).rejects.toThrow(/succeeded: it is rolled back only while its post-deployment checks still watch it and one of them is failing/);
    expect((await getDeployPanel(w.dba, w.requestId)).environments[0].latest!.recoveryOptions).toEqual([]);

    // A check fails: an open alert, and the watch still runs: Roll back is offered.
    const [check] = await getDb().run.findMany({ where: { deploymentId: deployment.id, kind: 'verify', status: 'queued' }, orderBy: { queuedAt: 'asc' }, take: 1 });
    healthy = false;
    try {
      await runJob(handlerFor('verify'), { runId: check.id, checkNumber: 1 });
    } finally {
      healthy = true;
    }
    expect((await getDeployPanel(w.dba, w.requestId)).environments[0].latest!.recoveryOptions).toEqual(['down', 'restore']);
    // Once the watch is over, no longer.
    const { verifyUntil } = await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } });
    await getDb().deployment.update({ where: { id: deployment.id }, data: { verifyUntil: new Date(Date.now() - 1000) } });
    await expect(recover('restore')).rejects.toThrow(/rolled back only while its post-deployment checks still watch it/);
    await getDb().deployment.update({ where: { id: deployment.id }, data: { verifyUntil } });

    // Another change of the same target since (here a direct apply that ran): recovering would undo it too.
    const later = await getDb().run.create({
      data: { kind: 'apply', status: 'succeeded', targetId: w.stagingTarget.id, requestId: w.requestId, requestedById: w.engineer.id, startedAt: new Date(), finishedAt: new Date() },
    });
    await expect(recover('restore')).rejects.toThrow(/The target was changed again after this deploy \(an apply run queued .* UTC by .*\): recovering this deploy now would undo that change too/);
    await expect(recover('down')).rejects.toThrow(/changed again after this deploy/);
    expect((await getDeployPanel(w.dba, w.requestId)).environments[0].latest!.recoveryOptions).toEqual([]);
    expect(await getDb().run.count({ where: { deploymentId: deployment.id, kind: { in: ['down', 'restore'] } } })).toBe(0);

    await getDb().run.delete({ where: { id: later.id } });
    const { runId } = await recover('down');
    await runJob(handlerFor('down'), { runId });
    expect(await getDb().deployment.findUniqueOrThrow({ where: { id: deployment.id } })).toMatchObject({ status: 'recovered', recovery: 'down' });
    expect(await columnExists(staging.url, 'orders', w.column)).toBe(false);
  }, 120_000);
});

describe('direct changes of a target behind an approval', () => {
  it('a direct apply or down is refused on the target of an environment that requires approval, whatever its label', async () => {
    const w = await world();
    await rehearsed(w);
    // The request's own target, labelled staging, is the target of an approval-guarded environment of another project.
    await getDb().project.create({
      data: { name: `Other ${w.tag}`, repositoryUrl: w.repo, environments: { create: [{ position: 1, name: 'live', targetId: w.devTarget.id, requiresApproval: true }] } },
    });
    await getDb().targetDatabase.update({ where: { id: w.devTarget.id }, data: { environment: 'staging' } });
    for (const direction of ['up', 'down'] as const) {
      await expect(requestApply(w.dba.id, { requestId: w.requestId, direction }))
        .rejects.toMatchObject({ code: 'forbidden', message: expect.stringMatching(/^Dev .* is the target of the live \(Other .*\) environment, which requires approval: changes to it go through the Deploy step/) });
    }
    expect(await getDb().run.count({ where: { targetId: w.devTarget.id, kind: { in: ['apply', 'down'] } } })).toBe(0);
  }, 60_000);

  it('an apply queued before its target was put behind an approval is refused when the worker claims it, and changes nothing', async () => {
    const w = await world({ upSql: 'ALTER TABLE orders ADD COLUMN claimed_note text;\n', downSql: 'ALTER TABLE orders DROP COLUMN claimed_note;\n' });
    await rehearsed(w);
    const { runId } = await requestApply(w.dba.id, { requestId: w.requestId, direction: 'up' });
    // Meanwhile an admin makes the target the database of an environment that requires approval.
    await getDb().project.create({
      data: { name: `Guarded ${w.tag}`, repositoryUrl: w.repo, environments: { create: [{ position: 1, name: 'live', targetId: w.devTarget.id, requiresApproval: true }] } },
    });
    expect(await checkClaimedRun(runId)).toMatch(/may no longer start it: Dev .* is the target of the live \(Guarded .*\) environment, which requires approval/);
    await runJob(handlerFor('apply'), { runId });
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/requires approval/);
    expect(await columnExists(staging.url, 'orders', 'claimed_note')).toBe(false);
  }, 60_000);
});

describe('cancel and the panel', () => {
  it('Cancel during apply: the migration rolls back, the deploy is recorded cancelled, the panel tells it and what comes next', async () => {
    const w = await world({ upSql: 'ALTER TABLE orders ADD COLUMN slow_note text;\nSELECT pg_sleep(30);\n', downSql: 'ALTER TABLE orders DROP COLUMN slow_note;\n' });
    await rehearsed(w);
    const { deploymentId, runId } = await requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.stagingEnv.id });
    const running = runJob(handlerFor('deploy'), { runId });
    for (let i = 0; ; i++) {
      const sleeping = await withClient(staging.url, async (c) => (await c.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`, [`cutover run ${runId}`])).rowCount);
      if (sleeping) break;
      if (i > 300) throw new Error('the deploy never reached its pg_sleep');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The panel shows the statement in flight in the live log.
    const live = await getDeployPanel(w.dba, w.requestId);
    expect(live.active).toMatchObject({ kind: 'deploy', status: 'running', environment: 'staging' });
    await cancelRun(w.dba.id, { runId });
    await running;
    expect(await getDb().run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({ status: 'cancelled' });
    const d = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(d).toMatchObject({ status: 'cancelled', phase: 'apply' });
    expect(await columnExists(staging.url, 'orders', 'slow_note')).toBe(false);

    const panel = await getDeployPanel(w.dba, w.requestId);
    expect(panel.canDeploy).toBe(true);
    expect(panel.canApprove).toBe(false);
    const [stagingView, prodView] = panel.environments;
    expect(stagingView).toMatchObject({ name: 'staging', waitingFor: null, latest: { status: 'cancelled', recoveryOptions: [] } });
    expect(stagingView.latest!.phases.map((p) => `${p.phase}:${p.status}`).slice(0, 4)).toEqual(['commit:ok', 'push:ok', 'backup:ok', 'apply:failed']);
    expect(prodView.waitingFor).toBe('Deploy revision 1 to staging first: production comes after it.');
    expect(panel.active!.log.some((l) => l.includes('SELECT pg_sleep(30)'))).toBe(true);
    // Someone without a role reads nothing.
    await expect(getDeployPanel({ id: w.engineer.id, roles: [], agentRoles: [] }, w.requestId)).rejects.toThrow(/no role/);
  }, 120_000);
});

describe('production', () => {
  it('needs the gate passed and a lead\'s approval of this very revision; then it deploys, and the Deploy step is covered', async () => {
    const w = await world({ stagingHealth: null });
    for (let position = 1; position <= 6; position++) await completeStepWithEvidence(w.admin.id, w.requestId, position);
    const staged = await deployRun(w.dba.id, w.requestId, w.stagingEnv.id);
    expect(staged.deployment.status).toBe('succeeded');
    const deployProd = () => requestDeploy(w.dba.id, { requestId: w.requestId, environmentId: w.prodEnv.id });
    // The gate first: refused, whatever the browser sends, and nothing recorded.
    await expect(deployProd()).rejects.toThrow(/production needs the quality gate passed first/);
    const reviewers = [await makeUser({ roles: ['reviewer'] }), await makeUser({ roles: ['reviewer'] })] as const;
    await passGate(w.requestId, [reviewers[0].id, reviewers[1].id]);
    // Then a lead's approval: not yet given, and not the author's to give.
    await expect(deployProd()).rejects.toThrow(/production needs a lead's approval of revision 1/);
    const leadAuthor = await makeUser({ roles: ['lead'] });
    await getDb().migrationRequest.update({ where: { id: w.requestId }, data: { authorId: leadAuthor.id } });
    await expect(approveDeployment(leadAuthor.id, { requestId: w.requestId, environmentId: w.prodEnv.id })).rejects.toThrow(/author of the request cannot approve/);
    // Nor a lead who wrote a revision of it, nor one who signed its gate: two people, always.
    await getDb().user.update({ where: { id: w.dba.id }, data: { roles: ['engineer', 'lead'] } });
    await expect(approveDeployment(w.dba.id, { requestId: w.requestId, environmentId: w.prodEnv.id })).rejects.toThrow(/You wrote a revision of this migration, so you cannot approve its deploy/);
    await getDb().user.update({ where: { id: w.dba.id }, data: { roles: ['engineer'] } });
    // Nor a lead whose agent wrote it: the agent answers to the lead, one person (the revision's author moved to the agent for this check).
    const lena = await makeUser({ roles: ['lead'], name: 'Lena Lead' });
    const lenasAgent = await createAgent(w.admin.id, { name: 'lena-dba', agentRoles: ['database-administrator'] as never, ownerId: lena.id });
    await getDb().migrationRevision.update({ where: { id: w.revision.id }, data: { createdById: lenasAgent.id } });
    await expect(approveDeployment(lena.id, { requestId: w.requestId, environmentId: w.prodEnv.id }))
      .rejects.toThrow('lena-dba answers to you and wrote a revision of this migration, so you cannot approve its deploy: another lead approves it.');
    expect((await getDeployPanel(await loadActor(getDb(), lena.id), w.requestId)).canApprove).toBe(false);
    await getDb().migrationRevision.update({ where: { id: w.revision.id }, data: { createdById: w.dba.id } });
    await getDb().user.update({ where: { id: reviewers[0].id }, data: { roles: ['reviewer', 'lead'] } });
    await expect(approveDeployment(reviewers[0].id, { requestId: w.requestId, environmentId: w.prodEnv.id })).rejects.toThrow(/You signed the quality gate of this revision, so you cannot also approve its deploy/);
    expect(await getDb().deployment.count({ where: { requestId: w.requestId, environmentId: w.prodEnv.id } })).toBe(0);

    const { approvalId } = await approveDeployment(w.lead.id, { requestId: w.requestId, environmentId: w.prodEnv.id, note: 'Go after 18:00.' });
    expect(await approveDeployment(w.lead.id, { requestId: w.requestId, environmentId: w.prodEnv.id })).toEqual({ approvalId });
    expect(await getDb().deploymentApproval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({ revisionId: w.revision.id, revisionSha256: w.revision.checksum, approvedById: w.lead.id });
    const { deploymentId, runId } = await deployProd();
    await runJob(handlerFor('deploy'), { runId });
    const prod = await getDb().deployment.findUniqueOrThrow({ where: { id: deploymentId } });
    expect(prod).toMatchObject({ status: 'succeeded', approvalId, commitSha: staged.deployment.commitSha, appVersion: '1.0.1' });
    expect(await columnExists(production.url, 'orders', w.column)).toBe(true);
    const evidence = await getDb().evidence.findFirstOrThrow({ where: { requestId: w.requestId, kind: 'deploy', targetId: w.prodTarget.id } });
    expect(evidence.detail).toMatchObject({ environment: { name: 'production', production: true }, commitReused: true });
    // The Deploy step's checklist is covered by production's deploy evidence.
    expect((await getStepEvidence(getDb(), w.requestId)).deploy).toMatchObject({ satisfied: true });

    // A new revision voids the approval of the old one, visibly and with the reason; it never carries over.
    await saveMigrationRevision(w.dba.id, SaveRevisionSchema.parse({ requestId: w.requestId, name: `add_${w.column}`, upSql: `ALTER TABLE orders ADD COLUMN ${w.column} text; -- v2\n`, downSql: w.revision.downSql }));
    expect(await getDb().deploymentApproval.findUniqueOrThrow({ where: { id: approvalId } })).toMatchObject({
      voidedAt: expect.any(Date), voidReason: 'Revision 2 of the migration was saved after this approval.',
    });
    expect(await getDb().auditLog.findFirst({ where: { requestId: w.requestId, action: 'deployment.approvals_voided' } })).toMatchObject({
      after: { reason: 'Revision 2 of the migration was saved after this approval.', approvals: [{ environment: 'production', revision: 1 }] },
    });
    await expect(deployProd()).rejects.toThrow(/rehearsal|staging first|approval/);
    const prodView = (await getDeployPanel(w.dba, w.requestId)).environments[1];
    expect(prodView.approval).toBeNull();
    expect(prodView.voidedApprovals).toEqual([{ by: w.lead.name, revision: 1, at: expect.any(Date), reason: 'Revision 2 of the migration was saved after this approval.' }]);
    await withClient(production.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN ${w.column}`));
    await withClient(staging.url, (c) => c.query(`ALTER TABLE orders DROP COLUMN ${w.column}`));
  }, 180_000);
});

async function commitOnly(w: Awaited<ReturnType<typeof world>>) {
  const { commitMigration } = await import('@/lib/git/deploy-commit');
  return commitMigration({
    project: w.project, folder: w.folder, migrationSql: w.revision.upSql, downSql: w.revision.downSql, message: 'again', author: { name: 'X', email: 'x@x.test' }, provider: 'postgresql',
  });
}
