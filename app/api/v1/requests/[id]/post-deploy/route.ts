import { handle } from '@/lib/api/route';
import { getPostDeployReport } from '@/lib/data/success-criteria';
import { PostDeployReportSchema } from '@/lib/validation/verification';

/** GET /api/v1/requests/:id/post-deploy: open alerts, success criteria, deployments watched, the latest checks and documented issues. */
export async function GET(_req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  return handle(PostDeployReportSchema, { id }, (actor, input) => getPostDeployReport(actor, input.id));
}
