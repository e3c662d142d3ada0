import { getDb } from '../../db/client';
import { ImpactAnalysisSchema, SquawkReportSchema, analysisEvidence, analysisSummary } from '../../domain/analysis';
import { EngineNotSupportedError } from '../../engine';
import { recordEvidence } from '../../services/evidence';
import { migrationSqlOf } from '../../services/migration-revisions';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler, withTargetSession } from '../handler';
import { QUEUES } from '../queue';

/**
 * Impact analysis of the run's revision (the latest saved one when it was queued) against the
 * target's live catalog, through a read-only session, with squawk's findings beside it. The
 * migration itself never runs. Outcome, evidence record (on that revision's sha256) and audit row
 * in one transaction. A file that does not parse fails the run with its line and column.
 */
export const analysisHandler = defineHandler({
  kinds: ['analysis'],
  queue: QUEUES.analysis,
  async run(ctx) {
    const { runId, signal, progress } = ctx;
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { target: true, revision: true } });
    if (!run.revision) throw new Error('This analysis run has no migration revision to analyse.');
    const revision = run.revision;
    const started = Date.now();
    progress.log(`analysing revision ${revision.revision} (${revision.name}) against ${run.target.name}'s catalog (read-only)`);
    await ctx.report('reading the catalog and analysing', 30);
    const analysis = await withTargetSession(ctx, run.target, { readOnly: true, what: 'Impact analyses' }, async (session, driver) => {
      if (!driver.analyze) throw new EngineNotSupportedError(run.target.engine, run.target.name, 'Impact analyses');
      // What will run: migration.sql with the revision's data transformation, as apply runs it.
      return driver.analyze(session, migrationSqlOf(revision), { signal });
    });
    if (signal.aborted) throw signal.reason ?? new Error('cancelled');
    // The engine's answer as the store keeps it (parsed again when written and when read).
    const impact = ImpactAnalysisSchema.parse(analysis.impact);
    const squawk = SquawkReportSchema.parse(analysis.squawk);
    progress.log(analysisSummary(impact, squawk.findings.length));
    for (const reason of impact.risk.reasons.slice(0, 50)) progress.log(`  ${reason}`);
    if (squawk.error) progress.log(`squawk did not run: ${squawk.error}`);
    await progress.flush();
    const fields = { revision: revision.revision, durationMs: Date.now() - started, impact, squawk };
    await completeEvidenceRun(runId, { ok: true, ...fields, log: progress.lines }, async (tx, done) => {
      await recordEvidence(tx, {
        kind: 'analysis', targetId: done.targetId, requestId: done.requestId, runId: done.id,
        revision: { id: revision.id, checksum: revision.checksum },
        // Passed only with no destructive operation and no statement of unknown effect (both are in
        // impact.destructive, each to be acknowledged before the gate passes: unacknowledgedDestructiveOperations).
        passed: impact.destructive.length === 0 && impact.unknownStatements === 0 && impact.risk.level !== 'high',
        summary: analysisSummary(impact, squawk.findings.length),
        detail: analysisEvidence(revision.revision, impact, squawk),
        hashes: { migration: revision.checksum },
      });
    });
  },
});
