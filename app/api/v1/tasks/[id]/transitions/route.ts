import { z } from 'zod';
import { handleJson, withParams } from '@/lib/api/route';
import { blockTask, transitionTask } from '@/lib/services/work-task';
import { LIMITS, idSchema } from '@/lib/validation/common';

const Body = z.discriminatedUnion('transition', [
  z.object({ taskId: idSchema, transition: z.enum(['start', 'complete', 'resume']) }),
  z.object({ taskId: idSchema, transition: z.literal('block'), reason: z.string().trim().min(3).max(LIMITS.reason) }),
]);

/** POST /api/v1/tasks/:id/transitions {"transition": "start"|"complete"|"resume"|"block", "reason"?} */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, Body, withParams({ taskId: id }), (actor, input) =>
    input.transition === 'block' ? blockTask(actor.id, input) : transitionTask(actor.id, input),
  );
}
