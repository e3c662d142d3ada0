import { z } from 'zod';
import { handle } from '@/lib/api/route';
import { getRunStatus } from '@/lib/data/request-status';
import { idSchema } from '@/lib/validation/common';

/** GET /api/v1/runs/:id: a run's state, phase, phases and log (the newest lines), redacted as on its page. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(z.object({ id: idSchema }), { id }, (actor, input) => getRunStatus(actor, input.id));
}
