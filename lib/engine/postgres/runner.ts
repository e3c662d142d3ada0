import type { Client } from 'pg';
import type { PlannedStatement, SqlPlan } from './sql-plan';

/** What one statement did: the evidence a run records. */
export interface StatementEvidence {
  index: number;
  line: number;
  kind: string;
  sql: string;
  transactional: boolean;
  status: 'ok' | 'failed' | 'rolled_back' | 'not_run';
  durationMs: number | null;
  notices: string[];
  error?: { message: string; code?: string; line?: number; column?: number };
}

export interface ScriptResult {
  ok: boolean;
  statements: StatementEvidence[];
  durationMs: number;
  /** Statements that stayed applied although the script failed (only possible when it was not atomic). */
  committedBeforeFailure: number;
  error?: string;
}

export interface RunHooks {
  onStatement?: (s: PlannedStatement) => void;
  /** Runs inside the transaction that holds the last transactional statements (history rows). */
  beforeCommit?: (client: Client) => Promise<void>;
}

const MAX_SQL_IN_EVIDENCE = 2000;

/** Line and column in the file of an error position that PostgreSQL gave relative to one statement. */
function errorLocation(s: PlannedStatement, position?: string) {
  if (!position) return {};
  const before = s.sql.slice(0, Number(position) - 1).split('\n');
  return { line: s.line + before.length - 1, column: before.length === 1 ? s.column + before[0].length : before[before.length - 1].length + 1 };
}

/**
 * Runs a planned script statement by statement on `client`: an atomic plan in one transaction
 * (a failure rolls everything back), otherwise consecutive transactional statements in one
 * transaction each and the others on their own. A file that manages its own transactions runs
 * as written. Records per statement: time, notices, error with its line and column.
 */
export async function runPlannedScript(client: Client, plan: SqlPlan, hooks: RunHooks = {}): Promise<ScriptResult> {
  const started = performance.now();
  const evidence: StatementEvidence[] = plan.statements.map((s) => ({
    index: s.index, line: s.line, kind: s.kind, sql: s.sql.slice(0, MAX_SQL_IN_EVIDENCE), transactional: s.transactional,
    status: 'not_run', durationMs: null, notices: [],
  }));
  let current: StatementEvidence | undefined;
  const onNotice = (n: { message?: string }) => current?.notices.push(n.message ?? String(n));
  client.on('notice', onNotice);

  // Groups: runs of transactional statements share a transaction; others stand alone.
  const groups: { inTransaction: boolean; statements: PlannedStatement[] }[] = [];
  for (const s of plan.statements) {
    const inTransaction = s.transactional && !plan.ownsTransactions;
    const last = groups[groups.length - 1];
    if (last && last.inTransaction && inTransaction) last.statements.push(s);
    else groups.push({ inTransaction, statements: [s] });
  }
  let committed = 0;
  try {
    for (const [g, group] of groups.entries()) {
      const isLast = g === groups.length - 1;
      if (group.inTransaction) await client.query('BEGIN');
      for (const s of group.statements) {
        current = evidence[s.index];
        hooks.onStatement?.(s);
        const t0 = performance.now();
        try {
          await client.query(s.sql);
          current.status = 'ok';
          current.durationMs = Math.round((performance.now() - t0) * 100) / 100;
        } catch (err) {
          const e = err as { message: string; code?: string; position?: string };
          current.status = 'failed';
          current.durationMs = Math.round((performance.now() - t0) * 100) / 100;
          current.error = { message: e.message, code: e.code, ...errorLocation(s, e.position) };
          if (group.inTransaction) {
            await client.query('ROLLBACK').catch(() => undefined);
            for (const x of group.statements) if (evidence[x.index].status === 'ok') evidence[x.index].status = 'rolled_back';
          }
          const where = current.error.line ? ` at line ${current.error.line}, column ${current.error.column}` : ` (statement at line ${s.line})`;
          return {
            ok: false, statements: evidence, durationMs: Math.round(performance.now() - started), committedBeforeFailure: committed,
            error: `${e.message}${where}`,
          };
        }
      }
      if (isLast && hooks.beforeCommit) {
        if (!group.inTransaction) await client.query('BEGIN');
        await hooks.beforeCommit(client);
        await client.query('COMMIT');
      } else if (group.inTransaction) await client.query('COMMIT');
      committed += group.statements.length;
    }
    if (groups.length === 0 && hooks.beforeCommit) {
      await client.query('BEGIN');
      await hooks.beforeCommit(client);
      await client.query('COMMIT');
    }
    return { ok: true, statements: evidence, durationMs: Math.round(performance.now() - started), committedBeforeFailure: 0 };
  } finally {
    client.off('notice', onNotice);
  }
}

/**
 * Session settings every run uses on a target: bounded waits for locks and statements, and (on
 * PostgreSQL 14+) a check every second that the runner is still there, so a killed worker's
 * statement is cancelled and its transaction rolled back at once instead of running on.
 */
export async function applyTimeouts(client: Client, t: { lockTimeoutMs: number; statementTimeoutMs: number }) {
  await client.query(`SELECT set_config('lock_timeout', $1, false), set_config('statement_timeout', $2, false)`, [
    `${t.lockTimeoutMs}ms`,
    `${t.statementTimeoutMs}ms`,
  ]);
  await client.query(
    `SELECT set_config('client_connection_check_interval', '1000ms', false) WHERE current_setting('server_version_num')::int >= 140000`,
  );
}
