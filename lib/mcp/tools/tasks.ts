import 'server-only';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { AGENT_ROLES } from '../../domain/roles';
import type { LoadedActor } from '../../auth/actor';
import {
  blockTaskWithReason, claimTask, completeTask, exportWorkflow, getTask, heldRoles, listMyReadyTasks, releaseTask, resumeTask, updateTask,
} from '../../services/agent-tasks';
import { BlockTaskWithReasonSchema, ExportWorkflowSchema, TaskFilterSchema, TaskIdSchema, UpdateTaskSchema } from '../../validation/agent';
import { ReleaseTaskSchema } from '../../validation/task';
import { PEOPLE_WRITE_THIS } from '../untrusted';
import { handler } from '../result';

/**
 * The task tools: lib/services/agent-tasks.ts, as GET/POST /api/v1/tasks/** call it, with the same
 * schemas (lib/validation/agent.ts). The service loads the actor and checks the task's roles.
 */

/** "My ready tasks": the task list's filters, always ready (pending, every task it waits for completed). */
export const ListReadyTasksSchema = TaskFilterSchema.pick({ role: true, requestId: true, limit: true, cursor: true });

/** What an agent is offered: agent roles only (the gate's reviewer role is for people). */
const AgentListReadyTasksSchema = ListReadyTasksSchema.extend({
  role: z.enum(AGENT_ROLES, { error: `Role is one of ${AGENT_ROLES.join(', ')}: agents hold agent roles only.` }).optional(),
});

export function registerTaskTools(server: McpServer, actor: LoadedActor) {
  server.registerTool('list_my_ready_tasks', {
    title: 'List my ready tasks',
    description: `Tasks of my roles (or of one of them: role, one of ${heldRoles(actor).join(', ') || 'none'}; another role is refused) that are ready to claim: pending, and every task they are blocked by is completed. TaskCreate-shaped (id, subject, description, activeForm, status, owner, blockedBy, blocks, metadata with the request, step, checklist and links; metadata.waitingFor is null here: get_task says what the evidence waits for). Page with cursor (nextCursor).`,
    inputSchema: actor.kind === 'agent' ? AgentListReadyTasksSchema : ListReadyTasksSchema,
    annotations: { readOnlyHint: true },
  }, handler('list_my_ready_tasks', async (filter: z.output<typeof ListReadyTasksSchema>) => listMyReadyTasks(actor.id, filter)));

  server.registerTool('get_task', {
    title: 'Get a task',
    description: `One task in TaskCreate's shape, with its checklist (which items evidence ticks: coveredBy), what its evidence still waits for, and its assignee. ${PEOPLE_WRITE_THIS}`,
    inputSchema: TaskIdSchema,
    annotations: { readOnlyHint: true },
  }, handler('get_task', async ({ taskId }: z.output<typeof TaskIdSchema>) => getTask(actor.id, taskId)));

  server.registerTool('claim_task', {
    title: 'Claim a task',
    description: 'Starts a ready task of my roles and assigns it to me (status in_progress). When two claim one task at once, exactly one wins; the other is told who holds it.',
    inputSchema: TaskIdSchema,
  }, handler('claim_task', async ({ taskId }: z.output<typeof TaskIdSchema>) => claimTask(actor.id, taskId)));

  server.registerTool('update_task', {
    title: 'Update a task',
    description: 'Adds a note to a task I may work (whatever its status, as on its card in the browser) and/or ticks or unticks checklist items I can tick by hand, which needs the task in progress (items evidence covers are ticked by their evidence, never by hand). status "in_progress" claims a ready task or resumes a blocked one first; "pending" hands it back after the ticks (as release_task, the note then being the reason). All or nothing.',
    inputSchema: UpdateTaskSchema,
  }, handler('update_task', async (input: z.output<typeof UpdateTaskSchema>) => updateTask(actor.id, input)));

  server.registerTool('complete_task', {
    title: 'Complete a task',
    description: 'Completes a task in progress, under the browser\'s rules: every checklist item done and the step\'s evidence holding for the current revision. The refusal says what is still missing (the evidence awaited, or the unticked items by label).',
    inputSchema: TaskIdSchema,
  }, handler('complete_task', async ({ taskId }: z.output<typeof TaskIdSchema>) => completeTask(actor.id, taskId)));

  server.registerTool('block_task', {
    title: 'Block a task',
    description: 'Marks a pending or in-progress task blocked, with the reason (at least 3 characters), for people to see.',
    inputSchema: BlockTaskWithReasonSchema,
  }, handler('block_task', async (input: z.output<typeof BlockTaskWithReasonSchema>) => blockTaskWithReason(actor.id, input)));

  server.registerTool('resume_task', {
    title: 'Resume a blocked task',
    description: 'Resumes a blocked task I may work: in progress again (pending while the task before it is not completed). Its holder keeps it.',
    inputSchema: TaskIdSchema,
  }, handler('resume_task', async ({ taskId }: z.output<typeof TaskIdSchema>) => resumeTask(actor.id, taskId)));

  server.registerTool('release_task', {
    title: 'Hand a task back',
    description: 'Hands a task I hold (in progress or blocked) back: pending with no assignee, ready to claim again (announced as task.ready when the task before it is completed). Allowed to its holder, an admin, and the owner of the agent that holds it. Ticks and notes stay; the reason (optional) goes into the audit log.',
    inputSchema: ReleaseTaskSchema,
  }, handler('release_task', async (input: z.output<typeof ReleaseTaskSchema>) => releaseTask(actor.id, input)));

  server.registerTool('export_workflow', {
    title: 'Export a workflow',
    description: 'The whole workflow of a request as a TaskCreate list (JSON), in order.',
    inputSchema: ExportWorkflowSchema,
    annotations: { readOnlyHint: true },
  }, handler('export_workflow', async ({ requestId }: z.output<typeof ExportWorkflowSchema>) => ({ tasks: await exportWorkflow(actor.id, requestId) })));
}
