import { apiError, respond } from '@/lib/api/route';
import { toActionError } from '@/lib/actions/run-action';
import { authenticate, type Authenticated } from '@/lib/auth/authenticate';
import { agentEventsAfter, latestAgentEventId, onAgentEvent, type EventAudience } from '@/lib/agents/events';
import { DomainError } from '@/lib/domain/errors';
import { isAdmin } from '@/lib/domain/permissions';

export const dynamic = 'force-dynamic';

/** A comment line every so often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/**
 * Who is asking is checked again this often, and the audience recomputed from the answer: a
 * revoked token or a paused agent loses the stream, an agent whose roles changed hears about its
 * new roles only. The same tick re-reads, in case a notification was lost.
 */
const RECHECK_MS = 5_000;
/** Streams one web process serves at once; more are refused (503) rather than slowing every page. */
const MAX_STREAMS = Number(process.env.CUTOVER_MAX_EVENT_STREAMS) || 200;
/** Events queued for a client that does not read; past this the stream waits for it (backpressure). */
const QUEUE_EVENTS = 64;

/** Streams one account may hold open on one web process: one account cannot take the others' streams. */
const MAX_STREAMS_PER_ACCOUNT = Number(process.env.CUTOVER_MAX_EVENT_STREAMS_PER_ACCOUNT) || 4;

const globalForStreams = globalThis as unknown as { cutoverEventStreams?: { open: number; byAccount: Map<string, number> } };
const streams = (globalForStreams.cutoverEventStreams ??= { open: 0, byAccount: new Map() });

function audienceOf(auth: Authenticated): EventAudience {
  return { accountId: auth.actor.id, agentRoles: auth.actor.agentRoles, all: auth.via === 'session' && isAdmin(auth.actor) };
}

/**
 * GET /api/v1/events: Server-Sent Events for an agent (bearer token) or a person (cookie): tasks
 * that became ready for the caller's agent roles (`task.ready`) and the caller's runs that ended
 * (`run.ended`); admins with the cookie see every event. Each event's id is its place in order:
 * reconnect with `Last-Event-ID` (or `?after=ID`) to get what was missed in the last 24 hours;
 * without it the stream starts from now.
 */
export async function GET(req: Request) {
  let auth: Authenticated;
  try {
    auth = await authenticate(req);
  } catch (err) {
    return respond(toActionError(err));
  }
  const accountId = auth.actor.id;
  // Only accounts with something to hear: an agent role, or a person who may read requests.
  if (auth.actor.agentRoles.length === 0 && auth.actor.roles.length === 0) {
    return apiError(403, 'forbidden', 'This account holds no role, so there is nothing for it to hear.');
  }
  if ((streams.byAccount.get(accountId) ?? 0) >= MAX_STREAMS_PER_ACCOUNT) {
    return apiError(429, 'too_many_streams', `This account already has ${MAX_STREAMS_PER_ACCOUNT} event streams open on this server; close one (every stream carries the same events).`);
  }
  if (streams.open >= MAX_STREAMS) {
    return apiError(503, 'busy', `This server already serves ${MAX_STREAMS} event streams; try again shortly, or use a webhook (Admin > Agents).`);
  }
  const resume = req.headers.get('last-event-id') ?? new URL(req.url).searchParams.get('after');
  let lastId = resume && /^\d{1,18}$/.test(resume) ? resume : await latestAgentEventId();
  let audience = audienceOf(auth);
  const encoder = new TextEncoder();

  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      streams.open += 1;
      streams.byAccount.set(accountId, (streams.byAccount.get(accountId) ?? 0) + 1);
      let closed = false;
      let reading = false;
      let again = false;
      const send = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const close = () => {
        if (closed) return;
        closed = true;
        cleanup();
        try { controller.close(); } catch { /* already closed by the client */ }
      };
      const read = async () => {
        if (reading) { again = true; return; }
        reading = true;
        try {
          do {
            again = false;
            // A client that stops reading is not fed further: its queue stays bounded, and the next tick resumes from lastId.
            while (!closed && (controller.desiredSize ?? 1) > 0) {
              const events = await agentEventsAfter(audience, lastId, Math.max(1, Math.min(100, controller.desiredSize ?? 100)));
              for (const e of events) {
                send(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt, data: e.data })}\n\n`);
                lastId = e.id;
              }
              if (events.length === 0) break;
            }
          } while (again && !closed);
        } catch {
          // The store was away for a moment: the next notification or tick reads again from lastId.
        } finally {
          reading = false;
        }
      };
      const recheck = async () => {
        try {
          audience = audienceOf(await authenticate(req));
        } catch (err) {
          // Only a refusal ends the stream; a store that is away for a moment does not.
          if (!(err instanceof DomainError)) return;
          send(`event: error\ndata: ${JSON.stringify({ message: err.message })}\n\n`);
          close();
          return;
        }
        await read();
      };
      const unsubscribe = onAgentEvent(() => void read());
      const timers = [setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS), setInterval(() => void recheck(), RECHECK_MS)];
      cleanup = () => {
        streams.open -= 1;
        const held = (streams.byAccount.get(accountId) ?? 1) - 1;
        if (held > 0) streams.byAccount.set(accountId, held);
        else streams.byAccount.delete(accountId);
        unsubscribe();
        timers.forEach(clearInterval);
        cleanup = () => {};
      };
      req.signal.addEventListener('abort', close);
      send(`retry: 3000\n: connected; events after ${lastId}\n\n`);
      void read();
    },
    cancel() {
      cleanup();
    },
  }, { highWaterMark: QUEUE_EVENTS });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
}
