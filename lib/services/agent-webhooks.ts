import { getDb } from '../db/client';
import { secretKey } from '../db/settings';
import { conflict, DomainError, forbidden, notFound } from '../domain/errors';
import { canManageUsers } from '../domain/permissions';
import { encryptSecret } from '../engine';
import { loadActor } from '../auth/actor';
import { outboundUrlProblem } from '../health/outbound';
import { newWebhookSecret } from '../agents/webhooks';
import type { SetAgentWebhookInput } from '../validation/agent-webhook';
import { recordAudit } from './audit';

const ADMINS_ONLY = "Agent accounts' webhooks are set by admins.";

/** A webhook URL as the audit keeps it: receivers often carry a secret in the query or the user part. */
function auditableUrl(url: string | null): string | null {
  if (!url) return null;
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname}${u.search ? '?…' : ''}`;
  } catch {
    return '(not a URL)';
  }
}

/**
 * Sets (or, with an empty URL, removes) an agent account's webhook. A new URL gets a new signing
 * secret, returned here once (stored encrypted like target passwords, never shown again, never in
 * the audit row); deliveries still pending for the old URL are not sent there.
 */
export async function setAgentWebhook(actorId: string, input: SetAgentWebhookInput): Promise<{ url: string | null; secret: string | null }> {
  // Who is asking first: the URL's check resolves its name, which nobody but an admin may make Cutover do.
  if (!canManageUsers(await loadActor(getDb(), actorId))) throw forbidden(ADMINS_ONLY);
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
      before: { agent: account.name, webhookUrl: auditableUrl(account.webhookUrl) }, after: { agent: account.name, webhookUrl: auditableUrl(url) },
    });
    return { url, secret };
  });
}
