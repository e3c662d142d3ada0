import type { Client } from 'pg';
import { getDb, type Tx } from '../db/client';
import { DomainError, conflict, notFound } from '../domain/errors';
import {
  VerificationExpectationSchema, columnExistsSql, compareOutcome, describeExpectation,
  type QueryOutcome, type VerificationExpectation, type VerificationQueryResult,
} from '../domain/verification';
import { SqlSyntaxError, describeViolation, driverFor, findSideEffectCalls, type FenceAllowances } from '../engine';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { loadActor } from '../auth/actor';
import type { ArchiveVerificationQueryInput, VerificationQueryFormInput } from '../validation/verification';
import { fenceAllowancesForTarget } from './app-settings';
import { recordAudit } from './audit';
import { assertCanWriteVerificationQueries } from './post-deploy';
import { backupTargetOf } from './projects';

/**
 * Verification queries (Post-deployment): SQL written on the request with the result it must give.
 * Checked when saved and again before each run: one SELECT the SQL fence lets through. They run in
 * a READ ONLY transaction on a read-only session with a statement timeout, so whatever the SQL
 * says, it cannot change the target (a write is refused by PostgreSQL and recorded as a failure).
 */

/** A verification query never runs longer than this, whatever the target's statement timeout allows. */
export const VERIFICATION_STATEMENT_TIMEOUT_MS = 15_000;
/** Rows fetched per query: enough to show what came back and to tell "no rows" from "some". */
export const VERIFICATION_FETCH_ROWS = 20;

/**
 * The one statement to run, or a refusal with the line and the reason: one SELECT (or VALUES, or
 * WITH ... SELECT), nothing the SQL fence refuses (`allowances` are those of the target it runs
 * on), no call of a function that acts even in a READ ONLY transaction (pg_notify, advisory
 * locks, nextval, pg_sleep, ...). Writes hidden inside a SELECT (a data-modifying WITH, SELECT
 * INTO) are refused by PostgreSQL when it runs, in the read-only transaction.
 */
export async function checkVerificationSql(sql: string, target: { engine: string; name: string }, allowances: FenceAllowances): Promise<string> {
  const driver = driverFor(target, 'Verification queries');
  let plan;
  try {
    plan = await driver.plan(sql);
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw new DomainError('invalid', `The query does not parse: ${err.message}.`, 'sql');
    throw err;
  }
  if (plan.statements.length !== 1) {
    throw new DomainError('invalid', `Write exactly one SELECT statement; this has ${plan.statements.length}.`, 'sql');
  }
  const statement = plan.statements[0];
  if (statement.kind !== 'SelectStmt') {
    throw new DomainError('invalid', `Verification queries only read: write a SELECT (line ${statement.line} is a ${statement.kind.replace(/Stmt$/, '')} statement).`, 'sql');
  }
  // Before the fence: these stay refused even on a target whose admin allowed the fence's kind.
  const sideEffects = await findSideEffectCalls(statement.sql);
  if (sideEffects.length) {
    throw new DomainError('invalid', `Verification queries only read: ${sideEffects.map((f) => `${f}()`).join(', ')} act${sideEffects.length === 1 ? 's' : ''} on the server even in a read-only transaction; remove ${sideEffects.length === 1 ? 'it' : 'them'}.`, 'sql');
  }
  const violations = await driver.fenceViolations(sql, allowances);
  if (violations.length) throw new DomainError('invalid', `The SQL fence refuses this query: ${describeViolation(violations[0])}`, 'sql');
  return statement.sql;
}

/** The expectation and SQL a form describes (column_exists writes its own catalog query). */
function fromForm(input: VerificationQueryFormInput): { expectation: VerificationExpectation; sql: string } {
  switch (input.kind) {
    case 'count':
      return { expectation: { kind: 'count', op: input.op!, value: Number(input.value) }, sql: input.sql! };
    case 'value':
      return { expectation: { kind: 'value', value: input.value ?? '' }, sql: input.sql! };
    case 'column_exists':
      return { expectation: { kind: 'column_exists', table: input.table!, column: input.column! }, sql: columnExistsSql(input.table!, input.column!) };
    case 'no_rows':
      return { expectation: { kind: 'no_rows' }, sql: input.sql! };
  }
}

/**
 * Adds a verification query to the request: checked as a read-only SELECT first, against the fence
 * of the target it will run on (the project's production target; the request's own without a
 * project), audited.
 */
export async function addVerificationQuery(actorId: string, input: VerificationQueryFormInput): Promise<{ id: string }> {
  const { expectation, sql } = fromForm(input);
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    await assertCanWriteVerificationQueries(tx, actor, input.requestId);
    const request = await tx.migrationRequest.findUniqueOrThrow({ where: { id: input.requestId }, select: { targetId: true, projectId: true } });
    const { targetId } = await backupTargetOf(tx, request);
    const target = await tx.targetDatabase.findUniqueOrThrow({ where: { id: targetId }, select: { engine: true, name: true } });
    await checkVerificationSql(sql, target, await fenceAllowancesForTarget(targetId, tx));
    const last = await tx.verificationQuery.findFirst({ where: { requestId: input.requestId }, orderBy: { position: 'desc' }, select: { position: true } });
    const query = await tx.verificationQuery.create({
      data: {
        requestId: input.requestId, position: (last?.position ?? 0) + 1, name: input.name, sql,
        expectation: expectation as unknown as InputJsonValue, createdById: actor.id,
      },
    });
    await recordAudit(tx, {
      actorId: actor.id, requestId: input.requestId, action: 'verification_query.added', entityType: 'VerificationQuery', entityId: query.id,
      after: { name: query.name, expects: describeExpectation(expectation), sql },
    });
    return { id: query.id };
  });
}

