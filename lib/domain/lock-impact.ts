import type { LockImpactView } from './run-results';

/** "ShareRowExclusiveLock" -> "SHARE ROW EXCLUSIVE", as LOCK TABLE and PostgreSQL's documentation name the modes. */
export const lockModeName = (mode: string) => mode.replace(/Lock$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();

type Statement = LockImpactView['statements'][number];

/** "statement 2 of up (line 4)": statements are counted from 1, as people read a file. */
export const statementLabel = (s: Pick<Statement, 'phase' | 'index' | 'line'>) => `statement ${s.index + 1} of ${s.phase} (line ${s.line})`;

/** Who waited, in words: "writers", "readers and writers". */
const waiters = (s: Statement) => (s.blockedKinds?.length ? s.blockedKinds.map((k) => (k === 'read' ? 'readers' : 'writers')).join(' and ') : 'the probes');

/** One sentence naming a statement and how long it kept the probes waiting, on which lock. */
export function describeBlockingStatement(s: Statement): string {
  const lock = s.blockedBy ? ` behind its ${lockModeName(s.blockedBy.mode)} lock on ${s.blockedBy.relation}` : '';
  return `${statementLabel(s)} kept ${waiters(s)} waiting ${Math.round(s.probeBlockedMs.max)} ms${lock}: ${s.sql.split('\n')[0].slice(0, 120)}`;
}

/**
 * Whether a rehearsal's lock impact passes the target's threshold, and the line that says so:
 * the statement that kept a probe waiting longest beyond it is named (a statement over the
 * threshold raises the request's risk).
 */
export function lockImpactVerdict(impact: LockImpactView): { passed: boolean; summary: string; worst: Statement | null } {
  const worst = [...impact.statements].sort((a, b) => b.probeBlockedMs.max - a.probeBlockedMs.max)[0] ?? null;
  const over = impact.statements.filter((s) => s.probeBlockedMs.max > impact.thresholdMs);
  if (over.length && worst) {
    const more = over.length > 1 ? ` (and ${over.length - 1} more statement${over.length > 2 ? 's' : ''} over it)` : '';
    return { passed: false, worst, summary: `Over the ${impact.thresholdMs} ms lock threshold: ${describeBlockingStatement(worst)}${more}` };
  }
  const longest = worst && worst.probeBlockedMs.max > 0 ? ` (longest wait ${Math.round(worst.probeBlockedMs.max)} ms, ${statementLabel(worst)})` : '';
  return { passed: true, worst, summary: `No statement kept the probes waiting longer than ${impact.thresholdMs} ms${longest}.` };
}

/** The evidence record's detail: the lock impact without its probe samples (the run's result keeps those). */
export function lockImpactEvidence(impact: LockImpactView, sampleRows: number) {
  return { ...impact, sampleRows, statements: impact.statements.map(({ samples: _samples, ...s }) => s) };
}
