import { NextResponse } from 'next/server';
import { respond, runApi } from '@/lib/api/route';
import { getRestoreScript } from '@/lib/data/backups';
import { RestoreScriptQuerySchema } from '@/lib/validation/backup';

/**
 * GET /api/v1/backups/:id/restore-script[?format=procedure]: the backup's restore script (bash)
 * or its written procedure (markdown), as a download. Anyone who holds a role; the target's
 * address only for admins (the others' script asks for PGHOST and PGPORT). No secret inside.
 */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const format = new URL(req.url).searchParams.get('format') ?? undefined;
  const result = await runApi(RestoreScriptQuerySchema, { id, format }, (actor, input) => getRestoreScript(actor, input), req);
  if (!result.ok) return respond(result);
  return new NextResponse(result.data.body, {
    headers: {
      'content-type': result.data.contentType,
      'content-disposition': `attachment; filename="${result.data.fileName}"`,
      'cache-control': 'no-store',
    },
  });
}
