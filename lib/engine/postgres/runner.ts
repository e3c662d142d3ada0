import { Client, type ClientConfig } from 'pg';
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
  /** The script was stopped on purpose (its signal aborted): cancelled, rolled back where it could be. */
  aborted?: boolean;
}

export interface RunHooks {
  onStatement?: (s: PlannedStatement) => void;
  /** Runs inside the transaction that holds the last transactional statements (history rows). */
  beforeCommit?: (client: Client) => Promise<void>;
  /**
   * Stops the script: the running statement is cancelled on the server (pg_cancel_backend from a
   * second connection), its transaction rolled back, and the result returned once the rollback
   * has finished. Nothing after it starts.
   */
  signal?: AbortSignal;
}

/**
 * Cancels whatever `client`'s session is running, from a second connection with the same
 * settings (a session may cancel its own role's statements). Best effort: the caller checks.
 */
export async function cancelSessionStatement(client: Client): Promise<boolean> {
  const pid = (client as unknown as { processID: number | null }).processID;
  if (!pid) return false;
  const other = new Client({
    host: client.host, port: client.port, user: client.user, database: client.database, password: client.password,
    ssl: client.ssl as ClientConfig['ssl'], application_name: 'cutover cancel', connectionTimeoutMillis: 5000,
  });
  other.on('error', () => undefined);
  try {
    await other.connect();
    const { rows } = await other.query<{ ok: boolean }>('SELECT pg_cancel_backend($1) AS ok', [pid]);
    return rows[0]?.ok ?? false;
  } catch {
    return false;
  } finally {
    await other.end().catch(() => undefined);
  }
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
  // Cancel: the statement in flight is cancelled on the server, again every second while it
  // still runs (a cancel that arrives between two statements would otherwise be lost).
  let inFlight = false;
  let cancelling: NodeJS.Timeout | undefined;
  const onAbort = () => {
    const cancel = () => void (inFlight ? cancelSessionStatement(client) : undefined);
    cancel();
    cancelling ??= setInterval(cancel, 1000);
  };
  hooks.signal?.addEventListener('abort', onAbort, { once: true });
  const aborted = () => hooks.signal?.aborted === true;
  const stopped = (inTransaction: boolean, group: PlannedStatement[], where: string): ScriptResult => {
    for (const x of group) if (inTransaction && evidence[x.index].status === 'ok') evidence[x.index].status = 'rolled_back';
    return {
      ok: false, aborted: true, statements: evidence, durationMs: Math.round(performance.now() - started), committedBeforeFailure: committed,
      error: `Cancelled ${where}${inTransaction ? '; its transaction was rolled back' : ''}.`,
    };
  };
  try {
    for (const [g, group] of groups.entries()) {
      const isLast = g === groups.length - 1;
      if (aborted()) return stopped(false, [], `before line ${group.statements[0].line}`);
      if (group.inTransaction) await client.query('BEGIN');
      for (const s of group.statements) {
        if (aborted()) {
          if (group.inTransaction) await client.query('ROLLBACK');
          return stopped(group.inTransaction, group.statements, `before the statement at line ${s.line}`);
        }
        current = evidence[s.index];
        hooks.onStatement?.(s);
        const t0 = performance.now();
        try {
          inFlight = true;
          await client.query(s.sql);
          current.status = 'ok';
          current.durationMs = Math.round((performance.now() - t0) * 100) / 100;
        } catch (err) {
          const e = err as { message: string; code?: string; position?: string };
          current.status = 'failed';
          current.durationMs = Math.round((performance.now() - t0) * 100) / 100;
          current.error = { message: e.message, code: e.code, ...errorLocation(s, e.position) };
          inFlight = false;
          if (group.inTransaction) {
            // Awaited: the result is recorded only once the server has rolled back.
            await client.query('ROLLBACK').catch(() => undefined);
            for (const x of group.statements) if (evidence[x.index].status === 'ok') evidence[x.index].status = 'rolled_back';
          }
          if (aborted()) return stopped(group.inTransaction, [], `during the statement at line ${s.line}`);
          const where = current.error.line ? ` at line ${current.error.line}, column ${current.error.column}` : ` (statement at line ${s.line})`;
          return {
            ok: false, statements: evidence, durationMs: Math.round(performance.now() - started), committedBeforeFailure: committed,
            error: `${e.message}${where}`,
          };
        } finally {
          inFlight = false;
        }
      }
      if (aborted()) {
        if (group.inTransaction) await client.query('ROLLBACK');
        return stopped(group.inTransaction, group.statements, 'before its changes were committed');
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
    if (cancelling) clearInterval(cancelling);
    hooks.signal?.removeEventListener('abort', onAbort);
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
