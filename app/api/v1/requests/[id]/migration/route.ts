import { NextResponse } from 'next/server';
import { z } from 'zod';
import { respond, runApi } from '@/lib/api/route';
import { tarGz } from '@/lib/engine';
import { exportMigrationFolder } from '@/lib/services/migration-revisions';
import { idSchema } from '@/lib/validation/common';

const Query = z.object({ id: idSchema, revision: z.coerce.number().int().min(1).optional() });

/** GET /api/v1/requests/:id/migration[?revision=N]: the migration as a Prisma migrations folder (.tar.gz). */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const revision = new URL(req.url).searchParams.get('revision') ?? undefined;
  const result = await runApi(Query, { id, revision }, (actor, input) => exportMigrationFolder(actor.id, { requestId: input.id, revision: input.revision }), req);
  if (!result.ok) return respond(result);
  return new NextResponse(new Uint8Array(tarGz(result.data.files)), {
    headers: {
      'content-type': 'application/gzip',
      'content-disposition': `attachment; filename="${result.data.fileName}"`,
      'x-migration-checksum': result.data.checksum,
    },
  });
}
