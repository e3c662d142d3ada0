import { handleJson, withParams } from '@/lib/api/route';
import { releaseTask } from '@/lib/services/agent-tasks';
import { ReleaseTaskSchema } from '@/lib/validation/task';

/**
 * POST /api/v1/tasks/:id/release {"reason"?} : hands a claimed or blocked task back (pending, no
 * assignee, ready to claim again); its holder, an admin, or the owner of the agent holding it.
 */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, ReleaseTaskSchema, withParams({ taskId: id }), (actor, input) => releaseTask(actor.id, input));
}
