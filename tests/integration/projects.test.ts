import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import type { SchemaShapeEvidence } from '@/lib/domain/step-evidence';
import { takeSnapshot } from '@/lib/engine';
import { stopBoss } from '@/lib/jobs/queue';
import { createAgent } from '@/lib/services/agent-accounts';
import { compareAppSchema, intendDifferences } from '@/lib/services/app-schema';
import { latestEvidence, recordEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { getGateState } from '@/lib/services/gate';
import { saveMigrationRevision } from '@/lib/services/migration-revisions';
import {
  addEnvironment, createProject, deleteProject, environmentsOf, moveEnvironment, productionEnvironment, removeEnvironment,
  setRequestProject, updateEnvironment, updateProject,
} from '@/lib/services/projects';
import { getStepEvidence } from '@/lib/services/step-evidence';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { AddEnvironmentSchema, ProjectSchema, SetRequestProjectSchema } from '@/lib/validation/project';
import { FileRequestSchema } from '@/lib/validation/request';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { SHOP_PRISMA_SCHEMA, SHOP_SQL } from '../support/app-schema-fixture';
import { createAppRepository } from '../support/git-repo';
import { createScratchDatabase, withClient } from '../support/scratch-db';

/** The migration under review: the shop gets a tracking code on its orders. */
const ADD_TRACKING_SQL = 'ALTER TABLE "orders" ADD COLUMN "tracking_code" TEXT;';
const TRACKING_FIELD = '  notes      String[]\n  trackingCode String? @map("tracking_code")\n';
const SCHEMA_WITH_TRACKING = SHOP_PRISMA_SCHEMA.replace('  notes      String[]\n', TRACKING_FIELD);

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let engineer: Awaited<ReturnType<typeof makeUser>>;
let specialist: Awaited<ReturnType<typeof makeUser>>;
let bystander: Awaited<ReturnType<typeof makeUser>>;
let dataDir: string;
let afterUpShape: SchemaShapeEvidence;
const savedDataDir = process.env.CUTOVER_DATA_DIR;

beforeAll(async () => {
  store = await openTestAppStore();
  dataDir = mkdtempSync(path.join(tmpdir(), 'cutover-projects-data-'));
  process.env.CUTOVER_DATA_DIR = dataDir;
  admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
  engineer = await makeUser({ roles: ['engineer'], name: 'Eli Engineer' });
  specialist = await makeUser({ roles: ['engineer'], agentRoles: ['language-specialist'], name: 'Lina Specialist' });
  bystander = await makeUser({ roles: ['engineer'], name: 'Bo Bystander' });
  // The schema a rehearsal of the migration would leave behind, from a real database.
  const db = await createScratchDatabase('cutover_projects_shape');
  try {
    afterUpShape = await withClient(db.url, async (c) => {
      await c.query(SHOP_SQL);
      await c.query(ADD_TRACKING_SQL);
      // The engine's SchemaShape, as the rehearsal stores it in its evidence.
      return (await takeSnapshot(c)).shape as unknown as SchemaShapeEvidence;
    });
  } finally {
    await db.drop();
  }
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  if (savedDataDir === undefined) delete process.env.CUTOVER_DATA_DIR;
  else process.env.CUTOVER_DATA_DIR = savedDataDir;
  rmSync(dataDir, { recursive: true, force: true });
});

let seq = 0;
const newProject = (extra: Record<string, unknown> = {}) => {
  seq += 1;
  return createProject(admin.id, ProjectSchema.parse({ name: `Shop ${seq} ${randomBytes(2).toString('hex')}`, repositoryUrl: '/srv/git/shop.git', ...extra }));
};

describe('projects and their environments', () => {
  it('admins register a project; its credential is stored encrypted and never audited', async () => {
    const secret = `ghp_${randomBytes(10).toString('hex')}`;
    const { id } = await newProject({ repositoryUsername: 'ci', repositoryCredential: secret, deployBranch: 'master', minGateReviewers: '3' });
    const row = await getDb().project.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ deployBranch: 'master', minGateReviewers: 3, schemaPath: 'prisma/schema.prisma', repositoryUsername: 'ci' });
    expect(row.repositoryCredentialEncrypted).toBeTruthy();
    expect(row.repositoryCredentialEncrypted).not.toContain(secret);

    // Empty keeps the stored credential; the clear box forgets it.
    await updateProject(admin.id, { ...ProjectSchema.parse({ name: row.name, repositoryUrl: row.repositoryUrl }), id });
    expect((await getDb().project.findUniqueOrThrow({ where: { id } })).repositoryCredentialEncrypted).toBe(row.repositoryCredentialEncrypted);
    await updateProject(admin.id, { ...ProjectSchema.parse({ name: row.name, repositoryUrl: row.repositoryUrl, clearRepositoryCredential: 'on' }), id });
    expect((await getDb().project.findUniqueOrThrow({ where: { id } })).repositoryCredentialEncrypted).toBeNull();

    const audit = await getDb().auditLog.findMany({ where: { entityId: id } });
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['project.created', 'project.updated']));
    expect(JSON.stringify(audit)).not.toContain(secret);
    expect(audit.find((a) => a.action === 'project.created')?.after).toMatchObject({ hasCredential: true });
  });

  it('refuses non-admins, duplicate names and repository URLs with a password or a strange transport', async () => {
    await expect(createProject(engineer.id, ProjectSchema.parse({ name: 'Nope', repositoryUrl: '/srv/x.git' }))).rejects.toMatchObject({ code: 'forbidden' });
    const { id } = await newProject();
    const name = (await getDb().project.findUniqueOrThrow({ where: { id } })).name;
    await expect(createProject(admin.id, ProjectSchema.parse({ name, repositoryUrl: '/srv/y.git' }))).rejects.toMatchObject({ code: 'invalid', field: 'name' });
    const bad = (repositoryUrl: string) => ProjectSchema.safeParse({ name: 'X', repositoryUrl }).error?.issues[0]?.message;
    expect(bad('https://me:hunter2@git.example.com/app.git')).toMatch(/password in the URL/);
    expect(bad('ext::sh -c whoami')).toBeTruthy();
    expect(bad('--upload-pack=evil')).toBeTruthy();
    expect(ProjectSchema.safeParse({ name: 'X', repositoryUrl: '/a', deployBranch: 'develop' }).success).toBe(false);
  });

  it('never keeps a credential for a plain http:// or git:// repository, new or kept on edit', async () => {
    const input = (repositoryUrl: string, extra: Record<string, unknown> = {}) => ProjectSchema.parse({ name: `Plain ${randomBytes(3).toString('hex')}`, repositoryUrl, ...extra });
    await expect(createProject(admin.id, input('http://git.example.com/app.git', { repositoryCredential: 'tok' }))).rejects.toMatchObject({ code: 'invalid', field: 'repositoryUrl', message: expect.stringMatching(/never sent over http:\/\//) });
    await expect(createProject(admin.id, input('git://git.example.com/app.git', { repositoryCredential: 'tok' }))).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/never sent over git:\/\//) });
    // Without a credential plain http is fine (a public mirror).
    await createProject(admin.id, input('http://git.example.com/public.git'));
    // An edit that keeps the stored credential (empty box) but moves to http:// is refused, and nothing changes.
    const { id } = await createProject(admin.id, input('https://git.example.com/app.git', { repositoryCredential: 'tok' }));
    const row = await getDb().project.findUniqueOrThrow({ where: { id } });
    await expect(updateProject(admin.id, { ...ProjectSchema.parse({ name: row.name, repositoryUrl: 'http://git.example.com/app.git' }), id })).rejects.toMatchObject({ code: 'invalid', field: 'repositoryUrl' });
    expect((await getDb().project.findUniqueOrThrow({ where: { id } })).repositoryUrl).toBe('https://git.example.com/app.git');
    // Clearing the credential in the same edit is allowed.
    await updateProject(admin.id, { ...ProjectSchema.parse({ name: row.name, repositoryUrl: 'http://git.example.com/app.git', clearRepositoryCredential: 'on' }), id });
  });

  it('keeps environments in promotion order: add after the last, move, remove; production is the last', async () => {
    const { id: projectId } = await newProject();
    const [staging, qa, prod] = [await makeTarget(), await makeTarget(), await makeTarget()];
    const add = (name: string, targetId: string, extra: Record<string, unknown> = {}) =>
      addEnvironment(admin.id, AddEnvironmentSchema.parse({ projectId, name, targetId, ...extra }));
    await add('staging', staging.id, { healthCheckUrl: 'http://127.0.0.1:9/health' });
    const production = await add('production', prod.id, { requiresApproval: 'on' });
    const qaEnv = await add('qa', qa.id);
    expect((await environmentsOf(getDb(), projectId)).map((e) => `${e.position}:${e.name}`)).toEqual(['1:staging', '2:production', '3:qa']);

    await moveEnvironment(admin.id, { id: qaEnv.id, direction: 'up' });
    const ordered = await environmentsOf(getDb(), projectId);
    expect(ordered.map((e) => `${e.position}:${e.name}`)).toEqual(['1:staging', '2:qa', '3:production']);
    expect(ordered[0].target.id).toBe(staging.id);
    expect(productionEnvironment({ environments: ordered })).toMatchObject({ id: production.id, requiresApproval: true });
    expect(productionEnvironment({ environments: [] })).toBeNull();
    await expect(moveEnvironment(admin.id, { id: production.id, direction: 'down' })).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/already the last/) });

    // One database per environment.
    await expect(add('again', staging.id)).rejects.toMatchObject({ code: 'invalid', field: 'targetId', message: expect.stringMatching(/already the database of environment staging/) });
    await expect(updateEnvironment(admin.id, { id: qaEnv.id, name: 'qa', targetId: prod.id, requiresApproval: false })).rejects.toMatchObject({ field: 'targetId' });
    await expect(addEnvironment(engineer.id, { projectId, name: 'x', targetId: qa.id, requiresApproval: false })).rejects.toMatchObject({ code: 'forbidden' });

    await removeEnvironment(admin.id, qaEnv.id);
    expect((await environmentsOf(getDb(), projectId)).map((e) => `${e.position}:${e.name}`)).toEqual(['1:staging', '2:production']);
    const actions = (await getDb().auditLog.findMany({ where: { OR: [{ entityId: projectId }, { entityType: 'ProjectEnvironment', entityId: { in: [qaEnv.id, production.id] } }] } })).map((a) => a.action);
    expect(actions).toEqual(expect.arrayContaining(['project.environment_added', 'project.environments_reordered', 'project.environment_removed']));
    expect(AddEnvironmentSchema.safeParse({ projectId, name: 'x', targetId: qa.id, healthCheckUrl: 'file:///etc/passwd' }).success).toBe(false);
  });

  it('refuses health-check URLs and credentialed repositories on loopback, link-local or the metadata address, unless CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1', async () => {
    const { id: projectId } = await newProject();
    const target = await makeTarget();
    const allowed = process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
    delete process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
    try {
      for (const healthCheckUrl of ['http://127.0.0.1:9/health', 'http://localhost/health', 'http://169.254.169.254/latest/meta-data/', 'http://[fe80::1]/health', 'http://[::ffff:127.0.0.1]/']) {
        await expect(addEnvironment(admin.id, AddEnvironmentSchema.parse({ projectId, name: 'staging', targetId: target.id, healthCheckUrl }))).rejects.toMatchObject({
          code: 'invalid', field: 'healthCheckUrl', message: expect.stringMatching(/health-check URL points at .*(loopback|link-local|metadata).*CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1/),
        });
      }
      const env = await addEnvironment(admin.id, AddEnvironmentSchema.parse({ projectId, name: 'staging', targetId: target.id, healthCheckUrl: 'https://203.0.113.10/health' }));
      await expect(updateEnvironment(admin.id, { id: env.id, name: 'staging', targetId: target.id, healthCheckUrl: 'http://127.1.2.3/', requiresApproval: false })).rejects.toMatchObject({ field: 'healthCheckUrl' });
      expect((await getDb().projectEnvironment.findUniqueOrThrow({ where: { id: env.id } })).healthCheckUrl).toBe('https://203.0.113.10/health');
      // A credential is never sent to this machine either (http to loopback was the one plain-text exception).
      const input = (repositoryUrl: string) => ProjectSchema.parse({ name: `Loop ${randomBytes(3).toString('hex')}`, repositoryUrl, repositoryCredential: 'tok' });
      for (const url of ['http://127.0.0.1:8080/app.git', 'https://localhost/app.git', 'https://169.254.169.254/app.git']) {
        await expect(createProject(admin.id, input(url))).rejects.toMatchObject({ code: 'invalid', field: 'repositoryUrl', message: expect.stringMatching(/carries a credential, points at/) });
      }
    } finally {
      if (allowed !== undefined) process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS = allowed;
    }
    // With the switch on (a single-machine install, the tests), loopback is accepted.
    expect(process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS).toBe('1');
    await createProject(admin.id, ProjectSchema.parse({ name: `Loop ok ${randomBytes(3).toString('hex')}`, repositoryUrl: 'http://127.0.0.1:8080/app.git', repositoryCredential: 'tok' }));
  });

  it('a project named by a request stays', async () => {
    const { id: projectId } = await newProject();
    const target = await makeTarget();
    await fileRequest(admin.id, FileRequestSchema.parse({ title: 'Keeps project', kind: 'schema_change', targetId: target.id, description: 'Names the project.', projectId }));
    await expect(deleteProject(admin.id, projectId)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/named by 1 request/) });
    const { id: unused } = await newProject();
    await deleteProject(admin.id, unused);
    expect(await getDb().project.findUnique({ where: { id: unused } })).toBeNull();
  });
});

