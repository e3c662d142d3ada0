import 'server-only';
import { cache } from 'react';
import { getDb, type Db, type Tx } from '../db/client';
import { notFound } from '../domain/errors';
import { canWorkTask, hasRole, holdsAnyRole, isAdmin, type Actor } from '../domain/permissions';
import { RUN_STEP_POSITION } from '../domain/run-rules';
import {
  HealthCheckEvidenceSchema, VerificationEvidenceSchema, VerificationExpectationSchema, describeExpectation,
  type ExpectationKind,
} from '../domain/verification';
import { publicHealthError } from '../health/check';
import { assertCanRead } from './access';
import { runTextRedactor } from './runs';

/** A failing post-deployment check that nobody has fixed yet: the latest check of its kind on a live deployment failed. */
export interface PostDeployAlert {
  /** The evidence record of the failing check. */
  id: string;
  kind: 'verification' | 'health_check';
  requestId: string;
  requestNumber: number;
  requestTitle: string;
  deploymentId: string;
  environment: string;
  summary: string;
  checkedAt: Date;
  runId: string | null;
  /** Failing checks in a row, up to this one (1 when it just started failing). */
  failingChecks: number;
}

interface AlertRow {
  id: string;
  kind: 'verification' | 'health_check';
  request_id: string;
  number: number;
  title: string;
  deployment_id: string;
  environment: string;
  summary: string;
  created_at: Date;
  run_id: string | null;
  failing: number;
}

/**
 * Open alerts (for the request page and the lead's board): for each deployment that is still the
 * one watched (succeeded, and no newer live deployment of the request to the same environment), the
 * latest verification and health check when it failed. A check that passes again, a recovery or a
 * newer deployment closes the alert. Verification records without any query (nothing was written
 * to check) are a gap the page states, not an alert. No viewer check: callers in lib/data check it.
 */
export async function openAlerts(db: Db | Tx, options: { requestId?: string } = {}): Promise<PostDeployAlert[]> {
  const rows = await db.$queryRawUnsafe<AlertRow[]>(
    `WITH live AS (
       SELECT d.id, d.request_id, d.environment_id, d.created_at FROM deployments d
       WHERE d.status = 'succeeded' ${options.requestId ? 'AND d.request_id = $1::uuid' : ''}
         AND NOT EXISTS (SELECT 1 FROM deployments n WHERE n.request_id = d.request_id AND n.environment_id = d.environment_id AND n.created_at > d.created_at
                           AND n.status IN ('queued', 'running', 'succeeded'))
     ), checks AS (
       SELECT e.id, e.kind::text AS kind, e.passed, e.summary, e.created_at, e.run_id, e.detail, l.id AS deployment_id, l.request_id, l.environment_id,
              row_number() OVER (PARTITION BY l.id, e.kind ORDER BY e.created_at DESC) AS nth
       FROM live l
       JOIN runs ru ON ru.deployment_id = l.id AND ru.kind = 'verify'
       JOIN evidence e ON e.run_id = ru.id AND e.kind IN ('verification', 'health_check')
     ), latest AS (
       SELECT c.*, (SELECT count(*) FROM checks p WHERE p.deployment_id = c.deployment_id AND p.kind = c.kind AND NOT p.passed
                      AND p.created_at > coalesce((SELECT max(q.created_at) FROM checks q WHERE q.deployment_id = c.deployment_id AND q.kind = c.kind AND q.passed), '-infinity'))::int AS failing
       FROM checks c WHERE c.nth = 1 AND NOT c.passed
         AND (c.kind <> 'verification' OR jsonb_array_length(coalesce(c.detail->'queries', '[]'::jsonb)) > 0)
     )
     SELECT l.id, l.kind, l.request_id, r.number, r.title, l.deployment_id, env.name AS environment, l.summary, l.created_at, l.run_id, l.failing
     FROM latest l
     JOIN migration_requests r ON r.id = l.request_id
     JOIN project_environments env ON env.id = l.environment_id
     ORDER BY l.created_at DESC
     LIMIT 200`,
    ...(options.requestId ? [options.requestId] : []),
  );
  return rows.map((r) => ({
    id: r.id, kind: r.kind, requestId: r.request_id, requestNumber: r.number, requestTitle: r.title, deploymentId: r.deployment_id,
    environment: r.environment, summary: r.summary, checkedAt: r.created_at, runId: r.run_id, failingChecks: r.failing,
  }));
}

/** A request's open alerts, read once per page view: its post-deployment panel and its success criteria both show them. */
export const requestOpenAlerts = cache((requestId: string) => openAlerts(getDb(), { requestId }));

/** Open alerts for a reader (the board): at least one role, like every read of requests. */
export async function listOpenAlerts(viewer: Actor, options: { requestId?: string } = {}): Promise<PostDeployAlert[]> {
  assertCanRead(viewer);
  return openAlerts(getDb(), options);
}

const RECENT_CHECKS = 30;

/**
 * The Post-deployment section: the request's verification queries, its deployments with their
 * schedule and latest results, the checks so far, open alerts and the issue notes with their
 * history. Errors that name the target's address are redacted for people who do not manage targets.
 */
