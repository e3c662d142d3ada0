import { createHash } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDb } from '@/lib/db/client';
import { issueApiToken } from '@/lib/services/api-tokens';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { callRoute, type RouteCall } from '../support/api-routes';
import { useTemporaryArtifactsDir, type TemporaryArtifactsDir } from '../support/artifacts-dir';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig<object>()), ...(await import('../support/api-routes')).sessionMock() }));

const reportsRoute = await import('@/app/api/v1/requests/[id]/test-reports/route');
const runsRoute = await import('@/app/api/v1/runs/[id]/route');
const statusRoute = await import('@/app/api/v1/requests/[id]/status/route');
const gateRoute = await import('@/app/api/v1/requests/[id]/gate/route');

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let artifacts: TemporaryArtifactsDir;
let admin: Awaited<ReturnType<typeof makeUser>>;
let automator: { secret: string };
let otherRole: { secret: string };

beforeAll(async () => {
  store = await openTestAppStore();
  artifacts = useTemporaryArtifactsDir('test-reports');
  admin = await makeUser({ roles: ['admin'] });
  automator = await issueApiToken(admin.id, { name: 'CI', role: 'test-automator' });
  otherRole = await issueApiToken(admin.id, { name: 'DBA bot', role: 'database-administrator' });
});

afterAll(async () => {
  await store?.close();
  artifacts?.restore();
});

async function requestWithRevisions(count: number) {
  const target = await makeTarget();
  const { id } = await fileRequest(admin.id, { title: 'Reports', kind: 'schema_change', targetId: target.id, description: 'Tested by CI.', priority: 'LOW' });
  for (let i = 1; i <= count; i += 1) {
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId: id, name: `add_notes_${i}`, upSql: `CREATE TABLE notes_${i} (id int);\n`, downSql: `DROP TABLE notes_${i};\n` }));
  }
  return id;
}

