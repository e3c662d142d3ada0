import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { DomainError } from '../domain/errors';

/**
 * What MCP tools answer: the data as JSON text (what every client shows the model) and as
 * structuredContent (for clients that read it), or a refusal with the same message the browser
 * and the API give. Only DomainErrors say why; anything else is "Internal error" (logged here,
 * message only: inputs may hold SQL or reports, never echoed).
 */

/** Plain JSON: dates as ISO strings, bigints as numbers (sizes), undefined fields dropped. */
export function toJson(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? 'null');
}

export function toolResult(data: unknown): CallToolResult {
  const json = toJson(data);
  const structured = json !== null && typeof json === 'object' && !Array.isArray(json) ? (json as Record<string, unknown>) : { result: json };
  return { content: [{ type: 'text', text: JSON.stringify(json, null, 2) }], structuredContent: structured };
}

export const INTERNAL_ERROR = 'Internal error';

export function toolError(err: unknown, tool: string): CallToolResult {
  if (err instanceof DomainError) {
    return {
      isError: true,
      content: [{ type: 'text', text: err.message }],
      structuredContent: { error: { code: err.code, message: err.message, ...(err.field ? { field: err.field } : {}) } },
    };
  }
  console.error(`[cutover] MCP tool ${tool} failed:`, err instanceof Error ? err.message : err);
  return { isError: true, content: [{ type: 'text', text: INTERNAL_ERROR }], structuredContent: { error: { code: 'server_error', message: INTERNAL_ERROR } } };
}

/** A tool's handler: the service call, its answer as a tool result, refusals as error results. */
export function handler<A>(tool: string, run: (args: A) => Promise<unknown>): (args: A) => Promise<CallToolResult> {
  return async (args: A) => {
    try {
      return toolResult(await run(args));
    } catch (err) {
      return toolError(err, tool);
    }
  };
}