export async function getPostDeployPanel(viewer: Actor, requestId: string) {
  assertCanRead(viewer);
  const db = getDb();
  const redact = runTextRedactor(viewer);
  const now = new Date();
  // All at once (the request is checked after): under load each await waits behind every other page's work.
  const [request, steps, queries, deployments, runs, notes, alerts] = await Promise.all([
    db.migrationRequest.findUnique({ where: { id: requestId }, select: { id: true, authorId: true, projectId: true, project: { select: { verificationIntervalSeconds: true, verificationWindowMinutes: true } } } }),
    db.task.findMany({ where: { requestId, position: { in: [RUN_STEP_POSITION.verify!, RUN_STEP_POSITION.restore!] } }, select: { position: true, eligibleRoles: true, isGate: true } }),
    db.verificationQuery.findMany({ where: { requestId, archivedAt: null }, orderBy: { position: 'asc' }, include: { createdBy: { select: { name: true } } } }),
    db.deployment.findMany({
      where: { requestId }, orderBy: { createdAt: 'desc' }, take: 20,
      include: { environment: { select: { name: true, position: true, healthCheckUrl: true } }, target: { select: { name: true, host: true, port: true } } },
    }),
    db.run.findMany({
      where: { requestId, kind: 'verify' }, orderBy: { queuedAt: 'desc' }, take: 200,
      select: {
        id: true, status: true, phase: true, error: true, queuedAt: true, startedAt: true, finishedAt: true, deploymentId: true,
        target: { select: { name: true, host: true, port: true } }, evidence: { select: { id: true, kind: true, passed: true, summary: true, detail: true, createdAt: true } },
      },
    }),
    db.issueNote.findMany({ where: { requestId }, orderBy: { createdAt: 'desc' }, take: 50, include: { author: { select: { name: true } } } }),
    requestOpenAlerts(requestId),
  ]);
  if (!request) throw notFound('Migration request');

  const step = steps.find((s) => s.position === RUN_STEP_POSITION.verify) ?? null;
  // Rolling back is the Deploy step's recovery: its holders (and admins) get the buttons.
  const deployStep = steps.find((s) => s.position === RUN_STEP_POSITION.restore) ?? null;
  const mayWorkStep = step !== null && canWorkTask(viewer, step);
  const canWrite = isAdmin(viewer) || hasRole(viewer, 'lead') || (viewer.id === request.authorId && holdsAnyRole(viewer)) || mayWorkStep;
  // What a query returned can be production data: others see only whether it passed.
  const mayReadActuals = isAdmin(viewer) || hasRole(viewer, 'lead') || mayWorkStep;
  // A failed health check's error names sockets and redirect targets: others see the status only.
  const mayReadHealthErrors = isAdmin(viewer) || mayWorkStep;
  const environmentOf = new Map(deployments.map((d) => [d.id, d.environment.name]));

  const checks = runs
    .filter((r) => r.status !== 'queued' || r.queuedAt <= now)
    .slice(0, RECENT_CHECKS)
    .map((r) => {
      const verification = r.evidence.find((e) => e.kind === 'verification');
      const health = r.evidence.find((e) => e.kind === 'health_check');
      const detail = verification ? VerificationEvidenceSchema.safeParse(verification.detail) : null;
      const healthDetail = health ? HealthCheckEvidenceSchema.safeParse(health.detail) : null;
      return {
        runId: r.id, status: r.status, error: redact(r.error, r.target), queuedAt: r.queuedAt, finishedAt: r.finishedAt,
        environment: (r.deploymentId && environmentOf.get(r.deploymentId)) ?? null,
        verification: verification
          ? {
              evidenceId: verification.id, passed: verification.passed, summary: verification.summary,
              results: detail?.success
                ? detail.data.queries.map((q) => ({
                    queryId: q.queryId, name: q.name, passed: q.passed, actual: mayReadActuals ? q.actual : null,
                    reason: mayReadActuals ? redact(q.reason, r.target) : null, durationMs: q.durationMs, expects: describeExpectation(q.expectation),
                  }))
                : [],
            }
          : null,
        health: health && healthDetail?.success
          ? {
              evidenceId: health.id, passed: health.passed, status: healthDetail.data.status, latencyMs: healthDetail.data.latencyMs,
              error: healthDetail.data.error === null ? null : mayReadHealthErrors ? healthDetail.data.error : publicHealthError(healthDetail.data),
            }
          : null,
      };
    });

  return {
    requestId,
    hasProject: request.projectId !== null,
    schedule: request.project ? { intervalSeconds: request.project.verificationIntervalSeconds, windowMinutes: request.project.verificationWindowMinutes } : null,
    canWrite,
    canWriteQueries: isAdmin(viewer) || mayWorkStep,
    canRunChecks: isAdmin(viewer) || mayWorkStep,
    canRollback: isAdmin(viewer) || (deployStep !== null && canWorkTask(viewer, deployStep)),
    runners: step?.eligibleRoles ?? [],
    queries: queries.map((q) => {
      const expectation = VerificationExpectationSchema.safeParse(q.expectation);
      return {
        id: q.id, name: q.name, sql: q.sql, kind: (expectation.success ? expectation.data.kind : null) as ExpectationKind | null,
        expects: expectation.success ? describeExpectation(expectation.data) : '(unreadable expectation)', createdBy: q.createdBy.name, createdAt: q.createdAt,
      };
    }),
    deployments: deployments.map((d) => {
      const pending = runs.filter((r) => r.deploymentId === d.id && r.status === 'queued' && r.queuedAt > now);
      return {
        id: d.id, environment: d.environment.name, position: d.environment.position, status: d.status, createdAt: d.createdAt,
        finishedAt: d.finishedAt, verifyUntil: d.verifyUntil, healthCheckUrl: d.environment.healthCheckUrl,
        nextCheckAt: pending.length ? pending[pending.length - 1].queuedAt : null, checksLeft: pending.length,
      };
    }),
    checks,
    alerts,
    issues: {
      current: notes[0] ? { id: notes[0].id, body: notes[0].body, author: notes[0].author.name, createdAt: notes[0].createdAt } : null,
      history: notes.map((n) => ({ id: n.id, body: n.body, author: n.author.name, createdAt: n.createdAt })),
    },
  };
}

export type PostDeployPanelView = Awaited<ReturnType<typeof getPostDeployPanel>>;
