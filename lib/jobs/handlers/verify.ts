import { getDb } from '../../db/client';
import { HealthCheckEvidenceSchema, verificationPassed, verificationSummary, type VerificationQueryResult } from '../../domain/verification';
import { checkHealth, publicHealthError, type HealthCheckResult } from '../../health/check';
import { fenceAllowancesFor } from '../../services/app-settings';
import { recordEvidence } from '../../services/evidence';
import { skipVerifyRun, verifyRunObsolete } from '../../services/post-deploy';
import { completeEvidenceRun } from '../../services/runs';
import { activeVerificationQueries, runVerificationQueries, type QueryToRun } from '../../services/verification-queries';
import { defineHandler, withTargetSession } from '../handler';
import { QUEUES } from '../queue';

/** A health check gets this long to answer. */
const HEALTH_TIMEOUT_MS = 10_000;

/**
 * Post-deployment checks of one deployment (the procedure's step 9): the environment's health
 * check polled once, and every active verification query of the request run once against the
 * deployment's target on a read-only session. Records `verification` evidence (and `health_check`
 * evidence where the environment has a URL) with the run's outcome in one transaction. A run whose
 * deployment was recovered or replaced since it was scheduled is skipped (cancelled, with why).
 */
export const verifyHandler = defineHandler({
  kinds: ['verify'],
  queue: QUEUES.verify,
  async run({ runId, job, signal, progress }) {
    const db = getDb();
    const run = await db.run.findUniqueOrThrow({ where: { id: runId }, include: { target: true, deployment: { include: { environment: true } } } });
    const deployment = run.deployment;
    if (!deployment) throw new Error('This check belongs to no deployment; post-deployment checks run against a deployment.');
    const obsolete = await verifyRunObsolete(db, deployment);
    if (obsolete) {
      await skipVerifyRun(runId, obsolete);
      return;
    }
    const checkNumber = typeof job.checkNumber === 'number' ? job.checkNumber : 0;
    const environment = deployment.environment.name;

    let health: (HealthCheckResult & { url: string }) | null = null;
    if (deployment.environment.healthCheckUrl) {
      const url = deployment.environment.healthCheckUrl;
      progress.update(`checking the application's health (${environment})`, 10, {}, true);
      health = { url, ...(await checkHealth(url, { signal, timeoutMs: HEALTH_TIMEOUT_MS })) };
      // The run's log and summary are read by everyone; the full error is kept in the evidence's detail.
      progress.log(health.ok ? `health check: HTTP ${health.status} in ${health.latencyMs} ms` : `health check FAILED: ${publicHealthError(health)}`);
    }
    if (signal.aborted) throw signal.reason ?? new Error('cancelled');

    const stored = await activeVerificationQueries(db, deployment.requestId);
    const unreadable: VerificationQueryResult[] = [];
    const queries: QueryToRun[] = [];
    for (const q of stored) {
      if (q.expectation.success) queries.push({ id: q.id, name: q.name, sql: q.sql, expectation: q.expectation.data });
      else unreadable.push({ queryId: q.id, name: q.name, sql: q.sql, expectation: { kind: 'no_rows' }, passed: false, actual: null, reason: 'Its stored expectation can no longer be read; remove it and write it again.', durationMs: 0 });
    }

    let results: VerificationQueryResult[] = [];
    let connectionError: string | null = null;
    if (queries.length) {
      progress.update(`running ${queries.length} verification quer${queries.length === 1 ? 'y' : 'ies'} on ${run.target.name} (read-only)`, 30, {}, true);
      try {
        const allowances = await fenceAllowancesFor(run.target);
        results = await withTargetSession({ runId, signal }, run.target, { readOnly: true, what: 'Verification queries' }, (session) =>
          runVerificationQueries(session, queries, {
            target: run.target, allowances, signal,
            onQuery: (r) => progress.log(`${r.passed ? 'ok' : 'FAILED'}: ${r.name}${r.reason ? ` (${r.reason})` : ''}`),
          }));
      } catch (err) {
        if (signal.aborted) throw signal.reason ?? err;
        // The target could not be reached: every query failed for that reason, and it is recorded.
        connectionError = `Could not run the queries on ${run.target.name}: ${err instanceof Error ? err.message : String(err)}`;
        progress.log(connectionError);
        results = queries.map((q) => ({ queryId: q.id, name: q.name, sql: q.sql, expectation: q.expectation, passed: false, actual: null, reason: connectionError, durationMs: 0 }));
      }
    }
    if (signal.aborted) throw signal.reason ?? new Error('cancelled');
    results = [...results, ...unreadable];

    // Queries are written on Post-deployment, the step after Deploy: a deploy's first checks often find
    // none yet. That is waiting, not failing: nothing is verified (no `verification` evidence, so the
    // step still waits for it) and nothing is alerted; the scheduled checks run the queries once written.
    const noQueries = results.length === 0;
    const queriesPassed = verificationPassed(results);
    const ok = (noQueries || queriesPassed) && (health?.ok ?? true);
    const summary = verificationSummary(results, environment);
    const healthSummary = health ? (health.ok ? `Health check of ${environment} answered HTTP ${health.status} in ${health.latencyMs} ms.` : `Health check of ${environment} failed: ${publicHealthError(health)}.`) : null;
    if (noQueries) progress.log(summary);
    const error = ok ? undefined : [noQueries || queriesPassed ? null : summary, health && !health.ok ? healthSummary : null].filter(Boolean).join(' ');
    await progress.flush();
    await completeEvidenceRun(
      runId,
      {
        ok, error, deploymentId: deployment.id, checkNumber, queries: results,
        health: health ? { url: health.url, ok: health.ok, status: health.status, latencyMs: health.latencyMs, error: health.error } : null,
        log: progress.lines,
      },
      async (tx, done) => {
        const revision = { id: deployment.revisionId, checksum: deployment.revisionSha256 };
        if (!noQueries) await recordEvidence(tx, {
          kind: 'verification', targetId: done.targetId, requestId: done.requestId, runId: done.id, revision, passed: queriesPassed, summary,
          detail: { deploymentId: deployment.id, environment, target: run.target.name, checkNumber, queries: results, error: connectionError },
        });
        if (health) {
          await recordEvidence(tx, {
            kind: 'health_check', targetId: done.targetId, requestId: done.requestId, runId: done.id, revision, passed: health.ok, summary: healthSummary!,
            detail: HealthCheckEvidenceSchema.parse({ deploymentId: deployment.id, environment, url: health.url, status: health.status, latencyMs: health.latencyMs, error: health.error, checkNumber }),
          });
        }
      },
    );
  },
});
