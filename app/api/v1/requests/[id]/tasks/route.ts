import { handle } from '@/lib/api/route';
import { exportWorkflow } from '@/lib/services/agent-tasks';
import { ExportWorkflowSchema } from '@/lib/validation/agent';

/** GET /api/v1/requests/:id/tasks : the request's whole workflow as a TaskCreate list (JSON), in step order. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(ExportWorkflowSchema, { requestId: id }, (actor, input) => exportWorkflow(actor.id, input.requestId));
}
