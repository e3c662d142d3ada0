import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { z } from 'zod';
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

/**
 * A JSON-RPC error for resource reads and prompts (tools answer refusals as results). Not the
 * SDK's McpError: its message already carries "MCP error <code>: ", which the client adds again.
 */
export class JsonRpcError extends Error {
  constructor(readonly code: number, message: string, readonly data?: Record<string, unknown>) {
    super(message);
    this.name = 'JsonRpcError';
  }
}

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

/** How many of a refused input's problems are said (the first names the field). */
const INPUT_ISSUES_SAID = 5;

/**
 * Arguments the tool's zod schema refused, handed to the tool's handler in place of its input
 * (lib/mcp/stateless.ts), so that they are answered like any other refusal.
 */
export class InvalidToolInput {
  constructor(readonly issues: { field: string | null; message: string }[]) {}
}

export function invalidInput(error: z.ZodError): InvalidToolInput {
  return new InvalidToolInput(error.issues.flatMap((i) => {
    const at = i.path.map(String);
    // A misspelt argument is named, not dropped: each unknown key is a field of its own.
    if (i.code === 'unrecognized_keys') return i.keys.map((key) => ({ field: [...at, key].join('.'), message: 'Unknown argument.' }));
    // zod's own wording starts with "Invalid input: " too; said once is enough.
    return [{ field: at.length ? at.join('.') : null, message: i.message.replace(/^Invalid input: /, '') }];
  }));
}

/** The refusal of invalid arguments: code "invalid", the first field, and each problem "field: message". */
export function inputError(input: InvalidToolInput): CallToolResult {
  const said = input.issues.slice(0, INPUT_ISSUES_SAID);
  const more = input.issues.length - said.length;
  const message = `Invalid input: ${said.map((i) => (i.field ? `${i.field}: ${i.message}` : i.message)).join('; ')}${more > 0 ? `; and ${more} more` : ''}`;
  const field = said.find((i) => i.field)?.field;
  return {
    isError: true,
    content: [{ type: 'text', text: message }],
    structuredContent: { error: { code: 'invalid', message, ...(field ? { field } : {}), issues: said } },
  };
}

/** A tool's handler: the service call, its answer as a tool result, refusals (invalid input included) as error results. */
export function handler<A>(tool: string, run: (args: A) => Promise<unknown>): (args: A) => Promise<CallToolResult> {
  return async (args: A) => {
    if (args instanceof InvalidToolInput) return inputError(args);
    try {
      return toolResult(await run(args));
    } catch (err) {
      return toolError(err, tool);
    }
  };
}
