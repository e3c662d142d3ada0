import { getDb } from '../db/client';
import { secretKey } from '../db/settings';
import { conflict, DomainError, forbidden, notFound } from '../domain/errors';
import { canManageUsers } from '../domain/permissions';
import { encryptSecret } from '../engine';
import { loadActor } from '../auth/actor';
import { outboundUrlProblem } from '../health/outbound';
import { newWebhookSecret } from '../agents/webhooks';
import type { ListWebhookDeliveriesInput, SetAgentWebhookInput } from '../validation/agent-webhook';
import { recordAudit } from './audit';

const ADMINS_ONLY = "Agent accounts' webhooks are set by admins.";

/**
 * Sets (or, with an empty URL, removes) an agent account's webhook. A new URL gets a new signing
 * secret, returned here once (stored encrypted like target passwords, never shown again, never in
 * the audit row); deliveries still pending for the old URL are not sent there.
 */
export async function setAgentWebhook(actorId: string, input: SetAgentWebhookInput): Promise<{ url: string | null; secret: string | null }> {
  if (input.url) {
    const problem = await outboundUrlProblem(input.url, 'webhook URL');
    if (problem) throw new DomainError('invalid', problem, 'url');
  }
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canManageUsers(actor)) throw forbidden(ADMINS_ONLY);
    const account = await tx.user.findUnique({ where: { id: input.accountId }, select: { id: true, kind: true, name: true, webhookUrl: true } });
    if (!account) throw notFound('Agent account');
    if (account.kind !== 'agent') throw conflict('Only agent accounts have webhooks.');
    const url = input.url || null;
    const secret = url ? newWebhookSecret() : null;
    await tx.user.update({
      where: { id: account.id },
      data: { webhookUrl: url, webhookSecretEncrypted: secret ? encryptSecret(secret, secretKey()) : null },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: url ? 'agent.webhook_set' : 'agent.webhook_removed', entityType: 'User', entityId: account.id,
      before: { agent: account.name, webhookUrl: account.webhookUrl }, after: { agent: account.name, webhookUrl: url },
    });
    return { url, secret };
  });
}

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  url: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

/** The delivery log of an agent account's webhook, newest first (admins, and the agent's owner). */
export async function listWebhookDeliveries(actorId: string, input: ListWebhookDeliveriesInput): Promise<WebhookDeliveryView[]> {
  const db = getDb();
  const actor = await loadActor(db, actorId);
  const account = await db.user.findUnique({ where: { id: input.accountId }, select: { id: true, kind: true, ownerId: true } });
  if (!account || account.kind !== 'agent') throw notFound('Agent account');
  if (!canManageUsers(actor) && account.ownerId !== actor.id) throw forbidden("Only admins and the agent's owner see its webhook deliveries.");
  const rows = await db.webhookDelivery.findMany({
    where: { accountId: account.id },
    orderBy: { createdAt: 'desc' },
    take: input.limit,
    include: { event: { select: { type: true } } },
  });
  return rows.map((r) => ({
    id: r.id, eventId: r.eventId.toString(), eventType: r.event.type, url: r.url, status: r.status, attempts: r.attempts,
    responseStatus: r.responseStatus, lastError: r.lastError, nextAttemptAt: r.nextAttemptAt, deliveredAt: r.deliveredAt, createdAt: r.createdAt,
  }));
}
