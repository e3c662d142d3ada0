import { z } from 'zod';
import { handle } from '@/lib/api/route';
import { getGateView } from '@/lib/data/gate';
import { idSchema } from '@/lib/validation/common';

/** GET /api/v1/requests/:id/gate: the quality gate, item by item (evidence, verdict, signature, voided ones), and what it waits for. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(z.object({ id: idSchema }), { id }, (actor, input) => getGateView(actor, input.id));
}
