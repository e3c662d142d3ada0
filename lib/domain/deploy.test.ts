import { describe, expect, it } from 'vitest';
import { approvalRefusal, bumpPatch, endPhase, promotionRefusal, recoveryOptions, recoveryRefusal, startPhase, type PromotionFacts, type RecoveryFacts } from './deploy';

const staging = { id: 's', name: 'staging', position: 1, requiresApproval: false };
const production = { id: 'p', name: 'production', position: 2, requiresApproval: true };
const facts = (over: Partial<PromotionFacts> = {}): PromotionFacts => ({
  environments: [production, staging], environmentId: 's', revision: { id: 'r', revision: 3 }, rehearsalPassed: true,
  succeededEnvironmentIds: new Set(), activeDeployment: null, gate: null, approval: null, ...over,
});

describe('promotion rules', () => {
  it('staging: a revision with a passing rehearsal, nothing else in flight', () => {
    expect(promotionRefusal(facts())).toBeNull();
    expect(promotionRefusal(facts({ revision: null }))?.message).toMatch(/Save the migration/);
    expect(promotionRefusal(facts({ rehearsalPassed: false }))?.message).toMatch(/Revision 3 has no passing rehearsal/);
    expect(promotionRefusal(facts({ activeDeployment: { environmentName: 'staging' } }))).toEqual({ code: 'conflict', message: expect.stringMatching(/already queued or running/) });
    expect(promotionRefusal(facts({ environmentId: 'x' }))?.message).toMatch(/not one of this request's project/);
  });

  it('production: after staging succeeded with the revision, with the gate passed and a lead approval', () => {
    const prod = (over: Partial<PromotionFacts> = {}) => promotionRefusal(facts({ environmentId: 'p', ...over }));
    expect(prod()?.message).toBe('Deploy revision 3 to staging first: production comes after it.');
    const staged = { succeededEnvironmentIds: new Set(['s']) };
    expect(prod({ ...staged, gate: { passed: false, missing: 'The quality gate is not passed: Rollback tested: a signature.' } })?.message)
      .toBe('production needs the quality gate passed first. The quality gate is not passed: Rollback tested: a signature.');
    expect(prod({ ...staged, gate: { passed: true, missing: '' } })?.message).toMatch(/needs a lead's approval of revision 3/);
    expect(prod({ ...staged, gate: { passed: true, missing: '' }, approval: { approvedByName: 'Lea' } })).toBeNull();
  });

  it('approvals: leads only, never the author', () => {
    expect(approvalRefusal({ id: 'a', roles: ['admin'], kind: 'person' }, { authorId: 'x' })).toMatch(/Only a lead/);
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'person' }, { authorId: 'a' })).toMatch(/author of the request cannot approve/);
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'person' }, { authorId: 'x' })).toBeNull();
  });

  it('approvals: a person, and not a revision author nor a gate signer of the revision', () => {
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'automation' }, { authorId: 'x' })).toBe('Quality-gate signatures and production approvals are for people, not tokens.');
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'person' }, { authorId: 'x', revisionAuthors: [{ id: 'y' }, { id: 'a' }] })).toMatch(/wrote a revision of this migration/);
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'person' }, { authorId: 'x', revisionAuthors: [{ id: 'y' }], gateSigners: [{ id: 'a' }] })).toMatch(/signed the quality gate of this revision/);
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'person' }, { authorId: 'x', revisionAuthors: [{ id: 'y' }], gateSigners: [{ id: 'z' }] })).toBeNull();
    // The lead's own agent wrote a revision: the lead is not a second pair of eyes on it.
    expect(approvalRefusal({ id: 'a', roles: ['lead'], kind: 'person' }, { authorId: 'x', revisionAuthors: [{ id: 'g', name: 'dba-agent', ownerId: 'a' }] }))
      .toBe('dba-agent answers to you and wrote a revision of this migration, so you cannot approve its deploy: another lead approves it.');
  });
});

describe('recovery', () => {
  const f = (over: Partial<RecoveryFacts> = {}): RecoveryFacts => ({ status: 'failed', phase: 'health', backupArtifactId: 'b', hasDown: true, applied: true, recovering: false, alerting: false, laterChange: null, ...over });
  it('offers the down path and the restore only when the target may have changed', () => {
    expect(recoveryOptions(f())).toEqual(['down', 'restore']);
    // A succeeded deploy only while it is watched and alerting; nothing once the target changed again.
    expect(recoveryOptions(f({ status: 'succeeded' }))).toEqual([]);
    expect(recoveryRefusal('restore', f({ status: 'succeeded' }))).toMatch(/rolled back only while its post-deployment checks still watch it/);
    expect(recoveryOptions(f({ status: 'succeeded', alerting: true }))).toEqual(['down', 'restore']);
    expect(recoveryOptions(f({ laterChange: 'an apply run queued 2026-11-20' }))).toEqual([]);
    expect(recoveryRefusal('restore', f({ status: 'succeeded', alerting: true, laterChange: 'an apply run queued 2026-11-20' })))
      .toMatch(/changed again after this deploy \(an apply run queued 2026-11-20\): recovering this deploy now would undo that change too/);
    expect(recoveryOptions(f({ phase: 'push' }))).toEqual([]);
    expect(recoveryRefusal('restore', f({ phase: 'backup' }))).toMatch(/before it changed the target \(in backup\)/);
    expect(recoveryOptions(f({ applied: false }))).toEqual(['restore']);
    expect(recoveryRefusal('down', f({ applied: false }))).toMatch(/not recorded as applied/);
    expect(recoveryOptions(f({ hasDown: false, backupArtifactId: null }))).toEqual([]);
    expect(recoveryRefusal('down', f({ hasDown: false }))).toMatch(/no down.sql/);
    expect(recoveryOptions(f({ recovering: true }))).toEqual([]);
    expect(recoveryRefusal('down', f({ status: 'recovered' }))).toMatch(/This deploy is recovered/);
  });
});

describe('phases and versions', () => {
  it('starts and ends phases in order, replacing a phase started again', () => {
    const t = new Date('2026-01-01T00:00:00Z');
    let phases = startPhase([], 'commit', t);
    phases = endPhase(phases, 'commit', 'ok', t, 'commit abc');
    phases = startPhase(phases, 'push', t);
    phases = endPhase(phases, 'push', 'failed', t, 'rejected');
    expect(phases.map((p) => [p.phase, p.status, p.detail])).toEqual([['commit', 'ok', 'commit abc'], ['push', 'failed', 'rejected']]);
    expect(endPhase([], 'health', 'skipped', t).map((p) => p.status)).toEqual(['skipped']);
  });

  it('bumps the patch version as npm version patch does', () => {
    expect(bumpPatch('1.4.2')).toBe('1.4.3');
    expect(bumpPatch('0.9.19')).toBe('0.9.20');
    expect(bumpPatch('2.0.0-rc.1')).toBe('2.0.0');
    expect(bumpPatch('1.2')).toBeNull();
    expect(bumpPatch('v1.2.3')).toBeNull();
  });
});
