import { describe, expect, it } from 'vitest';
import { boundPayload, evaluateGateItem, gateItemsRestingOn, maxItemsPerSigner, signCountRefusal } from './gate';
import { coverageOf, evaluateStep, rehearsalOutcome, tickRefusal, type EvidenceFact, type StepFacts } from './step-evidence';

const NOW = new Date('2026-11-26T12:00:00Z');
const REV = { id: 'rev-2', revision: 2 };

const PHASES = [
  ['clone', 'Copy the target schema into the sandbox'], ['snapshot', 'Snapshot the original schema'], ['up', 'Run migration on local database'],
  ['verify-schema', 'Verify schema changes'], ['down', 'Apply the down migration'], ['verify-rollback', 'Verify rollback works'],
  ['redo', 'Apply the migration again (redo)'], ['drop', 'Drop the scratch database and its role'],
] as const;
const phases = (failed?: string) => PHASES.map(([phase, label]) => ({ phase, label, durationMs: 1, status: phase === failed ? 'failed' as const : 'ok' as const, ...(phase === failed ? { detail: 'differs' } : {}) }));

let seq = 0;
function fact(kind: EvidenceFact['kind'], over: Partial<EvidenceFact> = {}): EvidenceFact {
  seq += 1;
  return { id: `e${seq}`, kind, targetId: 't-req', runId: `r${seq}`, revisionId: REV.id, passed: true, summary: `${kind} ok`, detail: {}, createdAt: NOW, staleBecause: null, ...over };
}
const rehearsal = (failed?: string) => fact('rehearsal', {
  passed: rehearsalOutcome(phases(failed)).passed,
  summary: failed ? `rehearsal failed at ${failed}` : 'rehearsal passed',
  detail: { revision: 2, ok: !failed, phases: phases(failed), hashes: {}, sampleRows: 10, dataLoss: null, afterUpShape: null },
});

function facts(over: Partial<StepFacts> = {}): StepFacts {
  return {
    now: NOW, revision: REV, snapshot: { id: 's1', takenAt: NOW, runId: 'r0' }, desiredChanges: 'add a column', migrationStrategy: 'online',
    project: { name: 'Shop', backupMaxAgeHours: 24, minGateReviewers: 2 },
    production: { name: 'production', targetId: 't-prod', healthCheckUrl: null },
    preProductionHealthTargets: [], backupTarget: { id: 't-prod', name: 'Shop production' },
    latest: {
      analysis: fact('analysis', { passed: false }), revision: fact('revision', { detail: { revision: 2, name: 'x', statements: 1, downStatements: 1, hasDown: true } }),
      rehearsal: rehearsal(), data_loss: fact('data_loss'), test_report: fact('test_report'), app_schema: fact('app_schema'),
      drill: fact('drill', { targetId: 't-prod', revisionId: null }),
    },
    preProductionHealth: null,
    drilledBackupTakenAt: new Date(NOW.getTime() - 3_600_000),
    ...over,
  };
}
const checklist = (labels: string[], done = false) => labels.map((label) => ({ label, done }));

describe('rehearsal outcome', () => {
  it('passes when every required phase ran and passed; a failed data-loss check or clean-up does not fail it', () => {
    expect(rehearsalOutcome(phases())).toEqual({ passed: true, failed: [] });
    expect(rehearsalOutcome([...phases(), { phase: 'data-loss', label: 'Check for data loss', status: 'failed' as const }]).passed).toBe(true);
    expect(rehearsalOutcome(phases('verify-rollback'))).toEqual({ passed: false, failed: ['Verify rollback works (differs)'] });
    expect(rehearsalOutcome(phases().slice(0, 3))).toEqual({ passed: false, failed: ['verify-schema did not run', 'down did not run', 'verify-rollback did not run', 'redo did not run'] });
  });
});

