import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDb } from '@/lib/db/client';
import { newTokenSecret } from '@/lib/auth/api-tokens';
import { agentEventsAfter, latestAgentEventId } from '@/lib/agents/events';
import { deliverDueWebhooks, MAX_WEBHOOK_ATTEMPTS, webhookBackoffMs } from '@/lib/agents/webhooks';
import { fileRequest } from '@/lib/services/file-request';
import { setAgentWebhook } from '@/lib/services/agent-webhooks';
import { SetAgentWebhookSchema } from '@/lib/validation/agent-webhook';
import { listAgents } from '@/lib/data/agents';
import { loadActor } from '@/lib/auth/actor';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig<object>()), ...(await import('../support/api-routes')).sessionMock() }));

const eventsRoute = await import('@/app/api/v1/events/route');
const { NextRequest } = await import('next/server');

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let owner: Awaited<ReturnType<typeof makeUser>>;
let targetId: string;

/** A local receiver: answers each POST with the next status of `statuses` (then 200), keeping what it got. */
function receiver(statuses: number[]) {
  const got: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      got.push({ headers: req.headers, body });
      const status = statuses.shift() ?? 200;
      res.writeHead(status, { 'content-type': 'text/plain' }).end(status === 200 ? 'ok' : 'receiver is down\u0000 for maintenance');
    });
  });
  return new Promise<{ url: string; got: typeof got; close: () => Promise<void> }>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/cutover`,
      got,
      close: () => new Promise((r) => server.close(() => r())),
    })),
  );
}

async function makeAgent(name: string, agentRoles: string[], opts: { paused?: boolean } = {}) {
  return getDb().user.create({
    data: {
      email: `${name}@agents.cutover.invalid`, name, passwordHash: '!agent', kind: 'agent', agentRoles, ownerId: owner.id,
      pausedAt: opts.paused ? new Date() : null,
    },
  });
}

async function tokenFor(userId: string) {
  const { secret, prefix, tokenHash } = newTokenSecret();
  await getDb().apiToken.create({ data: { name: 'agent token', userId, role: null, tokenHash, prefix, issuedById: admin.id } });
  return secret;
}

/**
 * One dispatcher pass after the backoff has passed: the due time is moved to now (as time passing
 * would), after checking that the wait asked for grows with each failed attempt.
 */
async function passAfterBackoff(accountId: string, waits: number[]) {
  const pending = await getDb().webhookDelivery.findMany({ where: { accountId, status: 'pending' } });
  for (const d of pending) if (d.attempts > 0) waits.push(d.nextAttemptAt!.getTime() - d.updatedAt.getTime());
  await getDb().webhookDelivery.updateMany({ where: { accountId, status: 'pending' }, data: { nextAttemptAt: new Date() } });
  await deliverDueWebhooks();
}

const fileOne = (title: string) =>
  fileRequest(admin.id, { title, kind: 'schema_change', targetId, description: 'Agents are told when work is ready.', priority: 'LOW' });

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'] });
  owner = await makeUser({ roles: ['engineer'], name: 'Alice Owner' });
  targetId = (await makeTarget()).id;
  process.env.CUTOVER_WEBHOOK_RETRY_BASE_MS = '1000';
});

afterAll(async () => {
  delete process.env.CUTOVER_WEBHOOK_RETRY_BASE_MS;
  await store?.close();
});

describe('agent events: written by the database in the transaction of the change', () => {
  it('announces the first task of a new workflow, the next task when one completes, and a run that ended', async () => {
    const before = await latestAgentEventId();
    const { id: requestId } = await fileOne('Events: a new workflow');
    const tasks = await getDb().task.findMany({ where: { requestId }, orderBy: { position: 'asc' } });
    const everyone = { accountId: admin.id, agentRoles: [], all: true };

    let events = await agentEventsAfter(everyone, before);
    expect(events.map((e) => [e.type, e.data.taskId])).toEqual([['task.ready', tasks[0].id]]);
    expect(events[0].data).toMatchObject({ subject: tasks[0].subject, step: tasks[0].key, requestId, eligibleRoles: tasks[0].eligibleRoles });

    // Completing the first task makes the second ready (and only it); starting one announces nothing.
    const mark = await latestAgentEventId();
    await getDb().task.update({ where: { id: tasks[0].id }, data: { status: 'in_progress' } });
    expect(await agentEventsAfter(everyone, mark)).toEqual([]);
    await getDb().task.update({ where: { id: tasks[0].id }, data: { status: 'completed' } });
    events = await agentEventsAfter(everyone, mark);
    expect(events.map((e) => [e.type, e.data.taskId])).toEqual([['task.ready', tasks[1].id]]);

    // A run that ends is announced to whoever asked for it, once.
    const run = await getDb().run.create({ data: { kind: 'snapshot', targetId, requestId, requestedById: owner.id, status: 'running' } });
    const beforeEnd = await latestAgentEventId();
    await getDb().run.update({ where: { id: run.id }, data: { status: 'succeeded' } });
    await getDb().run.update({ where: { id: run.id }, data: { status: 'succeeded', phase: 'done' } });
    const forOwner = await agentEventsAfter({ accountId: owner.id, agentRoles: [] }, beforeEnd);
    expect(forOwner.map((e) => [e.type, e.data.runId, e.data.status])).toEqual([['run.ended', run.id, 'succeeded']]);
    expect(await agentEventsAfter({ accountId: admin.id, agentRoles: [] }, beforeEnd)).toEqual([]);
  });

  it('each agent hears only about its roles: tasks of other roles are not announced to it', async () => {
    const optimizer = await makeAgent('events-optimizer', ['database-optimizer']);
    const tester = await makeAgent('events-tester', ['test-automator']);
    const before = await latestAgentEventId();
    const { id: requestId } = await fileOne('Events: who hears what');
    const first = await getDb().task.findFirstOrThrow({ where: { requestId, position: 1 } });
    const heard = async (a: { id: string; agentRoles: string[] }) => (await agentEventsAfter({ accountId: a.id, agentRoles: a.agentRoles }, before)).map((e) => e.data.taskId);
    expect(first.eligibleRoles).toContain('database-optimizer');
    expect(await heard(optimizer)).toEqual([first.id]);
    expect(await heard(tester)).toEqual([]);
  });
});

describe('webhooks: signed, retried with backoff, each delivery logged', () => {
  it('delivers a signed event after the receiver failed twice, and logs the attempts and the last error', async () => {
    const hook = await receiver([503, 503]);
    try {
      const agent = await makeAgent('hooked-optimizer', ['database-optimizer']);
      const bystander = await makeAgent('hooked-bystander', ['test-automator']);
      const paused = await makeAgent('hooked-paused', ['database-optimizer'], { paused: true });
      const { secret } = await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: hook.url }));
      await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: bystander.id, url: hook.url }));
      await getDb().user.update({ where: { id: paused.id }, data: { webhookUrl: hook.url } });
      expect(secret).toMatch(/^whsec_/);
      // Stored encrypted, and never in the audit.
      const stored = await getDb().user.findUniqueOrThrow({ where: { id: agent.id } });
      expect(stored.webhookSecretEncrypted).not.toContain(secret!);
      const audit = await getDb().auditLog.findMany({ where: { entityId: agent.id, action: 'agent.webhook_set' } });
      expect(audit).toHaveLength(1);
      expect(JSON.stringify(audit)).not.toContain(secret!);

      const { id: requestId } = await fileOne('Webhooks: tell the optimizer');
      const deliveries = await getDb().webhookDelivery.findMany({ where: { event: { requestId } } });
      // Only the agent whose role the ready task needs, and not the paused one.
      expect(deliveries.map((d) => d.accountId)).toEqual([agent.id]);

      // Attempt 1 and 2 fail (503), attempt 3 is delivered.
      const waits: number[] = [];
      for (let i = 0; i < 3; i++) await passAfterBackoff(agent.id, waits);
      expect(waits).toEqual([webhookBackoffMs(1), webhookBackoffMs(2)]);
      expect(hook.got).toHaveLength(3);
      // The delivery log as the agent's card on Admin > Agents shows it.
      const { agents } = await listAgents(await loadActor(getDb(), admin.id));
      const card = agents.find((a) => a.id === agent.id)!;
      expect(card.webhookUrl).toBe(hook.url);
      expect(JSON.stringify(card)).not.toContain(secret!);
      const [log] = card.deliveries;
      expect(log).toMatchObject({ status: 'delivered', attempts: 3, responseStatus: 200, eventType: 'task.ready' });
      expect(log.deliveredAt).toBeInstanceOf(Date);

      const last = hook.got[2];
      expect(last.headers['x-cutover-event']).toBe('task.ready');
      expect(last.headers['x-cutover-delivery']).toBe(log.id);
      const expected = `sha256=${createHmac('sha256', secret!).update(`${last.headers['x-cutover-timestamp']}.${last.body}`).digest('hex')}`;
      expect(last.headers['x-cutover-signature']).toBe(expected);
      // The event's id and the delivery's id (the same on each retry) are in the signed body: a receiver dedupes on a signed value.
      const event = await getDb().agentEvent.findFirstOrThrow({ where: { requestId, type: 'task.ready' } });
      expect(JSON.parse(last.body)).toMatchObject({ id: String(event.id), deliveryId: log.id, type: 'task.ready', data: { requestId, step: 'analysis' } });
      expect(hook.got.map((g) => JSON.parse(g.body).deliveryId)).toEqual([log.id, log.id, log.id]);
      // A body replayed with another delivery id no longer matches the signature.
      const redelivered = last.body.replace(log.id, '00000000-0000-4000-8000-000000000000');
      expect(redelivered).not.toBe(last.body);
      expect(last.headers['x-cutover-signature']).not.toBe(`sha256=${createHmac('sha256', secret!).update(`${last.headers['x-cutover-timestamp']}.${redelivered}`).digest('hex')}`);
      // A body changed on the way no longer matches the signature.
      const forged = createHmac('sha256', secret!).update(`${last.headers['x-cutover-timestamp']}.${last.body.replace('analysis', 'deploy')}`).digest('hex');
      expect(last.headers['x-cutover-signature']).not.toBe(`sha256=${forged}`);
      expect(card.deliveries).toHaveLength(1);
    } finally {
      await hook.close();
    }
  });

  it('gives up after the last attempt, with the receiver\'s answer in the log', async () => {
    const hook = await receiver(Array(MAX_WEBHOOK_ATTEMPTS).fill(500));
    try {
      const agent = await makeAgent('hooked-failing', ['postgres-pro']);
      await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: hook.url }));
      const event = await getDb().agentEvent.create({ data: { type: 'task.ready', roles: ['postgres-pro'], payload: { note: 'synthetic' } } });
      const waits: number[] = [];
      for (let i = 0; i < MAX_WEBHOOK_ATTEMPTS + 2; i++) await passAfterBackoff(agent.id, waits);
      // Each wait is five times the one before.
      expect(waits).toHaveLength(MAX_WEBHOOK_ATTEMPTS - 1);
      waits.slice(1).forEach((w, i) => expect(w).toBe(waits[i] * 5));
      const row = await getDb().webhookDelivery.findUniqueOrThrow({ where: { accountId_eventId: { accountId: agent.id, eventId: event.id } } });
      expect(row).toMatchObject({ status: 'failed', attempts: MAX_WEBHOOK_ATTEMPTS, responseStatus: 500 });
      // The receiver's answer is logged as text: its NUL byte (which PostgreSQL text refuses) is dropped.
      expect(row.lastError).toMatch(/HTTP 500: receiver is down for maintenance/);
      expect(hook.got).toHaveLength(MAX_WEBHOOK_ATTEMPTS);
    } finally {
      await hook.close();
    }
  });

  it('a slow receiver holds one lane: the other deliveries go on, never more than the bound at once', async () => {
    // Receivers that count what is in flight across both; the slow one answers only when released.
    let holdSlow = true;
    let inFlight = 0;
    let maxInFlight = 0;
    const releases: (() => void)[] = [];
    const counting = (hold: boolean) => {
      const got: string[] = [];
      const server = http.createServer((req, res) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          got.push(body);
          const answer = () => {
            if (res.headersSent) return;
            inFlight--;
            res.writeHead(200).end('ok');
          };
          if (hold && holdSlow) releases.push(answer);
          else setImmediate(answer);
        });
      });
      return new Promise<{ url: string; got: string[]; close: () => Promise<void> }>((resolve) =>
        server.listen(0, '127.0.0.1', () => resolve({
          url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, got,
          close: () => new Promise((r) => { server.closeAllConnections(); server.close(() => r()); }),
        })),
      );
    };
    const slowHook = await counting(true);
    const fastHook = await counting(false);
    try {
      const slow = await makeAgent('hooked-slow', ['postgres-pro']);
      const fast = await makeAgent('hooked-fast', ['postgres-pro']);
      await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: slow.id, url: slowHook.url }));
      await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: fast.id, url: fastHook.url }));
      // Only these two accounts' deliveries are due in this test (earlier tests' leftovers wait).
      await getDb().webhookDelivery.updateMany({ where: { status: 'pending' }, data: { nextAttemptAt: new Date(Date.now() + 86_400_000) } });
      // The slow receiver's three deliveries first in the queue, then six for the fast one: however many
      // it has due, the slow receiver holds one lane (one delivery at a time per account).
      for (let i = 0; i < 3; i++) await getDb().agentEvent.create({ data: { type: 'task.ready', roles: [], accountId: slow.id, payload: { note: `slow ${i}` } } });
      await getDb().webhookDelivery.updateMany({ where: { accountId: slow.id, status: 'pending' }, data: { nextAttemptAt: new Date(Date.now() - 60_000) } });
      for (let i = 0; i < 6; i++) await getDb().agentEvent.create({ data: { type: 'task.ready', roles: [], accountId: fast.id, payload: { note: `fast ${i}` } } });

      const pass = deliverDueWebhooks({ limit: 20, concurrency: 2 });
      // All six reach the fast receiver and are logged delivered while the slow one has not answered.
      await vi.waitFor(async () => {
        expect(await getDb().webhookDelivery.count({ where: { accountId: fast.id, status: 'delivered' } })).toBe(6);
      }, { timeout: 20_000, interval: 50 });
      expect(slowHook.got).toHaveLength(1);
      expect(releases).toHaveLength(1);
      expect(await getDb().webhookDelivery.count({ where: { accountId: slow.id, status: 'pending', attempts: 1 } })).toBe(1);
      expect(maxInFlight).toBeLessThanOrEqual(2);
      holdSlow = false;
      releases[0]();
      expect(await pass).toBe(9);
      expect(await getDb().webhookDelivery.findMany({ where: { accountId: slow.id }, select: { status: true, attempts: true } })).toEqual(Array(3).fill({ status: 'delivered', attempts: 1 }));
    } finally {
      for (const release of releases) release();
      await slowHook.close();
      await fastHook.close();
    }
  });

  it('a receiver that never answers is cut off at the timeout and retried later', async () => {
    const sockets: import('node:net').Socket[] = [];
    const silent = http.createServer(() => { /* never answers */ });
    silent.on('connection', (s) => sockets.push(s));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    process.env.CUTOVER_WEBHOOK_TIMEOUT_MS = '300';
    try {
      const agent = await makeAgent('hooked-silent', ['postgres-pro']);
      await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/hook` }));
      await getDb().webhookDelivery.updateMany({ where: { status: 'pending' }, data: { nextAttemptAt: new Date(Date.now() + 86_400_000) } });
      await getDb().agentEvent.create({ data: { type: 'task.ready', roles: [], accountId: agent.id, payload: { note: 'silent' } } });
      expect(await deliverDueWebhooks()).toBe(1);
      const row = await getDb().webhookDelivery.findFirstOrThrow({ where: { accountId: agent.id } });
      expect(row).toMatchObject({ status: 'pending', attempts: 1, responseStatus: null, lastError: 'No answer within 0.3 s.' });
      expect(row.nextAttemptAt!.getTime()).toBeGreaterThan(Date.now());
    } finally {
      delete process.env.CUTOVER_WEBHOOK_TIMEOUT_MS;
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(() => r(undefined)));
    }
  });

  it('refuses a webhook on loopback unless private addresses are allowed, and only admins set one', async () => {
    const agent = await makeAgent('hooked-refused', ['postgres-pro']);
    const allowed = process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
    delete process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
    try {
      await expect(setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: 'http://127.0.0.1:9/x' }))).rejects.toThrow(/loopback/);
      await expect(setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: 'http://169.254.169.254/latest' }))).rejects.toThrow(/link-local|metadata/);
    } finally {
      if (allowed !== undefined) process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS = allowed;
    }
    expect(SetAgentWebhookSchema.safeParse({ accountId: agent.id, url: 'file:///etc/passwd' }).success).toBe(false);
    await expect(setAgentWebhook(owner.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: 'https://hooks.example.com/x' }))).rejects.toThrow(/admins/);
    expect((await getDb().user.findUniqueOrThrow({ where: { id: agent.id } })).webhookUrl).toBeNull();

    // A secret in the URL's query stays out of the audit.
    await setAgentWebhook(admin.id, SetAgentWebhookSchema.parse({ accountId: agent.id, url: 'https://hooks.example.com/in?token=hunter2' }));
    const audit = await getDb().auditLog.findFirstOrThrow({ where: { entityId: agent.id, action: 'agent.webhook_set' } });
    expect(JSON.stringify(audit)).not.toContain('hunter2');
    expect(audit.after).toMatchObject({ webhookUrl: 'https://hooks.example.com/in?…' });
  });
});

