import { handleJson, withParams } from '@/lib/api/route';
import { signGateItem } from '@/lib/services/sign-gate';
import { SignGateItemSchema } from '@/lib/validation/task';

/** POST /api/v1/gate-items/:id/signatures {"note"?}: a reviewer signs one quality-gate item. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handleJson(req, SignGateItemSchema, withParams({ gateItemId: id }), (actor, input) => signGateItem(actor.id, input), 201);
}