/** Removes a query from the request; its row stays (archived) so past results keep their meaning. */
export async function archiveVerificationQuery(actorId: string, input: ArchiveVerificationQueryInput): Promise<void> {
  await getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    const query = await tx.verificationQuery.findUnique({ where: { id: input.queryId } });
    if (!query) throw notFound('Verification query');
    await assertCanWriteVerificationQueries(tx, actor, query.requestId);
    if (query.archivedAt) throw conflict('That verification query was already removed.');
    await tx.verificationQuery.update({ where: { id: query.id }, data: { archivedAt: new Date() } });
    await recordAudit(tx, {
      actorId: actor.id, requestId: query.requestId, action: 'verification_query.removed', entityType: 'VerificationQuery', entityId: query.id,
      before: { name: query.name, sql: query.sql },
    });
  });
}

/** The request's active queries, in order, with their expectations parsed. */
export async function activeVerificationQueries(db: Tx | ReturnType<typeof getDb>, requestId: string) {
  const rows = await db.verificationQuery.findMany({ where: { requestId, archivedAt: null }, orderBy: { position: 'asc' } });
  return rows.map((r) => ({ ...r, expectation: VerificationExpectationSchema.safeParse(r.expectation) }));
}

/** A PostgreSQL error as a reason a person can act on. */
function queryErrorReason(err: unknown, timeoutMs: number): string {
  const e = err as { code?: string; message?: string };
  switch (e.code) {
    case '57014':
      return `The query ran longer than ${Math.round(timeoutMs / 1000)} s and was cancelled; make it cheaper (an index, a narrower WHERE).`;
    case '25006':
      return `The query tried to write (${e.message}); verification queries only read.`;
    case '0A000':
      if (/data-modifying/i.test(e.message ?? '')) return `The query tried to write (${e.message}); verification queries only read.`;
      break;
    case '42P01':
    case '42703':
      return `${e.message} (unqualified names are looked up in the public schema).`;
  }
  return e.message ?? String(err);
}

export interface QueryToRun {
  id: string;
  name: string;
  sql: string;
  expectation: VerificationExpectation;
}

/**
 * Runs each query once on a read-only session (`session`), each in its own READ ONLY transaction
 * with a statement timeout (the target's, capped at VERIFICATION_STATEMENT_TIMEOUT_MS) and names
 * resolving in pg_catalog, then public. Each query is checked again (fence, one SELECT) first.
 * Never throws for a query: its failure is its result.
 */
export async function runVerificationQueries(
  session: Client,
  queries: readonly QueryToRun[],
  options: { target: { engine: string; name: string; statementTimeoutMs: number; lockTimeoutMs: number }; allowances: FenceAllowances; signal?: AbortSignal; onQuery?: (r: VerificationQueryResult) => void },
): Promise<VerificationQueryResult[]> {
  const timeoutMs = Math.min(options.target.statementTimeoutMs, VERIFICATION_STATEMENT_TIMEOUT_MS);
  const lockTimeoutMs = Math.min(options.target.lockTimeoutMs, timeoutMs);
  const results: VerificationQueryResult[] = [];
  for (const q of queries) {
    if (options.signal?.aborted) break;
    const started = performance.now();
    let outcome: QueryOutcome | null = null;
    let reason: string | null = null;
    try {
      const statement = await checkVerificationSql(q.sql, options.target, options.allowances);
      await session.query('BEGIN TRANSACTION READ ONLY');
      try {
        await session.query(`SET LOCAL statement_timeout = ${timeoutMs}`);
        await session.query(`SET LOCAL lock_timeout = ${lockTimeoutMs}`);
        await session.query('SET LOCAL search_path = pg_catalog, public');
        // A cursor fetches only the first rows, however many the query would return.
        await session.query(`DECLARE cutover_verification NO SCROLL CURSOR FOR ${statement}`);
        const fetched = await session.query({ text: `FETCH ${VERIFICATION_FETCH_ROWS + 1} FROM cutover_verification`, rowMode: 'array' });
        const rows = fetched.rows as unknown[][];
        outcome = {
          rowCount: Math.min(rows.length, VERIFICATION_FETCH_ROWS), truncated: rows.length > VERIFICATION_FETCH_ROWS,
          columns: fetched.fields.map((f) => f.name), firstRow: rows[0] ?? null,
        };
      } finally {
        await session.query('ROLLBACK').catch(() => undefined);
      }
    } catch (err) {
      reason = err instanceof DomainError ? err.message : queryErrorReason(err, timeoutMs);
    }
    const durationMs = Math.round(performance.now() - started);
    const comparison = outcome ? compareOutcome(q.expectation, outcome) : null;
    const result: VerificationQueryResult = {
      queryId: q.id, name: q.name, sql: q.sql, expectation: q.expectation, durationMs,
      passed: comparison?.passed ?? false, actual: comparison?.actual ?? null, reason: comparison ? comparison.reason : reason,
    };
    results.push(result);
    options.onQuery?.(result);
  }
  return results;
}
