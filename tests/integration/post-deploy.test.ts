import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { getPostDeployPanel, openAlerts } from '@/lib/data/post-deploy';
import { getPostDeployReport, getSuccessCriteria } from '@/lib/data/success-criteria';
import { loadActor } from '@/lib/auth/actor';
import { driverFor } from '@/lib/engine';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { targetSettings } from '@/lib/services/manage-targets';
import { documentIssues, runVerificationNow, scheduleVerification } from '@/lib/services/post-deploy';
import { addVerificationQuery, archiveVerificationQuery, runVerificationQueries } from '@/lib/services/verification-queries';
import { DEFAULT_FENCE_ALLOWANCES } from '@/lib/engine';
import { VerificationQueryFormSchema } from '@/lib/validation/verification';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let health: http.Server;
let healthStatus = 200;
let healthUrl: string;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_post_deploy');
  await withClient(shop.url, (c) => c.query(`
    CREATE TABLE orders (id bigint PRIMARY KEY, total numeric(10,2) NOT NULL, status text NOT NULL DEFAULT 'new');
    INSERT INTO orders SELECT g, g * 1.5, 'new' FROM generate_series(1, 50) g;`));
  // The application's health endpoint: answers what the test says.
  health = http.createServer((_req, res) => res.writeHead(healthStatus).end(healthStatus === 200 ? 'ok' : 'down'));
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
}, 60_000);

afterAll(async () => {
  health?.closeAllConnections();
  await new Promise((resolve) => health?.close(resolve));
  await stopBoss();
  await store?.close();
  await shop?.drop();
});

const form = (input: Record<string, unknown>) => VerificationQueryFormSchema.parse(input);

/** A request on the shop with a saved revision, a one-environment project and a succeeded deployment, as DEPLOY leaves them. */
async function deployedRequest(opts: { adminId: string; authorId: string; deployerId: string; targetId: string; requestTargetId?: string; intervalSeconds?: number; windowMinutes?: number }) {
  const db = getDb();
  const { id: requestId } = await fileRequest(opts.adminId, { title: 'Add status', kind: 'schema_change', targetId: opts.requestTargetId ?? opts.targetId, description: 'Orders get a status.', priority: 'HIGH' });
  await db.migrationRequest.update({ where: { id: requestId }, data: { authorId: opts.authorId } });
  const upSql = 'ALTER TABLE orders ADD COLUMN status text;\n';
  const revision = await db.migrationRevision.create({
    data: { requestId, revision: 1, name: 'add_status', upSql, downSql: 'ALTER TABLE orders DROP COLUMN status;\n', checksum: createHash('sha256').update(upSql).digest('hex'), createdById: opts.authorId },
  });
  const project = await db.project.create({
    data: {
      name: `Shop app ${requestId.slice(0, 8)}`, repositoryUrl: '/tmp/none', verificationIntervalSeconds: opts.intervalSeconds ?? 60, verificationWindowMinutes: opts.windowMinutes ?? 3,
      environments: { create: { position: 1, name: 'production', targetId: opts.targetId, healthCheckUrl: healthUrl, requiresApproval: true } },
    },
    include: { environments: true },
  });
  await db.migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id } });
  const deploy = () => db.deployment.create({
    data: {
      requestId, environmentId: project.environments[0].id, targetId: opts.targetId, revisionId: revision.id, revisionSha256: revision.checksum,
      status: 'succeeded', requestedById: opts.deployerId, finishedAt: new Date(),
    },
  });
  return { requestId, revision, project, deployment: await deploy(), deployAgain: deploy };
}

