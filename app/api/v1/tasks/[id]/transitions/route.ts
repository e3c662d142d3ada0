import { z } from 'zod';
import { handleJson, withParams } from '@/lib/api/route';
import { blockTask, releaseTask, transitionTask } from '@/lib/services/work-task';
import { BlockTaskSchema, ReleaseTaskSchema, TaskTransitionSchema } from '@/lib/validation/task';

const Body = z.discriminatedUnion('transition', [
  TaskTransitionSchema,
  BlockTaskSchema.extend({ transition: z.literal('block') }),
  ReleaseTaskSchema.extend({ transition: z.literal('release') }),
]);

/**
 * POST /api/v1/tasks/:id/transitions {"transition": "start"|"complete"|"resume"|"block"|"release", "reason"?}:
 * the browser's buttons (a reason for block, optionally for release); answers {taskId, status, request}.
 */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, Body, withParams({ taskId: id }), (actor, input) =>
    input.transition === 'block' ? blockTask(actor.id, input)
      : input.transition === 'release' ? releaseTask(actor.id, input)
        : transitionTask(actor.id, input),
  );
}
