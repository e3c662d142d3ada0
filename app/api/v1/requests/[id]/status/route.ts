import { z } from 'zod';
import { handle } from '@/lib/api/route';
import { getRequestStatus } from '@/lib/data/request-status';
import { idSchema } from '@/lib/validation/common';

/** GET /api/v1/requests/:id/status: the request's state, its steps (who holds each, what each waits for) and the gate in brief. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(z.object({ id: idSchema }), { id }, (actor, input) => getRequestStatus(actor, input.id));
}