describe('post-deployment checks', () => {
  it('queries are checked as one read-only SELECT when written, and only the right people write them', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const author = await makeUser({ roles: ['engineer'] });
    const outsider = await makeUser({ roles: ['engineer'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for writing checks');
    const { requestId } = await deployedRequest({ adminId: admin.id, authorId: author.id, deployerId: dba.id, targetId: target.id });

    const ok = { requestId, name: 'Orders kept', kind: 'count', op: '=', value: '50', sql: 'SELECT count(*) FROM orders' };
    // Only the Post-deployment step's holders and admins: not the author, not a lead.
    await expect(addVerificationQuery(outsider.id, form(ok))).rejects.toThrow(/database-administrator.* and admins can write verification queries/);
    await expect(addVerificationQuery(author.id, form(ok))).rejects.toThrow(/and admins can write verification queries/);
    const lead = await makeUser({ roles: ['lead'] });
    await expect(addVerificationQuery(lead.id, form(ok))).rejects.toThrow(/and admins can write verification queries/);
    const noRole = await makeUser({ roles: [] });
    await getDb().migrationRequest.update({ where: { id: requestId }, data: { authorId: noRole.id } });
    await expect(addVerificationQuery(noRole.id, form(ok))).rejects.toThrow(/can write verification queries/);
    await getDb().migrationRequest.update({ where: { id: requestId }, data: { authorId: author.id } });

    await expect(addVerificationQuery(dba.id, form({ ...ok, sql: 'DELETE FROM orders' }))).rejects.toThrow(/only read: write a SELECT/);
    await expect(addVerificationQuery(dba.id, form({ ...ok, sql: 'SELECT 1; SELECT 2' }))).rejects.toThrow(/exactly one SELECT statement; this has 2/);
    await expect(addVerificationQuery(dba.id, form({ ...ok, sql: "SELECT pg_read_file('/etc/passwd')" }))).rejects.toThrow(/pg_read_file\(\) acts on the server even in a read-only transaction/);
    await expect(addVerificationQuery(dba.id, form({ ...ok, sql: 'SELECT * FROM pg_authid' }))).rejects.toThrow(/SQL fence refuses/);
    await expect(addVerificationQuery(dba.id, form({ ...ok, sql: 'SELEC count(*) FROM orders' }))).rejects.toThrow(/does not parse/);
    // Functions that act even in a READ ONLY transaction, found in the parse tree wherever they are.
    for (const sql of [
      "SELECT pg_notify('orders', 'x')", 'SELECT count(*) FROM orders WHERE pg_catalog.pg_advisory_xact_lock(1) IS NOT NULL',
      'SELECT pg_try_advisory_lock(id) FROM orders', "SELECT set_config('application_name', 'x', false)", "SELECT nextval('s')",
      "SELECT setval('s', 1)", 'SELECT * FROM pg_sleep_for(\'1 second\')', "SELECT count(*) FROM orders WHERE id IN (SELECT lo_create(0))",
      'SELECT pg_terminate_backend(pid) FROM pg_stat_activity', 'SELECT pg_reload_conf()', 'SELECT pg_current_xact_id()', 'SELECT txid_current()',
      "WITH x AS (SELECT dblink_connect('h')) SELECT 1 FROM x",
    ]) {
      await expect(addVerificationQuery(dba.id, form({ ...ok, sql })), sql).rejects.toThrow(/act(s)? on the server even in a read-only transaction/);
    }
    // Plain reads that merely look alike still pass.
    await addVerificationQuery(dba.id, form({ ...ok, name: 'Lookalike', sql: "SELECT count(*) FROM orders WHERE status <> 'pg_notify'" }));
    expect(VerificationQueryFormSchema.safeParse({ ...ok, value: 'many' }).success).toBe(false);
    expect(VerificationQueryFormSchema.safeParse({ requestId, name: 'x', kind: 'column_exists', table: 'orders' }).success).toBe(false);

    const { id } = await addVerificationQuery(admin.id, form(ok));
    const column = await addVerificationQuery(dba.id, form({ requestId, name: 'Status column', kind: 'column_exists', table: 'public.orders', column: 'status' }));
    const stored = await getDb().verificationQuery.findUniqueOrThrow({ where: { id: column.id } });
    expect(stored.sql).toContain("a.attname = 'status'");
    expect(stored.expectation).toEqual({ kind: 'column_exists', table: 'public.orders', column: 'status' });

    await expect(archiveVerificationQuery(outsider.id, { queryId: id })).rejects.toThrow(/can write verification queries/);
    await expect(archiveVerificationQuery(author.id, { queryId: id })).rejects.toThrow(/can write verification queries/);
    await archiveVerificationQuery(dba.id, { queryId: id });
    await expect(archiveVerificationQuery(dba.id, { queryId: id })).rejects.toThrow(/already removed/);
    const audit = await getDb().auditLog.findMany({ where: { requestId, action: { startsWith: 'verification_query.' } }, orderBy: { createdAt: 'asc' } });
    expect(audit.map((a) => a.action)).toEqual(['verification_query.added', 'verification_query.added', 'verification_query.added', 'verification_query.removed']);
  });

  it("checks a query against the fence of the production target it runs on, not the request's own target", async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const production = await makeLiveTarget(admin.id, shop.name, 'Shop production (strict fence)');
    const scratch = await makeLiveTarget(admin.id, shop.name, 'Shop scratch (lenient fence)');
    // The request's own target lets dynamic SQL through; production does not.
    await getDb().targetDatabase.update({ where: { id: scratch.id }, data: { allowedStatementKinds: ['dynamic_sql'] } });
    const { requestId } = await deployedRequest({ adminId: admin.id, authorId: admin.id, deployerId: dba.id, targetId: production.id, requestTargetId: scratch.id });
    const dynamic = { requestId, name: 'Dynamic', kind: 'no_rows', sql: "SELECT query_to_xml('SELECT 1', true, true, '')" };
    await expect(addVerificationQuery(dba.id, form(dynamic))).rejects.toThrow(/SQL fence refuses/);
    await getDb().targetDatabase.update({ where: { id: production.id }, data: { allowedStatementKinds: ['dynamic_sql'] } });
    await addVerificationQuery(dba.id, form(dynamic));
  });

  it('runs read-only with a statement timeout: writes hidden in a SELECT are refused, slow queries stop, results compare', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for running checks');
    const row = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: target.id } });
    const driver = driverFor(row);
    const session = await driver.connect(targetSettings(row), { readOnly: true });
    try {
      const q = (id: string, sql: string, expectation: Parameters<typeof runVerificationQueries>[1][number]['expectation']) => ({ id, name: id, sql, expectation });
      const results = await runVerificationQueries(session, [
        q('count', 'SELECT count(*) FROM orders', { kind: 'count', op: '>=', value: 50 }),
        q('value', "SELECT total FROM orders WHERE id = 2", { kind: 'value', value: '3.0' }),
        q('no rows', 'SELECT id FROM orders WHERE total < 0', { kind: 'no_rows' }),
        q('too many', 'SELECT id FROM orders', { kind: 'no_rows' }),
        q('sneaky delete', 'WITH d AS (DELETE FROM orders RETURNING id) SELECT count(*) FROM d', { kind: 'count', op: '=', value: 0 }),
        q('select into', 'SELECT * INTO orders_copy FROM orders', { kind: 'no_rows' }),
        q('sequence', "SELECT nextval('nope')", { kind: 'no_rows' }),
        q('notify', "SELECT pg_notify('orders', 'x')", { kind: 'no_rows' }),
        q('advisory lock', 'SELECT pg_advisory_lock(42)', { kind: 'no_rows' }),
        q('sleep', 'SELECT pg_sleep(5)', { kind: 'no_rows' }),
        q('slow', 'SELECT count(*) FROM generate_series(1, 500000000)', { kind: 'no_rows' }),
        q('missing column', 'SELECT missing FROM orders', { kind: 'no_rows' }),
      ], { target: { ...row, statementTimeoutMs: 300 }, allowances: DEFAULT_FENCE_ALLOWANCES });
      const by = Object.fromEntries(results.map((r) => [r.queryId, r]));
      expect(by.count).toMatchObject({ passed: true, actual: '50' });
      expect(by.value).toMatchObject({ passed: true, actual: '3.00' });
      expect(by['no rows']).toMatchObject({ passed: true, actual: 'no rows' });
      expect(by['too many']).toMatchObject({ passed: false, actual: '20+ rows' });
      expect(by['sneaky delete'].passed).toBe(false);
      expect(by['sneaky delete'].reason).toMatch(/tried to write|data-modifying/);
      expect(by['select into'].passed).toBe(false);
      expect(by.sequence.passed).toBe(false);
      // Refused again when run (stored before the rule, or written straight into the store), never executed.
      for (const id of ['sequence', 'notify', 'advisory lock', 'sleep']) {
        expect(by[id], id).toMatchObject({ passed: false, actual: null });
        expect(by[id].reason, id).toMatch(/even in a read-only transaction/);
        expect(by[id].durationMs, id).toBeLessThan(1000);
      }
      const held = await withClient(shop.url, (c) => c.query<{ n: string }>(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND objid = 42`));
      expect(held.rows[0].n).toBe('0');
      expect(by.slow.reason).toMatch(/ran longer than 0 s|ran longer than/);
      expect(by['missing column'].reason).toMatch(/column "missing" does not exist/);
      // Nothing was written: the delete and the copy never happened.
      const after = await withClient(shop.url, (c) => c.query<{ n: string; copy: string | null }>(`SELECT count(*) AS n, to_regclass('public.orders_copy')::text AS copy FROM orders`));
      expect(after.rows[0]).toEqual({ n: '50', copy: null });
    } finally {
      await driver.close(session);
    }
  });

  it('schedules checks after a deploy, records evidence and alerts, skips replaced deployments, and runs checks on demand', async () => {
    const db = getDb();
    const admin = await makeUser({ roles: ['admin'] });
    const author = await makeUser({ roles: ['engineer'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const reviewer = await makeUser({ roles: ['reviewer'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for scheduled checks');
    const { requestId, deployment, deployAgain } = await deployedRequest({ adminId: admin.id, authorId: author.id, deployerId: dba.id, targetId: target.id, intervalSeconds: 60, windowMinutes: 3 });
    await addVerificationQuery(dba.id, form({ requestId, name: 'Orders kept', kind: 'count', op: '=', value: '50', sql: 'SELECT count(*) FROM orders' }));
    await addVerificationQuery(dba.id, form({ requestId, name: 'No negative totals', kind: 'no_rows', sql: 'SELECT id FROM orders WHERE total < 0' }));

    // Scheduled in the deploy's transaction: now, then every minute for three minutes.
    const before = Date.now();
    const { runIds, verifyUntil } = await db.$transaction((tx) => scheduleVerification(tx, deployment.id));
    expect(runIds).toHaveLength(4);
    expect(verifyUntil.getTime() - before).toBeGreaterThanOrEqual(3 * 60_000 - 1000);
    const runs = await db.run.findMany({ where: { id: { in: runIds } }, orderBy: { queuedAt: 'asc' } });
    expect(runs.every((r) => r.kind === 'verify' && r.status === 'queued' && r.deploymentId === deployment.id && r.requestedById === dba.id)).toBe(true);
    expect(runs[1].queuedAt.getTime() - runs[0].queuedAt.getTime()).toBe(60_000);
    expect((await db.deployment.findUniqueOrThrow({ where: { id: deployment.id } })).verifyUntil?.getTime()).toBe(verifyUntil.getTime());
    // The job queue holds the later checks back until their time.
    const jobs = await db.$queryRawUnsafe<{ id: string; start_after: Date }[]>(`SELECT id::text, start_after FROM pgboss.job WHERE id = ANY($1::uuid[]) ORDER BY start_after`, runs.map((r) => r.jobId));
    expect(jobs).toHaveLength(4);
    expect(jobs[3].start_after.getTime()).toBeGreaterThan(Date.now() + 2 * 60_000);

    // The check right after the deploy passes: verification and health-check evidence.
    await runJob(handlerFor('verify'), { runId: runs[0].id, checkNumber: 1 });
    expect(await db.run.findUniqueOrThrow({ where: { id: runs[0].id } })).toMatchObject({ status: 'succeeded' });
    const verification = await latestEvidence(requestId, 'verification');
    expect(verification).toMatchObject({ passed: true, runId: runs[0].id, targetId: target.id });
    expect(verification?.detail?.queries.map((q) => q.passed)).toEqual([true, true]);
    expect(await latestEvidence(requestId, 'health_check')).toMatchObject({ passed: true });
    expect(await openAlerts(db, { requestId })).toEqual([]);

    // Then the application goes down and a bad row appears: both checks fail and raise alerts.
    healthStatus = 503;
    await withClient(shop.url, (c) => c.query('UPDATE orders SET total = -1 WHERE id = 7'));
    try {
      await runJob(handlerFor('verify'), { runId: runs[1].id, checkNumber: 2 });
    } finally {
      healthStatus = 200;
      await withClient(shop.url, (c) => c.query('UPDATE orders SET total = 10.5 WHERE id = 7'));
    }
    const failed = await db.run.findUniqueOrThrow({ where: { id: runs[1].id } });
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/1 of 2 verification queries failed on production: No negative totals/);
    expect(failed.error).toMatch(/HTTP 503/);
    const alerts = await openAlerts(db, { requestId });
    expect(alerts.map((a) => a.kind).sort()).toEqual(['health_check', 'verification']);
    expect(alerts.every((a) => a.environment === 'production' && a.deploymentId === deployment.id && a.failingChecks === 1)).toBe(true);
    expect((await openAlerts(db)).some((a) => a.requestId === requestId)).toBe(true);

    // The panel shows the failing check with its reason, the schedule, and the alerts.
    const panel = await getPostDeployPanel(await loadActor(db, reviewer.id), requestId);
    expect(panel.canWrite).toBe(false);
    expect(panel.canRunChecks).toBe(false);
    expect(panel.alerts).toHaveLength(2);
    expect(panel.deployments[0]).toMatchObject({ environment: 'production', checksLeft: 2 });
    // A reviewer sees pass/fail and the status only; the step's holders see what came back and the full error.
    const shown = panel.checks.find((c) => c.runId === runs[1].id);
    expect(shown?.verification?.results.find((r) => r.name === 'No negative totals')).toMatchObject({ passed: false, actual: null, reason: null });
    expect(shown?.health).toMatchObject({ passed: false, status: 503, error: 'unhealthy (HTTP 503)' });
    expect(panel.canWriteQueries).toBe(false);
    const holderPanel = await getPostDeployPanel(await loadActor(db, dba.id), requestId);
    const holderShown = holderPanel.checks.find((c) => c.runId === runs[1].id);
    expect(holderPanel.canWriteQueries).toBe(true);
    expect(holderShown?.verification?.results.find((r) => r.name === 'No negative totals')).toMatchObject({ passed: false, actual: '1 row' });
    expect(holderShown?.verification?.results.find((r) => r.name === 'No negative totals')?.reason).toMatch(/first: 7/);
    expect(holderShown?.health?.error).toMatch(/The health check answered HTTP 503/);
    const leadPanel = await getPostDeployPanel(await loadActor(db, (await makeUser({ roles: ['lead'] })).id), requestId);
    expect(leadPanel.checks.find((c) => c.runId === runs[1].id)?.verification?.results.find((r) => r.name === 'No negative totals')).toMatchObject({ actual: '1 row' });
    expect(leadPanel.checks.find((c) => c.runId === runs[1].id)?.health?.error).toBe('unhealthy (HTTP 503)');
    // The evidence itself keeps the full error; the run's error and the summary everyone reads do not carry it.
    const healthEvidence = await getDb().evidence.findFirstOrThrow({ where: { runId: runs[1].id, kind: 'health_check' } });
    expect((healthEvidence.detail as { error: string }).error).toMatch(/The health check answered HTTP 503/);
    expect(healthEvidence.summary).toBe('Health check of production failed: unhealthy (HTTP 503).');
    expect(failed.error).not.toMatch(/The health check answered/);

    // Success criteria read the failing checks.
    const criteria = await getSuccessCriteria(await loadActor(db, reviewer.id), requestId);
    expect(criteria.criteria.map((c) => c.key)).toEqual(['applied', 'no-data-loss', 'app-works', 'rollback-ready', 'deployed-safely']);
    expect(criteria.allMet).toBe(false);
    expect(criteria.criteria.find((c) => c.key === 'app-works')?.reasons.join(' ')).toMatch(/failed|Open alert/);

    // On demand: only step 9 holders; a second click while one is due is refused.
    await expect(runVerificationNow(author.id, { requestId })).rejects.toThrow(/can run the post-deployment checks/);
    const { runId: manual } = await runVerificationNow(dba.id, { requestId });
    await expect(runVerificationNow(dba.id, { requestId })).rejects.toThrow(/already queued/);
    await runJob(handlerFor('verify'), { runId: manual, checkNumber: 0 });
    expect(await db.run.findUniqueOrThrow({ where: { id: manual } })).toMatchObject({ status: 'succeeded' });
    // Passing again closes the alerts.
    expect(await openAlerts(db, { requestId })).toEqual([]);

    // A newer deployment replaces this one: its remaining checks are withdrawn, and one already taken is skipped.
    const newer = await deployAgain();
    await db.run.update({ where: { id: runs[2].id }, data: { status: 'queued' } });
    const second = await db.$transaction((tx) => scheduleVerification(tx, newer.id));
    expect(await db.run.findUniqueOrThrow({ where: { id: runs[3].id } })).toMatchObject({ status: 'cancelled' });
    expect((await db.run.findUniqueOrThrow({ where: { id: runs[3].id } })).error).toMatch(/newer deployment to production replaced/);
    // (runs[2] was cancelled too; a worker that had taken it finds it no longer queued and leaves it.)
    await runJob(handlerFor('verify'), { runId: runs[2].id });
    expect(await db.run.findUniqueOrThrow({ where: { id: runs[2].id } })).toMatchObject({ status: 'cancelled' });

    // A recovered deployment is not verified: its due check is skipped with the reason.
    await db.deployment.update({ where: { id: newer.id }, data: { status: 'recovered', recovery: 'down' } });
    await runJob(handlerFor('verify'), { runId: second.runIds[0], checkNumber: 1 });
    const skipped = await db.run.findUniqueOrThrow({ where: { id: second.runIds[0] } });
    expect(skipped).toMatchObject({ status: 'cancelled', phase: 'skipped' });
    expect(skipped.error).toMatch(/deployment is recovered/);
    await expect(runVerificationNow(dba.id, { requestId, deploymentId: newer.id })).rejects.toThrow(/is recovered; checks run against a succeeded deployment/);
  });

  it('a check that finds no query yet (they are written on the step after Deploy) waits: it passes the health check, records no verification and raises no alert', async () => {
    const db = getDb();
    const admin = await makeUser({ roles: ['admin'] });
    const author = await makeUser({ roles: ['engineer'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop checked before any query');
    const { requestId, deployment } = await deployedRequest({ adminId: admin.id, authorId: author.id, deployerId: dba.id, targetId: target.id });
    const { runIds } = await db.$transaction((tx) => scheduleVerification(tx, deployment.id));
    await runJob(handlerFor('verify'), { runId: runIds[0], checkNumber: 1 });
    const run = await db.run.findUniqueOrThrow({ where: { id: runIds[0] } });
    expect(run).toMatchObject({ status: 'succeeded', error: null });
    expect(JSON.stringify(run.result)).toMatch(/No verification queries on production yet/);
    expect(await latestEvidence(requestId, 'verification')).toBeNull();
    expect(await latestEvidence(requestId, 'health_check')).toMatchObject({ passed: true });
    expect(await openAlerts(db, { requestId })).toEqual([]);

    // Once a query is written, the next scheduled check runs it and records the verification.
    await addVerificationQuery(dba.id, form({ requestId, name: 'Orders kept', kind: 'count', op: '>=', value: '1', sql: 'SELECT count(*) FROM orders' }));
    await runJob(handlerFor('verify'), { runId: runIds[1], checkNumber: 2 });
    expect(await latestEvidence(requestId, 'verification')).toMatchObject({ passed: true, runId: runIds[1] });
  });

  it('"Document any issues" keeps every version, refuses outsiders and unchanged text', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const author = await makeUser({ roles: ['engineer'] });
    const lead = await makeUser({ roles: ['lead'] });
    const outsider = await makeUser({ roles: ['engineer'] });
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for issues');
    const { requestId } = await deployedRequest({ adminId: admin.id, authorId: author.id, deployerId: dba.id, targetId: target.id });

    await expect(documentIssues(outsider.id, { requestId, body: 'Not mine.' })).rejects.toThrow(/can write on Post-deployment/);
    await documentIssues(dba.id, { requestId, body: 'Replica lag for 2 minutes after the deploy.' });
    await expect(documentIssues(lead.id, { requestId, body: 'Replica lag for 2 minutes after the deploy.' })).rejects.toThrow(/Nothing changed/);
    await documentIssues(lead.id, { requestId, body: 'Replica lag for 2 minutes after the deploy; resolved by itself.' });

    const panel = await getPostDeployPanel(await loadActor(getDb(), outsider.id), requestId);
    expect(panel.issues.current?.body).toMatch(/resolved by itself/);
    expect(panel.issues.history.map((h) => h.author)).toEqual([lead.name, dba.name]);
    expect(await getDb().auditLog.count({ where: { requestId, action: 'issues.documented' } })).toBe(2);

    // The API's report: the same reads; a request without a project says so; no role, no read.
    const report = await getPostDeployReport(await loadActor(getDb(), outsider.id), requestId);
    expect(report.issues?.body).toMatch(/resolved by itself/);
    expect(report.successCriteria.criteria).toHaveLength(5);
    const { id: plain } = await fileRequest(admin.id, { title: 'No project', kind: 'schema_change', targetId: target.id, description: 'Older request.', priority: 'LOW' });
    const plainReport = await getPostDeployReport(await loadActor(getDb(), outsider.id), plain);
    expect(plainReport.successCriteria).toMatchObject({ hasProject: false, allMet: false });
    expect(plainReport.successCriteria.criteria.find((c) => c.key === 'applied')?.reasons[0]).toMatch(/Deploy needs a project/);
    const nobody = await makeUser({ roles: [] });
    await expect(getPostDeployReport(await loadActor(getDb(), nobody.id), requestId)).rejects.toThrow(/no role yet/);
  });
});
