import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb, getPool } from '@/lib/db/client';
import { QUEUES, getBoss, stopBoss } from '@/lib/jobs/queue';
import { runApplyJob, runRehearsalJob, runSnapshotJob } from '@/lib/jobs/worker';
import { fileRequest } from '@/lib/services/file-request';
import { requestApply, requestRehearsal, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { cancelRun, failStrandedQueuedRuns, requestSnapshot } from '@/lib/services/runs';
import { updateUserRoles } from '@/lib/services/manage-users';
import { createAgent, setAgentPaused } from '@/lib/services/agent-accounts';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { recordPassingRehearsal } from '../support/step-evidence';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
const children: ChildProcess[] = [];

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_runs');
  await withClient(shop.url, (c) => c.query('CREATE TABLE orders (id serial PRIMARY KEY)'));
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await stopBoss();
  await store.close();
  await shop.drop();
});

let seq = 0;
/** A request on a live target (its own, so runs of one test never meet another's) with one saved revision. */
async function requestWithMigration(adminId: string, upSql: string, downSql = 'SELECT 1;', targetPatch: Record<string, unknown> = {}) {
  seq += 1;
  const target = await makeLiveTarget(adminId, shop.name, `Runs target ${seq}`);
  if (Object.keys(targetPatch).length) await getDb().targetDatabase.update({ where: { id: target.id }, data: targetPatch });
  const requestId = (await fileRequest(adminId, { title: `Run test ${seq}`, kind: 'schema_change', targetId: target.id, description: 'A run that is stopped on purpose.', priority: 'HIGH' })).id;
  await saveMigrationRevision(adminId, SaveRevisionSchema.parse({ requestId, name: `step_${seq}`, upSql, downSql }));
  // Applying beyond local needs a passing rehearsal of the revision (recorded directly: these tests are about stopping runs).
  await recordPassingRehearsal(requestId);
  return { requestId, targetId: target.id };
}

const onTarget = <T>(sql: string, params: unknown[] = []) =>
  withClient(shop.url, async (c) => (await c.query(sql, params)).rows as T[]);
const columnExists = async (name: string) =>
  (await onTarget(`SELECT 1 FROM information_schema.columns WHERE table_name = 'orders' AND column_name = $1`, [name])).length === 1;
const targetLockFree = async () => (await onTarget<{ ok: boolean }>('SELECT pg_try_advisory_lock(72707369) AS ok'))[0].ok;
const historyRows = async (name: string) =>
  (await onTarget<{ t: string | null }>(`SELECT to_regclass('"_prisma_migrations"')::text AS t`))[0].t
    ? (await onTarget(`SELECT 1 FROM "_prisma_migrations" WHERE migration_name LIKE $1`, [`%${name}`])).length
    : 0;
const runSessions = async (runId: string) => (await onTarget(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1`, [`cutover run ${runId}`])).length;

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000) {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
const inSleep = (runId: string) => async () =>
  (await onTarget(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND query LIKE '%pg_sleep%' AND state = 'active'`, [`cutover run ${runId}`])).length === 1;
const audit = (runId: string) => getDb().auditLog.findMany({ where: { entityId: runId }, orderBy: { createdAt: 'asc' } }).then((rows) => rows.map((r) => r.action));

