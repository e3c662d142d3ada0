/**
 * A long-lived factory for the cross-cutting specs (authorization matrix, fuzzing, canary):
 * one tsx process that builds data through the real services, answering JSON lines on stdin
 * with JSON lines on stdout (`{id, result}` or `{id, error}`). One process per spec instead of
 * one per call (factory-cli.ts), because these specs build hundreds of records.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { defaultArtifactStore } from '../../lib/artifacts/store';
import { disconnectDb, getDb } from '../../lib/db/client';
import type { AgentRole, Role } from '../../lib/domain/roles';
import { recordEvidence } from '../../lib/services/evidence';
import { fileRequest } from '../../lib/services/file-request';
import { createTarget } from '../../lib/services/manage-targets';
import { createUser } from '../../lib/services/manage-users';
import { importMigrationFolder } from '../../lib/services/migration-status';
import { saveMigrationRevision } from '../../lib/services/migration-revisions';
import { issueApiToken } from '../../lib/services/api-tokens';
import { IssueApiTokenSchema } from '../../lib/validation/api-token';
import { transitionTask } from '../../lib/services/work-task';
import { TargetSchema } from '../../lib/validation/admin';
import { SaveRevisionSchema } from '../../lib/validation/migration';
import { ADMIN_EMAIL, USER_PASSWORD, serverEnv } from './env';

export type StoreOp =
  | { op: 'createUser'; name?: string; roles?: Role[]; agentRoles?: AgentRole[] }
  | { op: 'ensureTarget'; target: Record<string, unknown> }
  | { op: 'fileRequest'; authorId: string; targetId: string; through?: number; start?: number; title?: string }
  | { op: 'saveRevision'; requestId: string; name: string; upSql: string; downSql: string }
  | { op: 'importFolder'; fileName: string; base64: string }
  | { op: 'queuedRun'; requestId: string; requestedById: string; kind: 'rehearsal' | 'snapshot' | 'apply' }
  | { op: 'backupArtifact'; requestId: string; requestedById: string }
  | { op: 'analysedRevision'; requestId: string; requestedById: string }
  | { op: 'waitIdle'; timeoutMs?: number }
  | { op: 'passingRehearsal'; requestId: string }
  // ---- issue 8, gate: op types go above this line
  | { op: 'issueApiToken'; name?: string; role?: string; expiresInDays?: number }
  // ---- issue 8, api-tokens: op types go above this line
  /** A project named "Proof project ..." (the spec's close removes those) with one environment per target, in order. */
  | { op: 'proofProject'; environmentTargetIds?: string[] }
  /** A request credited to `authorId` whose project's repository (a local git repository) has `feature/proof` with a schema.prisma, a revision and a passing rehearsal; `compare`: the branch compared once (it differs). */
  | { op: 'appCodeRequest'; authorId: string; targetId: string; compare?: boolean }
  // ---- issue 8, projects: op types go above this line
  /** A request with a project (one environment on `targetId`), a saved revision and a passing rehearsal: ready to deploy. `approval`: the environment requires approval and the gate is passed (steps 1-6 with evidence, two reviewers signed). */
  | { op: 'deployableRequest'; authorId: string; targetId: string; approval?: boolean; repositoryUrl?: string }
  /** A deployable request with a deploy to its environment that failed after applying (health): its down path and restore are offered. */
  | { op: 'failedDeployment'; authorId: string; targetId: string; requestedById: string }
  // ---- issue 8, deploy: op types go above this line
  | { op: 'verificationQuery'; requestId: string; createdById: string }
  | { op: 'succeededDeployment'; requestId: string }
  // ---- issue 8, post-deploy: op types go above this line
  // ---- issue 8, board: op types go above this line
  /** An agent account (owned by the admin) with one token. */
  | { op: 'agentAccount'; agentRoles?: AgentRole[] }
  /** The step's evidence recorded (its covered items hold) and its manual items ticked: it can be completed. */
  | { op: 'satisfyStep'; requestId: string; position: number }
  // ---- issue 9, agents: op types go above this line
  ;

let cachedAdmin: string | undefined;
async function adminId(): Promise<string> {
  cachedAdmin ??= (await getDb().user.findUniqueOrThrow({ where: { email: ADMIN_EMAIL }, select: { id: true } })).id;
  return cachedAdmin;
}

