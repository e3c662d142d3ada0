import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';

/**
 * The SDK's MCP client against the /api/mcp route handler, called in-process as Next would call
 * it (only POST is routed there; anything else is 405). The test file imports the route after
 * its vi.mock lines and passes its POST here.
 */
export const MCP_ENDPOINT = 'http://cutover.test/api/mcp';

export type RoutePost = (req: Request) => Promise<Response>;

export function routeFetch(post: RoutePost) {
  return async (url: string | URL, init?: RequestInit): Promise<Response> =>
    (init?.method ?? 'GET') === 'POST' ? post(new Request(url, init)) : new Response(null, { status: 405 });
}

export async function connectMcp(post: RoutePost, secret: string, name = 'scripted-agent'): Promise<Client> {
  const client = new Client({ name, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(MCP_ENDPOINT), { requestInit: { headers: { Authorization: `Bearer ${secret}` } }, fetch: routeFetch(post) }));
  return client;
}

/** A tool result's text (the JSON answer, or the refusal's message). */
export const resultText = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : '')).join('');

export async function callTool(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}