describe('every run gets a deadline and the settings it was checked with', () => {
  it('stores deadlineAt = queuedAt + the target run deadline, the job id, and frozen settings without the password', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId, targetId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN f1 int;', 'ALTER TABLE orders DROP COLUMN f1;', { runDeadlineMs: 90_000 });
    const { updateTarget } = await import('@/lib/services/manage-targets');
    void updateTarget; // the password is set straight in the store below: trust auth ignores it
    const { encryptSecret } = await import('@/lib/engine/secrets');
    const { secretKey } = await import('@/lib/db/settings');
    await getDb().targetDatabase.update({ where: { id: targetId }, data: { passwordEncrypted: encryptSecret('canary-pw-7f3a9', secretKey()) } });
    await recordPassingRehearsal(requestId); // the password changed the settings the earlier record rests on
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.deadlineAt!.getTime() - run.queuedAt.getTime()).toBe(90_000);
    expect(run.jobId).toMatch(/^[0-9a-f-]{36}$/);
    const job = await getPool().query(`SELECT name, state FROM pgboss.job WHERE id = $1::uuid`, [run.jobId]);
    expect(job.rows[0]).toEqual({ name: QUEUES.apply, state: 'created' });
    const frozen = run.frozenSettings as { target: Record<string, unknown>; requester: { roles: string[] }; revisionChecksum: string };
    expect(frozen.target).toMatchObject({ environment: 'staging', database: shop.name, runDeadlineMs: 90_000 });
    expect(frozen.target.passwordFingerprint).toMatch(/^[0-9a-f]{32}$/);
    expect(frozen.requester.roles).toContain('admin');
    expect(frozen.revisionChecksum).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(run.frozenSettings)).not.toContain('canary-pw-7f3a9');
    await cancelRun(admin.id, { runId });
  });
});

describe('settings changed after queueing', () => {
  it('fails the run at claim with a message naming what changed, and leaves the target alone', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId, targetId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN s1 int;');
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    await getDb().targetDatabase.update({ where: { id: targetId }, data: { host: 'localhost' } });
    await runApplyJob(runId);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'failed', error: "The target's host changed after this run was queued; queue it again." });
    expect(await columnExists('s1')).toBe(false);
    expect(await audit(runId)).toEqual(['run.queued', 'run.failed']);
  });

  it('fails the run when the target became production, or its password or timeouts changed', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const cases: [Record<string, unknown>, string][] = [
      [{ environment: 'production' }, 'may no longer start it: Runs target'],
      [{ passwordEncrypted: null }, ''], // placeholder, replaced below
      [{ statementTimeoutMs: 1000 }, "The target's statement timeout changed after this run was queued; queue it again."],
    ];
    const { encryptSecret } = await import('@/lib/engine/secrets');
    const { secretKey } = await import('@/lib/db/settings');
    cases[1] = [{ passwordEncrypted: encryptSecret('another', secretKey()) }, "The target's password changed after this run was queued; queue it again."];
    for (const [patch, message] of cases) {
      const { requestId, targetId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN s2 int;');
      const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
      await getDb().targetDatabase.update({ where: { id: targetId }, data: patch });
      await runApplyJob(runId);
      const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
      expect(run.status).toBe('failed');
      expect(run.error).toContain(message);
    }
    expect(await columnExists('s2')).toBe(false);
  });

  it('fails the run when the person who queued it lost the role or was deactivated', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'], name: 'Dana DBA' });
    for (const change of [{ agentRoles: [] as string[], active: true }, { agentRoles: ['database-administrator'], active: false }]) {
      await getDb().user.update({ where: { id: dba.id }, data: { agentRoles: ['database-administrator'], active: true } });
      const { requestId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN s3 int;');
      const { runId } = await requestApply(dba.id, { requestId, direction: 'up' });
      await getDb().user.update({ where: { id: dba.id }, data: change });
      await runApplyJob(runId);
      const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
      expect(run.status).toBe('failed');
      expect(run.error).toBe(
        change.active
          ? 'Dana DBA, who queued this run, may no longer start it: Applying migrations to a target needs the database-administrator role (or admin). Queue it again.'
          : 'Dana DBA, who queued this run, is no longer active; queue it again.',
      );
    }
    expect(await columnExists('s3')).toBe(false);
  });

  it('fails the run an agent queued once the agent is paused, or answers to an owner no longer active', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const owen = await makeUser({ roles: ['engineer'], name: 'Owen Owner' });
    const agent = await createAgent(admin.id, { name: 'apply-agent', agentRoles: ['database-administrator'] as never, ownerId: owen.id });
    const cases: [() => Promise<unknown>, () => Promise<unknown>, string][] = [
      [() => setAgentPaused(admin.id, { agentId: agent.id, paused: true }), () => setAgentPaused(admin.id, { agentId: agent.id, paused: false }),
        'apply-agent was paused; queue it again once it is resumed.'],
      // Deactivated straight in the store: an owner deactivated before owners' agents were paused with them.
      [() => getDb().user.update({ where: { id: owen.id }, data: { active: false } }), () => getDb().user.update({ where: { id: owen.id }, data: { active: true } }),
        'apply-agent answers to Owen Owner, who is no longer active: an admin must give it an active owner (Admin > Agents). Queue it again then.'],
    ];
    for (const [stop, restore, message] of cases) {
      const { requestId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN s4 int;');
      const { runId } = await requestApply(agent.id, { requestId, direction: 'up' });
      await stop();
      await runApplyJob(runId);
      expect(await getDb().run.findUniqueOrThrow({ where: { id: runId } })).toMatchObject({ status: 'failed', error: message });
      await restore();
    }
    expect(await columnExists('s4')).toBe(false);
  });
});