describe("a request's project and app branch", () => {
  it('is chosen when filing and changed later by the author or a holder of Update app code, audited', async () => {
    const { id: projectId } = await newProject();
    const target = await makeTarget();
    const parsed = FileRequestSchema.parse({ title: 'Tracking codes', kind: 'schema_change', targetId: target.id, description: 'Orders get a tracking code.', projectId, appBranch: 'feature/tracking' });
    const { id: requestId } = await fileRequest(engineer.id, parsed);
    expect(await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } })).toMatchObject({ projectId, appBranch: 'feature/tracking' });
    expect(FileRequestSchema.safeParse({ ...parsed, projectId: '', appBranch: 'feature/x' }).error?.issues[0]?.path).toEqual(['appBranch']);
    expect(FileRequestSchema.safeParse({ ...parsed, appBranch: '../../etc' }).success).toBe(false);

    const set = (actorId: string, input: Record<string, unknown>) => setRequestProject(actorId, SetRequestProjectSchema.parse({ requestId, projectId, ...input }));
    await expect(set(bystander.id, { appBranch: 'other' })).rejects.toMatchObject({ code: 'forbidden' });
    expect(await set(specialist.id, { appBranch: 'feature/tracking-v2' })).toEqual({ changed: true });
    expect(await set(engineer.id, { appBranch: 'feature/tracking-v2' })).toEqual({ changed: false });
    const audit = await getDb().auditLog.findFirstOrThrow({ where: { requestId, action: 'request.project_set' } });
    expect(audit.before).toMatchObject({ appBranch: 'feature/tracking' });
    expect(audit.after).toMatchObject({ appBranch: 'feature/tracking-v2' });
    await expect(set(engineer.id, { projectId: '00000000-0000-4000-8000-000000000000' })).rejects.toMatchObject({ code: 'invalid', field: 'projectId' });
  });

  it('refuses HEAD as an app branch: git names the checked-out commit so, not a branch', async () => {
    const { id: projectId } = await newProject();
    const parsed = SetRequestProjectSchema.safeParse({ requestId: '00000000-0000-4000-8000-000000000000', projectId, appBranch: 'HEAD' });
    expect(parsed.error?.issues[0]).toMatchObject({ path: ['appBranch'], message: '"HEAD" is not a branch name: name the branch itself, like main.' });
    expect(SetRequestProjectSchema.safeParse({ requestId: '00000000-0000-4000-8000-000000000000', projectId, appBranch: 'feature/HEAD' }).success).toBe(true);
  });

  it("while an agent holds Update app code, only it, its owner and admins change the project and branch", async () => {
    const { id: projectId } = await newProject();
    const target = await makeTarget();
    const { id: requestId } = await fileRequest(engineer.id, FileRequestSchema.parse({ title: 'Held branch', kind: 'schema_change', targetId: target.id, description: 'An agent holds the code step.', projectId, appBranch: 'feature/a' }));
    const holder = await createAgent(admin.id, { name: 'branch-holder', agentRoles: ['language-specialist'], ownerId: specialist.id });
    const intruder = await createAgent(admin.id, { name: 'branch-intruder', agentRoles: ['language-specialist'], ownerId: specialist.id });
    await getDb().task.updateMany({ where: { requestId, key: 'update-app-code' }, data: { assigneeId: holder.id, status: 'in_progress', startedAt: new Date() } });
    const set = (actorId: string, appBranch: string) => setRequestProject(actorId, SetRequestProjectSchema.parse({ requestId, projectId, appBranch }));
    const branch = async () => (await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } })).appBranch;

    await expect(set(intruder.id, 'feature/b')).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/"Update app code" is held by branch-holder/) });
    // The author is neither the agent's owner nor an admin.
    await expect(set(engineer.id, 'feature/b')).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/only the agent's owner or an admin/) });
    expect(await branch()).toBe('feature/a');
    expect(await getDb().auditLog.count({ where: { requestId, action: 'request.project_set' } })).toBe(0);
    expect(await set(holder.id, 'feature/by-holder')).toEqual({ changed: true });
    expect(await set(specialist.id, 'feature/by-owner')).toEqual({ changed: true });
    expect(await set(admin.id, 'feature/by-admin')).toEqual({ changed: true });
    expect(await branch()).toBe('feature/by-admin');
    // Once the step is done nobody holds it: the author changes the branch again.
    await getDb().task.updateMany({ where: { requestId, key: 'update-app-code' }, data: { status: 'completed', completedAt: new Date() } });
    expect(await set(engineer.id, 'feature/by-author')).toEqual({ changed: true });
  });
});

