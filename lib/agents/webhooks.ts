// No 'server-only' here: the worker runs the dispatcher outside Next.
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import { getPool } from '../db/client';
import { secretKey } from '../db/settings';
import { decryptSecret } from '../engine';
import { guardedLookup, outboundUrlProblem, RefusedAddressError } from '../health/outbound';
import { onAgentEvent, pruneAgentEvents } from './events';

/**
 * Webhooks of agent accounts: each agent event that concerns an account becomes a row in
 * webhook_deliveries (written by the event's trigger, in the transaction of the change), and this
 * dispatcher POSTs it, signed, retrying with backoff until it is delivered or gives up. The rows
 * are the queue: a dispatcher that dies leaves them pending for the next one.
 */

/** Attempts before a delivery is marked failed. */
export const MAX_WEBHOOK_ATTEMPTS = 6;
/** Deliveries in flight at once per dispatcher: a slow receiver holds one of them, not the others' turn. */
export const WEBHOOK_CONCURRENCY = 4;
/** A delivery taken by a dispatcher is not taken by another for this long (its POST times out before). */
const LEASE_SECONDS = 60;
/** Only the start of a receiver's error answer is kept in the delivery log. */
const MAX_LOGGED_BODY = 300;

/** How long a receiver has to answer (the whole POST); CUTOVER_WEBHOOK_TIMEOUT_MS overrides the 10 s, within the lease. */
function deliveryTimeoutMs(): number {
  return Math.min(Number(process.env.CUTOVER_WEBHOOK_TIMEOUT_MS) || 10_000, (LEASE_SECONDS - 10) * 1000);
}

/** The wait before attempt n+1 (n = attempts so far): base, x5 each time (10 s, 50 s, ~4 min, ~21 min, ~1.7 h by default). */
export function webhookBackoffMs(attempts: number): number {
  const base = Number(process.env.CUTOVER_WEBHOOK_RETRY_BASE_MS) || 10_000;
  return base * 5 ** Math.max(0, attempts - 1);
}

export function newWebhookSecret(): string {
  return `whsec_${randomBytes(24).toString('base64url')}`;
}

/**
 * The signature a receiver checks: HMAC-SHA256 with the account's webhook secret over
 * "<timestamp>.<body>", hex, as `X-Cutover-Signature: sha256=<hex>` beside `X-Cutover-Timestamp`
 * (seconds). The timestamp in the signed text lets receivers refuse replays of old deliveries; the
 * body carries the event's id and the delivery's id (the same on every retry), so a receiver can
 * drop a delivery it already handled on a value the signature covers.
 */
export function signWebhook(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`, 'utf8').digest('hex')}`;
}

interface DueDelivery {
  id: string;
  accountId: string;
  url: string;
  attempts: number;
  eventId: string;
  type: string;
  createdAt: Date;
  payload: Record<string, unknown>;
  secretEncrypted: string | null;
  accountActive: boolean;
  pausedAt: Date | null;
  currentUrl: string | null;
}

/**
 * Takes up to `limit` due deliveries (skipping ones another dispatcher holds, and accounts this one
 * is already sending to) and leases them.
 */
async function takeDue(limit: number, busyAccounts: readonly string[] = []): Promise<DueDelivery[]> {
  const { rows } = await getPool().query<DueDelivery>(
    `WITH due AS (
       SELECT id FROM webhook_deliveries
       WHERE status = 'pending' AND next_attempt_at <= now() AND account_id <> ALL($3::uuid[])
       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED)
     UPDATE webhook_deliveries d SET attempts = d.attempts + 1, next_attempt_at = now() + make_interval(secs => $2), updated_at = now()
     FROM due, agent_events e, users u
     WHERE d.id = due.id AND e.id = d.event_id AND u.id = d.account_id
     RETURNING d.id, d.account_id AS "accountId", d.url, d.attempts, e.id::text AS "eventId", e.type, e.created_at AS "createdAt", e.payload,
               u.webhook_secret_encrypted AS "secretEncrypted", u.active AS "accountActive", u.paused_at AS "pausedAt",
               u.webhook_url AS "currentUrl"`,
    [limit, LEASE_SECONDS, busyAccounts],
  );
  return rows;
}

async function settle(id: string, outcome: { delivered: boolean; attempts: number; responseStatus: number | null; error: string | null; giveUp?: boolean }) {
  const failed = !outcome.delivered && (outcome.giveUp || outcome.attempts >= MAX_WEBHOOK_ATTEMPTS);
  await getPool().query(
    `UPDATE webhook_deliveries SET status = $2::"WebhookDeliveryStatus", response_status = $3, last_error = $4,
       delivered_at = CASE WHEN $2 = 'delivered' THEN now() END,
       next_attempt_at = CASE WHEN $2 = 'pending' THEN now() + make_interval(secs => $5::float8 / 1000) END,
       updated_at = now()
     WHERE id = $1`,
    [id, outcome.delivered ? 'delivered' : failed ? 'failed' : 'pending', outcome.responseStatus, outcome.error, webhookBackoffMs(outcome.attempts)],
  );
}

/** One POST through node:http(s) with the guarded lookup (no loopback, link-local or metadata addresses). */
function post(url: URL, headers: Record<string, string>, body: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST',
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      lookup: guardedLookup,
      signal: AbortSignal.timeout(timeoutMs),
    });
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.on('data', (chunk: Buffer) => {
        if (text.length < MAX_LOGGED_BODY) text += chunk.toString('utf8');
      });
      // Kept as text in the log: no NUL (PostgreSQL text refuses it) and no control characters.
      const done = () => resolve({ status: response.statusCode ?? 0, body: text.slice(0, MAX_LOGGED_BODY).replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, '') });
      response.on('end', done);
      response.on('close', done);
      response.on('error', done);
    });
    request.end(body);
  });
}

