import 'server-only';
import { getDb } from '../db/client';
import { DeployEvidenceSchema } from '../domain/deploy';
import type { EvidenceKindName } from '../domain/evidence-schemas';
import type { Actor } from '../domain/permissions';
import { evaluateSuccessCriteria, type SuccessCriterion } from '../domain/success-criteria';
import { assertCanRead } from './access';
import { requestFacts, requestGateState } from './request-facts';
import { getPostDeployPanel, requestOpenAlerts } from './post-deploy';

/** Where each kind of evidence is shown (the step page with its run). */
const STEP_OF_KIND: Partial<Record<EvidenceKindName, string>> = {
  deploy: 'deploy', verification: 'post-deployment', health_check: 'post-deployment', rehearsal: 'test-locally', data_loss: 'test-locally', drill: 'create-backup',
};

export interface SuccessCriterionView extends Omit<SuccessCriterion, 'evidenceIds'> {
  evidence: { id: string; kind: EvidenceKindName; summary: string; passed: boolean; createdAt: Date; href: string }[];
}

/**
 * The procedure's five success criteria for a request, each with the evidence it rests on and,
 * when not met, what it waits for. Decided by lib/domain/success-criteria.ts on the same facts as
 * the steps' verdicts, read for the project's production environment.
 */
export async function getSuccessCriteria(viewer: Actor, requestId: string): Promise<{ hasProject: boolean; allMet: boolean; criteria: SuccessCriterionView[] }> {
  assertCanRead(viewer);
  const db = getDb();
  const [facts, gate, alerts] = await Promise.all([requestFacts(requestId), requestGateState(requestId), requestOpenAlerts(requestId)]);

  const deployFact = facts.latest.deploy;
  let productionDeploy = null;
  let productionDeploymentId: string | null = null;
  if (deployFact && facts.production && deployFact.targetId === facts.production.targetId) {
    const detail = DeployEvidenceSchema.safeParse(deployFact.detail);
    if (detail.success) {
      productionDeploymentId = detail.data.deploymentId;
      const deployment = await db.deployment.findUnique({ where: { id: detail.data.deploymentId }, select: { approvalId: true } });
      const approval = deployment?.approvalId
        ? await db.deploymentApproval.findUnique({ where: { id: deployment.approvalId }, select: { approvedBy: { select: { name: true } } } })
        : null;
      productionDeploy = {
        applied: detail.data.applied?.recorded ?? false,
        dataLoss: detail.data.dataLoss ? { ok: detail.data.dataLoss.ok, summary: detail.data.dataLoss.summary } : null,
        backupArtifactId: detail.data.backupArtifactId,
        approvedBy: approval?.approvedBy.name ?? null,
      };
    }
  }

  const criteria = evaluateSuccessCriteria({
    step: facts,
    gate: { passed: gate.passed, waitingFor: gate.waitingFor },
    productionDeploy,
    productionAlerts: alerts.filter((a) => a.deploymentId === productionDeploymentId),
  });
  const byId = new Map(Object.values(facts.latest).filter((e) => e !== undefined).map((e) => [e.id, e]));
  const views = criteria.map(({ evidenceIds, ...c }) => ({
    ...c,
    evidence: evidenceIds.flatMap((id) => {
      const e = byId.get(id);
      return e ? [{ id: e.id, kind: e.kind, summary: e.summary, passed: e.passed, createdAt: e.createdAt, href: `/requests/${requestId}/steps/${STEP_OF_KIND[e.kind] ?? 'deploy'}${e.runId ? `#run-${e.runId}` : ''}` }] : [];
    }),
  }));
  return { hasProject: facts.project !== null, allMet: views.every((c) => c.met), criteria: views };
}

/**
 * Post-deployment for the API (GET /api/v1/requests/:id/post-deploy): open alerts, the success
 * criteria, the deployments watched with their schedule, the latest checks and the documented
 * issues. Same reads (and redaction) as the page.
 */
export async function getPostDeployReport(viewer: Actor, requestId: string) {
  const [panel, success] = await Promise.all([getPostDeployPanel(viewer, requestId), getSuccessCriteria(viewer, requestId)]);
  return {
    requestId,
    alerts: panel.alerts,
    successCriteria: success,
    deployments: panel.deployments,
    queries: panel.queries.map(({ id, name, sql, expects }) => ({ id, name, sql, expects })),
    checks: panel.checks.slice(0, 10),
    issues: panel.issues.current,
  };
}
