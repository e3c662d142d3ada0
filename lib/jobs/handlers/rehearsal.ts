import { getDb } from '../../db/client';
import { dataLossCheck, driverFor, scratchDatabaseName, type PhaseEvidence } from '../../engine';
import { fenceAllowancesFor } from '../../services/app-settings';
import { targetSettings } from '../../services/manage-targets';
import { declaredChangesOf, migrationSqlOf } from '../../services/migration-revisions';
import { dataLossOfPhases } from '../../domain/data-loss';
import { rehearsalOutcome, type SchemaShapeEvidence } from '../../domain/step-evidence';
import { lockImpactEvidence, lockImpactVerdict } from '../../domain/lock-impact';
import { LockImpactSchema } from '../../domain/run-results';
import { recordEvidence } from '../../services/evidence';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler, dropInterruptedScratch, sandboxFor } from '../handler';
import { QUEUES } from '../queue';
import { NO_SAMPLE_WORDS } from '../../validation/rehearsal';

// clone, sample, snapshot, up, data-loss, verify-schema, down, verify-rollback, redo, drop
const REHEARSAL_PHASES = 10;

/** Rehearses the run's revision on a scratch copy of its target, recording each phase as it ends. */
export const rehearsalHandler = defineHandler({
  kinds: ['rehearsal'],
  queue: QUEUES.rehearsal,
  async run({ runId, job, signal, progress }) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { revision: true, target: true } });
    if (!run.revision) throw new Error('The revision to rehearse no longer exists.');
    const driver = driverFor(run.target, 'Rehearsals');
    const phases: PhaseEvidence[] = [];
    const sampleRows = typeof job.sampleRows === 'number' ? job.sampleRows : 0;
    const declared = declaredChangesOf(run.revision);
    const result = await driver.rehearse(
      targetSettings(run.target),
      { name: run.revision.name, upSql: migrationSqlOf(run.revision), downSql: run.revision.downSql },
      {
        scratch: scratchDatabaseName(runId),
        sampleRows,
        // With a data sample, a probe workload measures how long each statement blocks readers and writers.
        ...(sampleRows > 0 ? { lockProbe: { thresholdMs: run.target.lockImpactThresholdMs } } : {}),
        // With a data sample, the data-loss check: counts and checksums before and after up, held to the revision's declarations.
        ...(sampleRows > 0 ? { dataCheck: dataLossCheck(declared ?? { tables: [] }) } : {}),
        // Never the target's server: the target's rehearsal server, the install's, or this worker's warm sandbox.
        sandbox: sandboxFor(run.target),
        signal,
        fence: await fenceAllowancesFor(run.target),
        onPhase: (p) => {
          phases.push(p);
          progress.log(`${p.status === 'ok' ? 'ok' : 'FAILED'}: ${p.label} (${p.durationMs} ms)${p.detail ? `: ${p.detail}` : ''}`);
          progress.update(p.label, Math.round((phases.length / REHEARSAL_PHASES) * 95), { phases: [...phases] }, true);
        },
        onStatement: (phase, st, total) =>
          progress.update(`${phase}: statement ${st.index + 1} of ${total} (line ${st.line}): ${st.sql.slice(0, 120)}`, undefined, { phases: [...phases] }),
      },
    );
    await progress.flush();
    const revision = { id: run.revision.id, checksum: run.revision.checksum };
    // The schema after up goes into the rehearsal's evidence (the app-schema comparison reads it), not into the run's result.
    const { afterUpShape, ...outcome } = result;
    const rehearsed = run.revision.revision;
    await completeEvidenceRun(runId, { ...outcome, revision: rehearsed, log: progress.lines }, async (tx, done) => {
      const impact = result.lockImpact && LockImpactSchema.parse(result.lockImpact);
      if (impact && !impact.error && impact.statements.length > 0) {
        const verdict = lockImpactVerdict(impact);
        await recordEvidence(tx, {
          kind: 'lock_impact', targetId: done.targetId, requestId: done.requestId, runId: done.id, revision,
          passed: verdict.passed, summary: verdict.summary, detail: lockImpactEvidence(impact, sampleRows),
        });
      }
      const dataLoss = dataLossOfPhases(result.phases);
      const verdict = rehearsalOutcome(result.phases);
      await recordEvidence(tx, {
        kind: 'rehearsal', targetId: done.targetId, requestId: done.requestId, runId: done.id, revision, passed: verdict.passed,
        summary: verdict.passed
          ? `rehearsal of revision ${rehearsed} passed: up, schema check, down, rollback proof and redo${sampleRows > 0 ? ` on a sample of ${sampleRows} rows a table` : `; ${NO_SAMPLE_WORDS}`}`
          : `rehearsal of revision ${rehearsed} failed: ${verdict.failed.join('; ').slice(0, 400)}`,
        detail: {
          revision: rehearsed, ok: result.ok, ...(result.error ? { error: result.error } : {}),
          phases: result.phases.map((p) => ({ phase: p.phase, label: p.label, status: p.status, durationMs: p.durationMs, detail: p.detail, hash: p.hash, changes: p.changes })),
          hashes: result.hashes, sampleRows, dataLoss: dataLoss ? { passed: dataLoss.passed, summary: dataLoss.summary } : null,
          // Parsed with its schema on write (recordEvidence); the engine's interfaces carry no index signature.
          afterUpShape: (afterUpShape ?? null) as unknown as SchemaShapeEvidence | null, server: result.server, durationMs: result.durationMs,
        },
        hashes: Object.fromEntries(Object.entries({ migration: run.revision!.checksum, ...result.hashes }).filter((e): e is [string, string] => typeof e[1] === 'string')),
      });
      if (dataLoss) {
        await recordEvidence(tx, {
          kind: 'data_loss', targetId: done.targetId, requestId: done.requestId, runId: done.id, revision, passed: dataLoss.passed, summary: dataLoss.summary,
          detail: { report: dataLoss.report, ...(dataLoss.report ? {} : { error: dataLoss.summary }), sampleRows, declaredChanges: declared },
        });
      }
    });
  },
  afterInterrupted: dropInterruptedScratch,
});
