import { z } from 'zod';
import { handle } from '@/lib/api/route';
import { getRequestDetail } from '@/lib/data/requests';
import { idSchema } from '@/lib/validation/common';

/** GET /api/v1/requests/:id: the request with its tasks, gate and audit log. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(z.object({ id: idSchema }), { id }, (actor, input) => getRequestDetail(actor, input.id));
}