describe('steps that wait for their evidence', () => {
  const TEST_LOCALLY = ['Run migration on local database', 'Verify schema changes', 'Test data transformations', 'Check application still works', 'Verify rollback works'];

  it('ticks covered items from the evidence and leaves the rest to hand', () => {
    const step = evaluateStep('test-locally', checklist(TEST_LOCALLY), facts());
    expect(step.checkable).toBe(true);
    expect(step.satisfied).toBe(true);
    expect(step.items.map((i) => [i.label, i.coveredBy, i.satisfied])).toEqual([
      ['Run migration on local database', 'rehearsal', true], ['Verify schema changes', 'rehearsal', true],
      ['Test data transformations', null, false], ['Check application still works', null, false], ['Verify rollback works', 'rehearsal', true],
    ]);
  });

  it('after a rehearsal whose rollback failed, "Verify rollback works" is not ticked and the step waits, saying why', () => {
    const failed = fact('rehearsal', { passed: false, summary: 'rehearsal of revision 2 failed: Verify rollback works', detail: { revision: 2, ok: false, phases: phases('verify-rollback'), hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null } });
    const step = evaluateStep('test-locally', checklist(TEST_LOCALLY, true), facts({ latest: { ...facts().latest, rehearsal: failed } }));
    expect(step.satisfied).toBe(false);
    const rollback = step.items.find((i) => i.label === 'Verify rollback works')!;
    expect(rollback).toMatchObject({ satisfied: false, evidenceId: failed.id, reason: 'The latest rehearsal of revision 2 did not pass: Verify rollback works (differs).' });
    expect(step.waitingFor).toContain('The latest rehearsal of revision 2 did not pass: Verify rollback works (differs).');
  });

  it('does not count a rehearsal of an earlier revision (stale) or none at all', () => {
    const stale = fact('rehearsal', { revisionId: 'rev-1', staleBecause: 'The migration changed after this evidence was produced: it rests on revision 1, and the latest is revision 2.' });
    expect(evaluateStep('test-locally', checklist(TEST_LOCALLY), facts({ latest: { rehearsal: stale } })).waitingFor[0]).toBe(
      'Waiting for a passing rehearsal of revision 2: The migration changed after this evidence was produced: it rests on revision 1, and the latest is revision 2.',
    );
    expect(evaluateStep('test-locally', checklist(TEST_LOCALLY), facts({ latest: {} })).waitingFor).toEqual(['Waiting for a passing rehearsal of revision 2.']);
  });

  it('analysis: a snapshot, the analysis of the current revision (risky or not) and the two written fields', () => {
    const labels = ['Understand current schema', 'Document desired changes', 'Identify data impact', 'Plan migration strategy'];
    expect(evaluateStep('analysis', checklist(labels), facts()).satisfied).toBe(true);
    const waiting = evaluateStep('analysis', checklist(labels), facts({ snapshot: null, desiredChanges: ' ', latest: {} }));
    expect(waiting.waitingFor).toEqual([
      'Waiting for a schema snapshot of the target (Take snapshot).', 'Write the desired changes on the Analysis step.', 'Waiting for an impact analysis of revision 2.',
    ]);
  });

  it('create migration: a saved revision, with a way back for "Include up and down paths"', () => {
    const labels = ['Write Prisma migration', 'Include up and down paths', 'Add data transformations if needed', 'Consider rollback scenario'];
    const noDown = fact('revision', { detail: { revision: 2, name: 'x', statements: 1, downStatements: 0, hasDown: false } });
    const step = evaluateStep('create-migration', checklist(labels), facts({ latest: { revision: noDown } }));
    expect(step.items.slice(0, 2).map((i) => [i.satisfied, i.reason])).toEqual([[true, null], [false, 'down.sql of revision 2 is still to write.']]);
    expect(evaluateStep('create-migration', checklist(labels), facts({ revision: null, latest: {} })).waitingFor).toEqual(['Save the migration (Create migration).']);
  });

  it('create backup: a verified drill of a backup of production, younger than the project allows', () => {
    const labels = ['Document backup procedure', 'Create restore script', 'Test backup/restore'];
    expect(evaluateStep('create-backup', checklist(labels), facts()).satisfied).toBe(true);
    const old = evaluateStep('create-backup', checklist(labels), facts({ drilledBackupTakenAt: new Date(NOW.getTime() - 30 * 3_600_000) }));
    expect(old.waitingFor).toEqual(['The drilled backup of Shop production is 30 h old; the limit is 24 h. Back up and drill again.']);
    const elsewhere = evaluateStep('create-backup', checklist(labels), facts({ latest: { drill: fact('drill', { targetId: 't-req', revisionId: null }) } }));
    expect(elsewhere.waitingFor).toEqual(['The latest drill is of another target; drill a backup of Shop production.']);
  });

  it('deploy and post-deployment need a project, and evidence from production', () => {
    const deploy = ['Commit migration files', 'Bump patch version', 'Push to master', 'Monitor deployment logs', 'Verify migration runs in production', 'Test production application'];
    expect(evaluateStep('deploy', checklist(deploy), facts({ project: null, production: null })).waitingFor).toEqual([
      'Deploy needs a project: ask an admin to set up the application and its environments, then choose it on the request.',
    ]);
    const staging = fact('deploy', { targetId: 't-staging' });
    expect(evaluateStep('deploy', checklist(deploy), facts({ latest: { deploy: staging } })).waitingFor).toEqual(['Waiting for a deploy of revision 2 in production.']);
    expect(evaluateStep('deploy', checklist(deploy), facts({ latest: { deploy: fact('deploy', { targetId: 't-prod' }) } })).satisfied).toBe(true);
    // The health check is Cutover's only where production has a URL.
    expect(coverageOf('post-deployment', 'Check application health', facts())).toBeNull();
    expect(coverageOf('post-deployment', 'Check application health', facts({ production: { name: 'production', targetId: 't-prod', healthCheckUrl: 'http://x/health' } }))).toBe('health_check');
  });

  it('says in words why an item cannot be ticked by hand', () => {
    expect(tickRefusal('Verify rollback works', 'rehearsal')).toBe('"Verify rollback works" is ticked by evidence (a passing rehearsal), not by hand.');
  });
});

