import type { Tx } from '../db/client';
import { notFound } from '../domain/errors';
import { summarizeProgress, type TaskState } from '../domain/workflow';

export interface LockedWorkflow {
  request: { id: string; authorId: string; status: string };
  tasks: (TaskState & { id: string; eligibleRoles: string[]; assigneeId: string | null; blockedReason: string | null })[];
}

/**
 * Locks the request row for the rest of the transaction and reads its tasks, so that two
 * people working the same request one after another see each other's changes.
 */
export async function lockWorkflow(tx: Tx, requestId: string): Promise<LockedWorkflow> {
  const locked = await tx.$queryRaw<{ id: string; author_id: string; status: string }[]>`
    SELECT id, author_id, status::text AS status FROM migration_requests WHERE id = ${requestId}::uuid FOR UPDATE`;
  if (locked.length === 0) throw notFound('Migration request');
  const tasks = await tx.task.findMany({
    where: { requestId },
    orderBy: { position: 'asc' },
    select: {
      id: true, position: true, subject: true, status: true, isGate: true, owner: true,
      eligibleRoles: true, assigneeId: true, blockedReason: true,
    },
  });
  return { request: { id: locked[0].id, authorId: locked[0].author_id, status: locked[0].status }, tasks };
}

export function previousTask<T extends TaskState>(tasks: readonly T[], task: TaskState): T | null {
  return tasks.find((t) => t.position === task.position - 1) ?? null;
}

/** Re-derives the request's denormalised progress after its tasks changed. */
export async function refreshProgress(tx: Tx, requestId: string, tasks: readonly TaskState[]) {
  const progress = summarizeProgress(tasks);
  await tx.migrationRequest.update({ where: { id: requestId }, data: progress });
  return progress;
}
