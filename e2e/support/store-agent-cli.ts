/**
 * A long-lived factory for the cross-cutting specs (authorization matrix, fuzzing, canary):
 * one tsx process that builds data through the real services, answering JSON lines on stdin
 * with JSON lines on stdout (`{id, result}` or `{id, error}`). One process per spec instead of
 * one per call (factory-cli.ts), because these specs build hundreds of records.
 */
import { randomBytes } from 'node:crypto';
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
import { toggleChecklistItem, transitionTask } from '../../lib/services/work-task';
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
  // ---- issue 8, gate: op types go above this line
  // ---- issue 8, api-tokens: op types go above this line
  // ---- issue 8, projects: op types go above this line
  // ---- issue 8, deploy: op types go above this line
  // ---- issue 8, post-deploy: op types go above this line
  // ---- issue 8, board: op types go above this line
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
      for (const task of tasks.filter((t) => t.position <= (cmd.through ?? 0))) {
        await transitionTask(actor, { taskId: task.id, transition: 'start' });
        for (const item of task.checklist) await toggleChecklistItem(actor, { itemId: item.id, done: true });
        await transitionTask(actor, { taskId: task.id, transition: 'complete' });
      }
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
    // ---- issue 8, gate: op cases go above this line
    // ---- issue 8, api-tokens: op cases go above this line
    // ---- issue 8, projects: op cases go above this line
    // ---- issue 8, deploy: op cases go above this line
    // ---- issue 8, post-deploy: op cases go above this line
    // ---- issue 8, board: op cases go above this line
    case 'waitIdle': {
      const until = Date.now() + (cmd.timeoutMs ?? 60_000);
      for (;;) {
        // Runs without a job are parked fixtures (queuedRun), not work in progress.
        const busy = await db.run.count({ where: { status: { in: ['queued', 'running'] }, NOT: { status: 'queued', jobId: null } } });
        if (busy === 0) return { idle: true };
        if (Date.now() > until) return { idle: false, busy };
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
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
