import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { createAgent, issueAgentToken } from '@/lib/services/agent-accounts';
import { makeUser, openTestAppStore } from '../support/app-store';
import { MCP_ENDPOINT, callTool, connectMcp } from '../support/mcp-client';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig<object>()), ...(await import('../support/api-routes')).sessionMock() }));

const mcpRoute = await import('@/app/api/mcp/route');

/**
 * The per-token cap on /api/mcp (CUTOVER_MCP_MAX_CONCURRENT): beyond it a token's next request is
 * answered 429 with a JSON-RPC error before anything is read, other tokens are not affected, and
 * a slot is free again once its answer is made.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'], name: 'Cap Admin' });
}, 60_000);

afterEach(() => {
  delete process.env.CUTOVER_MCP_MAX_CONCURRENT;
});

afterAll(async () => {
  await store?.close();
});

async function agentToken(name: string) {
  const agent = await createAgent(admin.id, { name, agentRoles: ['database-optimizer'], ownerId: admin.id });
  return (await issueAgentToken(admin.id, { agentId: agent.id, name: `${name} token` })).secret;
}

const headers = (secret: string) => ({ Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' });
const ping = (id: number) => JSON.stringify({ jsonrpc: '2.0', id, method: 'ping' });

/** A POST whose body arrives only when `finish` is called: the request stays in flight until then. */
function inFlightPost(secret: string, id: number) {
  let finish!: () => void;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      finish = () => {
        controller.enqueue(new TextEncoder().encode(ping(id)));
        controller.close();
      };
    },
  });
  const response = mcpRoute.POST(new Request(MCP_ENDPOINT, { method: 'POST', headers: headers(secret), body, duplex: 'half' } as RequestInit));
  return { response, finish };
}

describe('the per-token concurrency cap on POST /api/mcp', () => {
  it('is 8 unless CUTOVER_MCP_MAX_CONCURRENT names a positive whole number', () => {
    expect(mcpRoute.mcpMaxConcurrent()).toBe(8);
    process.env.CUTOVER_MCP_MAX_CONCURRENT = '3';
    expect(mcpRoute.mcpMaxConcurrent()).toBe(3);
    for (const bad of ['0', '-2', '1.5', 'many']) {
      process.env.CUTOVER_MCP_MAX_CONCURRENT = bad;
      expect(mcpRoute.mcpMaxConcurrent()).toBe(8);
    }
  });

  it('answers a token\'s request beyond the cap 429 with a JSON-RPC error, leaves other tokens alone, and frees the slot with the answer', async () => {
    process.env.CUTOVER_MCP_MAX_CONCURRENT = '2';
    const busy = await agentToken('busy-agent');
    const other = await agentToken('other-agent');

    const first = inFlightPost(busy, 1);
    const second = inFlightPost(busy, 2);
    const third = await mcpRoute.POST(new Request(MCP_ENDPOINT, { method: 'POST', headers: headers(busy), body: ping(3) }));
    expect(third.status).toBe(429);
    expect(third.headers.get('retry-after')).toBe('1');
    expect(await third.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32000, message: mcpRoute.mcpTooManyMessage(2) } });
    // The SDK's client sees the same refusal as an HTTP error with the status.
    const refused = await connectMcp(mcpRoute.POST, busy, 'third-session').then(() => null, (err: unknown) => err);
    expect(refused).toBeInstanceOf(StreamableHTTPError);
    expect((refused as StreamableHTTPError).code).toBe(429);

    // Another token is counted on its own.
    const otherClient = await connectMcp(mcpRoute.POST, other, 'other-session');
    expect((await callTool(otherClient, 'list_my_ready_tasks', {})).isError).toBeFalsy();

    // The held requests complete normally; then the token may call again.
    first.finish();
    second.finish();
    for (const [held, id] of [[first, 1], [second, 2]] as const) {
      const res = await held.response;
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id, result: {} });
    }
    const again = await connectMcp(mcpRoute.POST, busy, 'after-the-answers');
    expect((await callTool(again, 'list_my_ready_tasks', {})).isError).toBeFalsy();
  });

  it('frees the slot of a refused request too (an unknown token is refused 401, never held)', async () => {
    process.env.CUTOVER_MCP_MAX_CONCURRENT = '1';
    const unknown = `cut_${'A'.repeat(43)}`;
    for (let k = 0; k < 3; k++) {
      const res = await mcpRoute.POST(new Request(MCP_ENDPOINT, { method: 'POST', headers: headers(unknown), body: ping(k) }));
      expect(res.status).toBe(401);
    }
  });
});
