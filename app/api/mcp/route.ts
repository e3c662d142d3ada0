import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { toActionError } from '@/lib/actions/run-action';
import { apiError, mediaTypeOf, respond } from '@/lib/api/route';
import { readBodyCapped } from '@/lib/api/read-body';
import { authenticate } from '@/lib/auth/authenticate';
import { bearerSecret, hashTokenSecret } from '@/lib/auth/api-tokens';
import { createCutoverMcpServer } from '@/lib/mcp/server';

/**
 * The largest MCP message read: a migration revision is three SQL files of at most 1 MB each
 * (lib/validation/migration.ts), JSON-escaped; a test report at most 4 MB. Larger is 413 unread.
 */
export const MCP_MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * JSON-RPC batches are refused: MCP 2025-06-18 dropped them, and one POST carrying up to 100 tool
 * calls (say, 100 wait_for_run) would multiply a single request's cost a hundredfold.
 */
const MCP_BATCH_REFUSED = 'JSON-RPC batches are not accepted: send one MCP message per request (MCP 2025-06-18 dropped batching).';

/** How many MCP requests one token may have in flight in one server process (CUTOVER_MCP_MAX_CONCURRENT). */
export const MCP_MAX_CONCURRENT_DEFAULT = 8;

export function mcpMaxConcurrent(): number {
  const configured = Number(process.env.CUTOVER_MCP_MAX_CONCURRENT);
  return Number.isInteger(configured) && configured > 0 ? configured : MCP_MAX_CONCURRENT_DEFAULT;
}

export const mcpTooManyMessage = (max: number) =>
  `Too many MCP requests in flight for this token: at most ${max} at once (CUTOVER_MCP_MAX_CONCURRENT). Wait for an answer before sending the next call.`;

/** Requests in flight per token (by the secret's hash), in this process. */
const inFlight = new Map<string, number>();

export const MCP_TOKEN_REQUIRED = 'The MCP endpoint takes a bearer token: send "Authorization: Bearer <token>" with a token an admin issued (Admin > Agents or Admin > API tokens).';

/**
 * POST /api/mcp: Cutover's MCP server over Streamable HTTP, stateless (a new server and
 * transport per request, JSON answers). A bearer token is required: the session cookie is not
 * accepted here, so a page elsewhere cannot make a signed-in browser call tools. Who the token
 * acts as is checked before the body is read (401 with the reason: revoked, expired, paused).
 * GET (a standalone SSE stream) and DELETE (sessions) are not offered: Next answers 405.
 * At most CUTOVER_MCP_MAX_CONCURRENT requests per token are in flight at once per server
 * process; more are answered 429 with a JSON-RPC error (the client waits and retries).
 */
export async function POST(req: Request): Promise<Response> {
  let secret: string | undefined;
  try {
    secret = bearerSecret(req.headers.get('authorization'));
  } catch (err) {
    return respond(toActionError(err));
  }
  if (secret === undefined) return apiError(401, 'unauthenticated', MCP_TOKEN_REQUIRED);
  // Counted before anything is read or looked up, so that one token's flood cannot take every
  // database connection and worker from the other agents; the slot is freed when the answer is made.
  const key = hashTokenSecret(secret);
  const max = mcpMaxConcurrent();
  const busy = inFlight.get(key) ?? 0;
  if (busy >= max) return jsonRpcError(429, -32000, mcpTooManyMessage(max), { 'Retry-After': '1' });
  inFlight.set(key, busy + 1);
  try {
    return await handle(req);
  } finally {
    const left = (inFlight.get(key) ?? 1) - 1;
    if (left > 0) inFlight.set(key, left);
    else inFlight.delete(key);
  }
}

async function handle(req: Request): Promise<Response> {
  let actor;
  try {
    ({ actor } = await authenticate(req));
  } catch (err) {
    return respond(toActionError(err));
  }
  // The body is read once, here, so that a batch is refused before any tool runs; the transport
  // gets the parsed message. A body that is not JSON by its type goes on unread: the transport
  // answers 406/415 as it does for any MCP client.
  let parsedBody: unknown;
  if (mediaTypeOf(req.headers.get('content-type')) === 'application/json') {
    const bytes = await readBodyCapped(req, MCP_MAX_BODY_BYTES);
    if (bytes === null) return jsonRpcError(413, -32000, `The request body is larger than ${MCP_MAX_BODY_BYTES / 1024 / 1024} MiB.`);
    try {
      parsedBody = JSON.parse(bytes.toString('utf8'));
    } catch {
      return jsonRpcError(400, -32700, 'Parse error: the request body is not valid JSON.');
    }
    if (Array.isArray(parsedBody)) return jsonRpcError(400, -32600, MCP_BATCH_REFUSED);
  }
  const server = createCutoverMcpServer(actor);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize: MCP_MAX_BODY_BYTES });
  try {
    await server.connect(transport);
    return await transport.handleRequest(req, parsedBody === undefined ? undefined : { parsedBody });
  } finally {
    // JSON answers are complete when handleRequest returns: nothing outlives the request.
    await server.close();
  }
}

/** A refusal in JSON-RPC's error shape, as the transport answers its own (id null: no message was read). */
function jsonRpcError(status: number, code: number, message: string, headers?: Record<string, string>): Response {
  return Response.json({ jsonrpc: '2.0', error: { code, message }, id: null }, { status, headers });
}
