import { describe, expect, it } from 'vitest';
import { describeBlockingStatement, lockImpactEvidence, lockImpactVerdict, lockModeName } from './lock-impact';
import { EVIDENCE_DETAIL_SCHEMAS } from './evidence-schemas';
import type { LockImpactView } from './run-results';

const statement = (index: number, max: number, extra: Partial<LockImpactView['statements'][number]> = {}): LockImpactView['statements'][number] => ({
  phase: 'up', index, line: index * 2 + 1, sql: `STATEMENT ${index + 1}`, startedMs: index * 100, durationMs: 90,
  probeBlockedMs: { max, total: max * 2 }, blockedKinds: max > 0 ? ['write'] : [], longestLock: null,
  samples: [{ tMs: index * 100, latencyMs: max || 1, kind: 'write', blocked: max > 0 }], ...extra,
});
const impact = (statements: LockImpactView['statements'], thresholdMs = 100): LockImpactView => ({
  thresholdMs, statements,
  exceeded: statements.filter((s) => s.probeBlockedMs.max > thresholdMs).map((s) => ({ phase: s.phase, index: s.index, line: s.line, sql: s.sql, blockedMs: s.probeBlockedMs.max })),
});

describe('lock impact in words', () => {
  it('names lock modes as PostgreSQL documents them', () => {
    expect(lockModeName('AccessExclusiveLock')).toBe('ACCESS EXCLUSIVE');
    expect(lockModeName('ShareRowExclusiveLock')).toBe('SHARE ROW EXCLUSIVE');
    expect(lockModeName('ShareLock')).toBe('SHARE');
  });

  it('fails on the statement that kept a probe waiting longest beyond the threshold, and names it with its lock', () => {
    const v = lockImpactVerdict(impact([
      statement(0, 0),
      statement(1, 450, { blockedBy: { mode: 'ShareLock', relation: 'public.items' }, sql: 'CREATE INDEX i ON items (code)\nWHERE true' }),
      statement(2, 150, { blockedKinds: ['read', 'write'] }),
    ]));
    expect(v.passed).toBe(false);
    expect(v.worst?.index).toBe(1);
    expect(v.summary).toBe(
      'Over the 100 ms lock threshold: statement 2 of up (line 3) kept writers waiting 450 ms behind its SHARE lock on public.items: CREATE INDEX i ON items (code) (and 1 more statement over it)',
    );
    expect(describeBlockingStatement(statement(2, 150, { blockedKinds: ['read', 'write'] }))).toBe('statement 3 of up (line 5) kept readers and writers waiting 150 ms: STATEMENT 3');
  });

  it('passes when every wait stays within the threshold, and says the longest', () => {
    expect(lockImpactVerdict(impact([statement(0, 40), statement(1, 0)])).summary).toBe(
      'No statement kept the probes waiting longer than 100 ms (longest wait 40 ms, statement 1 of up (line 1)).',
    );
    expect(lockImpactVerdict(impact([statement(0, 0)]))).toMatchObject({ passed: true, summary: 'No statement kept the probes waiting longer than 100 ms.' });
  });

  it('keeps the evidence record small: no probe samples, and its schema accepts it', () => {
    const detail = lockImpactEvidence(impact([statement(0, 450)]), 1000);
    expect(detail.statements[0]).not.toHaveProperty('samples');
    expect(detail.sampleRows).toBe(1000);
    expect(EVIDENCE_DETAIL_SCHEMAS.lock_impact.safeParse(detail).success).toBe(true);
    expect(EVIDENCE_DETAIL_SCHEMAS.lock_impact.safeParse({ ...detail, thresholdMs: 'high' }).success).toBe(false);
  });
});
