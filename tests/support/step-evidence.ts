import { createHash, randomUUID } from 'node:crypto';
import { getDb } from '@/lib/db/client';
import { STEP_COVERAGE } from '@/lib/domain/step-evidence';
import { recordEvidence } from '@/lib/services/evidence';
import { insertRevision } from '@/lib/services/migration-revisions';
import { signGateItem } from '@/lib/services/sign-gate';
import { getStepEvidence } from '@/lib/services/step-evidence';
import { toggleChecklistItem, transitionTask } from '@/lib/services/work-task';

/**
 * Evidence for tests that exercise other things than the gate (issue 8): each step's evidence
 * recorded directly through recordEvidence, as the runs would record it, so that a fixture can
 * complete steps that Cutover checks. The gate's own tests use real runs instead.
 */

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** The request's latest revision; saves a small one (credited to `actorId`) when there is none. */
export async function ensureRevision(requestId: string, actorId: string) {
  const db = getDb();
  const latest = await db.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' } });
  if (latest) return latest;
  await db.$transaction((tx) => insertRevision(tx, { id: actorId }, requestId, {
    name: 'add_note', upSql: 'ALTER TABLE orders ADD COLUMN note text;\n', downSql: 'ALTER TABLE orders DROP COLUMN note;\n',
  }));
  return db.migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
}

/** The request's project, made (one production environment on the request's own target) when it has none. */
export async function ensureProject(requestId: string, opts: { healthCheckUrl?: string } = {}) {
  const db = getDb();
  const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { projectId: true, targetId: true } });
  if (request.projectId) return db.project.findUniqueOrThrow({ where: { id: request.projectId }, include: { environments: { orderBy: { position: 'asc' } } } });
  const project = await db.project.create({
    data: {
      name: `Fixture app ${randomUUID().slice(0, 8)}`, repositoryUrl: '/nonexistent/fixture-app.git',
      environments: { create: [{ position: 1, name: 'production', targetId: request.targetId, requiresApproval: true, healthCheckUrl: opts.healthCheckUrl ?? null }] },
    },
    include: { environments: { orderBy: { position: 'asc' } } },
  });
  await db.migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id } });
  return project;
}

const ALL_OK_PHASES = [
  ['clone', 'Copy the target schema into the sandbox'], ['snapshot', 'Snapshot the original schema'], ['up', 'Run migration on local database'],
  ['verify-schema', 'Verify schema changes'], ['down', 'Apply the down migration'], ['verify-rollback', 'Verify rollback works'],
  ['redo', 'Apply the migration again (redo)'], ['drop', 'Drop the scratch database and its role'],
] as const;

/** A rehearsal record as the rehearsal handler writes it; `failPhase` makes that phase (and the record) fail. */
export function rehearsalDetail(revision: number, opts: { failPhase?: string } = {}) {
  return {
    revision, ok: !opts.failPhase, ...(opts.failPhase ? { error: `${opts.failPhase} failed` } : {}),
    phases: ALL_OK_PHASES.map(([phase, label]) => ({ phase, label, durationMs: 5, status: phase === opts.failPhase ? 'failed' as const : 'ok' as const, ...(phase === opts.failPhase ? { detail: 'the schema after down differs from the original in 1 place(s)' } : {}) })),
    hashes: { before: sha('before'), afterUp: sha('after'), afterDown: sha('before'), afterRedo: sha('after') },
    sampleRows: 10, dataLoss: { passed: true, summary: 'No undeclared data changes.' },
    afterUpShape: { schemas: ['public'], tables: { 'public.orders': { columns: [{ name: 'id', type: 'integer', nullable: false, default: null }, { name: 'note', type: 'text', nullable: true, default: null }] } }, enums: {} },
  };
}

