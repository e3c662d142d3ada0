import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { z } from 'zod';
import { invalidInput } from './result';

/**
 * What the SDK's McpServer does that a stateless server (one per HTTP request) must not:
 * - It advertises `listChanged: true` for tools, resources and prompts, yet no such notification
 *   can ever reach a client of a server that lives for one request.
 * - It parses a tool's arguments with the tool's zod schema before the handler and answers a
 *   failure as bare text ("MCP error -32602: Input validation error: ..."). Here the failure goes to
 *   the handler instead (lib/mcp/result.ts `handler`), which answers it as the services' refusals
 *   are answered: structuredContent.error {code: "invalid", message, field}.
 * Call it once the tools are registered and before connecting.
 */
export function fitForStatelessUse(server: McpServer): void {
  server.server.registerCapabilities({ tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } });
  // validateToolInput is private to the SDK: tests/integration/mcp-tools.test.ts fails if it stops being called.
  const sdk = server as unknown as { validateToolInput: (tool: { inputSchema?: unknown }, args: unknown, name: string) => Promise<unknown> };
  const parseWithSdk = sdk.validateToolInput.bind(server);
  sdk.validateToolInput = async (tool, args, name) => {
    const schema = tool.inputSchema as z.ZodType | undefined;
    if (!schema || typeof (schema as { safeParseAsync?: unknown }).safeParseAsync !== 'function') return parseWithSdk(tool, args, name);
    // Strict: an argument the tool does not take is refused by name (a typo must not be dropped silently).
    const strict = typeof (schema as { strict?: unknown }).strict === 'function' ? (schema as unknown as z.ZodObject).strict() : schema;
    const parsed = await strict.safeParseAsync(args ?? {});
    return parsed.success ? parsed.data : invalidInput(parsed.error);
  };
}
