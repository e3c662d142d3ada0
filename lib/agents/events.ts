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

/** How far back a stream may resume (Last-Event-ID): older events are not replayed. */
export const EVENT_REPLAY_HOURS = 24;
/** Events are kept this long, then the webhook dispatcher deletes them (with their deliveries). */
export const EVENT_RETENTION_DAYS = 7;

/** The events after `afterId` for this audience, oldest first, at most EVENT_REPLAY_HOURS old. */
export async function agentEventsAfter(audience: EventAudience, afterId: string, limit = 100): Promise<AgentEvent[]> {
  const { rows } = await getPool().query<{ id: string; type: AgentEventType; createdAt: Date; payload: Record<string, unknown> }>(
    `SELECT id::text AS id, type, created_at AS "createdAt", payload FROM agent_events
     WHERE id > $1::bigint AND created_at > now() - make_interval(hours => $6)
       AND ($4 OR roles && $2::text[] OR account_id = $3::uuid)
     ORDER BY agent_events.id LIMIT $5`,
    [afterId, audience.agentRoles, audience.accountId, audience.all === true, limit, EVENT_REPLAY_HOURS],
  );
  return rows.map((r) => ({ id: r.id, type: r.type, createdAt: r.createdAt.toISOString(), data: r.payload }));
}

/** Deletes events older than EVENT_RETENTION_DAYS (their webhook deliveries go with them). */
export async function pruneAgentEvents(): Promise<number> {
  const { rowCount } = await getPool().query(`DELETE FROM agent_events WHERE created_at < now() - make_interval(days => $1)`, [EVENT_RETENTION_DAYS]);
  return rowCount ?? 0;
}

type Listener = () => void;
interface ListenState { listeners: Set<Listener>; client: Client | null; connecting: boolean; idleTimer: NodeJS.Timeout | null }
const globalForEvents = globalThis as unknown as { cutoverAgentEvents?: ListenState };
/** The shared connection stays open this long after the last subscriber left (streams come and go). */
const IDLE_CLOSE_MS = 60_000;
const RECONNECT_MS = 2_000;

function listen(state: ListenState) {
  if (state.client || state.connecting || state.listeners.size === 0) return;
  state.connecting = true;
  const client = new Client({ connectionString: process.env.DATABASE_URL, application_name: 'cutover-agent-events' });
  let dropped = false;
  const drop = () => {
    if (dropped) return;
    dropped = true;
    if (state.client === client) state.client = null;
    client.end().catch(() => undefined);
    // Subscribers keep their periodic re-read meanwhile; the connection comes back while anyone listens.
    setTimeout(() => listen(state), RECONNECT_MS).unref();
  };
  client.on('error', drop);
  client.on('notification', () => {
    for (const l of state.listeners) l();
  });
  client.connect()
    .then(() => client.query(`LISTEN ${AGENT_EVENTS_CHANNEL}`))
    .then(() => { state.client = client; }, drop)
    .finally(() => { state.connecting = false; });
}

/**
 * Calls `onEvent` whenever an agent event is written (any process), through one LISTEN connection
 * per process shared by every subscriber, reconnected after an error while anyone listens and
 * closed a minute after the last one left. Subscribers re-read with agentEventsAfter, so a lost
 * notification only delays them until their own periodic re-read. Returns the unsubscribe function.
 */
export function onAgentEvent(onEvent: Listener): () => void {
  const state = (globalForEvents.cutoverAgentEvents ??= { listeners: new Set(), client: null, connecting: false, idleTimer: null });
  state.listeners.add(onEvent);
  if (state.idleTimer) clearTimeout(state.idleTimer);
  state.idleTimer = null;
  listen(state);
  return () => {
    state.listeners.delete(onEvent);
    if (state.listeners.size > 0 || state.idleTimer) return;
    state.idleTimer = setTimeout(() => {
      state.idleTimer = null;
      if (state.listeners.size > 0 || !state.client) return;
      const closing = state.client;
      state.client = null;
      closing.end().catch(() => undefined);
    }, IDLE_CLOSE_MS);
    state.idleTimer.unref();
  };
}
