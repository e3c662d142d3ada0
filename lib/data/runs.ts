import 'server-only';
import { getDb } from '../db/client';
import { canManageTargets, type Actor } from '../domain/permissions';
import { redactTargetAddress, type TargetAddress } from '../domain/redact-address';
import { readRunResult } from '../domain/run-results';
import { dataLossOfPhases } from '../domain/data-loss';
import { diffLines, hasChanges } from '../domain/text-diff';
import { shapeInventory, type PlanSummary, type SchemaShape, type TableStats } from '../engine';
import { assertCanRead } from './access';
import { LABELLED_ACCOUNT, labelOf, type LabelledAccount } from './account-label';

/**
 * Stored run errors and logs name the target's host, IP address and port; people who may not
 * manage targets see the target's name instead.
 */
export function runTextRedactor(actor: Actor) {
  if (canManageTargets(actor)) return <T extends string | null | undefined>(text: T, _target?: TargetAddress | null): T => text;
  return <T extends string | null | undefined>(text: T, target?: TargetAddress | null): T =>
    (typeof text === 'string' && target ? redactTargetAddress(text, target) : text) as T;
}
const TARGET_ADDRESS = { select: { name: true, host: true, port: true } } as const;

/** What every run panel shows of a run: its state and progress, who asked and when, with the target's address redacted for non-admins. */
export function runHeader(
  run: { id: string; status: string; phase: string | null; progress: number; error: string | null; requestedBy: LabelledAccount; queuedAt: Date; finishedAt: Date | null },
  redact: ReturnType<typeof runTextRedactor>,
  target: TargetAddress,
) {
  return {
    id: run.id, status: run.status, phase: redact(run.phase, target), progress: run.progress, error: redact(run.error, target),
    requestedBy: labelOf(run.requestedBy), queuedAt: run.queuedAt, finishedAt: run.finishedAt,
  };
}

/** The Analysis step's schema panel: the latest snapshot run of the request and what it found. */
export async function getSnapshotPanel(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const redact = runTextRedactor(actor);
  const run = await getDb().run.findFirst({
    where: { requestId, kind: 'snapshot' },
    orderBy: { queuedAt: 'desc' },
    include: { snapshot: true, requestedBy: LABELLED_ACCOUNT, target: TARGET_ADDRESS },
  });
  if (!run) return null;
  const result = readRunResult('snapshot', run.result, run.id) ?? {};
  const shape = run.snapshot?.shape as unknown as SchemaShape | undefined;
  const stats = (run.snapshot?.stats ?? {}) as unknown as Record<string, TableStats>;
  return {
    id: run.id,
    status: run.status,
    phase: run.phase,
    progress: run.progress,
    error: redact(run.error, run.target),
    requestedBy: labelOf(run.requestedBy),
    queuedAt: run.queuedAt,
    finishedAt: run.finishedAt,
    snapshot: run.snapshot && shape
      ? {
          hash: run.snapshot.hash,
          serverVersion: run.snapshot.serverVersion,
          takenAt: run.snapshot.takenAt,
          tables: Object.entries(shape.tables).map(([name, t]) => ({
            name,
            columns: t.columns.map((c) =>
              `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default !== null ? ` DEFAULT ${c.default}` : ''}` +
              `${c.identity ? ` GENERATED ${c.identity.toUpperCase()} AS IDENTITY` : ''}${c.generated ? ` GENERATED ALWAYS AS (${c.generated}) STORED` : ''}`),
            // Constraints as PostgreSQL prints them (pg_get_constraintdef), so the view shows what it holds.
            constraints: [
              ...(t.primaryKey ? [`${t.primaryKey.name} ${t.primaryKey.definition}`] : []),
              ...t.uniques.map((c) => `${c.name} ${c.definition}`),
              ...t.checks.map((c) => `${c.name} ${c.definition}`),
              ...t.exclusions.map((c) => `${c.name} ${c.definition}`),
              ...t.foreignKeys.map((c) => `${c.name} ${c.definition}`),
            ],
            checks: t.checks.length,
            indexes: t.indexes.map((i) => `${i.name} (${i.method}${i.unique ? ', unique' : ''}${i.predicate ? `, where ${i.predicate}` : ''})`),
            foreignKeys: t.foreignKeys.length,
            estimatedRows: stats[name]?.estimatedRows ?? null,
            totalBytes: stats[name]?.totalBytes ?? 0,
          })),
          views: Object.keys(shape.views),
          enums: Object.entries(shape.enums).map(([name, labels]) => `${name} (${labels.join(', ')})`),
          sequences: Object.keys(shape.sequences).length,
          // Functions, triggers, policies, privileges, ... (none recorded in snapshots taken before format 2).
          inventory: shapeInventory(shape), fullShape: (shape.format ?? 1) >= 2,
          changesSincePrevious: result.changesSincePrevious ?? null,
        }
      : null,
  };
}
export type SnapshotPanelView = NonNullable<Awaited<ReturnType<typeof getSnapshotPanel>>>;

