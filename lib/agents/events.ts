// No 'server-only' here: the worker (webhook dispatcher) imports this outside Next.
import { Client } from 'pg';
import { getPool } from '../db/client';

/**
 * What agents are told about (agent_events): written by the database's own triggers in the
 * transaction of the change (prisma/migrations/20261129010000_agent_event_triggers), announced on
 * this channel with the event's id.
 */
export const AGENT_EVENTS_CHANNEL = 'cutover_agent_events';

export type AgentEventType = 'task.ready' | 'run.ended';

export interface AgentEvent {
  /** Increasing: the Server-Sent Events id, so a client resumes with Last-Event-ID. */
  id: string;
  type: AgentEventType;
  createdAt: string;
  data: Record<string, unknown>;
}

/** Who an event is for: the agent roles it concerns, or the account it names (its own run ended). */
export interface EventAudience {
  accountId: string;
  agentRoles: readonly string[];
  /** Admins and leads watching everything (a cookie session on the stream). */
  all?: boolean;
}

/** The newest event's id, where a stream without Last-Event-ID starts (it announces what happens from now on). */
export async function latestAgentEventId(): Promise<string> {
  const { rows } = await getPool().query<{ id: string | null }>('SELECT max(id)::text AS id FROM agent_events');
  return rows[0]?.id ?? '0';
}

/** The events after `afterId` for this audience, oldest first. */
export async function agentEventsAfter(audience: EventAudience, afterId: string, limit = 100): Promise<AgentEvent[]> {
  const { rows } = await getPool().query<{ id: string; type: AgentEventType; createdAt: Date; payload: Record<string, unknown> }>(
    `SELECT id::text AS id, type, created_at AS "createdAt", payload FROM agent_events
     WHERE id > $1::bigint AND ($4 OR roles && $2::text[] OR account_id = $3::uuid)
     ORDER BY id LIMIT $5`,
    [afterId, audience.agentRoles, audience.accountId, audience.all === true, limit],
  );
  return rows.map((r) => ({ id: r.id, type: r.type, createdAt: r.createdAt.toISOString(), data: r.payload }));
}

type Listener = () => void;
const globalForEvents = globalThis as unknown as { cutoverAgentEvents?: { listeners: Set<Listener>; client: Promise<Client> | null } };

/**
 * Calls `onEvent` whenever an agent event is written (any process), through one LISTEN connection
 * per process shared by every subscriber; the connection is opened on the first subscription and
 * closed after the last. Subscribers re-read with agentEventsAfter, so a lost notification only
 * delays them until their own periodic re-read. Returns the unsubscribe function.
 */
export function onAgentEvent(onEvent: Listener): () => void {
  const state = (globalForEvents.cutoverAgentEvents ??= { listeners: new Set(), client: null });
  state.listeners.add(onEvent);
  if (!state.client) {
    const client = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'cutover-agent-events' });
    client.on('error', () => {
      // Dropped: the next subscription opens a new one; subscribers keep their periodic re-read meanwhile.
      if (state.client === opened) state.client = null;
    });
    client.on('notification', () => {
      for (const l of state.listeners) l();
    });
    const opened = client.connect().then(async () => {
      await client.query(`LISTEN ${AGENT_EVENTS_CHANNEL}`);
      return client;
    });
    opened.catch(() => {
      if (state.client === opened) state.client = null;
    });
    state.client = opened;
  }
  return () => {
    state.listeners.delete(onEvent);
    if (state.listeners.size === 0 && state.client) {
      const closing = state.client;
      state.client = null;
      void closing.then((c) => c.end()).catch(() => undefined);
    }
  };
}
