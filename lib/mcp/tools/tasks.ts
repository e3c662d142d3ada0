import 'server-only';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { z } from 'zod';
import type { LoadedActor } from '../../auth/actor';
import { blockTaskWithReason, claimTask, completeTask, exportWorkflow, getTask, listTasks, updateTask } from '../../services/agent-tasks';
import { BlockTaskWithReasonSchema, ExportWorkflowSchema, TaskFilterSchema, TaskIdSchema, UpdateTaskSchema } from '../../validation/agent';
import { PEOPLE_WRITE_THIS } from '../untrusted';
import { handler } from '../result';

/**
 * The task tools: lib/services/agent-tasks.ts, as GET/POST /api/v1/tasks/** call it, with the same
 * schemas (lib/validation/agent.ts). The service loads the actor and checks the task's roles.
 */

/** "My ready tasks": the task list's filters, always ready (pending, every task it waits for completed). */
export const ListReadyTasksSchema = TaskFilterSchema.pick({ role: true, requestId: true, limit: true, cursor: true });

export function registerTaskTools(server: McpServer, actor: LoadedActor) {
  server.registerTool('list_my_ready_tasks', {
    title: 'List my ready tasks',
    description: 'Tasks of my roles (or of one of them: role) that are ready to claim: pending, and every task they are blocked by is completed. TaskCreate-shaped (id, subject, description, activeForm, status, owner, blockedBy, blocks, metadata with the request, step, checklist, what the evidence waits for and links). Page with cursor (nextCursor).',
    inputSchema: ListReadyTasksSchema,
    annotations: { readOnlyHint: true },
  }, handler('list_my_ready_tasks', async (filter: z.output<typeof ListReadyTasksSchema>) => listTasks(actor.id, { ...filter, ready: true })));

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
    description: 'Ticks or unticks checklist items I can tick by hand (items evidence covers are ticked by their evidence, never by hand) and/or adds a note, on a task in progress.',
    inputSchema: UpdateTaskSchema,
  }, handler('update_task', async (input: z.output<typeof UpdateTaskSchema>) => updateTask(actor.id, input)));

  server.registerTool('complete_task', {
    title: 'Complete a task',
    description: 'Completes a task in progress, under the browser\'s rules: every checklist item done and the step\'s evidence holding for the current revision. The refusal says what is still missing.',
    inputSchema: TaskIdSchema,
  }, handler('complete_task', async ({ taskId }: z.output<typeof TaskIdSchema>) => completeTask(actor.id, taskId)));

  server.registerTool('block_task', {
    title: 'Block a task',
    description: 'Marks a pending or in-progress task blocked, with the reason (at least 3 characters), for people to see.',
    inputSchema: BlockTaskWithReasonSchema,
  }, handler('block_task', async (input: z.output<typeof BlockTaskWithReasonSchema>) => blockTaskWithReason(actor.id, input)));

  server.registerTool('export_workflow', {
    title: 'Export a workflow',
    description: 'The whole workflow of a request as a TaskCreate list (JSON), in order.',
    inputSchema: ExportWorkflowSchema,
    annotations: { readOnlyHint: true },
  }, handler('export_workflow', async ({ requestId }: z.output<typeof ExportWorkflowSchema>) => ({ tasks: await exportWorkflow(actor.id, requestId) })));
}
