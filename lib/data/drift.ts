import 'server-only';
import { getDb } from '../db/client';
import { defaultDriftFolder } from '../domain/drift';
import { notFound } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import { readRunResult } from '../domain/run-results';
import { RUN_STEP_POSITION, runRoleRefusal } from '../domain/run-rules';
import { latestEvidence } from '../services/evidence';
import { assertCanRead } from './access';
import { runHeader, runTextRedactor } from './runs';
import { LABELLED_ACCOUNT } from './account-label';

/**
 * The Analysis step's drift panel: the latest drift check of the request (its differences in
 * words, what was replayed), the imported folders it can compare with (the request's first), and
 * whether the viewer may start one (and if not, who may).
 */
export async function getDriftPanel(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const redact = runTextRedactor(actor);
  const db = getDb();
  const request = await db.migrationRequest.findUnique({
    where: { id: requestId },
    select: { sourceMigration: true, target: { select: { name: true, host: true, port: true } } },
  });
  if (!request) throw notFound('Migration request');
  const [run, folders, step, evidence] = await Promise.all([
    db.run.findFirst({ where: { requestId, kind: 'drift' }, orderBy: { queuedAt: 'desc' }, include: { requestedBy: LABELLED_ACCOUNT } }),
    db.migrationFolder.findMany({ orderBy: { importedAt: 'desc' }, take: 20, select: { id: true, name: true, importedAt: true, migrations: true } }),
    db.task.findUnique({ where: { requestId_position: { requestId, position: RUN_STEP_POSITION.drift! } }, select: { subject: true, eligibleRoles: true, isGate: true } }),
    latestEvidence(requestId, 'drift'),
  ]);
  const named = folders.map((f) => ({ id: f.id, name: f.name, importedAt: f.importedAt, migrationNames: (f.migrations as { name: string }[]).map((m) => m.name) }));
  const refusal = runRoleRefusal(actor, 'drift', step);
  const result = run ? (readRunResult('drift', run.result, run.id) ?? {}) : null;
  return {
    canRun: refusal === null,
    refusal,
    folders: named.map(({ id, name, importedAt, migrationNames }) => ({ id, name, importedAt, migrations: migrationNames.length })),
    defaultFolderId: defaultDriftFolder(named, request.sourceMigration)?.id ?? null,
    run: run && result
      ? {
          ...runHeader(run, redact, request.target),
          drifted: result.drifted ?? null,
          differences: result.differences ?? [],
          replayed: result.replayed ?? [],
          pending: result.pending ?? [],
          history: result.history ?? null,
          folder: result.folder ?? null,
          server: redact(result.server ?? null, request.target),
          note: result.note ?? null,
          expectedHash: result.expectedHash ?? null,
          actualHash: result.actualHash ?? null,
          durationMs: result.durationMs ?? null,
          log: (result.log ?? []).slice(-200).map((line) => redact(line, request.target)),
          staleBecause: evidence?.runId === run.id ? evidence.staleBecause : null,
        }
      : null,
  };
}
export type DriftPanelView = Awaited<ReturnType<typeof getDriftPanel>>;
