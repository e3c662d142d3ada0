import 'server-only';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import type { LoadedActor } from '../auth/actor';
import { DomainError } from '../domain/errors';
import { CURRENT_TEMPLATE, type WorkflowTemplateDefinition } from '../domain/procedure';
import { STEP_COVERAGE, type Coverage } from '../domain/step-evidence';
import { idSchema } from '../validation/common';
import { EVIDENCE_TOOLS, readRequestWithEvidence } from './request-view';
import { readRequestSchema } from './schema-view';
import { INTERNAL_ERROR, JsonRpcError, toJson } from './result';
import { PEOPLE_WRITE_THIS } from './untrusted';

export const PROCEDURE_URI = 'cutover://procedure';
export const REQUEST_URI_TEMPLATE = 'cutover://requests/{id}';
export const REQUEST_SCHEMA_URI_TEMPLATE = 'cutover://requests/{id}/schema';

/** MCP's "resource not found" (the specification's -32002; the SDK names no constant for it). */
export const RESOURCE_NOT_FOUND = -32002;

const COVERAGE_WORDS: Partial<Record<Coverage, string>> = {
  snapshot: 'a schema snapshot',
  desired_changes: 'the desired changes written on the request',
  migration_strategy: 'the migration strategy written on the request',
  analysis: 'an impact analysis of the current revision',
  revision: 'a saved revision',
  rehearsal: 'a passing rehearsal of the current revision',
  app_schema: 'a comparison of the app branch\'s schema.prisma with the rehearsed schema that agrees (or whose differences are recorded as intended)',
  test_report: 'a passing test report',
  drill: 'a passing restore drill of a fresh backup',
  deploy: 'the deploy run',
  verification: 'the verification queries',
  health_check: 'the health check',
};

/** An item's evidence in words, with the tool that makes it. */
const coverageWords = (coverage: Coverage) =>
  `${COVERAGE_WORDS[coverage] ?? coverage} (${EVIDENCE_TOOLS[coverage]})${coverage === 'snapshot' ? '; read the schema with get_schema' : ''}`;

/**
 * The procedure Cutover follows, as Markdown, from the template every new request is planned
 * from (lib/domain/procedure.ts; its unit test holds it to docs/procedure/database-migration.md),
 * with what Cutover checks of each step: the items evidence ticks and the tools that make it.
 */
export function procedureMarkdown(template: WorkflowTemplateDefinition = CURRENT_TEMPLATE): string {
  const lines = [`# ${template.name} procedure (v${template.version})`, '',
    'Each step is a task in TaskCreate\'s shape. A step is ready when the step before it is completed. Agents work the steps of the roles they hold; the quality gate is signed by people (reviewers), and production deploys are approved by people.', ''];
  template.steps.forEach((step, i) => {
    lines.push(`## ${i + 1}. ${step.subject}`, '', step.description, '',
      `- Role: \`${step.owner}\`${step.eligibleRoles.length > 1 ? ` (also ${step.eligibleRoles.filter((r) => r !== step.owner).map((r) => `\`${r}\``).join(', ')})` : ''}`);
    if (step.gate) {
      lines.push(`- Gate items, each signed by a reviewer who is a person (no MCP tool signs them):`, ...template.gateItems.map((g) => `  - ${g.label}`),
        '- The gate also waits for every destructive operation of the current revision to be acknowledged (acknowledge_destructive, by someone who neither filed the request nor wrote the revision).');
    } else {
      lines.push('- Checklist:');
      for (const item of step.checklist) {
        const coverage = STEP_COVERAGE[step.key]?.[item];
        lines.push(`  - ${item}${coverage ? `: ticked by ${coverageWords(coverage)}` : ': ticked by hand (update_task)'}`);
      }
    }
    lines.push('');
  });
  return lines.join('\n');
}

/** Resource reads fail as JSON-RPC errors: not found as MCP's -32002 (with the uri), another refusal with its message, anything else as "Internal error". */
function resourceError(err: unknown, uri: string): JsonRpcError {
  if (err instanceof DomainError) {
    return err.code === 'not_found' ? new JsonRpcError(RESOURCE_NOT_FOUND, err.message, { uri }) : new JsonRpcError(ErrorCode.InvalidRequest, err.message);
  }
  console.error('[cutover] MCP resource read failed:', err instanceof Error ? err.message : err);
  return new JsonRpcError(ErrorCode.InternalError, INTERNAL_ERROR);
}

/** A request resource's read: the id from the URI, the reader's answer as JSON, refusals as resource errors. */
function readRequestResource(actor: LoadedActor, read: (actor: LoadedActor, requestId: string) => Promise<unknown>) {
  return async (uri: URL, variables: Record<string, string | string[]>) => {
    try {
      const id = idSchema.safeParse(variables.id);
      if (!id.success) throw new DomainError('not_found', 'Migration request was not found.');
      const body = await read(actor, id.data);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(toJson(body), null, 2) }] };
    } catch (err) {
      throw resourceError(err, uri.href);
    }
  };
}

export function registerResources(server: McpServer, actor: LoadedActor) {
  server.registerResource('procedure', PROCEDURE_URI, {
    title: 'The database migration procedure',
    description: 'The nine steps, their roles and checklists, and which items Cutover ticks from evidence (and with which tool).',
    mimeType: 'text/markdown',
  }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: procedureMarkdown() }] }));

  server.registerResource('request', new ResourceTemplate(REQUEST_URI_TEMPLATE, { list: undefined }), {
    title: 'A migration request with its evidence',
    description: `The request, each step with its checklist and the evidence verdict on each item, the gate, and the migration (as get_request answers). ${PEOPLE_WRITE_THIS}`,
    mimeType: 'application/json',
  }, readRequestResource(actor, readRequestWithEvidence));

  server.registerResource('request-schema', new ResourceTemplate(REQUEST_SCHEMA_URI_TEMPLATE, { list: undefined }), {
    title: 'The schema of a request\'s target',
    description: 'The latest schema snapshot of the request\'s target: tables, columns, constraints, indexes (as get_schema answers, all tables up to its size limit).',
    mimeType: 'application/json',
  }, readRequestResource(actor, (a, id) => readRequestSchema(a, id)));
}