async function run(cmd: StoreOp): Promise<unknown> {
  const db = getDb();
  switch (cmd.op) {
    case 'createUser': {
      const tag = randomBytes(4).toString('hex');
      const name = `${cmd.name ?? 'Proof person'} ${tag}`;
      const email = `proof-${tag}@e2e.test`;
      const { id } = await createUser(await adminId(), {
        email, name, password: USER_PASSWORD, roles: cmd.roles ?? [], agentRoles: cmd.agentRoles ?? [],
      });
      return { id, email, name, password: USER_PASSWORD };
    }
    case 'ensureTarget': {
      const input = TargetSchema.parse(cmd.target);
      const existing = await db.targetDatabase.findUnique({ where: { name: input.name }, select: { id: true } });
      if (existing) return { id: existing.id, name: input.name };
      const { id } = await createTarget(await adminId(), input);
      return { id, name: input.name };
    }
    case 'fileRequest': {
      // Filed by the admin, then credited to the author: "own" records for people who may not file.
      const { id } = await fileRequest(await adminId(), {
        title: cmd.title ?? `Proof request ${randomBytes(3).toString('hex')}`,
        kind: 'table_column_change',
        priority: 'HIGH',
        description: 'A request built by the authorization matrix.',
        targetId: cmd.targetId,
      });
      await db.migrationRequest.update({ where: { id }, data: { authorId: cmd.authorId } });
      const actor = await adminId();
      const tasks = await db.task.findMany({ where: { requestId: id }, orderBy: { position: 'asc' }, include: { checklist: true } });
      // Steps Cutover checks complete on their evidence, recorded directly (issue 8, gate): the matrix tests other things.
      const { completeStepWithEvidence } = await import('../../tests/support/step-evidence');
      for (const task of tasks.filter((t) => t.position <= (cmd.through ?? 0))) await completeStepWithEvidence(actor, id, task.position);
      const toStart = tasks.find((t) => t.position === cmd.start);
      if (toStart) await transitionTask(actor, { taskId: toStart.id, transition: 'start' });
      const r = await db.migrationRequest.findUniqueOrThrow({
        where: { id },
        include: {
          tasks: { orderBy: { position: 'asc' }, include: { checklist: { orderBy: { position: 'asc' } } } },
          gateItems: { orderBy: { position: 'asc' } },
        },
      });
      return {
        id: r.id,
        number: r.number,
        tasks: r.tasks.map((t) => ({ id: t.id, position: t.position, status: t.status, checklist: t.checklist.map((c) => c.id) })),
        gateItems: r.gateItems.map((g) => g.id),
      };
    }
    case 'saveRevision': {
      const input = SaveRevisionSchema.parse({ requestId: cmd.requestId, name: cmd.name, upSql: cmd.upSql, downSql: cmd.downSql });
      return saveMigrationRevision(await adminId(), input);
    }
    case 'importFolder':
      return importMigrationFolder(await adminId(), { fileName: cmd.fileName, bytes: Buffer.from(cmd.base64, 'base64') });
    case 'queuedRun': {
      // A queued run with no job and no deadline: no worker takes it and no sweep ends it, so it
      // waits, unchanged, for someone to cancel it.
      const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: cmd.requestId }, select: { targetId: true } });
      const run = await db.run.create({
        data: { kind: cmd.kind, targetId: request.targetId, requestId: cmd.requestId, requestedById: cmd.requestedById, phase: 'queued' },
      });
      return { id: run.id };
    }
    case 'backupArtifact': {
      // A finished backup run, its file in the artifact store (bytes that are no real dump: a drill of
      // it fails at pg_restore) and its Artifact row with that file's sha256 and size.
      const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: cmd.requestId }, select: { targetId: true } });
      const run = await db.run.create({
        data: { kind: 'backup', status: 'succeeded', targetId: request.targetId, requestId: cmd.requestId, requestedById: cmd.requestedById, phase: 'done', progress: 100, finishedAt: new Date() },
      });
      const storeKey = `backups/${request.targetId}/${run.id}.dump`;
      const stored = await defaultArtifactStore().put(storeKey, Readable.from([randomBytes(1024)]));
      const artifact = await db.artifact.create({
        data: {
          kind: 'backup', storeKey, sha256: stored.sha256, sizeBytes: BigInt(stored.sizeBytes), mediaType: 'application/octet-stream',
          targetId: request.targetId, runId: run.id,
          metadata: {
            format: 'pg_dump custom', database: 'proof', serverVersion: '15.0', pgDumpVersion: '15.0', startedAt: new Date().toISOString(),
            durationMs: 1, dumpMs: 1, checksumMs: 1, checksums: [{ table: 'public.proof', rows: 1, checksum: '0000000000000001' }],
            layouts: [{ table: 'public.proof', sqlName: '"public"."proof"', columns: [{ name: 'id', baseTypeOid: 23 }] }],
          },
        },
      });
      return { artifactId: artifact.id };
    }
    case 'analysedRevision': {
      // A finished analysis of the latest revision that found one destructive operation (to acknowledge).
      const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: cmd.requestId }, select: { targetId: true } });
      const revision = await db.migrationRevision.findFirstOrThrow({ where: { requestId: cmd.requestId }, orderBy: { revision: 'desc' } });
      const run = await db.run.create({
        data: { kind: 'analysis', status: 'succeeded', targetId: request.targetId, requestId: cmd.requestId, revisionId: revision.id, requestedById: cmd.requestedById, phase: 'done', progress: 100, finishedAt: new Date() },
      });
      const operationKey = `drop_table:public.${revision.name}`;
      await db.$transaction((tx) => recordEvidence(tx, {
        kind: 'analysis', targetId: request.targetId, requestId: cmd.requestId, runId: run.id, revision: { id: revision.id, checksum: revision.checksum }, passed: false, summary: 'risk high',
        detail: {
          revision: revision.revision, risk: { level: 'high', reasons: ['drops a table'] }, tables: [], statements: 1, unknownStatements: 0, strategies: 0,
          destructive: [{ operationKey, kind: 'drop_table', object: `public.${revision.name}`, statementIndex: 0, line: 1, description: `drops table public.${revision.name} and its data` }],
          strongestLock: 'ACCESS EXCLUSIVE', rewrites: 0, scans: 0, catalogRead: true, serverVersion: '15.0', squawk: { version: '2.66.0', error: null, findings: 0, rules: {} },
        },
      }));
      return { operationKey };
    }
    case 'passingRehearsal': {
      const { recordPassingRehearsal } = await import('../../tests/support/step-evidence');
      return recordPassingRehearsal(cmd.requestId);
    }
    // ---- issue 8, gate: op cases go above this line
    case 'issueApiToken': {
      const input = IssueApiTokenSchema.parse({ name: cmd.name ?? `Proof token ${randomBytes(3).toString('hex')}`, role: cmd.role ?? 'test-automator', expiresInDays: cmd.expiresInDays });
      const token = await issueApiToken(await adminId(), input);
      return { id: token.id, secret: token.secret };
    }
    // ---- issue 8, api-tokens: op cases go above this line
    case 'proofProject': {
      const project = await db.project.create({
        data: {
          name: `Proof project ${randomBytes(4).toString('hex')}`, repositoryUrl: '/nonexistent/proof-app.git',
          environments: { create: (cmd.environmentTargetIds ?? []).map((targetId, i) => ({ position: i + 1, name: `env-${i + 1}`, targetId })) },
        },
        include: { environments: { orderBy: { position: 'asc' } } },
      });
      return { id: project.id, environmentIds: project.environments.map((e) => e.id) };
    }
    case 'appCodeRequest':
      return appCodeRequest(cmd);
    // ---- issue 8, projects: op cases go above this line
    case 'deployableRequest':
      return deployableRequest(cmd);
    case 'failedDeployment': {
      const { requestId, environmentId } = await deployableRequest(cmd);
      const revision = await db.migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
      const at = new Date().toISOString();
      const deployment = await db.deployment.create({
        data: {
          requestId, environmentId, targetId: cmd.targetId, revisionId: revision.id, revisionSha256: revision.checksum, status: 'failed', phase: 'health',
          phases: [{ phase: 'apply', status: 'ok', startedAt: at, finishedAt: at }, { phase: 'verify', status: 'ok', startedAt: at, finishedAt: at }, { phase: 'health', status: 'failed', startedAt: at, finishedAt: at, detail: 'HTTP 503' }],
          error: 'The health check failed after 5 attempt(s): HTTP 503', requestedById: cmd.requestedById, finishedAt: new Date(),
        },
      });
      return { requestId, deploymentId: deployment.id };
    }
    // ---- issue 8, deploy: op cases go above this line
    case 'verificationQuery': {
      const q = await db.verificationQuery.create({
        data: { requestId: cmd.requestId, position: 1, name: `Proof check ${randomBytes(3).toString('hex')}`, sql: 'SELECT 1 WHERE false', expectation: { kind: 'no_rows' }, createdById: cmd.createdById },
      });
      return { id: q.id };
    }
    case 'succeededDeployment': {
      // A one-environment proof project on the request's target, and a succeeded deploy of its latest
      // revision there, written straight into the store (what Post-deployment checks run against).
      const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: cmd.requestId }, select: { targetId: true } });
      const revision = await db.migrationRevision.findFirstOrThrow({ where: { requestId: cmd.requestId }, orderBy: { revision: 'desc' } });
      const project = await db.project.create({
        data: {
          name: `Proof project ${randomBytes(4).toString('hex')}`, repositoryUrl: '/nonexistent/proof-app',
          environments: { create: { position: 1, name: 'production', targetId: request.targetId, requiresApproval: true } },
        },
        include: { environments: true },
      });
      await db.migrationRequest.update({ where: { id: cmd.requestId }, data: { projectId: project.id } });
      const deployment = await db.deployment.create({
        data: {
          requestId: cmd.requestId, environmentId: project.environments[0].id, targetId: request.targetId, revisionId: revision.id, revisionSha256: revision.checksum,
          status: 'succeeded', requestedById: await adminId(), finishedAt: new Date(),
        },
      });
      return { id: cmd.requestId, deploymentId: deployment.id };
    }
    // ---- issue 8, post-deploy: op cases go above this line
    // ---- issue 8, board: op cases go above this line
    case 'agentAccount': {
      const { createAgent, issueAgentToken } = await import('../../lib/services/agent-accounts');
      const admin = await adminId();
      const { id } = await createAgent(admin, { name: `proof-agent-${randomBytes(3).toString('hex')}`, agentRoles: cmd.agentRoles ?? ['database-optimizer'], ownerId: admin });
      const token = await issueAgentToken(admin, { agentId: id, name: 'proof' });
      return { id, tokenId: token.id };
    }
    case 'satisfyStep': {
      const { satisfyStepEvidence } = await import('../../tests/support/step-evidence');
      const { getStepEvidence } = await import('../../lib/services/step-evidence');
      const { toggleChecklistItem } = await import('../../lib/services/work-task');
      const admin = await adminId();
      const task = await db.task.findFirstOrThrow({ where: { requestId: cmd.requestId, position: cmd.position }, include: { checklist: true } });
      await satisfyStepEvidence(cmd.requestId, task.key, admin);
      const byHand = new Set((await getStepEvidence(db, cmd.requestId))[task.key]?.items.filter((i) => !i.coveredBy).map((i) => i.label) ?? []);
      for (const item of task.checklist) if (byHand.has(item.label) && !item.done) await toggleChecklistItem(admin, { itemId: item.id, done: true });
      return { taskId: task.id };
    }
    // ---- issue 9, agents: op cases go above this line
    case 'waitIdle': {
      const until = Date.now() + (cmd.timeoutMs ?? 60_000);
      for (;;) {
        // Runs without a job are parked fixtures (queuedRun), and queued runs due later are scheduled
        // post-deployment checks (queuedAt = when they start): neither is work in progress.
        const busy = await db.run.count({
          where: { status: { in: ['queued', 'running'] }, NOT: [{ status: 'queued', jobId: null }, { status: 'queued', queuedAt: { gt: new Date() } }] },
        });
        if (busy === 0) return { idle: true };
        if (Date.now() > until) return { idle: false, busy };
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

/** issue 8, projects: an application repository for the matrix, made once per store agent (a bare origin with feature/proof). */
let proofRepository: string | undefined;
function proofAppRepository(): string {
  if (proofRepository) return proofRepository;
  // Outside the checkout (an absolute temporary folder), so that no git command can reach the project's own repository.
  const root = mkdtempSync(path.join(tmpdir(), 'cutover-proof-app-'));
  const work = path.join(root, 'work');
  const origin = path.join(root, 'origin.git');
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, {
    cwd, stdio: 'pipe', env: { ...process.env, GIT_AUTHOR_NAME: 'Proof', GIT_AUTHOR_EMAIL: 'proof@e2e.test', GIT_COMMITTER_NAME: 'Proof', GIT_COMMITTER_EMAIL: 'proof@e2e.test' },
  });
  mkdirSync(path.join(work, 'prisma'), { recursive: true });
  git(root, 'init', '-q', '--bare', '--initial-branch', 'main', origin);
  git(work, 'init', '-q', '--initial-branch', 'main', '.');
  // What the fixture rehearsal's afterUpShape has (public.orders: id, note), without the primary key it lacks: one difference.
  writeFileSync(path.join(work, 'prisma/schema.prisma'), 'datasource db {\n  provider = "postgresql"\n}\n\nmodel Order {\n  id   Int     @id\n  note String?\n\n  @@map("orders")\n}\n');
  git(work, 'add', '.');
  git(work, 'commit', '-q', '-m', 'schema');
  git(work, 'push', '-q', origin, 'main:refs/heads/main', 'main:refs/heads/feature/proof');
  proofRepository = origin;
  return origin;
}

/** issue 8, projects: see the appCodeRequest op. */
async function appCodeRequest(cmd: { authorId: string; targetId: string; compare?: boolean }) {
  const db = getDb();
  const { recordPassingRehearsal } = await import('../../tests/support/step-evidence');
  const { compareAppSchema } = await import('../../lib/services/app-schema');
  const tag = randomBytes(4).toString('hex');
  const admin = await adminId();
  const project = await db.project.create({ data: { name: `Proof project ${tag}`, repositoryUrl: proofAppRepository() } });
  const { id: requestId } = await fileRequest(admin, {
    title: `Proof app code ${tag}`, kind: 'table_column_change', priority: 'HIGH', description: 'A request whose app schema the matrix compares.', targetId: cmd.targetId,
    projectId: project.id, appBranch: 'feature/proof',
  });
  await saveMigrationRevision(admin, SaveRevisionSchema.parse({ requestId, name: `proof_app_${tag}`, upSql: `CREATE TABLE proof_app_${tag} (id integer);\n`, downSql: `DROP TABLE proof_app_${tag};\n` }));
  await recordPassingRehearsal(requestId);
  let compared: { evidenceId: string; key: string } | null = null;
  if (cmd.compare) {
    const { evidenceId } = await compareAppSchema(admin, requestId);
    const evidence = await db.evidence.findUniqueOrThrow({ where: { id: evidenceId } });
    compared = { evidenceId, key: (evidence.detail as { differences: { key: string }[] }).differences[0].key };
  }
  await db.migrationRequest.update({ where: { id: requestId }, data: { authorId: cmd.authorId } });
  return { requestId, ...compared };
}

/** issue 8, deploy: see the deployableRequest op. */
async function deployableRequest(cmd: { authorId: string; targetId: string; approval?: boolean; repositoryUrl?: string }): Promise<{ requestId: string; environmentId: string }> {
  const db = getDb();
  const { completeStepWithEvidence, passGate, recordPassingRehearsal } = await import('../../tests/support/step-evidence');
  const tag = randomBytes(4).toString('hex');
  const admin = await adminId();
  const { id: requestId } = await fileRequest(admin, {
    title: `Proof deploy ${tag}`, kind: 'table_column_change', priority: 'HIGH', description: 'A request the matrix deploys.', targetId: cmd.targetId,
  });
  const project = await db.project.create({
    data: {
      name: `Proof project deploy ${tag}`, repositoryUrl: cmd.repositoryUrl ?? '/nonexistent/proof-app.git',
      // Named "Proof project ..." so the proof world's clean-up removes it. One post-deployment check right
      // after a deploy, none scheduled later: the store goes idle for the next spec.
      verificationWindowMinutes: 0,
      environments: { create: [{ position: 1, name: cmd.approval ? 'production' : 'staging', targetId: cmd.targetId, requiresApproval: !!cmd.approval }] },
    },
    include: { environments: true },
  });
  await db.migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id } });
  await saveMigrationRevision(admin, SaveRevisionSchema.parse({ requestId, name: `proof_deploy_${tag}`, upSql: `CREATE TABLE proof_deploy_${tag} (id integer);\n`, downSql: `DROP TABLE proof_deploy_${tag};\n` }));
  if (cmd.approval) {
    for (let position = 1; position <= 6; position++) await completeStepWithEvidence(admin, requestId, position);
    const reviewers = await Promise.all([0, 1].map(async (n) => (await createUser(admin, {
      email: `proof-reviewer-${tag}-${n}@e2e.test`, name: `Proof reviewer ${tag} ${n}`, password: USER_PASSWORD, roles: ['reviewer'], agentRoles: [],
    })).id));
    await passGate(requestId, [reviewers[0], reviewers[1]]);
  } else {
    await recordPassingRehearsal(requestId);
  }
  await db.migrationRequest.update({ where: { id: requestId }, data: { authorId: cmd.authorId } });
  return { requestId, environmentId: project.environments[0].id };
}

async function main() {
  for (const [k, v] of Object.entries(serverEnv)) process.env[k] = v;
  const lines = createInterface({ input: process.stdin });
  process.stdout.write('STORE_AGENT_READY\n');
  for await (const line of lines) {
    if (!line.trim()) continue;
    const { id, cmd } = JSON.parse(line) as { id: number; cmd: StoreOp };
    try {
      process.stdout.write(`${JSON.stringify({ id, result: (await run(cmd)) ?? null })}\n`);
    } catch (err) {
      process.stdout.write(`${JSON.stringify({ id, error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) })}\n`);
    }
  }
  await disconnectDb();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