/** Records what one step's evidence needs, passing, on the request's current revision (and production's target). */
export async function satisfyStepEvidence(requestId: string, stepKey: string, actorId: string): Promise<void> {
  const db = getDb();
  const request = await db.migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { targetId: true, projectId: true, appBranch: true } });
  const base = { requestId, targetId: request.targetId };
  if (stepKey === 'analysis') {
    await db.schemaSnapshot.create({ data: { targetId: request.targetId, hash: sha(requestId), serverVersion: '15', shape: { tables: {} }, stats: {} } });
    await db.migrationRequest.update({ where: { id: requestId }, data: { desiredChanges: 'Add orders.note.', migrationStrategy: 'One nullable column; no backfill.' } });
  }
  if (!STEP_COVERAGE[stepKey] || stepKey === 'create-migration') {
    if (stepKey === 'create-migration') await ensureRevision(requestId, actorId);
    return;
  }
  const revision = await ensureRevision(requestId, actorId);
  const rev = { id: revision.id, checksum: revision.checksum };
  // A real record of the current revision is kept (a test may have run the analysis itself).
  const has = async (kind: 'analysis') => !!(await db.evidence.findFirst({ where: { requestId, kind, revisionId: revision.id } }));
  if (stepKey === 'analysis' && (await has('analysis'))) return;
  await db.$transaction(async (tx) => {
    switch (stepKey) {
      case 'analysis':
        await recordEvidence(tx, {
          ...base, kind: 'analysis', revision: rev, passed: true, summary: 'risk low',
          detail: {
            revision: revision.revision, risk: { level: 'low', reasons: [] }, destructive: [], tables: [], statements: 1, unknownStatements: 0, strategies: 0,
            strongestLock: 'ACCESS EXCLUSIVE', rewrites: 0, scans: 0, catalogRead: true, serverVersion: '15', squawk: { version: '2.66.0', error: null, findings: 0, rules: {} },
          },
        });
        return;
      case 'test-locally':
        await recordEvidence(tx, { ...base, kind: 'rehearsal', revision: rev, passed: true, summary: `rehearsal of revision ${revision.revision} passed`, detail: rehearsalDetail(revision.revision) });
        await recordEvidence(tx, {
          ...base, kind: 'data_loss', revision: rev, passed: true, summary: 'No undeclared data changes.',
          detail: { report: { ok: true, tables: [], unknownDeclarations: [], captureMs: 1, checkMs: 1 }, sampleRows: 10, declaredChanges: null },
        });
        return;
      case 'update-app-code': {
        // A comparison holds for the branch (and project) the request names: one is named from here on.
        const branch = request.appBranch ?? 'main';
        if (!request.appBranch) await tx.migrationRequest.update({ where: { id: requestId }, data: { appBranch: branch } });
        await recordEvidence(tx, {
          ...base, kind: 'app_schema', revision: rev, passed: true, summary: 'schema.prisma agrees with the rehearsed schema',
          detail: {
            repository: '/nonexistent/fixture-app.git', ...(request.projectId ? { projectId: request.projectId } : {}), branch,
            commit: sha('commit').slice(0, 40), schemaPath: 'prisma/schema.prisma', differences: [], intended: [],
          },
        });
        return;
      }
      case 'test-app':
        await recordEvidence(tx, {
          ...base, kind: 'test_report', revision: rev, passed: true, summary: '3 tests, no failures',
          detail: { format: 'json', tests: 3, failures: 0, errors: 0, skipped: 0, failureList: [], revision: revision.revision },
        });
        return;
      case 'create-backup': {
        const project = request.projectId ? await tx.project.findUnique({ where: { id: request.projectId }, include: { environments: { orderBy: { position: 'desc' }, take: 1 } } }) : null;
        const targetId = project?.environments[0]?.targetId ?? request.targetId;
        const artifact = await tx.artifact.create({
          data: { kind: 'backup', storeKey: `fixture/${randomUUID()}.dump`, sha256: sha('dump'), sizeBytes: 1024, mediaType: 'application/octet-stream', targetId },
        });
        await recordEvidence(tx, {
          requestId, targetId, kind: 'drill', passed: true, summary: 'restore drill passed: 1 table equal to the backup\'s checksums',
          detail: {
            artifactId: artifact.id, backupSha256: artifact.sha256, ok: true, integrityMs: 1, restoreMs: 1, verifyMs: 1,
            tables: [{ table: 'public.orders', rows: 1, actualRows: 1, expected: 'x', actual: 'x', equal: true }], differing: [],
          },
        });
        return;
      }
      case 'deploy':
      case 'post-deployment':
        break;
      default:
        throw new Error(`No fixture evidence for step ${stepKey}.`);
    }
  });
  if (stepKey !== 'deploy' && stepKey !== 'post-deployment') return;
  const project = await ensureProject(requestId);
  const production = project.environments[project.environments.length - 1];
  const deploymentId = randomUUID();
  await db.$transaction(async (tx) => {
    const prod = { requestId, targetId: production.targetId, revision: rev };
    if (stepKey === 'deploy') {
      await recordEvidence(tx, {
        ...prod, kind: 'deploy', passed: true, summary: `deployed revision ${revision.revision} to ${production.name}`,
        detail: {
          deploymentId, environment: { id: production.id, name: production.name, position: production.position, production: true },
          commit: sha('deploy').slice(0, 40), version: '1.0.1', backupArtifactId: null, applied: { migration: 'add_note', recorded: true },
          dataLoss: { ok: true, summary: 'no data loss' }, health: null,
        },
      });
    } else {
      await recordEvidence(tx, {
        ...prod, kind: 'verification', passed: true, summary: '1 verification query passed',
        detail: {
          deploymentId, environment: production.name, target: 'fixture', checkNumber: 1,
          queries: [{ queryId: randomUUID(), name: 'orders readable', sql: 'SELECT count(*) FROM orders', expectation: { kind: 'no_rows' }, passed: true, actual: '0 rows', reason: null, durationMs: 1 }],
        },
      });
    }
  });
}