interface PhaseView {
  phase: string;
  label: string;
  status: 'ok' | 'failed';
  durationMs: number;
  detail?: string;
  changes?: string[];
  hash?: string;
  statements?: { line: number; kind: string; status: string; durationMs: number | null; transactional: boolean; error?: { message: string; line?: number; column?: number } }[];
}

/** The Create migration and Test locally steps: revisions of the migration and the latest rehearsal. */
export async function getMigrationPanel(actor: Actor, requestId: string) {
  assertCanRead(actor);
  const redact = runTextRedactor(actor);
  const db = getDb();
  const [revisions, rehearsal, change, lastDone] = await Promise.all([
    db.migrationRevision.findMany({
      where: { requestId },
      orderBy: { revision: 'desc' },
      take: 50,
      include: { createdBy: LABELLED_ACCOUNT },
    }),
    db.run.findFirst({
      where: { requestId, kind: 'rehearsal' },
      orderBy: { queuedAt: 'desc' },
      include: { revision: { select: { revision: true } }, target: TARGET_ADDRESS },
    }),
    db.run.findFirst({
      where: { requestId, kind: { in: ['apply', 'down'] } },
      orderBy: { queuedAt: 'desc' },
      include: { requestedBy: LABELLED_ACCOUNT, target: TARGET_ADDRESS },
    }),
    // The last apply or roll back that went through: what is on the target now, so Roll back
    // is offered only once an apply of this revision succeeded there.
    db.run.findFirst({
      where: { requestId, kind: { in: ['apply', 'down'] }, status: 'succeeded' },
      orderBy: { queuedAt: 'desc' },
      select: { kind: true, revision: { select: { revision: true } } },
    }),
  ]);
  // apply and down share one result schema.
  const changeResult = (change && readRunResult('apply', change.result, change.id)) || {};
  const result = (rehearsal && readRunResult('rehearsal', rehearsal.result, rehearsal.id)) || {};
  const latest = revisions[0];
  const previous = revisions[1];
  const fileDiffs = previous
    ? ([
        ['migration.sql', previous.upSql, latest.upSql],
        ['down.sql', previous.downSql, latest.downSql],
        ['data transformation', previous.dataSql ?? '', latest.dataSql ?? ''],
      ] as const)
        .map(([file, before, after]) => ({ file, lines: diffLines(before, after) }))
        .filter((d) => hasChanges(d.lines))
    : null;
  return {
    changesFromPrevious: previous ? { from: previous.revision, to: latest.revision, files: fileDiffs! } : null,
    plan: (latest?.plan ?? null) as { up: PlanSummary | null; down: PlanSummary | null } | null,
    latest: latest ? { revision: latest.revision, name: latest.name, upSql: latest.upSql, downSql: latest.downSql, dataSql: latest.dataSql ?? '', declaredChanges: latest.declaredChanges as unknown } : null,
    revisions: revisions.map((r) => ({ id: r.id, revision: r.revision, name: r.name, checksum: r.checksum, author: labelOf(r.createdBy), createdAt: r.createdAt })),
    rehearsal: rehearsal
      ? {
          id: rehearsal.id,
          status: rehearsal.status,
          phase: rehearsal.phase,
          progress: rehearsal.progress,
          error: redact(rehearsal.error, rehearsal.target),
          revision: rehearsal.revision?.revision ?? null,
          hashes: result.hashes ?? {},
          log: (result.log ?? []).slice(-200).map((line) => redact(line, rehearsal.target)),
          // Per-statement lock impact (rehearsals with a data sample); the probe's own error may name the rehearsal server.
          lockImpact: result.lockImpact ? { ...result.lockImpact, error: redact(result.lockImpact.error, rehearsal.target) } : null,
          // The data-loss check (rehearsals with a data sample); its summary may quote a connection error.
          dataLoss: ((d) => d && { ...d, summary: redact(d.summary, rehearsal.target) ?? '' })(dataLossOfPhases(result.phases)),
          phases: (result.phases ?? []).map(({ script, ...p }): PhaseView => ({
            ...p,
            detail: redact(p.detail, rehearsal.target),
            statements: script?.statements.map((s) => ({
              line: s.line, kind: s.kind, status: s.status, durationMs: s.durationMs, transactional: s.transactional,
              error: s.error && { ...s.error, message: redact(s.error.message, rehearsal.target) },
            })),
          })),
        }
      : null,
    appliedRevision: lastDone?.kind === 'apply' ? (lastDone.revision?.revision ?? null) : null,
    lastChange: change
      ? {
          id: change.id,
          kind: change.kind,
          status: change.status,
          phase: change.phase,
          error: redact(change.error, change.target),
          requestedBy: labelOf(change.requestedBy),
          queuedAt: change.queuedAt,
          migration: changeResult.migration ?? null,
          revision: changeResult.revision ?? null,
          note: changeResult.note ?? null,
          durationMs: changeResult.script?.durationMs ?? null,
          statements: (changeResult.script?.statements ?? []).map((s) => ({
            line: s.line, kind: s.kind, status: s.status, durationMs: s.durationMs, transactional: s.transactional,
            error: s.error && { ...s.error, message: redact(s.error.message, change.target) },
          })),
        }
      : null,
  };
}
export type MigrationPanelView = Awaited<ReturnType<typeof getMigrationPanel>>;
