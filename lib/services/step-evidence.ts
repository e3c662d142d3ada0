import { readTogether, type Db, type Tx } from '../db/client';
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

interface FactsRow {
  id: string; authorId: string; targetId: string; projectId: string | null; desiredChanges: string | null; migrationStrategy: string | null;
  targetName: string; projectName: string | null; backupMaxAgeHours: number | null; minGateReviewers: number | null;
  revisionId: string | null; revision: number | null; checksum: string | null;
  snapshotId: string | null; snapshotTakenAt: Date | null; snapshotRunId: string | null;
}

/**
 * Everything the step and gate verdicts read about a request, in one pass: its current revision,
 * the latest evidence of each kind in its scope (lib/domain/step-evidence.ts StepFacts), its
 * project's production environment and the backup a drill restored. No access check: readers in
 * lib/data check the viewer first; services call it inside their transaction.
 */
export async function loadRequestFacts(db: Db | Tx, requestId: string, now = new Date()): Promise<RequestFacts> {
  // The request, its target and project, its latest revision and its target's latest snapshot in
  // one statement (every task read and claim needs them; in the caller's transaction when it has one).
  const [row] = await db.$queryRaw<FactsRow[]>`
    SELECT r.id, r.author_id AS "authorId", r.target_id AS "targetId", r.project_id AS "projectId",
           r.desired_changes AS "desiredChanges", r.migration_strategy AS "migrationStrategy", tg.name AS "targetName",
           p.name AS "projectName", p.backup_max_age_hours AS "backupMaxAgeHours", p.min_gate_reviewers AS "minGateReviewers",
           rv.id AS "revisionId", rv.revision, rv.checksum, s.id AS "snapshotId", s.taken_at AS "snapshotTakenAt", s.run_id AS "snapshotRunId"
    FROM migration_requests r
    JOIN target_databases tg ON tg.id = r.target_id
    LEFT JOIN projects p ON p.id = r.project_id
    LEFT JOIN LATERAL (SELECT id, revision, checksum FROM migration_revisions WHERE request_id = r.id ORDER BY revision DESC LIMIT 1) rv ON true
    LEFT JOIN LATERAL (SELECT id, taken_at, run_id FROM schema_snapshots WHERE target_id = r.target_id ORDER BY taken_at DESC LIMIT 1) s ON true
    WHERE r.id = ${requestId}::uuid`;
  if (!row) throw notFound('Migration request');
  const request = {
    id: row.id, authorId: row.authorId, targetId: row.targetId, projectId: row.projectId,
    desiredChanges: row.desiredChanges, migrationStrategy: row.migrationStrategy,
    target: { id: row.targetId, name: row.targetName },
    project: row.projectName === null ? null : { name: row.projectName, backupMaxAgeHours: row.backupMaxAgeHours!, minGateReviewers: row.minGateReviewers! },
  };
  const revision = row.revisionId ? { id: row.revisionId, revision: row.revision!, checksum: row.checksum! } : null;
  const snapshot = row.snapshotId ? { id: row.snapshotId, takenAt: row.snapshotTakenAt!, runId: row.snapshotRunId } : null;
  const [evidence, environments] = await readTogether(db, [
    () => evidenceFor(requestId, { take: 1000 }, db),
    () => (request.projectId ? environmentsOf(db, request.projectId) : Promise.resolve([])),
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
  const [loaded, tasks] = await readTogether(db, [
    () => (facts ? Promise.resolve(facts) : loadRequestFacts(db, requestId)),
    () => db.task.findMany({ where: { requestId, isGate: false }, orderBy: { position: 'asc' }, select: { key: true, checklist: { orderBy: { position: 'asc' }, select: { label: true, done: true } } } }),
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