/** Delivers one leased delivery and records the outcome (never throws). */
async function deliver(d: DueDelivery): Promise<void> {
  // The account may have changed since the event: a paused or removed agent, or a new URL, gets nothing more.
  if (!d.accountActive || d.pausedAt || d.currentUrl !== d.url || !d.secretEncrypted) {
    const why = !d.accountActive ? 'the agent account is not active' : d.pausedAt ? 'the agent account is paused'
      : d.currentUrl !== d.url ? "the account's webhook URL changed" : 'the account has no webhook secret';
    return settle(d.id, { delivered: false, attempts: d.attempts, responseStatus: null, error: `Not sent: ${why}.`, giveUp: true });
  }
  const problem = await outboundUrlProblem(d.url, 'webhook URL');
  if (problem) return settle(d.id, { delivered: false, attempts: d.attempts, responseStatus: null, error: problem, giveUp: true });
  const body = JSON.stringify({ id: d.eventId, deliveryId: d.id, type: d.type, createdAt: d.createdAt.toISOString(), data: d.payload });
  const timestamp = Math.floor(Date.now() / 1000);
  let secret: string;
  try {
    secret = decryptSecret(d.secretEncrypted, secretKey());
  } catch {
    return settle(d.id, { delivered: false, attempts: d.attempts, responseStatus: null, error: 'The webhook secret cannot be read with this CUTOVER_SECRET_KEY; set the webhook again.', giveUp: true });
  }
  const timeoutMs = deliveryTimeoutMs();
  try {
    const answer = await post(new URL(d.url), {
      'content-type': 'application/json',
      'user-agent': 'Cutover webhooks',
      'x-cutover-event': d.type,
      'x-cutover-delivery': d.id,
      'x-cutover-timestamp': String(timestamp),
      'x-cutover-signature': signWebhook(secret, timestamp, body),
    }, body, timeoutMs);
    const delivered = answer.status >= 200 && answer.status < 300;
    await settle(d.id, {
      delivered, attempts: d.attempts, responseStatus: answer.status,
      error: delivered ? null : `The receiver answered HTTP ${answer.status}${answer.body ? `: ${answer.body.trim()}` : ''}`,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why = err instanceof RefusedAddressError ? err.message
      : e?.name === 'TimeoutError' || e?.name === 'AbortError' ? `No answer within ${timeoutMs / 1000} s.`
      : e?.code === 'ECONNREFUSED' ? 'Connection refused (is the receiver running?).'
      : `Could not deliver: ${e?.code ?? e?.message ?? String(err)}.`;
    await settle(d.id, { delivered: false, attempts: d.attempts, responseStatus: null, error: why, giveUp: err instanceof RefusedAddressError });
  }
}

/**
 * Delivers what is due, up to `limit` deliveries, `concurrency` at a time: each lane takes the next
 * due delivery of an account no other lane is sending to, as soon as its last one is settled, so a
 * receiver that is slow to answer (up to the timeout) holds one lane while the others go on.
 * Returns how many were attempted.
 */
export async function deliverDueWebhooks({ limit = 20, concurrency = WEBHOOK_CONCURRENCY }: { limit?: number; concurrency?: number } = {}): Promise<number> {
  let taken = 0;
  let empty = false;
  const sending = new Set<string>();
  // Lanes take one after another, so each sees the accounts the others have just taken.
  let taking: Promise<unknown> = Promise.resolve();
  const takeNext = () => {
    const next = taking.then(async () => {
      const [due] = await takeDue(1, [...sending]);
      if (due) sending.add(due.accountId);
      return due;
    });
    taking = next.catch(() => undefined);
    return next;
  };
  const lane = async () => {
    while (!empty && taken < limit) {
      taken++;
      const due = await takeNext();
      if (!due) {
        taken--;
        // Nothing due for the accounts not being sent to: this lane ends (the others finish theirs).
        empty = sending.size === 0;
        return;
      }
      try {
        await deliver(due);
      } finally {
        sending.delete(due.accountId);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, limit)) }, lane));
  return taken;
}

/**
 * Runs in the worker: delivers at once when an event is written (LISTEN), and every few seconds
 * for retries that came due. One pass at a time per process. Returns the stop function.
 */
export function startWebhookDispatcher(options: { intervalMs?: number } = {}): () => void {
  let running = false;
  let again = false;
  const pass = async () => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        // Lanes take deliveries until none is due, so one pass drains the queue.
        await deliverDueWebhooks({ limit: Infinity });
      } while (again);
    } catch (err) {
      console.error('[cutover] webhook deliveries:', err instanceof Error ? err.message : err);
    } finally {
      running = false;
    }
  };
  const unsubscribe = onAgentEvent(() => void pass());
  const timer = setInterval(() => void pass(), options.intervalMs ?? 2_000);
  timer.unref();
  // Old events (and their deliveries) go once an hour.
  const prune = setInterval(() => void pruneAgentEvents().catch((err) => console.error('[cutover] pruning agent events:', err instanceof Error ? err.message : err)), 60 * 60_000);
  prune.unref();
  void pass();
  return () => {
    clearInterval(timer);
    clearInterval(prune);
    unsubscribe();
  };
}
