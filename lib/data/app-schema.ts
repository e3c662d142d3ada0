import 'server-only';
import { getDb } from '../db/client';
import { openDifferences } from '../domain/app-schema';
import { notFound } from '../domain/errors';
import { canWorkTask, type Actor } from '../domain/permissions';
import { latestEvidence } from '../services/evidence';
import { assertCanRead } from './access';
import { getRequestProject } from './projects';

/**
 * Step 4's panel: the request's project and branch, the latest comparison of the branch's
 * schema.prisma with the rehearsed schema (each difference with its note when recorded as intended),
 * what a comparison still waits for, and what the viewer may do.
 */
export async function getAppCodePanel(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const db = getDb();
  const [project, step, latestRevision, evidence] = await Promise.all([
    getRequestProject(actor, requestId),
    db.task.findFirst({ where: { requestId, key: 'update-app-code' }, select: { subject: true, eligibleRoles: true, isGate: true } }),
    db.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true } }),
    latestEvidence(requestId, 'app_schema'),
  ]);
  if (!step) throw notFound('The Update app code step of this request');
  const rehearsal = latestRevision
    ? await db.evidence.findFirst({ where: { requestId, kind: 'rehearsal', revisionId: latestRevision.id, passed: true }, orderBy: { createdAt: 'desc' }, select: { id: true } })
    : null;
  const waitingFor: string[] = [];
  if (!project.project) waitingFor.push("the application's project (choose it above)");
  else if (!project.appBranch) waitingFor.push('the app branch that carries the code change');
  if (!latestRevision) waitingFor.push('a saved migration (Create migration)');
  else if (!rehearsal) waitingFor.push(`a passing rehearsal of revision ${latestRevision.revision} (Test migration locally)`);

  const detail = evidence?.detail ?? null;
  const intended = new Map((detail?.intended ?? []).map((i) => [i.key, i]));
  const open = detail ? new Set(openDifferences(detail).map((d) => d.key)) : new Set<string>();
  const canWork = canWorkTask(actor, step);
  return {
    requestId,
    ...project,
    stepRoles: step.eligibleRoles,
    canCompare: canWork && waitingFor.length === 0,
    canIntend: canWork,
    waitingFor,
    comparison: evidence && detail
      ? {
          evidenceId: evidence.id, passed: evidence.passed, summary: evidence.summary, createdAt: evidence.createdAt.toISOString(),
          staleBecause: evidence.staleBecause, repository: detail.repository, branch: detail.branch, commit: detail.commit, schemaPath: detail.schemaPath,
          differences: detail.differences.map((d) => ({ ...d, open: open.has(d.key), intended: intended.get(d.key) ?? null })),
        }
      : null,
  };
}
export type AppCodePanelView = Awaited<ReturnType<typeof getAppCodePanel>>;
