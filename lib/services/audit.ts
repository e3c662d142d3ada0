import type { Tx } from '../db/client';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';

export interface AuditEntry {
  actorId: string | null;
  requestId?: string | null;
  action: string;
  entityType: string;
  entityId: string;
  before?: Record<string, unknown> | null;
  after?: Record<string, unknown> | null;
}

/** Writes the audit row inside the caller's transaction, so a change and its record land together. */
export async function recordAudit(tx: Tx, entry: AuditEntry): Promise<void> {
  await tx.auditLog.create({
    data: {
      actorId: entry.actorId,
      requestId: entry.requestId ?? null,
      action: entry.action,
      entityType: entry.entityType,
      entityId: entry.entityId,
      before: (entry.before ?? undefined) as InputJsonValue | undefined,
      after: (entry.after ?? undefined) as InputJsonValue | undefined,
    },
  });
}
