import { describe, expect, it } from 'vitest';
import { evaluateSuccessCriteria, type SuccessFacts } from './success-criteria';
import type { EvidenceFact, StepFacts } from './step-evidence';

const NOW = new Date('2026-11-26T12:00:00Z');
const REV = { id: 'rev-2', revision: 2 };
const PHASES = ['clone', 'snapshot', 'up', 'verify-schema', 'down', 'verify-rollback', 'redo'];
const phases = (failed?: string) => PHASES.map((phase) => ({ phase, label: phase, durationMs: 1, status: phase === failed ? 'failed' as const : 'ok' as const }));

let seq = 0;
function fact(kind: EvidenceFact['kind'], over: Partial<EvidenceFact> = {}): EvidenceFact {
  seq += 1;
  return { id: `e${seq}`, kind, targetId: 't-prod', runId: `r${seq}`, revisionId: REV.id, passed: true, summary: `${kind} ok`, detail: {}, createdAt: NOW, staleBecause: null, ...over };
}

/** A request deployed to production with every piece of evidence passing. */
function green(): SuccessFacts {
  const step: StepFacts = {
    now: NOW, revision: REV, snapshot: { id: 's1', takenAt: NOW, runId: 'r0' }, desiredChanges: 'x', migrationStrategy: 'y',
    project: { name: 'Shop', backupMaxAgeHours: 24, minGateReviewers: 2 },
    production: { name: 'production', targetId: 't-prod', healthCheckUrl: 'http://app/health' },
    preProductionHealthTargets: [], backupTarget: { id: 't-prod', name: 'Shop production' },
    latest: {
      rehearsal: fact('rehearsal', { targetId: 't-req', detail: { revision: 2, ok: true, phases: phases(), hashes: {}, sampleRows: 10, dataLoss: null, afterUpShape: null } }),
      data_loss: fact('data_loss', { targetId: 't-req' }),
      drill: fact('drill', { revisionId: null }),
      deploy: fact('deploy'), verification: fact('verification'), health_check: fact('health_check'),
    },
    preProductionHealth: null,
    drilledBackupTakenAt: new Date(NOW.getTime() - 3_600_000),
  };
  return {
    step,
    gate: { passed: true, waitingFor: [] },
    productionDeploy: { applied: true, dataLoss: { ok: true, summary: 'nothing lost' }, backupArtifactId: 'a1', approvedBy: 'Lee Lead' },
    productionAlerts: [],
  };
}
const metOf = (f: SuccessFacts) => Object.fromEntries(evaluateSuccessCriteria(f).map((c) => [c.key, c.met]));

describe('success criteria', () => {
  it('all five are met on a verified production deploy, each with its evidence', () => {
    const criteria = evaluateSuccessCriteria(green());
    expect(criteria.map((c) => [c.key, c.met])).toEqual([['applied', true], ['no-data-loss', true], ['app-works', true], ['rollback-ready', true], ['deployed-safely', true]]);
    expect(criteria.every((c) => c.evidenceIds.length > 0 && c.reasons.length === 0)).toBe(true);
  });

  it('nothing that rests on a deploy is met before one', () => {
    const f = green();
    delete f.step.latest.deploy;
    delete f.step.latest.verification;
    delete f.step.latest.health_check;
    f.productionDeploy = null;
    const criteria = evaluateSuccessCriteria(f);
    expect(metOf(f)).toEqual({ applied: false, 'no-data-loss': false, 'app-works': false, 'rollback-ready': true, 'deployed-safely': false });
    expect(criteria[0].reasons[0]).toMatch(/Waiting for a deploy of revision 2 in production/);
  });

  it('failing checks and open alerts fail "application works"; a stale verification does not count', () => {
    const f = green();
    f.step.latest.health_check = fact('health_check', { passed: false, summary: 'HTTP 503' });
    f.productionAlerts = [{ summary: 'Health check of production failed: HTTP 503' }];
    const works = evaluateSuccessCriteria(f).find((c) => c.key === 'app-works')!;
    expect(works.met).toBe(false);
    expect(works.reasons.join(' ')).toMatch(/HTTP 503/);
    const stale = green();
    stale.step.latest.verification = fact('verification', { staleBecause: 'The migration changed after this evidence was produced.' });
    expect(metOf(stale)['app-works']).toBe(false);
  });

  it('data loss found by the deploy, no approval, a gate not passed, a broken rollback each fail their criterion only', () => {
    const lost = green();
    lost.productionDeploy!.dataLoss = { ok: false, summary: '3 rows of orders gone' };
    expect(metOf(lost)).toMatchObject({ 'no-data-loss': false, applied: true });
    const unapproved = green();
    unapproved.productionDeploy!.approvedBy = null;
    expect(metOf(unapproved)).toMatchObject({ 'deployed-safely': false, applied: true });
    const gate = green();
    gate.gate = { passed: false, waitingFor: ['Rollback tested: not signed'] };
    expect(evaluateSuccessCriteria(gate).find((c) => c.key === 'deployed-safely')!.reasons[0]).toMatch(/quality gate has not passed: Rollback tested/);
    const rollback = green();
    rollback.step.latest.rehearsal = fact('rehearsal', { targetId: 't-req', passed: false, summary: 'failed', detail: { revision: 2, ok: false, phases: phases('verify-rollback'), hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null } });
    expect(metOf(rollback)).toMatchObject({ 'rollback-ready': false, applied: true });
  });

  it('without the pre-deploy backup, rollback readiness needs a recent drill', () => {
    const f = green();
    f.productionDeploy!.backupArtifactId = null;
    expect(metOf(f)['rollback-ready']).toBe(true);
    f.step.drilledBackupTakenAt = new Date(NOW.getTime() - 48 * 3_600_000);
    expect(metOf(f)['rollback-ready']).toBe(false);
  });
});