describe('Cancel', () => {
  it('ends a queued run at once, withdraws its job, and refuses a finished run and people who may not start it', async () => {
    const admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
    const engineer = await makeUser({ roles: ['engineer'] });
    const { requestId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN c0 int;');
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    await expect(cancelRun(engineer.id, { runId })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await cancelRun(admin.id, { runId })).toEqual({ status: 'cancelled' });
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ status: 'cancelled', error: 'Cancelled by Ada Admin before it started.', cancelRequestedById: admin.id });
    expect(run.finishedAt).toBeInstanceOf(Date);
    expect((await getPool().query(`SELECT state FROM pgboss.job WHERE id = $1::uuid`, [run.jobId])).rows[0].state).toBe('cancelled');
    expect(await audit(runId)).toEqual(['run.queued', 'run.cancelled']);
    // A worker that gets the job anyway finds nothing to do.
    await runApplyJob(runId);
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('cancelled');
    await expect(cancelRun(admin.id, { runId })).rejects.toThrow('This run already ended (cancelled); there is nothing to cancel.');
    // The target is free for the next apply.
    const next = await requestApply(admin.id, { requestId, direction: 'up' });
    await cancelRun(admin.id, { runId: next.runId });
  });

  it('cancels a running apply in its pg_sleep: statement cancelled, rolled back, target unchanged, lock free', async () => {
    const admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'], name: 'Dana DBA' });
    const { requestId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN c1 int;\nSELECT pg_sleep(30);\n', 'ALTER TABLE orders DROP COLUMN c1;');
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    const job = runApplyJob(runId);
    await until('the apply is in its pg_sleep', inSleep(runId));
    const pressed = Date.now();
    // Any database-administrator may cancel it, not only the person who started it.
    expect(await cancelRun(dba.id, { runId })).toEqual({ status: 'running' });
    await job;
    expect(Date.now() - pressed).toBeLessThan(5000);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('cancelled');
    expect(run.error).toMatch(/^Cancelled by Dana DBA during .*statement 2 of 2 \(line 2\): SELECT pg_sleep\(30\)\.$/);
    const result = run.result as { aborted: string; script: { statements: { status: string }[] } };
    expect(result.aborted).toBe('cancelled');
    expect(result.script.statements.map((s) => s.status)).toEqual(['rolled_back', 'failed']);
    expect(await columnExists('c1')).toBe(false);
    expect(await historyRows(`step_${seq}`)).toBe(0);
    expect(await targetLockFree()).toBe(true);
    expect(await runSessions(runId)).toBe(0);
    expect(await audit(runId)).toEqual(['run.queued', 'run.cancel_requested', 'run.cancelled']);
  }, 30_000);

  it('ends a snapshot run by closing its session', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId } = await requestWithMigration(admin.id, 'SELECT 1;');
    const { runId } = await requestSnapshot(admin.id, { requestId });
    // Cancel pressed just as the worker claims it: the watcher's first look ends it.
    await getDb().run.update({ where: { id: runId }, data: { cancelRequestedAt: new Date(), cancelRequestedById: admin.id } });
    await runSnapshotJob(runId);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('cancelled');
    expect(await getDb().schemaSnapshot.count({ where: { runId } })).toBe(0);
    // This run never went through the queue: withdraw its job so no later test's worker meets it.
    await (await getBoss()).cancel(QUEUES.snapshot, run.jobId!);
  });
});

