import 'server-only';
import { ResourceTemplate, type McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import type { LoadedActor } from '../auth/actor';
import { DomainError } from '../domain/errors';
import { CURRENT_TEMPLATE, type WorkflowTemplateDefinition } from '../domain/procedure';
import { STEP_COVERAGE } from '../domain/step-evidence';
import { idSchema } from '../validation/common';
import { readRequestWithEvidence } from './request-view';
import { INTERNAL_ERROR, toJson } from './result';
import { PEOPLE_WRITE_THIS } from './untrusted';

export const PROCEDURE_URI = 'cutover://procedure';
export const REQUEST_URI_TEMPLATE = 'cutover://requests/{id}';

const COVERAGE_WORDS: Record<string, string> = {
  snapshot: 'a schema snapshot (take_snapshot)',
  desired_changes: 'the desired changes written on the request',
  migration_strategy: 'the migration strategy written on the request',
  analysis: 'an impact analysis',
  revision: 'a saved revision (save_migration_revision)',
  rehearsal: 'a passing rehearsal of the current revision (rehearse)',
  app_schema: 'the app-code check of the Prisma schema',
  test_report: 'a passing test report (attach_test_report)',
  drill: 'a passing restore drill of a fresh backup (backup, drill)',
  deploy: 'the deploy run',
  verification: 'the verification queries',
  health_check: 'the health check',
};

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
    if (step.gate) lines.push(`- Gate items, each signed by a reviewer who is a person:`, ...template.gateItems.map((g) => `  - ${g.label}`));
    else {
      lines.push('- Checklist:');
      for (const item of step.checklist) {
        const coverage = STEP_COVERAGE[step.key]?.[item];
        lines.push(`  - ${item}${coverage ? `: ticked by ${COVERAGE_WORDS[coverage] ?? coverage}` : ': ticked by hand (update_task)'}`);
      }
    }
    lines.push('');
  });
  return lines.join('\n');
}

/** Resource reads fail as JSON-RPC errors: a refusal with its message, anything else as "Internal error". */
function resourceError(err: unknown): McpError {
  if (err instanceof DomainError) return new McpError(err.code === 'not_found' ? ErrorCode.InvalidParams : ErrorCode.InvalidRequest, err.message);
  console.error('[cutover] MCP resource read failed:', err instanceof Error ? err.message : err);
  return new McpError(ErrorCode.InternalError, INTERNAL_ERROR);
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
  }, async (uri, variables) => {
    try {
      const id = idSchema.safeParse(variables.id);
      if (!id.success) throw new DomainError('not_found', 'Migration request was not found.');
      const request = await readRequestWithEvidence(actor, id.data);
      return { contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(toJson(request), null, 2) }] };
    } catch (err) {
      throw resourceError(err);
    }
  });
}
