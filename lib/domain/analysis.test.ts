import { describe, expect, it } from 'vitest';
import { analysisEvidence, analysisSummary, canAcknowledgeDestructive, desiredChangesFromAnalysis, migrationStrategyFromAnalysis, raiseRisk, type ImpactAnalysisView } from './analysis';
import { DRIFT_ADVICE } from './drift';

const statement = (index: number, kind: string, summary: string, lock: string) => ({
  index, line: index + 1, column: 1, kind, sql: summary, summary, classified: true, objects: [], lock, lockEffect: '', locks: [],
  rewrites: [], scans: index === 2 ? [{ table: 'public.orders', reason: 'index build' }] : [], transactional: true, risk: 'low' as const, riskReasons: [], notes: [],
});

const impact: ImpactAnalysisView = {
  statements: [statement(0, 'VariableSetStmt', 'set lock_timeout', 'none'), statement(1, 'AlterTableStmt', 'drop column note of public.orders', 'ACCESS EXCLUSIVE'), statement(2, 'IndexStmt', 'create index public.i on public.orders', 'SHARE')],
  destructive: [{ operationKey: 'drop_column:public.orders.note', kind: 'drop_column', object: 'public.orders.note', statementIndex: 1, line: 2, description: 'drops column public.orders.note' }],
  risk: { level: 'high', reasons: ['line 2: drops column public.orders.note'] },
  strategies: [{ kind: 'create_index_concurrently', statementIndex: 2, line: 3, title: 'Build public.i concurrently', why: 'Writes go on.', sql: 'CREATE INDEX CONCURRENTLY i ON orders (qty);' }],
  tables: [{ name: 'public.orders', kind: 'table', rows: 10, rowsExact: true, bytes: 8192 }],
  unknownStatements: 0, atomic: true, catalogRead: true, serverVersion: '15.4', thresholds: { mediumRows: 1, mediumBytes: 1, largeRows: 2, largeBytes: 2 },
};

describe('analysis', () => {
  it('prefills the desired changes from what each statement changes, without session settings', () => {
    expect(desiredChangesFromAnalysis(impact)).toBe('- drop column note of public.orders (line 2)\n- create index public.i on public.orders (line 3)');
  });

  it('prefills the strategy with how the file runs and each safer strategy with its SQL', () => {
    const text = migrationStrategyFromAnalysis(impact);
    expect(text).toMatch(/^Risk high\. The migration runs in one transaction/);
    expect(text).toContain('Line 3: Build public.i concurrently.\nWrites go on.\nCREATE INDEX CONCURRENTLY i ON orders (qty);');
    expect(migrationStrategyFromAnalysis({ ...impact, strategies: [] })).toContain('No safer strategy applies');
  });

  it('summarises for lists and keeps what the gate needs in the evidence', () => {
    expect(analysisSummary(impact, 2)).toBe('risk high: 3 statements, 1 destructive operation, 2 squawk findings');
    const detail = analysisEvidence(4, impact, { version: '2.66.0', error: null, findings: [
      { rule: 'ban-drop-column', level: 'warning', message: 'm', help: null, line: 2, column: 1, docsUrl: 'https://squawkhq.com/docs/ban-drop-column' },
      { rule: 'ban-drop-column', level: 'warning', message: 'm', help: null, line: 2, column: 1, docsUrl: 'https://squawkhq.com/docs/ban-drop-column' },
    ] });
    expect(detail).toMatchObject({ revision: 4, statements: 3, strongestLock: 'ACCESS EXCLUSIVE', scans: 1, rewrites: 0, squawk: { findings: 2, rules: { 'ban-drop-column': 2 } } });
  });

  it('lets database-administrators, leads, reviewers and admins acknowledge', () => {
    const actor = (roles: string[], agentRoles: string[] = []) => ({ id: 'x', roles, agentRoles }) as Parameters<typeof canAcknowledgeDestructive>[0];
    expect(canAcknowledgeDestructive(actor(['engineer'], ['database-administrator']))).toBe(true);
    expect(canAcknowledgeDestructive(actor(['lead']))).toBe(true);
    expect(canAcknowledgeDestructive(actor(['reviewer']))).toBe(true);
    expect(canAcknowledgeDestructive(actor(['admin']))).toBe(true);
    expect(canAcknowledgeDestructive(actor(['engineer'], ['database-optimizer', 'postgres-pro']))).toBe(false);
  });
});

describe('raiseRisk', () => {
  it('keeps the analysis risk when no other evidence failed', () => {
    expect(raiseRisk({ level: 'low', reasons: [] }, { drift: null, lockImpact: null })).toEqual({ level: 'low', reasons: [], raisedBy: [] });
  });

  it('makes a drifted target or a blocking statement high risk, saying why', () => {
    const raised = raiseRisk(
      { level: 'medium', reasons: ['scans public.orders under a SHARE lock'] },
      { drift: { summary: 'drift: 1 difference' }, lockImpact: { summary: 'statement 2 blocked writers 1510 ms' } },
    );
    expect(raised.level).toBe('high');
    expect(raised.reasons).toEqual([
      'scans public.orders under a SHARE lock',
      `The target has drifted from its migrations (drift: 1 difference). ${DRIFT_ADVICE}`,
      "The rehearsal measured blocking past the target's threshold: statement 2 blocked writers 1510 ms",
    ]);
  });
});