describe('the deadline', () => {
  it('times out a running apply: recorded timed_out with what it was doing, rolled back, lock free', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN d1 int;\nSELECT pg_sleep(30);\n', 'SELECT 1;', { runDeadlineMs: 2500 });
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    const started = Date.now();
    await runApplyJob(runId);
    expect(Date.now() - started).toBeLessThan(8000);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('timed_out');
    expect(run.error).toMatch(/^Timed out: the run's deadline \(3 s after it was queued\) passed during .*SELECT pg_sleep\(30\)\.$/);
    expect(run.phase).toContain('statement 2 of 2');
    expect(await columnExists('d1')).toBe(false);
    expect(await targetLockFree()).toBe(true);
    expect(await audit(runId)).toEqual(['run.queued', 'run.timed_out']);
  }, 30_000);

  it('times out a rehearsal in its up path: timed_out with the phase, the sandbox statement cancelled, the target untouched', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId } = await requestWithMigration(admin.id, 'ALTER TABLE orders ADD COLUMN r1 int;\nSELECT pg_sleep(60);\n', 'ALTER TABLE orders DROP COLUMN r1;', { runDeadlineMs: 8000 });
    const { runId } = await requestRehearsal(admin.id, { requestId });
    const started = Date.now();
    await runRehearsalJob(runId);
    expect(Date.now() - started).toBeLessThan(20_000);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('timed_out');
    expect(run.error).toMatch(/^Timed out: the run's deadline \(8 s after it was queued\) passed during up: statement 2 of 2 \(line 2\): SELECT pg_sleep\(60\)\.$/);
    expect((run.result as { aborted?: string }).aborted).toBe('timed_out');
    expect(await columnExists('r1')).toBe(false);
    expect(await audit(runId)).toEqual(['run.queued', 'run.timed_out']);
  }, 40_000);

  it('times out a queued run nobody started before its deadline', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId } = await requestWithMigration(admin.id, 'SELECT 1;');
    const { runId } = await requestApply(admin.id, { requestId, direction: 'up' });
    await getDb().run.update({ where: { id: runId }, data: { deadlineAt: new Date(Date.now() - 1000) } });
    const swept = await failStrandedQueuedRuns();
    expect(swept.timedOut).toContain(runId);
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run.status).toBe('timed_out');
    expect(run.error).toMatch(/passed before it started\.$/);
  });
});

