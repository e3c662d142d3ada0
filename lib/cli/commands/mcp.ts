import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Readable, Writable } from 'node:stream';
import { EXIT, UsageError, defineCommand, type Io } from '../command';

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

/** What lies under a failed fetch ("fetch failed"): the system's error, such as "connect ECONNREFUSED 127.0.0.1:3000". */
function underlyingCause(err: unknown): string | null {
  const cause = (err as { cause?: unknown } | null)?.cause;
  if (!cause || typeof cause !== 'object') return null;
  // Several addresses tried (localhost as ::1 and 127.0.0.1): each one's error.
  const errors = (cause as { errors?: unknown }).errors;
  if (Array.isArray(errors) && errors.length) return errors.map((e) => underlyingText(e)).join('; ');
  return underlyingText(cause);
}
function underlyingText(e: unknown): string {
  const { message, code } = e as { message?: unknown; code?: unknown };
  return (typeof message === 'string' && message) || (typeof code === 'string' && code) || String(e);
}

/** The endpoint's own words when it refused (its JSON error body), else the transport's, with where and why it failed. */
export function refusalMessage(err: unknown, endpoint: URL): string {
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
  if (err instanceof StreamableHTTPError && err.code === -1) return `Cutover at ${endpoint.href} answered something that is not MCP.`;
  const cause = underlyingCause(err);
  return `Cutover's MCP endpoint ${endpoint.href} could not be reached: ${text}${cause ? ` (${cause})` : ''}. Is Cutover running there, and is CUTOVER_URL right?`;
}

const isRequest = (m: JSONRPCMessage): m is JSONRPCMessage & { id: string | number; method: string } => 'method' in m && 'id' in m;

/**
 * How long calls still in flight may take once stdin has closed (`echo '{...}' | cutover mcp`):
 * past wait_for_run's 120 s, so every tool's answer gets out before the bridge exits.
 */
export const DRAIN_MS = 130_000;

/**
 * The bridge itself: every JSON-RPC message read from `stdin` is POSTed to `endpoint` with the
 * token, every answer written to `stdout`. Resolves when stdin has ended and the calls in flight
 * have been answered (or `drainMs` has passed).
 */
export async function bridgeStdio(options: {
  endpoint: URL; token: string; io: Io; stdin?: Readable; stdout?: Writable; drainMs?: number;
}): Promise<void> {
  const { endpoint, token, io, drainMs = DRAIN_MS } = options;
  const stdinStream = options.stdin ?? process.stdin;
  const http = new StreamableHTTPClientTransport(endpoint, { requestInit: { headers: { Authorization: `Bearer ${token}` } } });
  const stdio = new StdioServerTransport(stdinStream, options.stdout ?? process.stdout);
  const initializeIds = new Set<string | number>();
  // Requests not answered yet, and posts not finished: stdin closing waits for both.
  const unanswered = new Set<string | number>();
  const posting = new Set<Promise<void>>();
  let onIdle: (() => void) | null = null;
  let abandoning = false;
  const checkIdle = () => {
    if (unanswered.size === 0 && posting.size === 0) onIdle?.();
  };

  stdio.onmessage = (message) => {
    if (isRequest(message)) {
      unanswered.add(message.id);
      if (message.method === 'initialize') initializeIds.add(message.id);
    }
    const post: Promise<void> = http.send(message).catch(async (err: unknown) => {
      // A refused or failed request is answered, so the client does not wait for ever.
      const why = abandoning ? 'cutover mcp closed (its stdin ended) before Cutover answered.' : refusalMessage(err, endpoint);
      if (isRequest(message)) {
        unanswered.delete(message.id);
        await stdio.send({ jsonrpc: '2.0', id: message.id, error: { code: BRIDGE_ERROR, message: why } });
      } else if (!abandoning) io.err(`cutover mcp: ${why}`);
    }).finally(() => {
      posting.delete(post);
      checkIdle();
    });
    posting.add(post);
  };
  http.onmessage = (message) => {
    // Later requests carry the protocol version the server chose, as the SDK's client does.
    if ('result' in message && message.id !== undefined && initializeIds.delete(message.id)) {
      const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
      if (typeof version === 'string') http.setProtocolVersion(version);
    }
    if (('result' in message || 'error' in message) && message.id !== undefined) unanswered.delete(message.id);
    void stdio.send(message).finally(checkIdle);
  };
  http.onerror = (err) => {
    if (!abandoning) io.err(`cutover mcp: ${refusalMessage(err, endpoint)}`);
  };

  const closed = new Promise<void>((resolve) => {
    stdio.onclose = () => resolve();
    stdinStream.once('end', () => resolve());
  });
  await http.start();
  await stdio.start();
  await closed;
  // Closing the HTTP side aborts what is in flight: first let the calls already sent be answered.
  let timer: NodeJS.Timeout | undefined;
  const drained = await Promise.race([
    new Promise<boolean>((resolve) => {
      onIdle = () => resolve(true);
      checkIdle();
    }),
    new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), drainMs);
    }),
  ]);
  clearTimeout(timer);
  if (!drained) io.err(`cutover mcp: stdin closed; ${unanswered.size} call(s) still unanswered after ${drainMs / 1000} s are abandoned.`);
  abandoning = true;
  await http.close().catch(() => undefined);
}

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
    await bridgeStdio({ endpoint: mcpEndpoint(base), token, io });
    return EXIT.ok;
  },
});
