import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { EXIT, UsageError, defineCommand } from '../command';

/** JSON-RPC's "server error" range: the HTTP endpoint refused or could not be reached. */
const BRIDGE_ERROR = -32000;

/** Names and addresses that stay on this machine, where http:// does not put the token on a network. */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * Where the HTTP endpoint is: CUTOVER_URL is Cutover's address (…/api/mcp is also accepted). Plain
 * http:// only to this machine, since every message carries the bearer token, unless
 * CUTOVER_ALLOW_INSECURE_URL=1 says the network between is trusted.
 */
export function mcpEndpoint(base: string, allowInsecure = process.env.CUTOVER_ALLOW_INSECURE_URL === '1'): URL {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`CUTOVER_URL is not a URL: set it to Cutover's address, such as https://cutover.example.com.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError('CUTOVER_URL must be an http:// or https:// address.');
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname) && !allowInsecure) {
    throw new UsageError(
      `CUTOVER_URL is http:// to ${url.hostname}, another machine: the agent's token would cross the network in clear. ` +
      'Use https://, or set CUTOVER_ALLOW_INSECURE_URL=1 if the network between is trusted.',
    );
  }
  if (url.pathname.replace(/\/+$/, '').endsWith('/api/mcp')) return url;
  return new URL('api/mcp', url.href.endsWith('/') ? url.href : `${url.href}/`);
}

/** The endpoint's own words when it refused (its JSON error body), else the transport's. */
function refusalMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const body = text.indexOf('{');
  if (body >= 0) {
    try {
      const parsed = JSON.parse(text.slice(body)) as { error?: { message?: unknown } };
      if (typeof parsed.error?.message === 'string') return parsed.error.message;
    } catch {
      // not JSON: the transport's message as it is
    }
  }
  return err instanceof StreamableHTTPError && err.code === -1 ? 'Cutover answered something that is not MCP.' : `Cutover's MCP endpoint could not be reached: ${text}`;
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number; method: string } => 'method' in m && 'id' in m;

/**
 * `cutover mcp`: an MCP server on stdio for clients that start one (Claude Code, editors), which
 * forwards every JSON-RPC message to Cutover's Streamable HTTP endpoint with the token from
 * CUTOVER_TOKEN, and the answers back. The server checks the token on every message; nothing is
 * decided here. stdout carries only MCP messages; anything else goes to stderr.
 */
export default defineCommand({
  name: 'mcp',
  usage: `  mcp                             an MCP server on stdio for agents, bridged to Cutover at
                                  $CUTOVER_URL with the token in $CUTOVER_TOKEN`,
  flags: z.strictObject({}),
  async run(_input, { io }) {
    const base = process.env.CUTOVER_URL?.trim();
    const token = process.env.CUTOVER_TOKEN?.trim();
    if (!base || !token) {
      throw new UsageError(`cutover mcp needs ${[!base && 'CUTOVER_URL (Cutover\'s address)', !token && 'CUTOVER_TOKEN (an agent token from Admin > Agents)'].filter(Boolean).join(' and ')} in the environment.`);
    }
    const http = new StreamableHTTPClientTransport(mcpEndpoint(base), { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
    const stdio = new StdioServerTransport();
    const initializeIds = new Set<string | number>();

    stdio.onmessage = (message) => {
      if (isRequest(message) && message.method === 'initialize') initializeIds.add(message.id);
      http.send(message).catch(async (err: unknown) => {
        // A refused or failed request is answered, so the client does not wait for ever.
        if (isRequest(message)) await stdio.send({ jsonrpc: '2.0', id: message.id, error: { code: BRIDGE_ERROR, message: refusalMessage(err) } });
        else io.err(`cutover mcp: ${refusalMessage(err)}`);
      });
    };
    http.onmessage = (message) => {
      // Later requests carry the protocol version the server chose, as the SDK's client does.
      if ('result' in message && message.id !== undefined && initializeIds.delete(message.id)) {
        const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
        if (typeof version === 'string') http.setProtocolVersion(version);
      }
      void stdio.send(message);
    };
    http.onerror = (err) => io.err(`cutover mcp: ${refusalMessage(err)}`);

    const closed = new Promise<void>((resolve) => {
      stdio.onclose = () => resolve();
      process.stdin.once('end', () => resolve());
    });
    await http.start();
    await stdio.start();
    await closed;
    await http.close().catch(() => undefined);
    return EXIT.ok;
  },
});
