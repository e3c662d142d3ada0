import { handleJson, withParams } from '@/lib/api/route';
import { blockTaskWithReason } from '@/lib/services/agent-tasks';
import { BlockTaskWithReasonSchema } from '@/lib/validation/agent';

/** POST /api/v1/tasks/:id/block {"reason"} : marks a pending or in-progress task blocked, saying why. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, BlockTaskWithReasonSchema, withParams({ taskId: id }), (actor, input) => blockTaskWithReason(actor.id, input));
}
