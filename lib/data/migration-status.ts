import 'server-only';
import { getDb } from '../db/client';
import type { Actor } from '../domain/permissions';
import { readRunResult } from '../domain/run-results';
import { assertCanRead } from './access';
import { runTextRedactor } from './runs';

/** The migration status board: imported folders, and for one of them each target's state per migration. */
export async function getMigrationStatusBoard(actor: Actor, folderId?: string) {
  assertCanRead(actor);
  const redact = runTextRedactor(actor);
  const db = getDb();
  const folders = await db.migrationFolder.findMany({
    orderBy: { importedAt: 'desc' },
    take: 20,
    select: { id: true, name: true, importedAt: true, importedBy: { select: { name: true } } },
  });
  const current = folders.find((f) => f.id === folderId) ?? folders[0];
  if (!current) return { folders: [], folder: null };
  const [folder, targets, runs] = await Promise.all([
    db.migrationFolder.findUniqueOrThrow({ where: { id: current.id } }),
    db.targetDatabase.findMany({ where: { engine: 'postgresql' }, orderBy: { name: 'asc' }, select: { id: true, name: true, environment: true, host: true, port: true } }),
    db.run.findMany({ where: { folderId: current.id, kind: 'status' }, orderBy: { queuedAt: 'desc' }, select: { targetId: true, status: true, error: true, result: true, finishedAt: true } }),
  ]);
  const migrations = (folder.migrations as unknown as { name: string; checksum: string; downSql?: string }[]).map((m) => ({ name: m.name, checksum: m.checksum, hasDown: Boolean(m.downSql) }));
  // Requests already made from this folder's migrations: the board opens them instead of making another.
  const made = await db.migrationRequest.findMany({
    where: { sourceMigration: { in: migrations.map((m) => m.name) } },
    select: { id: true, number: true, targetId: true, sourceMigration: true },
  });
  const latest = new Map<string, (typeof runs)[number]>();
  for (const r of runs) if (!latest.has(r.targetId)) latest.set(r.targetId, r);
  return {
    folders: folders.map((f) => ({ id: f.id, name: f.name, importedAt: f.importedAt, importedBy: f.importedBy.name })),
    folder: { id: folder.id, name: folder.name, migrations },
    targets: targets.map(({ host, port, ...t }) => {
      const run = latest.get(t.id);
      const entries = (run && readRunResult('status', run.result))?.entries ?? [];
      return {
        ...t,
        check: run ? { status: run.status, error: redact(run.error, { name: t.name, host, port }), finishedAt: run.finishedAt } : null,
        states: Object.fromEntries(entries.map((e) => [e.name, e])),
        missingLocally: entries.filter((e) => e.state === 'missing_locally').map((e) => e.name),
        requests: Object.fromEntries(made.filter((r) => r.targetId === t.id).map((r) => [r.sourceMigration!, { id: r.id, number: r.number }])),
      };
    }),
  };
}
export type MigrationStatusBoard = Awaited<ReturnType<typeof getMigrationStatusBoard>>;