/** Starts a step, records its evidence, ticks its manual items and completes it (as `actorId`, who must be allowed to work it). */
export async function completeStepWithEvidence(actorId: string, requestId: string, position: number) {
  const db = getDb();
  const task = await db.task.findFirstOrThrow({ where: { requestId, position }, include: { checklist: { orderBy: { position: 'asc' } } } });
  if (task.status === 'pending') await transitionTask(actorId, { taskId: task.id, transition: 'start' });
  await satisfyStepEvidence(requestId, task.key, actorId);
  const byHand = new Set((await getStepEvidence(db, requestId))[task.key]?.items.filter((i) => !i.coveredBy).map((i) => i.label) ?? []);
  for (const item of task.checklist) if (byHand.has(item.label) && !item.done) await toggleChecklistItem(actorId, { itemId: item.id, done: true });
  await transitionTask(actorId, { taskId: task.id, transition: 'complete' });
}

/** Signs every gate item: the first reviewer as many as one may, the second the rest (notes on each). */
export async function passGate(requestId: string, reviewerIds: readonly [string, string]) {
  const items = await getDb().gateItem.findMany({ where: { requestId }, orderBy: { position: 'asc' } });
  for (const [n, item] of items.entries()) {
    await signGateItem(reviewerIds[n === items.length - 1 ? 1 : 0], { gateItemId: item.id, note: `checked ${item.label}` });
  }
}

/**
 * A passing rehearsal record of the request's latest revision, as the rehearsal handler writes it:
 * applying to a target beyond local needs one. For tests about applying, not rehearsing.
 */
export async function recordPassingRehearsal(requestId: string) {
  const db = getDb();
  const revision = await db.migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
  const { targetId } = await db.migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { targetId: true } });
  return db.$transaction((tx) => recordEvidence(tx, {
    kind: 'rehearsal', requestId, targetId, revision: { id: revision.id, checksum: revision.checksum }, passed: true,
    summary: `rehearsal of revision ${revision.revision} passed (fixture)`, detail: rehearsalDetail(revision.revision),
  }));
}