describe('GET /api/v1/events: Server-Sent Events for an agent', () => {
  async function readUntil(res: Response, done: (text: string) => boolean, timeoutMs = 8_000) {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + timeoutMs;
    // One read in flight at a time: a read left behind by the timeout still takes the next chunk.
    let pending: ReturnType<typeof reader.read> | null = null;
    while (!done(text) && Date.now() < deadline) {
      pending ??= reader.read();
      const chunk = await Promise.race([pending, new Promise<null>((r) => setTimeout(() => r(null), 500))]);
      if (!chunk) continue;
      pending = null;
      if (chunk.done) break;
      text += decoder.decode(chunk.value);
    }
    await reader.cancel();
    return text;
  }

  it('streams the tasks that become ready for its roles, resumes after Last-Event-ID, and refuses a bad token', async () => {
    const agent = await makeAgent('streaming-optimizer', ['database-optimizer']);
    const token = await tokenFor(agent.id);
    const abort = new AbortController();
    const res = await eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: `Bearer ${token}` }, signal: abort.signal }));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const { id: requestId } = await fileOne('Events: streamed');
    const first = await getDb().task.findFirstOrThrow({ where: { requestId, position: 1 } });
    const text = await readUntil(res, (t) => t.includes(first.id));
    abort.abort();
    const block = text.split('\n\n').find((b) => b.includes(first.id))!;
    expect(block).toMatch(/^id: \d+\nevent: task\.ready\ndata: /m);
    const id = /^id: (\d+)$/m.exec(block)![1];
    expect(JSON.parse(/^data: (.*)$/m.exec(block)![1])).toMatchObject({ id, type: 'task.ready', data: { taskId: first.id, requestId } });

    // Reconnecting with Last-Event-ID one before gets the same event again (nothing missed across a reconnect).
    const again = await eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: `Bearer ${token}`, 'last-event-id': String(BigInt(id) - 1n) } }));
    expect(await readUntil(again, (t) => t.includes(first.id))).toContain(`id: ${id}\n`);

    const refused = await eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: 'Bearer cut_not-a-token' } }));
    expect(refused.status).toBe(401);
  });

  it('one account holds at most 4 streams on a process: the fifth is refused until one closes', async () => {
    const agent = await makeAgent('streaming-greedy', ['database-optimizer']);
    const token = await tokenFor(agent.id);
    const open = (signal?: AbortSignal) => eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: `Bearer ${token}` }, signal }));
    const aborts = Array.from({ length: 4 }, () => new AbortController());
    const held = await Promise.all(aborts.map((a) => open(a.signal)));
    expect(held.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const fifth = await open();
    expect(fifth.status).toBe(429);
    expect((await fifth.json()).error.message).toMatch(/already has 4 event streams open/);
    // Another account is not affected.
    const other = new AbortController();
    const otherRes = await eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: `Bearer ${await tokenFor((await makeAgent('streaming-other', ['database-optimizer'])).id)}` }, signal: other.signal }));
    expect(otherRes.status).toBe(200);
    other.abort();
    aborts[0].abort();
    const again = new AbortController();
    expect((await open(again.signal)).status).toBe(200);
    again.abort();
    aborts.slice(1).forEach((a) => a.abort());
  });

  it('follows the agent as it is now: a role taken away is no longer heard, and pausing ends the stream', async () => {
    const agent = await makeAgent('streaming-changing', ['database-optimizer']);
    const token = await tokenFor(agent.id);
    const abort = new AbortController();
    const res = await eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: `Bearer ${token}` }, signal: abort.signal }));
    // The role goes; after the next re-check (every 5 s) the stream no longer follows it.
    await getDb().user.update({ where: { id: agent.id }, data: { agentRoles: ['test-automator'] } });
    await new Promise((r) => setTimeout(r, 5_500));
    const { id: requestId } = await fileOne('Events: not for a former optimizer');
    const first = await getDb().task.findFirstOrThrow({ where: { requestId, position: 1 } });
    await getDb().user.update({ where: { id: agent.id }, data: { pausedAt: new Date() } });
    const text = await readUntil(res, (t) => t.includes('event: error'), 12_000);
    abort.abort();
    expect(text).not.toContain(first.id);
    expect(text).toMatch(/event: error\ndata: .*paused/);
  }, 30_000);
});

describe('agent tokens', () => {
  it('a token without a role acts only for an agent account: on any other account it is refused', async () => {
    const ci = await getDb().user.create({ data: { email: 'ci-null-role@tokens.cutover.invalid', name: 'CI (API token)', passwordHash: '!x', kind: 'automation', agentRoles: ['test-automator'] } });
    const token = await tokenFor(ci.id);
    const res = await eventsRoute.GET(new NextRequest('http://cutover.test/api/v1/events', { headers: { authorization: `Bearer ${token}` } }));
    expect(res.status).toBe(401);
  });
});