describe('the gate on evidence', () => {
  it('each item rests on its evidence', () => {
    const f = facts();
    for (const key of ['migration-runs', 'rollback-tested', 'tests-pass', 'no-data-loss', 'app-works', 'backup-ready'] as const) {
      expect(evaluateGateItem(key, f)).toMatchObject({ satisfied: true, reason: null });
    }
    expect(evaluateGateItem('app-works', f).needsNote).toBe(true);
    expect(evaluateGateItem('migration-runs', f).evidence.map((e) => e.kind)).toEqual(['rehearsal']);
  });

  it('rollback tested reads the rehearsal\'s down and redo phases; a failed data-loss check fails "No data loss" only', () => {
    const f = facts({ latest: { ...facts().latest, rehearsal: fact('rehearsal', { passed: false, summary: 'failed', detail: { revision: 2, ok: false, phases: phases('redo'), hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null } }) } });
    expect(evaluateGateItem('rollback-tested', f).reason).toBe('The latest rehearsal of revision 2 did not pass: Apply the migration again (redo) (differs).');
    const lossy = facts({ latest: { ...facts().latest, data_loss: fact('data_loss', { passed: false, summary: 'Undeclared data changes in 1 table(s): public.orders' }) } });
    expect(evaluateGateItem('no-data-loss', lossy).reason).toBe('The data-loss check of revision 2 found changes nobody declared: Undeclared data changes in 1 table(s): public.orders');
    expect(evaluateGateItem('migration-runs', lossy).satisfied).toBe(true);
    expect(evaluateGateItem('no-data-loss', facts({ latest: { ...facts().latest, data_loss: undefined } })).reason).toBe(
      'The rehearsal of revision 2 ran without a data sample: rehearse with a sample to check for data loss.',
    );
  });

  it('tests pass: the latest report of the current revision, without failures', () => {
    const failing = facts({ latest: { ...facts().latest, test_report: fact('test_report', { passed: false, summary: '12 tests, 2 failures' }) } });
    expect(evaluateGateItem('tests-pass', failing).reason).toBe('The latest test report of revision 2 has failures: 12 tests, 2 failures');
  });

  it('application works: the app schema agrees and, where an environment before production has a URL, its health check passed on this revision', () => {
    const staging = { name: 'staging', targetId: 't-stg' };
    expect(evaluateGateItem('app-works', facts({ preProductionHealthTargets: [staging] })).reason).toBe('Waiting for a passing health check against a deployment of revision 2 in staging.');
    const down = fact('health_check', { targetId: 't-stg', passed: false, summary: 'HTTP 503' });
    expect(evaluateGateItem('app-works', facts({ preProductionHealthTargets: [staging], preProductionHealth: down })).reason).toBe('The latest health check in staging does not count: HTTP 503');
    const up = fact('health_check', { targetId: 't-stg' });
    expect(evaluateGateItem('app-works', facts({ preProductionHealthTargets: [staging], preProductionHealth: up })).evidence.map((e) => e.kind)).toEqual(['app_schema', 'health_check']);
    const differs = facts({ latest: { ...facts().latest, app_schema: fact('app_schema', { passed: false, summary: '2 differences' }) } });
    expect(evaluateGateItem('app-works', differs).reason).toBe("The app's schema.prisma differs from the schema after the migration: 2 differences");
  });

  it('a failing record voids the items resting on its kind', () => {
    expect(gateItemsRestingOn('rehearsal')).toEqual(['migration-runs', 'rollback-tested']);
    expect(gateItemsRestingOn('drill')).toEqual(['backup-ready']);
    expect(gateItemsRestingOn('health_check')).toEqual(['app-works']);
    expect(gateItemsRestingOn('backup')).toEqual([]);
  });

  it('one reviewer signs at most 6 - (min - 1) items, and the gate keeps room for the reviewers still missing', () => {
    expect(maxItemsPerSigner(6, 2)).toBe(5);
    expect(maxItemsPerSigner(6, 1)).toBe(6);
    expect(maxItemsPerSigner(6, 9)).toBe(1);
    const five = ['a', 'a', 'a', 'a', 'a'];
    expect(signCountRefusal({ totalItems: 6, minReviewers: 2, signers: five, actorId: 'a' })).toBe(
      'You already signed 5 of the 6 items; one reviewer signs at most 5, so that at least 2 reviewers sign this gate. Ask another reviewer.',
    );
    expect(signCountRefusal({ totalItems: 6, minReviewers: 2, signers: five, actorId: 'b' })).toBeNull();
    // Three reviewers needed: a and b signed five, so the last item must go to a third reviewer.
    expect(signCountRefusal({ totalItems: 6, minReviewers: 3, signers: ['a', 'a', 'a', 'b', 'b'], actorId: 'a' })).toBe(
      'This gate needs 3 distinct reviewers; with your signature only 0 item(s) would be left for the 1 still missing. Ask another reviewer.',
    );
    expect(signCountRefusal({ totalItems: 6, minReviewers: 3, signers: ['a', 'a', 'a', 'b', 'b'], actorId: 'c' })).toBeNull();
  });

  it('binds a signature to the revision and the evidence list, whatever their order', () => {
    const a = { id: 'x', kind: 'rehearsal', passed: true, sha256: '1' };
    const b = { id: 'y', kind: 'data_loss', passed: true, sha256: '2' };
    expect(boundPayload('abc', [a, b])).toBe(boundPayload('abc', [b, a]));
    expect(boundPayload('abc', [a, b])).not.toBe(boundPayload('abd', [a, b]));
    expect(boundPayload('abc', [a])).not.toBe(boundPayload('abc', [{ ...a, sha256: '3' }]));
  });
});
