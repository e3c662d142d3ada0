import { coverageVerdict, type StepFacts, type Verdict } from './step-evidence';
import { SUCCESS_CRITERIA, type SuccessCriterionKey } from './verification';

/**
 * The procedure's success criteria (issue 8, item 8), decided on evidence. Apart from
 * lib/domain/verification.ts because it reads the step verdicts, and the evidence schemas
 * (which verification.ts feeds) are read by those: no import cycle.
 */

/** What the success criteria are decided on, gathered by lib/data/success-criteria.ts. */
export interface SuccessFacts {
  /** The step verdicts' facts (lib/services/step-evidence.ts loadRequestFacts). */
  step: StepFacts;
  gate: { passed: boolean; waitingFor: readonly string[] };
  /** The production deploy's record, read from its `deploy` evidence; null before one. */
  productionDeploy: { applied: boolean; dataLoss: { ok: boolean; summary: string } | null; backupArtifactId: string | null; approvedBy: string | null } | null;
  /** Open alerts on the production deployment. */
  productionAlerts: readonly { summary: string }[];
}

export interface SuccessCriterion {
  key: SuccessCriterionKey;
  label: string;
  met: boolean;
  /** What it waits for, in words (empty when met). */
  reasons: string[];
  /** Evidence records it rests on (ids; the data layer adds what they say). */
  evidenceIds: string[];
}

/**
 * The procedure's five success criteria, each decided on evidence: the same verdicts the steps use
 * (lib/domain/step-evidence.ts), read for production after the deploy.
 */
export function evaluateSuccessCriteria(f: SuccessFacts): SuccessCriterion[] {
  const deployed = coverageVerdict('deploy', f.step);
  const ids = (...verdicts: Verdict[]) => [...new Set(verdicts.map((v) => v.evidenceId).filter((id): id is string => !!id))];
  const reasonsOf = (...verdicts: Verdict[]) => verdicts.filter((v) => !v.satisfied && v.reason).map((v) => v.reason!);
  const env = f.step.production?.name ?? 'production';
  const criteria: Record<SuccessCriterionKey, { reasons: string[]; evidenceIds: string[] }> = {} as never;

  {
    const reasons = reasonsOf(deployed);
    if (deployed.satisfied && !f.productionDeploy?.applied) reasons.push(`The deploy to ${env} did not record the migration as applied (_prisma_migrations).`);
    criteria.applied = { reasons, evidenceIds: ids(deployed) };
  }
  {
    const rehearsed = coverageVerdict('data_loss', f.step);
    const reasons = reasonsOf(deployed, rehearsed);
    const check = f.productionDeploy?.dataLoss;
    if (deployed.satisfied && !check) reasons.push(`The deploy to ${env} recorded no data-loss check.`);
    else if (check && !check.ok) reasons.push(`The data-loss check of the deploy to ${env} failed: ${check.summary}`);
    criteria['no-data-loss'] = { reasons, evidenceIds: ids(deployed, rehearsed) };
  }
  {
    const verified = coverageVerdict('verification', f.step);
    const health = f.step.production?.healthCheckUrl ? coverageVerdict('health_check', f.step) : null;
    const reasons = reasonsOf(verified, ...(health ? [health] : []));
    for (const alert of f.productionAlerts) reasons.push(`Open alert on ${env}: ${alert.summary}`);
    criteria['app-works'] = { reasons: [...new Set(reasons)], evidenceIds: ids(verified, ...(health ? [health] : [])) };
  }
  {
    const rollback = coverageVerdict('rehearsal', f.step, 'Verify rollback works');
    const drill = coverageVerdict('drill', f.step);
    const reasons = reasonsOf(rollback);
    // A restorable backup: the verified one the deploy took just before applying, or a recent drilled one.
    if (!f.productionDeploy?.backupArtifactId && !drill.satisfied) reasons.push(...reasonsOf(drill));
    criteria['rollback-ready'] = { reasons, evidenceIds: ids(rollback, f.productionDeploy?.backupArtifactId ? deployed : drill) };
  }
  {
    const reasons = reasonsOf(deployed);
    if (!f.gate.passed) reasons.push(`The quality gate has not passed${f.gate.waitingFor.length ? `: ${f.gate.waitingFor.slice(0, 3).join('; ')}` : '.'}`);
    if (deployed.satisfied && !f.productionDeploy?.approvedBy) reasons.push(`The deploy to ${env} carries no lead's approval.`);
    criteria['deployed-safely'] = { reasons, evidenceIds: ids(deployed) };
  }
  return SUCCESS_CRITERIA.map((c) => ({ key: c.key, label: c.label, met: criteria[c.key].reasons.length === 0, ...criteria[c.key] }));
}
