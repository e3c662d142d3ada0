import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { ErrorCode } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { LoadedActor } from '../auth/actor';
import { PROCEDURE_URI } from './resources';
import { JsonRpcError } from './result';
import { PEOPLE_WRITE_THIS } from './untrusted';

/** The prompt's text: how an agent works the next ready task of its role with Cutover's tools. */
export function workNextTaskText(actor: Pick<LoadedActor, 'name' | 'agentRoles'>, role?: string): string {
  const roles = role ? `\`${role}\`` : actor.agentRoles.length ? actor.agentRoles.map((r) => `\`${r}\``).join(', ') : 'your roles';
  return [
    `You are ${actor.name}, working database migrations in Cutover as ${roles}. Work the next ready task of ${role ? 'that role' : 'your roles'}:`,
    '',
    `1. Read the procedure (resource ${PROCEDURE_URI}) if you have not: it says which checklist items Cutover ticks from evidence and which tool makes that evidence.`,
    `2. Call list_my_ready_tasks${role ? ` with role "${role}"` : ''}. If it is empty, say so and stop.`,
    '3. Pick the first task (the oldest request first) and call claim_task with its id. If someone else claimed it first (a conflict naming the holder), take the next one.',
    '4. Call get_request with the task\'s metadata.requestId to read the request, its steps and what the step\'s evidence waits for (metadata.waitingFor).',
    '5. Do the work with the tools the step needs (each checklist item of get_request names its tool): take_snapshot then get_schema, save_analysis and analyze (Analyze database change; the impact analysis needs a saved revision), save_migration_revision (Create migration: read parse errors back and fix them), rehearse (Test migration locally), link_app_branch, compare_app_schema and record_intended_difference (Update app code), attach_test_report (Test app with new schema), backup and drill (Create backup), acknowledge_destructive (destructive operations the analysis found, when you hold database-administrator and did not write the revision). Follow every run with wait_for_run until it has ended, and read its phases and log when it fails.',
    '6. Tick the checklist items evidence does not cover with update_task (coveredBy null), adding a note of what you did and found.',
    '7. Call complete_task. If it is refused, read what is missing, fix it and try again; if you cannot, call block_task with the reason, so that a person sees it.',
    '',
    PEOPLE_WRITE_THIS,
    'Never try to sign quality-gate items or approve production deploys: those are for people. Do not invent results; report what the tools answered.',
  ].join('\n');
}

/** Built once: a server is made per HTTP request (lib/mcp/server.ts), and zod schemas cost to build. */
const WORK_NEXT_TASK_ARGS = { role: z.string().trim().min(1).max(100).optional().describe('One of your agent roles (default: all of them)') };

/** The role the prompt is for: one of the caller's agent roles (a JSON-RPC invalid-params error otherwise). */
export function promptRole(actor: Pick<LoadedActor, 'agentRoles'>, role: string | undefined): string | undefined {
  if (role === undefined || actor.agentRoles.includes(role)) return role;
  const held = actor.agentRoles.length ? `Your agent roles are ${actor.agentRoles.join(', ')}.` : 'You hold no agent role.';
  throw new JsonRpcError(ErrorCode.InvalidParams, `"${role.slice(0, 100)}" is not one of your agent roles. ${held}`, { field: 'role' });
}

export function registerPrompts(server: McpServer, actor: LoadedActor) {
  server.registerPrompt('work-next-task', {
    title: 'Work the next ready task of my role',
    description: 'Lists the ready tasks of your roles, claims one, does its work with Cutover\'s tools, and completes it.',
    argsSchema: WORK_NEXT_TASK_ARGS,
  }, ({ role }) => ({
    description: 'Work the next ready task of my role',
    messages: [{ role: 'user', content: { type: 'text', text: workNextTaskText(actor, promptRole(actor, role)) } }],
  }));
}