const post = (requestId: string, call: RouteCall) => callRoute(reportsRoute.POST, 'POST', `/api/v1/requests/${requestId}/test-reports`, { id: requestId }, call);
const xml = (body: string, token = automator.secret): RouteCall => ({ token, headers: { 'content-type': 'application/xml' }, body });
const json = (body: unknown, token = automator.secret): RouteCall => ({ token, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const storedFiles = (requestId: string) => {
  try {
    return readdirSync(path.join(artifacts.dir, 'reports', requestId));
  } catch {
    return [];
  }
};

const FAILING = `<?xml version="1.0"?><testsuites><testsuite name="orders" tests="3" failures="1" errors="1">
<testcase classname="orders" name="creates"/>
<testcase classname="orders" name="reads notes"><failure message="expected &quot;a&quot;, got null">stack</failure></testcase>
<testcase classname="orders" name="boots"><error message="connection refused"/></testcase>
</testsuite></testsuites>`;

describe('POST /api/v1/requests/:id/test-reports', () => {
  it('stores a JUnit report as received and records failing test_report evidence for the current revision, audited as the token', async () => {
    const requestId = await requestWithRevisions(1);
    const res = await post(requestId, xml(FAILING));
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ revision: 1, current: true, passed: false, tests: 3, failures: 1, errors: 1, skipped: 0, format: 'junit' });

    const evidence = await latestEvidence(requestId, 'test_report');
    expect(evidence).toMatchObject({ passed: false, staleBecause: null, summary: 'failed: 3 tests, 1 failure, 1 error, 0 skipped' });
    expect(evidence!.detail).toMatchObject({
      format: 'junit', tests: 3, failures: 1, errors: 1, revision: 1,
      failureList: [
        { name: 'reads notes', classname: 'orders', message: 'expected "a", got null', kind: 'failure' },
        { name: 'boots', classname: 'orders', message: 'connection refused', kind: 'error' },
      ],
    });
    const artifact = await getDb().artifact.findUniqueOrThrow({ where: { id: res.body.data.artifactId } });
    expect(artifact).toMatchObject({ kind: 'report', mediaType: 'application/xml' });
    const onDisk = readFileSync(path.join(artifacts.dir, ...artifact.storeKey.split('/')));
    expect(onDisk.toString('utf8')).toBe(FAILING);
    expect(createHash('sha256').update(onDisk).digest('hex')).toBe(artifact.sha256);

    const audit = await getDb().auditLog.findFirstOrThrow({ where: { requestId, action: 'test_report.attached' }, include: { actor: true } });
    expect(audit.actor).toMatchObject({ kind: 'automation', name: 'CI (API token)' });
  });

  it('takes a JSON summary, and a clean one passes; a named older revision is stored but does not hold', async () => {
    const requestId = await requestWithRevisions(2);
    const clean = await post(requestId, json({ tests: 40, failures: 0, skipped: 2 }));
    expect(clean.status).toBe(201);
    expect(clean.body.data).toMatchObject({ passed: true, revision: 2, current: true, summary: '40 tests, 0 failures, 0 errors, 2 skipped' });
    expect(await latestEvidence(requestId, 'test_report')).toMatchObject({ passed: true, staleBecause: null });
    // CI reads what it changed: step 5's evidence holds, and the gate's "All tests pass" rests on it.
    const status = await callRoute(statusRoute.GET, 'GET', `/api/v1/requests/${requestId}/status`, { id: requestId }, { token: automator.secret });
    expect(status.status).toBe(200);
    expect(status.body.data.revision).toMatchObject({ revision: 2 });
    expect(status.body.data.steps.find((s: { key: string }) => s.key === 'test-app').evidence).toMatchObject({ checkable: true, satisfied: true, waitingFor: [] });
    const gate = await callRoute(gateRoute.GET, 'GET', `/api/v1/requests/${requestId}/gate`, { id: requestId }, { token: automator.secret });
    expect(gate.status).toBe(200);
    const testsPass = gate.body.data.items.find((i: { key: string }) => i.key === 'tests-pass');
    expect(testsPass).toMatchObject({ satisfied: true, evidence: [expect.objectContaining({ kind: 'test_report', passed: true })] });
    expect(gate.body.data).toMatchObject({ open: false, passed: false });

    const older = await post(requestId, { ...json({ tests: 40, failures: 0 }), query: { revision: '1' } });
    expect(older.status).toBe(201);
    expect(older.body.data).toMatchObject({ revision: 1, current: false });
    expect((await latestEvidence(requestId, 'test_report'))!.staleBecause).toMatch(/rests on revision 1, and the latest is revision 2/);

    const list = await callRoute(reportsRoute.GET, 'GET', `/api/v1/requests/${requestId}/test-reports`, { id: requestId }, { token: otherRole.secret });
    expect(list.status).toBe(200);
    expect(list.body.data.map((r: { revision: number }) => r.revision)).toEqual([1, 2]);
    expect(list.body.data[1]).toMatchObject({ attachedBy: 'CI (API token)', passed: true, tests: 40 });
  });

  it('refuses, changing nothing: another role, no revision yet, an unknown revision, other media types, too large, bad JSON, a DOCTYPE', async () => {
    const noRevision = await requestWithRevisions(0);
    const requestId = await requestWithRevisions(1);
    const count = () => Promise.all([getDb().evidence.count({ where: { kind: 'test_report' } }), getDb().artifact.count({ where: { kind: 'report' } })]);
    const before = await count();

    const asReviewer = await post(requestId, json({ tests: 1, failures: 0 }, otherRole.secret));
    expect(asReviewer).toMatchObject({ status: 403, body: { error: { message: 'Only holders of test-automator (or admins) can attach test reports to "Test app with new schema".' } } });
    expect((await post(requestId, { headers: { 'content-type': 'application/json' }, body: '{"tests":1,"failures":0}' })).status).toBe(401);
    expect((await post(noRevision, json({ tests: 1, failures: 0 }))).body.error?.message).toMatch(/no migration revision yet/);
    const unknown = await post(requestId, { ...json({ tests: 1, failures: 0 }), query: { revision: '9' } });
    expect(unknown).toMatchObject({ status: 404, body: { error: { message: expect.stringMatching(/has no revision 9; its revisions are 1 to 1/) } } });
    expect((await post(requestId, { token: automator.secret, headers: { 'content-type': 'text/plain' }, body: 'ok' })).status).toBe(415);
    const huge = await post(requestId, xml(`<testsuite>${'<testcase name="x"/>'.repeat(250_000)}</testsuite>`));
    expect(huge.status).toBe(413);
    expect((await post(requestId, { token: automator.secret, headers: { 'content-type': 'application/json' }, body: '{"tests": 1,' })).status).toBe(400);
    const contradictory = await post(requestId, json({ tests: 1, failures: 2 }));
    expect(contradictory).toMatchObject({ status: 422, body: { error: { message: expect.stringMatching(/more than it ran/) } } });
    const xxe = await post(requestId, xml('<?xml version="1.0"?><!DOCTYPE t [<!ENTITY x SYSTEM "file:///etc/passwd">]><testsuite><testcase name="&x;"/></testsuite>'));
    expect(xxe).toMatchObject({ status: 422, body: { error: { fieldErrors: { report: [expect.stringMatching(/DOCTYPE/)] } } } });
    expect((await post(requestId, { ...json({ tests: 1, failures: 0 }), query: { revision: 'latest' } })).status).toBe(422);

    expect(await count()).toEqual(before);
    expect(storedFiles(requestId)).toEqual([]);
    expect(storedFiles(noRevision)).toEqual([]);
  });
});

describe('GET /api/v1/runs/:id', () => {
  it("shows the run's phase and log, with the target's address hidden from those who do not manage targets", async () => {
    const requestId = await requestWithRevisions(0);
    const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId }, include: { target: true } });
    await getDb().targetDatabase.update({ where: { id: request.targetId }, data: { host: 'db.internal.example', port: 6543 } });
    const run = await getDb().run.create({
      data: {
        kind: 'rehearsal', status: 'failed', targetId: request.targetId, requestId, requestedById: admin.id, phase: 'up', progress: 40,
        error: 'could not reach db.internal.example:6543', result: { ok: false, log: ['restoring the copy', 'connecting to db.internal.example:6543'] },
      },
    });
    const asToken = await callRoute(runsRoute.GET, 'GET', `/api/v1/runs/${run.id}`, { id: run.id }, { token: automator.secret });
    expect(asToken.status).toBe(200);
    expect(asToken.body.data).toMatchObject({ id: run.id, kind: 'rehearsal', status: 'failed', phase: 'up', progress: 40, requestId });
    expect(asToken.body.data.log).toHaveLength(2);
    expect(JSON.stringify(asToken.body.data)).not.toContain('db.internal.example');
    const asAdmin = await callRoute(runsRoute.GET, 'GET', `/api/v1/runs/${run.id}`, { id: run.id }, { sessionUserId: admin.id });
    expect(asAdmin.body.data.log[1]).toBe('connecting to db.internal.example:6543');
    const missing = await callRoute(runsRoute.GET, 'GET', '/api/v1/runs/00000000-0000-4000-8000-000000000000', { id: '00000000-0000-4000-8000-000000000000' }, { token: automator.secret });
    expect(missing.status).toBe(404);
  });
});
