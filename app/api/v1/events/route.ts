import { respond } from '@/lib/api/route';
import { toActionError } from '@/lib/actions/run-action';
import { authenticate, type Authenticated } from '@/lib/auth/authenticate';
import { agentEventsAfter, latestAgentEventId, onAgentEvent, type EventAudience } from '@/lib/agents/events';
import { isAdmin } from '@/lib/domain/permissions';

export const dynamic = 'force-dynamic';

/** A comment line every so often keeps proxies from closing an idle stream. */
const HEARTBEAT_MS = 15_000;
/** Who is asking is checked again this often: a revoked token or a paused agent loses the stream. */
const RECHECK_MS = 30_000;
/** Re-read even without a notification (one lost with a dropped LISTEN connection). */
const POLL_MS = 5_000;

function audienceOf(auth: Authenticated): EventAudience {
  return { accountId: auth.actor.id, agentRoles: auth.actor.agentRoles, all: auth.via === 'session' && isAdmin(auth.actor) };
}

/**
 * GET /api/v1/events: Server-Sent Events for an agent (bearer token) or a person (cookie): tasks
 * that became ready for the caller's agent roles (`task.ready`) and the caller's runs that ended
 * (`run.ended`); admins with the cookie see every event. Each event's id is its place in order:
 * reconnect with `Last-Event-ID` (or `?after=ID`) to get what was missed; without it the stream
 * starts from now.
 */
export async function GET(req: Request) {
  let auth: Authenticated;
  try {
    auth = await authenticate(req);
  } catch (err) {
    return respond(toActionError(err));
  }
  const resume = req.headers.get('last-event-id') ?? new URL(req.url).searchParams.get('after');
  let lastId = resume && /^\d{1,18}$/.test(resume) ? resume : await latestAgentEventId();
  const audience = audienceOf(auth);
  const encoder = new TextEncoder();

  let cleanup = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
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
            for (;;) {
              const events = await agentEventsAfter(audience, lastId);
              for (const e of events) {
                send(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify({ id: e.id, type: e.type, createdAt: e.createdAt, data: e.data })}\n\n`);
                lastId = e.id;
              }
              if (events.length < 100) break;
            }
          } while (again && !closed);
        } catch {
          // The store was away for a moment: the next notification or poll reads again from lastId.
        } finally {
          reading = false;
        }
      };
      const recheck = async () => {
        try {
          await authenticate(req);
        } catch (err) {
          send(`event: error\ndata: ${JSON.stringify({ message: err instanceof Error ? err.message : 'Not signed in.' })}\n\n`);
          close();
        }
      };
      const unsubscribe = onAgentEvent(() => void read());
      const timers = [
        setInterval(() => send(': keep-alive\n\n'), HEARTBEAT_MS),
        setInterval(() => void recheck(), RECHECK_MS),
        setInterval(() => void read(), POLL_MS),
      ];
      cleanup = () => {
        unsubscribe();
        timers.forEach(clearInterval);
      };
      req.signal.addEventListener('abort', close);
      send(`retry: 3000\n: connected; events after ${lastId}\n\n`);
      void read();
    },
    cancel() {
      cleanup();
    },
  });
  return new Response(stream, {
    headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
  });
}
