import 'server-only';
import { getDb } from '../db/client';
import { forbidden } from '../domain/errors';
import { canManageUsers, type Actor } from '../domain/permissions';

export interface AgentTokenView {
  id: string;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  state: 'active' | 'expired' | 'revoked';
}

export interface WebhookDeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: number;
  responseStatus: number | null;
  lastError: string | null;
  nextAttemptAt: Date | null;
  deliveredAt: Date | null;
  createdAt: Date;
}

export interface AgentView {
  id: string;
  name: string;
  agentRoles: string[];
  owner: { id: string; name: string; active: boolean } | null;
  pausedAt: Date | null;
  createdAt: Date;
  tokens: AgentTokenView[];
  /** The webhook's URL (its secret is never read here), and its latest deliveries, newest first. */
  webhookUrl: string | null;
  deliveries: WebhookDeliveryView[];
}

/** How many of an agent's latest webhook deliveries its card lists. */
export const DELIVERY_LOG_LENGTH = 20;

/** Agent accounts with their tokens (prefix only, never a hash), and the people who may own one; admins only. */
export async function listAgents(actor: Actor, now = new Date()): Promise<{ agents: AgentView[]; people: { id: string; name: string }[] }> {
  if (!canManageUsers(actor)) throw forbidden('Agent accounts are managed by admins.');
  const db = getDb();
  const [agents, people] = await Promise.all([
    db.user.findMany({
      where: { kind: 'agent' },
      orderBy: { name: 'asc' },
      take: 500,
      select: {
        id: true, name: true, agentRoles: true, pausedAt: true, createdAt: true, webhookUrl: true,
        owner: { select: { id: true, name: true, active: true } },
        webhookDeliveries: {
          orderBy: { createdAt: 'desc' },
          take: DELIVERY_LOG_LENGTH,
          select: {
            id: true, eventId: true, status: true, attempts: true, responseStatus: true, lastError: true,
            nextAttemptAt: true, deliveredAt: true, createdAt: true, event: { select: { type: true } },
          },
        },
        apiTokens: {
          orderBy: { createdAt: 'desc' },
          take: 50,
          select: { id: true, name: true, prefix: true, createdAt: true, expiresAt: true, lastUsedAt: true, revokedAt: true },
        },
      },
    }),
    db.user.findMany({ where: { kind: 'person', active: true }, orderBy: { name: 'asc' }, take: 1000, select: { id: true, name: true } }),
  ]);
  return {
    agents: agents.map((a) => ({
      id: a.id, name: a.name, agentRoles: a.agentRoles, owner: a.owner, pausedAt: a.pausedAt, createdAt: a.createdAt,
      tokens: a.apiTokens.map((t) => ({ ...t, state: t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt <= now ? 'expired' : 'active' })),
      webhookUrl: a.webhookUrl,
      deliveries: a.webhookDeliveries.map(({ event, eventId, ...d }) => ({ ...d, eventId: eventId.toString(), eventType: event.type })),
    })),
    people,
  };
}
