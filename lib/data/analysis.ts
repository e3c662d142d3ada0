import 'server-only';
import { getDb } from '../db/client';
import { acknowledgeRefusal, desiredChangesFromAnalysis, migrationStrategyFromAnalysis, raiseRisk } from '../domain/analysis';
import { notFound } from '../domain/errors';
import { authorThenAndNow, canWorkTask, type Actor } from '../domain/permissions';
import { readRunResult } from '../domain/run-results';
import { RUN_STEP_POSITION, runRoleRefusal } from '../domain/run-rules';
import { latestEvidence } from '../services/evidence';
import { assertCanRead } from './access';
import { runHeader, runTextRedactor } from './runs';
import { LABELLED_ACCOUNT } from './account-label';

/** At most this many statements are sent to the page (the counts and the risk cover all of them). */
const MAX_STATEMENTS_SHOWN = 1000;

/**
 * The Analysis step's impact analysis: the latest analysis run of the request (risk and its
 * reasons, each statement's locks, rewrites and scans, table sizes, destructive operations with
 * their acknowledgements for the current revision, safer strategies, squawk's findings), the two
 * written fields (prefilled from the analysis until someone saves them), and what the viewer may do.
 */
export async function getAnalysisPanel(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const redact = runTextRedactor(actor);
  const db = getDb();
  const request = await db.migrationRequest.findUnique({
    where: { id: requestId },
    select: { author: { select: { id: true, name: true, ownerId: true } }, desiredChanges: true, migrationStrategy: true, target: { select: { name: true, host: true, port: true } } },
  });
  if (!request) throw notFound('Migration request');
  const [latestRevision, run, step, evidence, drift, lockImpact] = await Promise.all([
    db.migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, authorOwnerId: true, createdBy: { select: { id: true, name: true, ownerId: true } } } }),
    db.run.findFirst({
      where: { requestId, kind: 'analysis' },
      orderBy: { queuedAt: 'desc' },
      include: { requestedBy: LABELLED_ACCOUNT, revision: { select: { id: true, revision: true } } },
    }),
    db.task.findUnique({ where: { requestId_position: { requestId, position: RUN_STEP_POSITION.analysis! } }, select: { subject: true, eligibleRoles: true, isGate: true } }),
    latestEvidence(requestId, 'analysis'),
    latestEvidence(requestId, 'drift'),
    latestEvidence(requestId, 'lock_impact'),
  ]);
  // Failed evidence that still holds (same revision, same target settings) raises the risk.
  const failing = (e: typeof drift | typeof lockImpact) => (e && !e.passed && !e.staleBecause ? { summary: e.summary } : null);
  const acknowledgements = latestRevision
    ? await db.destructiveAcknowledgement.findMany({
        where: { revisionId: latestRevision.id },
        orderBy: { createdAt: 'asc' },
        include: { acknowledgedBy: { select: { name: true } } },
      })
    : [];
  const ackByKey = new Map(acknowledgements.map((a) => [a.operationKey, { by: a.acknowledgedBy.name, note: a.note, at: a.createdAt }]));
  const result = run ? (readRunResult('analysis', run.result, run.id) ?? {}) : null;
  const impact = result?.impact ?? null;
  const current = Boolean(run?.revision && latestRevision && run.revision.id === latestRevision.id);
  const runRefusal = runRoleRefusal(actor, 'analysis', step);
  const destructive = (impact?.destructive ?? []).map((d) => ({
    ...d,
    // Acknowledgements belong to a revision: an analysis of an older one has none that count.
    acknowledged: current ? (ackByKey.get(d.operationKey) ?? null) : null,
  }));
  return {
    canRun: runRefusal === null,
    runRefusal,
    canAcknowledge: acknowledgeRefusal(actor, { filedBy: request.author, revisionAuthors: latestRevision ? authorThenAndNow(latestRevision.createdBy, latestRevision.authorOwnerId) : [] }) === null,
    canEditFields: step ? canWorkTask(actor, step) : false,
    latestRevision: latestRevision?.revision ?? null,
    fields: {
      desiredChanges: request.desiredChanges ?? (impact ? desiredChangesFromAnalysis(impact) : ''),
      migrationStrategy: request.migrationStrategy ?? (impact ? migrationStrategyFromAnalysis(impact) : ''),
      /** Which fields still show the analysis's words rather than saved ones. */
      prefilled: { desiredChanges: request.desiredChanges === null && impact !== null, migrationStrategy: request.migrationStrategy === null && impact !== null },
    },
    run: run && result
      ? {
          ...runHeader(run, redact, request.target),
          revision: run.revision?.revision ?? result.revision ?? null,
          /** The analysis is of an older revision than the latest saved one. */
          outdated: !current,
          durationMs: result.durationMs ?? null,
          staleBecause: evidence?.runId === run.id ? evidence.staleBecause : null,
          log: (result.log ?? []).slice(-200).map((line) => redact(line, request.target)),
          impact: impact
            ? {
                risk: raiseRisk(impact.risk, { drift: failing(drift), lockImpact: failing(lockImpact) }),
                atomic: impact.atomic,
                catalogRead: impact.catalogRead,
                serverVersion: impact.serverVersion,
                unknownStatements: impact.unknownStatements,
                statementCount: impact.statements.length,
                statements: impact.statements.slice(0, MAX_STATEMENTS_SHOWN).map((s) => ({
                  index: s.index, line: s.line, kind: s.kind, sql: s.sql, summary: s.summary, classified: s.classified, lock: s.lock, lockEffect: s.lockEffect,
                  locks: s.locks.filter((l) => !l.newObject).map((l) => `${l.mode} on ${l.object}`),
                  rewrites: s.rewrites, scans: s.scans, transactional: s.transactional, risk: s.risk, notes: s.notes,
                })),
                tables: impact.tables,
                strategies: impact.strategies,
                thresholds: impact.thresholds,
              }
            : null,
          destructive,
          unacknowledged: current ? destructive.filter((d) => !d.acknowledged).length : destructive.length,
          squawk: result.squawk ?? null,
        }
      : null,
  };
}
export type AnalysisPanelView = Awaited<ReturnType<typeof getAnalysisPanel>>;
