import { handle, handleJson, withParams } from '@/lib/api/route';
import { getTask, updateTask } from '@/lib/services/agent-tasks';
import { TaskIdSchema, UpdateTaskSchema } from '@/lib/validation/agent';

/** GET /api/v1/tasks/:id : one task in TaskCreate's shape, with what its evidence waits for. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(TaskIdSchema, { taskId: id }, (actor, input) => getTask(actor.id, input.taskId));
}

/**
 * PATCH /api/v1/tasks/:id {"checklist": [{"itemId", "done"}], "note", "status": "in_progress"|"pending"} : TaskUpdate,
 * all or nothing: in_progress claims a ready task or resumes a blocked one, pending hands it back. Unknown fields are refused by name.
 */
export async function PATCH(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, UpdateTaskSchema, withParams({ taskId: id }), (actor, input) => updateTask(actor.id, input));
}
