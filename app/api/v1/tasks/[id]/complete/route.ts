import { handleJson, withParams } from '@/lib/api/route';
import { completeTask } from '@/lib/services/agent-tasks';
import { TaskIdSchema } from '@/lib/validation/agent';

/** POST /api/v1/tasks/:id/complete (body {} ) : completes a task under the same rules as the browser (evidence holds, manual items ticked). */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, TaskIdSchema, withParams({ taskId: id }), (actor, input) => completeTask(actor.id, input.taskId));
}
