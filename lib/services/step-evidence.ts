import type { Db, Tx } from '../db/client';
import { DrillEvidenceSchema } from '../domain/backups';
import { notFound } from '../domain/errors';
import type { EvidenceKindName } from '../domain/evidence-schemas';
import { evaluateStep, holds, type StepEvidence, type StepFacts } from '../domain/step-evidence';
import { evidenceFor, type EvidenceView } from './evidence';
import { environmentsOf, productionEnvironment } from './projects';

/** Kinds whose records are of one revision: the current revision's latest counts. */
const REVISION_BOUND: readonly EvidenceKindName[] = ['analysis', 'lock_impact', 'data_loss', 'rehearsal', 'revision', 'test_report', 'app_schema'];
/** Kinds recorded per environment after a deploy: production's latest counts. */
const PRODUCTION_BOUND: readonly EvidenceKindName[] = ['deploy', 'verification', 'health_check'];

export interface RequestFacts extends StepFacts {
  latest: Partial<Record<EvidenceKindName, EvidenceView>>;
  preProductionHealth: EvidenceView | null;
  revision: { id: string; revision: number; checksum: string } | null;
  request: { id: string; authorId: string; targetId: string; projectId: string | null };
}

/**
 * Everything the step and gate verdicts read about a request, in one pass: its current revision,
 * the latest evidence of each kind in its scope (lib/domain/step-evidence.ts StepFacts), its
 * project's production environment and the backup a drill restored. No access check: readers in
 * lib/data check the viewer first; services call it inside their transaction.
 */
export async function loadRequestFacts(db: Db | Tx, requestId: string, now = new Date()): Promise<RequestFacts> {
  const request = await db.migrationRequest.findUnique({
    where: { id: requestId },
    select: {
      id: true, authorId: true, targetId: true, projectId: true, desiredChanges: true, migrationStrategy: true,
      target: { select: { id: true, name: true } },
      project: { select: { name: true, backupMaxAgeHours: true, minGateReviewers: true } },
    },
  });
  if (!request) throw notFound('Migration request');
  const [revision, snapshot, evidence, environments] = await Promise.all([
    db.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, checksum: true } }),
    db.schemaSnapshot.findFirst({ where: { targetId: request.targetId }, orderBy: { takenAt: 'desc' }, select: { id: true, takenAt: true, runId: true } }),
    evidenceFor(requestId, { take: 1000 }, db),
    request.projectId ? environmentsOf(db, request.projectId) : Promise.resolve([]),
  ]);
  const production = productionEnvironment({ environments });
  const backupTarget = production ? { id: production.targetId, name: production.target.name } : request.target;
  const preProduction = environments.filter((e) => e !== production && e.healthCheckUrl);

  // evidenceFor is newest first: the first match is the latest.
  const latest: Partial<Record<EvidenceKindName, EvidenceView>> = {};
  const first = (kind: EvidenceKindName, where: (e: EvidenceView) => boolean) => evidence.find((e) => e.kind === kind && where(e));
  for (const kind of new Set(evidence.map((e) => e.kind))) {
    let pick: EvidenceView | undefined;
    if (REVISION_BOUND.includes(kind)) pick = first(kind, (e) => !!revision && e.revisionId === revision.id) ?? first(kind, () => true);
    else if (PRODUCTION_BOUND.includes(kind)) {
      pick = production ? (first(kind, (e) => e.targetId === production.targetId && e.revisionId === revision?.id) ?? first(kind, (e) => e.targetId === production.targetId)) : undefined;
    } else if (kind === 'drill') pick = first(kind, (e) => e.targetId === backupTarget.id) ?? first(kind, () => true);
    else pick = first(kind, () => true);
    if (pick) latest[kind] = pick;
  }
  const preProductionHealth = revision
    ? (evidence.find((e) => e.kind === 'health_check' && e.revisionId === revision.id && preProduction.some((p) => p.targetId === e.targetId)) ?? null)
    : null;

  let drilledBackupTakenAt: Date | null = null;
  const drill = latest.drill ? DrillEvidenceSchema.safeParse(latest.drill.detail) : null;
  if (drill?.success) {
    const artifact = await db.artifact.findUnique({ where: { id: drill.data.artifactId }, select: { createdAt: true } });
    drilledBackupTakenAt = artifact?.createdAt ?? null;
  }

  return {
    now,
    request: { id: request.id, authorId: request.authorId, targetId: request.targetId, projectId: request.projectId },
    revision,
    snapshot,
    desiredChanges: request.desiredChanges,
    migrationStrategy: request.migrationStrategy,
    project: request.project,
    production: production ? { name: production.name, targetId: production.targetId, healthCheckUrl: production.healthCheckUrl } : null,
    preProductionHealthTargets: preProduction.map((e) => ({ name: e.name, targetId: e.targetId })),
    backupTarget,
    latest,
    preProductionHealth,
    drilledBackupTakenAt,
  };
}

/**
 * Per step key, what the step's evidence says: whether Cutover checks it, whether it holds, what
 * it waits for (in words) and the verdict on each checklist item (manual ones carry their tick).
 */
export async function getStepEvidence(db: Db | Tx, requestId: string, facts?: RequestFacts): Promise<Record<string, StepEvidence>> {
  const [loaded, tasks] = await Promise.all([
    facts ?? loadRequestFacts(db, requestId),
    db.task.findMany({ where: { requestId, isGate: false }, orderBy: { position: 'asc' }, select: { key: true, checklist: { orderBy: { position: 'asc' }, select: { label: true, done: true } } } }),
  ]);
  return Object.fromEntries(tasks.map((t) => [t.key, evaluateStep(t.key, t.checklist, loaded)]));
}

/**
 * The latest rehearsal of a revision when it passed and still holds (its revision is the
 * request's current one and the target's settings are unchanged), else null. Applying beyond a
 * local target and deploying need it.
 */
export async function passingRehearsal(db: Db | Tx, requestId: string, revisionId: string): Promise<EvidenceView<'rehearsal'> | null> {
  const latest = await db.evidence.findFirst({ where: { requestId, kind: 'rehearsal', revisionId }, orderBy: { createdAt: 'desc' }, select: { id: true } });
  if (!latest) return null;
  const view = (await evidenceFor(requestId, { take: 1000 }, db)).find((e) => e.id === latest.id) as EvidenceView<'rehearsal'> | undefined;
  return view && holds(view, revisionId) ? view : null;
}