describe('a queued run whose job died', () => {
  /** A worker process that takes the job and then is killed (kill -9) before it claims the run. */
  async function takeJobAndDie(queue: string) {
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/job-thief.ts', queue], {
      env: { ...process.env, DATABASE_URL: store.url },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    const took = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the job thief took nothing: ${out}`)), 20_000);
      child.stdout!.on('data', (b) => {
        out += b;
        const m = /took (\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.stderr!.on('data', (b) => (out += b));
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    return took;
  }

  it('becomes failed with the reason when the worker that took its job was killed before claiming it', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const { requestId } = await requestWithMigration(admin.id, 'SELECT 1;');
    const { runId } = await requestSnapshot(admin.id, { requestId });
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(await takeJobAndDie(QUEUES.snapshot)).toBe(run.jobId);
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).status).toBe('queued');
    // Within the grace a live worker would have claimed it, the sweep leaves it waiting.
    expect((await failStrandedQueuedRuns({ claimGraceMs: 60_000 })).failed).not.toContain(runId);
    expect((await failStrandedQueuedRuns({ claimGraceMs: 0 })).failed).toContain(runId);
    const after = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(after.status).toBe('failed');
    expect(after.error).toMatch(/^A worker took its job at .* and stopped before starting the run\. Queue it again\.$/);
    expect(await audit(runId)).toEqual(['run.queued', 'run.failed']);
    // The request can be snapshotted again.
    const again = await requestSnapshot(admin.id, { requestId });
    await cancelRun(admin.id, { runId: again.runId });
  }, 40_000);

  it('becomes failed when its job failed or expired in the queue, or was never delivered', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const boss = await getBoss();
    const expected: [string, RegExp][] = [];
    const { requestId: r1 } = await requestWithMigration(admin.id, 'SELECT 1;');
    const expired = await requestSnapshot(admin.id, { requestId: r1 });
    const job1 = (await getDb().run.findUniqueOrThrow({ where: { id: expired.runId } })).jobId!;
    await boss.fail(QUEUES.snapshot, job1, { message: 'job expired' });
    expected.push([expired.runId, /^The job queue gave up on its job before a worker started the run \(job expired\)\. Queue it again\.$/]);
    const { requestId: r2 } = await requestWithMigration(admin.id, 'SELECT 1;');
    const lost = await requestSnapshot(admin.id, { requestId: r2 });
    await getPool().query(`DELETE FROM pgboss.job WHERE id = (SELECT job_id::uuid FROM runs WHERE id = $1::uuid)`, [lost.runId]);
    expected.push([lost.runId, /^Its job was never delivered: the job queue has no record of it\. Queue it again\.$/]);
    const { failed } = await failStrandedQueuedRuns();
    for (const [runId, message] of expected) {
      expect(failed).toContain(runId);
      const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
      expect(run.status).toBe('failed');
      expect(run.error).toMatch(message);
    }
  });
});

describe('one apply per target, under concurrency', () => {
  it('queues exactly one of two applies asked for at the same moment', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const a = await requestWithMigration(admin.id, 'SELECT 1;');
    const requestB = (await fileRequest(admin.id, { title: 'Same target', kind: 'schema_change', targetId: a.targetId, description: 'A second request on the same target.', priority: 'HIGH' })).id;
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId: requestB, name: 'other', upSql: 'SELECT 2;', downSql: 'SELECT 1;' }));
    await recordPassingRehearsal(requestB);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([
        requestApply(admin.id, { requestId: a.requestId, direction: 'up' }),
        requestApply(admin.id, { requestId: requestB, direction: 'up' }),
      ]);
      const queued = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      expect(queued).toHaveLength(1);
      expect(refused[0].reason).toMatchObject({ code: 'conflict' });
      expect(String(refused[0].reason.message)).toMatch(/^Another run \(apply, queued .*\) is changing Runs target \d+; wait for it to finish\.$/);
      expect(await getDb().run.count({ where: { targetId: a.targetId, status: { in: ['queued', 'running'] } } })).toBe(1);
      await cancelRun(admin.id, { runId: (queued[0] as PromiseFulfilledResult<{ runId: string }>).value.runId });
    }
  });
});

describe('at least one active admin, under concurrency', () => {
  it('refuses one of two admins demoting each other at the same moment', async () => {
    const a = await makeUser({ roles: ['admin'], name: 'Admin A' });
    const b = await makeUser({ roles: ['admin'], name: 'Admin B' });
    // Only these two are admins for this test.
    await getDb().user.updateMany({ where: { id: { notIn: [a.id, b.id] }, roles: { has: 'admin' } }, data: { active: false } });
    for (let round = 0; round < 5; round++) {
      await getDb().user.updateMany({ where: { id: { in: [a.id, b.id] } }, data: { roles: ['admin'], active: true } });
      const results = await Promise.allSettled([
        updateUserRoles(a.id, { userId: b.id, roles: ['engineer'], agentRoles: [], active: true }),
        updateUserRoles(b.id, { userId: a.id, roles: ['engineer'], agentRoles: [], active: true }),
      ]);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')!;
      expect(['forbidden', 'conflict']).toContain(refused.reason.code);
      expect(await getDb().user.count({ where: { active: true, roles: { has: 'admin' } } })).toBe(1);
    }
  });
});
