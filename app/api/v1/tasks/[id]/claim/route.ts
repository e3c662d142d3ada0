import { handleJson, withParams } from '@/lib/api/route';
import { claimTask } from '@/lib/services/agent-tasks';
import { TaskIdSchema } from '@/lib/validation/agent';

/** POST /api/v1/tasks/:id/claim (body {} ) : starts a ready task and assigns it to the caller; a concurrent second claim is refused (409) naming the holder. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, TaskIdSchema, withParams({ taskId: id }), (actor, input) => claimTask(actor.id, input.taskId));
}
