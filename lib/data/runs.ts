import 'server-only';
import { getDb } from '../db/client';
import type { SchemaShape, TableStats } from '../engine/postgres/snapshot';

/** The Analysis step's schema panel: the latest snapshot run of the request and what it found. */
export async function getSnapshotPanel(requestId: string) {
  const run = await getDb().run.findFirst({
    where: { requestId, kind: 'snapshot' },
    orderBy: { queuedAt: 'desc' },
    include: { snapshot: true, requestedBy: { select: { name: true } } },
  });
  if (!run) return null;
  const result = (run.result ?? {}) as { changesSincePrevious?: string[] | null };
  const shape = run.snapshot?.shape as unknown as SchemaShape | undefined;
  const stats = (run.snapshot?.stats ?? {}) as unknown as Record<string, TableStats>;
  return {
    id: run.id,
    status: run.status,
    phase: run.phase,
    progress: run.progress,
    error: run.error,
    requestedBy: run.requestedBy.name,
    queuedAt: run.queuedAt,
    finishedAt: run.finishedAt,
    snapshot: run.snapshot && shape
      ? {
          hash: run.snapshot.hash,
          serverVersion: run.snapshot.serverVersion,
          takenAt: run.snapshot.takenAt,
          tables: Object.entries(shape.tables).map(([name, t]) => ({
            name,
            columns: t.columns.map((c) => `${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}`),
            indexes: t.indexes.map((i) => `${i.name} (${i.method}${i.unique ? ', unique' : ''}${i.predicate ? `, where ${i.predicate}` : ''})`),
            foreignKeys: t.foreignKeys.length,
            estimatedRows: stats[name]?.estimatedRows ?? null,
            totalBytes: stats[name]?.totalBytes ?? 0,
          })),
          views: Object.keys(shape.views),
          enums: Object.entries(shape.enums).map(([name, labels]) => `${name} (${labels.join(', ')})`),
          sequences: Object.keys(shape.sequences).length,
          changesSincePrevious: result.changesSincePrevious ?? null,
        }
      : null,
  };
}
export type SnapshotPanelView = NonNullable<Awaited<ReturnType<typeof getSnapshotPanel>>>;
