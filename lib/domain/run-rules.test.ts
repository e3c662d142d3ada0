import { describe, expect, it } from 'vitest';
import { frozenSettingsChange, isRunFinished, runRoleRefusal, runTargetRefusal, type FrozenRunSettings } from './run-rules';

const actor = (roles: string[], agentRoles: string[] = []) => ({ id: 'u', roles: roles as never, agentRoles });
const step = { subject: 'Test migration locally', eligibleRoles: ['database-administrator', 'test-automator'], isGate: false };

describe('who may start (and cancel) a run', () => {
  it('takes the step roles for snapshots and rehearsals, admins too', () => {
    expect(runRoleRefusal(actor(['engineer'], ['test-automator']), 'rehearsal', step)).toBeNull();
    expect(runRoleRefusal(actor(['admin']), 'rehearsal', step)).toBeNull();
    expect(runRoleRefusal(actor(['engineer']), 'rehearsal', step)).toBe('Only holders of database-administrator or test-automator (or admins) can rehearse the migration.');
    expect(runRoleRefusal(actor(['engineer']), 'snapshot', { ...step, subject: 'Analyze database change' })).toBe(
      'Only holders of database-administrator or test-automator (or admins) can take snapshots for "Analyze database change".',
    );
  });

  it('takes the database-administrator role (or admin) for apply and down, and refuses production targets', () => {
    expect(runRoleRefusal(actor(['engineer'], ['database-administrator']), 'down')).toBeNull();
    expect(runRoleRefusal(actor(['lead']), 'apply')).toBe('Applying migrations to a target needs the database-administrator role (or admin).');
    expect(runTargetRefusal('apply', { name: 'Prod', environment: 'production' })).toMatch(/^Prod is a production target/);
    expect(runTargetRefusal('rehearsal', { name: 'Prod', environment: 'production' })).toBeNull();
    // A target behind an approval is guarded whatever its label; a deploy's own down run is not.
    expect(runTargetRefusal('down', { name: 'Main', environment: 'staging', approvalEnvironment: 'live (Shop)' })).toMatch(/^Main is the target of the live \(Shop\) environment, which requires approval: changes to it go through the Deploy step/);
    expect(runTargetRefusal('down', { name: 'Main', environment: 'staging', approvalEnvironment: 'live (Shop)' }, { deploymentId: 'd' })).toBeNull();
    expect(runTargetRefusal('apply', { name: 'Main', environment: 'staging', approvalEnvironment: null })).toBeNull();
  });

  it('takes lead, database-administrator or admin for status checks', () => {
    expect(runRoleRefusal(actor(['lead']), 'status')).toBeNull();
    expect(runRoleRefusal(actor(['engineer']), 'status')).toBe('Checking migration status needs the database-administrator, lead or admin role.');
  });
});

describe('frozen settings', () => {
  const frozen: FrozenRunSettings = {
    target: {
      environment: 'staging', host: 'db.internal', port: 5432, database: 'shop', username: 'app', passwordFingerprint: 'aa', sslMode: 'disable',
      connectTimeoutMs: 5000, lockTimeoutMs: 5000, statementTimeoutMs: 600000, runDeadlineMs: 1800000, allowedStatementKinds: [], rehearsalServerFingerprint: null,
    },
    revisionChecksum: 'c1',
    requester: { id: 'u', roles: ['admin'], agentRoles: [] },
  };
  it('names the first thing that changed', () => {
    expect(frozenSettingsChange(frozen, structuredClone(frozen))).toBeNull();
    expect(frozenSettingsChange(frozen, { ...frozen, target: { ...frozen.target, host: 'other' } })).toBe("The target's host changed after this run was queued; queue it again.");
    expect(frozenSettingsChange(frozen, { ...frozen, target: { ...frozen.target, passwordFingerprint: 'bb' } })).toBe("The target's password changed after this run was queued; queue it again.");
    expect(frozenSettingsChange(frozen, { ...frozen, target: { ...frozen.target, allowedStatementKinds: ['role'] } })).toBe(
      "The target's allowed statement kinds changed after this run was queued; queue it again.",
    );
    expect(frozenSettingsChange(frozen, { ...frozen, revisionChecksum: 'c2' })).toBe('The migration changed after this run was queued; queue it again.');
  });
  it('does not compare the requester\'s roles (they are re-checked by rule)', () => {
    expect(frozenSettingsChange(frozen, { ...frozen, requester: { id: 'u', roles: ['admin', 'lead'], agentRoles: [] } })).toBeNull();
  });
});

it('knows which runs have ended', () => {
  expect(['succeeded', 'failed', 'interrupted', 'cancelled', 'timed_out'].every(isRunFinished)).toBe(true);
  expect(isRunFinished('queued') || isRunFinished('running')).toBe(false);
});

describe('who may start the evidence runs', () => {
  const analysis = { subject: 'Analyze database change', eligibleRoles: ['database-optimizer', 'postgres-pro'], isGate: false };
  const backup = { subject: 'Create backup', eligibleRoles: ['database-administrator'], isGate: false };
  it('takes the Analysis step holders or a database-administrator for analysis', () => {
    expect(runRoleRefusal(actor(['engineer'], ['postgres-pro']), 'analysis', analysis)).toBeNull();
    expect(runRoleRefusal(actor(['engineer'], ['database-administrator']), 'analysis', analysis)).toBeNull();
    expect(runRoleRefusal(actor(['admin']), 'analysis', analysis)).toBeNull();
    expect(runRoleRefusal(actor(['lead']), 'analysis', analysis)).toBe(
      'Only holders of database-optimizer or postgres-pro or database-administrator (or admins) can analyse the migration for "Analyze database change".',
    );
  });
  it('takes the Create backup step holders for backups and drills, on production targets too', () => {
    expect(runRoleRefusal(actor(['engineer'], ['database-administrator']), 'backup', backup)).toBeNull();
    expect(runRoleRefusal(actor(['engineer'], ['postgres-pro']), 'drill', backup)).toBe('Only holders of database-administrator (or admins) can run restore drills for "Create backup".');
    expect(runTargetRefusal('backup', { name: 'Prod', environment: 'production' })).toBeNull();
    expect(runTargetRefusal('drill', { name: 'Prod', environment: 'production' })).toBeNull();
  });
  it('takes Analysis step holders, database-administrators and leads for drift', () => {
    expect(runRoleRefusal(actor(['lead']), 'drift', analysis)).toBeNull();
    expect(runRoleRefusal(actor(['engineer'], ['database-optimizer']), 'drift', analysis)).toBeNull();
    expect(runRoleRefusal(actor(['engineer'], ['test-automator']), 'drift', analysis)).toMatch(/^Checking drift needs/);
  });
});