describe('Update app code: comparing the branch with the rehearsed schema', () => {
  /** A request of a project on a real local repository, with a saved revision and a passing rehearsal carrying afterUpShape. */
  async function requestOnRepository(branchSchema: string) {
    const repo = createAppRepository({ 'prisma/schema.prisma': SHOP_PRISMA_SCHEMA, 'package.json': '{"name":"shop","version":"1.4.2"}' });
    repo.commit('feature/tracking', { 'prisma/schema.prisma': branchSchema }, 'orders get a tracking code');
    const { id: projectId } = await newProject({ repositoryUrl: repo.origin });
    const target = await makeTarget();
    const { id: requestId } = await fileRequest(engineer.id, FileRequestSchema.parse({
      title: 'Tracking codes', kind: 'schema_change', targetId: target.id, description: 'Orders get a tracking code.', projectId, appBranch: 'feature/tracking',
    }));
    const revision = await saveRevision(requestId, ADD_TRACKING_SQL);
    await recordPassingRehearsal(requestId, target.id, revision);
    return { repo, requestId, targetId: target.id };
  }
  const saveRevision = (requestId: string, upSql: string) =>
    saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'add_tracking_code', upSql, downSql: 'ALTER TABLE "orders" DROP COLUMN "tracking_code";' }));
  // The rehearsal handler (area GATE) records this when a rehearsal passes; here it is a fixture.
  const recordPassingRehearsal = (requestId: string, targetId: string, revision: { id: string; revision: number; checksum: string }) =>
    getDb().$transaction((tx) => recordEvidence(tx, {
      kind: 'rehearsal', targetId, requestId, revision, passed: true, summary: 'rehearsal passed',
      detail: {
        revision: revision.revision, ok: true, phases: [{ phase: 'up', label: 'Up', status: 'ok', durationMs: 5 }], hashes: { afterUp: 'x' },
        sampleRows: 0, dataLoss: { passed: true, summary: 'no data lost' }, afterUpShape,
      },
    }));

  it('agrees when the branch declares what the migration built, and the step counts it', async () => {
    const { repo, requestId } = await requestOnRepository(SCHEMA_WITH_TRACKING);
    try {
      const result = await compareAppSchema(specialist.id, requestId);
      expect(result).toMatchObject({ passed: true, differences: 0 });
      const evidence = await latestEvidence(requestId, 'app_schema');
      expect(evidence).toMatchObject({ passed: true, staleBecause: null });
      expect(evidence?.detail).toMatchObject({ repository: repo.origin, branch: 'feature/tracking', commit: repo.head('feature/tracking'), schemaPath: 'prisma/schema.prisma', differences: [], intended: [] });
      const steps = await getStepEvidence(getDb(), requestId);
      expect(steps['update-app-code'].items.find((i) => i.coveredBy === 'app_schema')).toMatchObject({ satisfied: true, evidenceId: evidence!.id });
      expect(await getDb().auditLog.count({ where: { requestId, action: 'app_schema.compared' } })).toBe(1);
    } finally {
      repo.remove();
    }
  });

  it('lists what differs; a holder records why it is intended (a new evidence row), and the note carries over', async () => {
    // The branch forgot the @map: Prisma would look for a column "trackingCode".
    const { repo, requestId } = await requestOnRepository(SHOP_PRISMA_SCHEMA.replace('  notes      String[]\n', '  notes      String[]\n  trackingCode String?\n'));
    try {
      const first = await compareAppSchema(specialist.id, requestId);
      expect(first).toMatchObject({ passed: false, differences: 2, open: 2 });
      const evidence = await latestEvidence(requestId, 'app_schema');
      expect(evidence?.detail?.differences.map((d) => d.key)).toEqual(['column:public.orders.trackingCode', 'column:public.orders.tracking_code']);
      expect(evidence?.detail?.differences[0].description).toBe('Model Order (table public.orders), field trackingCode: the column does not exist in the database after the migration.');
      const steps = await getStepEvidence(getDb(), requestId);
      expect(steps['update-app-code'].items.find((i) => i.coveredBy === 'app_schema')?.satisfied).toBe(false);

      const intend = (actorId: string, keys: string[], evidenceId = evidence!.id) =>
        intendDifferences(actorId, { requestId, evidenceId, keys, note: 'The app reads tracking codes through a raw query for now.' });
      await expect(intend(bystander.id, ['column:public.orders.trackingCode'])).rejects.toMatchObject({ code: 'forbidden' });
      await expect(intend(specialist.id, ['column:public.orders.nope'])).rejects.toMatchObject({ code: 'invalid' });
      const partly = await intend(specialist.id, ['column:public.orders.trackingCode']);
      expect(partly.passed).toBe(false);
      // The older comparison cannot be explained any more: a newer row supersedes it.
      await expect(intend(specialist.id, ['column:public.orders.tracking_code'])).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/newer comparison/) });
      const all = await intend(specialist.id, ['column:public.orders.tracking_code'], partly.evidenceId);
      expect(all.passed).toBe(true);
      const latest = await latestEvidence(requestId, 'app_schema');
      expect(latest).toMatchObject({ id: all.evidenceId, passed: true });
      expect(latest?.detail?.intended).toEqual([
        expect.objectContaining({ key: 'column:public.orders.trackingCode', by: 'Lina Specialist', byId: specialist.id }),
        expect.objectContaining({ key: 'column:public.orders.tracking_code', note: 'The app reads tracking codes through a raw query for now.' }),
      ]);
      expect(await getDb().auditLog.count({ where: { requestId, action: 'app_schema.difference_intended' } })).toBe(2);

      // Comparing again finds the same differences: the notes still apply.
      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: true, differences: 2, open: 0 });
      // A fix on the branch makes the comparison agree outright.
      repo.commit('feature/tracking', { 'prisma/schema.prisma': SCHEMA_WITH_TRACKING }, 'map the column');
      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: true, differences: 0 });
    } finally {
      repo.remove();
    }
  });

  it('a new revision makes the comparison stale; it waits for a rehearsal of that revision', async () => {
    const { repo, requestId } = await requestOnRepository(SCHEMA_WITH_TRACKING);
    try {
      await compareAppSchema(specialist.id, requestId);
      await saveRevision(requestId, `${ADD_TRACKING_SQL}\n-- now with a comment`);
      expect((await latestEvidence(requestId, 'app_schema'))?.staleBecause).toMatch(/migration changed/);
      await expect(compareAppSchema(specialist.id, requestId)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/Revision 2 has no passing rehearsal yet/) });
    } finally {
      repo.remove();
    }
  });

  it('a branch or project change makes a passing comparison stale for the step and the gate until compared again', async () => {
    const { repo, requestId } = await requestOnRepository(SCHEMA_WITH_TRACKING);
    repo.commit('feature/tracking-v2', { 'prisma/schema.prisma': SCHEMA_WITH_TRACKING }, 'same schema, another branch');
    const appSchemaItem = async () => (await getStepEvidence(getDb(), requestId))['update-app-code'].items.find((i) => i.coveredBy === 'app_schema')!;
    const appWorks = async () => (await getGateState(getDb(), requestId)).items.find((i) => i.key === 'app-works')!;
    try {
      const { projectId } = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: true });
      expect(await appSchemaItem()).toMatchObject({ satisfied: true });
      expect(await appWorks()).toMatchObject({ satisfied: true });

      await setRequestProject(engineer.id, { requestId, projectId: projectId!, appBranch: 'feature/tracking-v2' });
      const branchMoved = 'The comparison was of branch feature/tracking; the request now names branch feature/tracking-v2: compare again.';
      expect(await latestEvidence(requestId, 'app_schema')).toMatchObject({ passed: true, staleBecause: branchMoved });
      expect(await appSchemaItem()).toMatchObject({ satisfied: false, reason: expect.stringContaining(branchMoved) });
      expect(await appWorks()).toMatchObject({ satisfied: false, reason: expect.stringContaining(branchMoved) });

      expect(await compareAppSchema(specialist.id, requestId)).toMatchObject({ passed: true });
      expect(await appSchemaItem()).toMatchObject({ satisfied: true });

      // Another project on the same repository and branch name: the comparison was not of its app.
      const { id: otherProject, name } = await newProject({ repositoryUrl: repo.origin }).then(async ({ id }) => getDb().project.findUniqueOrThrow({ where: { id } }));
      await setRequestProject(engineer.id, { requestId, projectId: otherProject, appBranch: 'feature/tracking-v2' });
      expect((await latestEvidence(requestId, 'app_schema'))?.staleBecause).toBe(`The comparison was of ${repo.origin}; the request now names project ${name}: compare again.`);
      expect(await appSchemaItem()).toMatchObject({ satisfied: false });
      expect(await appWorks()).toMatchObject({ satisfied: false });
      // Back to the project it was compared on: the comparison speaks for the request again.
      await setRequestProject(engineer.id, { requestId, projectId: projectId!, appBranch: 'feature/tracking-v2' });
      expect(await appSchemaItem()).toMatchObject({ satisfied: true });
    } finally {
      repo.remove();
    }
  });

  it('says what is missing: the project, the branch, the branch in the repository, a schema that parses', async () => {
    const target = await makeTarget();
    const { id: bare } = await fileRequest(engineer.id, FileRequestSchema.parse({ title: 'No project', kind: 'schema_change', targetId: target.id, description: 'Filed without a project.' }));
    await expect(compareAppSchema(specialist.id, bare)).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/no project yet/) });
    await expect(compareAppSchema(bystander.id, bare)).rejects.toMatchObject({ code: 'forbidden' });

    const { repo, requestId } = await requestOnRepository(SCHEMA_WITH_TRACKING);
    try {
      const { projectId } = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId } });
      await setRequestProject(engineer.id, { requestId, projectId: projectId!, appBranch: 'feature/missing' });
      await expect(compareAppSchema(specialist.id, requestId)).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/Branch "feature\/missing" was not found/) });
      repo.commit('feature/broken', { 'prisma/schema.prisma': 'model Broken {{\n' }, 'oops');
      await setRequestProject(engineer.id, { requestId, projectId: projectId!, appBranch: 'feature/broken' });
      await expect(compareAppSchema(specialist.id, requestId)).rejects.toMatchObject({ code: 'invalid', message: expect.stringMatching(/prisma\/schema.prisma on branch "feature\/broken" .*does not parse at line 1/) });
      expect(await latestEvidence(requestId, 'app_schema')).toBeNull();
    } finally {
      repo.remove();
    }
  });
});
