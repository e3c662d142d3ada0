import { handle, jsonBody } from '@/lib/api/route';
import { signGateItem } from '@/lib/services/sign-gate';
import { SignGateItemSchema } from '@/lib/validation/task';

/** POST /api/v1/gate-items/:id/signatures {"note"?}: a reviewer signs one quality-gate item. */
export async function POST(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const body = await jsonBody(req);
  const raw = typeof body === 'object' && body !== null ? { ...body, gateItemId: id } : body;
  return handle(SignGateItemSchema, raw, (actor, input) => signGateItem(actor.id, input), 201);
}
