import { WebStandardStreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js';
import { toActionError } from '@/lib/actions/run-action';
import { apiError, respond } from '@/lib/api/route';
import { authenticate } from '@/lib/auth/authenticate';
import { bearerSecret } from '@/lib/auth/api-tokens';
import { createCutoverMcpServer } from '@/lib/mcp/server';

/**
 * The largest MCP message read: a migration revision is three SQL files of at most 1 MB each
 * (lib/validation/migration.ts), JSON-escaped; a test report at most 4 MB. Larger is 413 unread.
 */
export const MCP_MAX_BODY_BYTES = 8 * 1024 * 1024;

export const MCP_TOKEN_REQUIRED = 'The MCP endpoint takes a bearer token: send "Authorization: Bearer <token>" with a token an admin issued (Admin > Agents or Admin > API tokens).';

/**
 * POST /api/mcp: Cutover's MCP server over Streamable HTTP, stateless (a new server and
 * transport per request, JSON answers). A bearer token is required: the session cookie is not
 * accepted here, so a page elsewhere cannot make a signed-in browser call tools. Who the token
 * acts as is checked before the body is read (401 with the reason: revoked, expired, paused).
 * GET (a standalone SSE stream) and DELETE (sessions) are not offered: Next answers 405.
 */
export async function POST(req: Request): Promise<Response> {
  let secret: string | undefined;
  try {
    secret = bearerSecret(req.headers.get('authorization'));
  } catch (err) {
    return respond(toActionError(err));
  }
  if (secret === undefined) return apiError(401, 'unauthenticated', MCP_TOKEN_REQUIRED);
  let actor;
  try {
    ({ actor } = await authenticate(req));
  } catch (err) {
    return respond(toActionError(err));
  }
  const server = createCutoverMcpServer(actor);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true, maxRequestBodySize: MCP_MAX_BODY_BYTES });
  try {
    await server.connect(transport);
    return await transport.handleRequest(req);
  } finally {
    // JSON answers are complete when handleRequest returns: nothing outlives the request.
    await server.close();
  }
}
