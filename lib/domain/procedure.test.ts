import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DATABASE_MIGRATION_V1, planWorkflow } from './procedure';
import { AGENT_ROLES } from './roles';

// The repository keeps its own copy of the procedure, so a fresh clone tests against it.
const procedure = readFileSync(path.resolve(__dirname, '../../docs/procedure/database-migration.md'), 'utf8');

describe('the database migration template', () => {
  const plan = planWorkflow(DATABASE_MIGRATION_V1);

  it('has the nine steps of the procedure, in order', () => {
    expect(plan.map((t) => t.subject)).toEqual([
      'Analyze database change',
      'Create migration',
      'Test migration locally',
      'Update app code',
      'Test app with new schema',
      'Create backup',
      'Pass quality gate',
      'Deploy migration',
      'Run post-deployment checks',
    ]);
    expect(plan.map((t) => t.position)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it('uses the TaskCreate subjects the procedure names', () => {
    const named = [...procedure.matchAll(/TaskCreate: "([^"]+)"/g)].map((m) => m[1]);
    expect(named).toHaveLength(6);
    for (const subject of named) expect(plan.some((t) => t.subject === subject)).toBe(true);
  });

  it('copies every bullet of each step into its checklist', () => {
    for (const step of DATABASE_MIGRATION_V1.steps.filter((s) => !s.gate)) {
      for (const bullet of step.checklist) expect(procedure).toContain(`- ${bullet}`);
    }
    expect(plan.find((t) => t.key === 'analysis')!.checklist).toEqual([
      'Understand current schema',
      'Document desired changes',
      'Identify data impact',
      'Plan migration strategy',
    ]);
  });

  it('makes each step wait for the one before (blockedBy)', () => {
    expect(plan[0].blockedByPosition).toBeNull();
    for (const t of plan.slice(1)) expect(t.blockedByPosition).toBe(t.position - 1);
  });

  it('gives every step an owner and an -ing activeForm', () => {
    for (const t of plan) {
      expect(t.activeForm).toMatch(/^\w+ing /);
      expect(t.eligibleRoles).toContain(t.owner);
      for (const r of t.eligibleRoles) expect([...AGENT_ROLES, 'reviewer']).toContain(r);
    }
    expect(plan[0].eligibleRoles).toEqual(['database-optimizer', 'postgres-pro']);
    expect(plan[3].owner).toBe('language-specialist');
    expect(plan[4].owner).toBe('test-automator');
  });

  it('makes step 7 the gate, with the six gate items of the procedure and no checklist', () => {
    const gate = plan.filter((t) => t.isGate);
    expect(gate).toHaveLength(1);
    expect(gate[0].position).toBe(7);
    expect(gate[0].checklist).toEqual([]);
    const items = DATABASE_MIGRATION_V1.gateItems.map((g) => g.label);
    expect(items).toHaveLength(6);
    for (const label of items) expect(procedure).toContain(`- [ ] ${label}`);
  });

  it('refuses a template without steps', () => {
    expect(() => planWorkflow({ ...DATABASE_MIGRATION_V1, steps: [] })).toThrow(/no steps/);
  });

  it('does not share arrays with the template (a plan can be changed safely)', () => {
    const p = planWorkflow(DATABASE_MIGRATION_V1);
    p[0].checklist.push('x');
    expect(DATABASE_MIGRATION_V1.steps[0].checklist).not.toContain('x');
  });
});
