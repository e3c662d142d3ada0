import { Readable } from 'node:stream';
import { NextResponse } from 'next/server';
import { respond, runApi } from '@/lib/api/route';
import { openBackupDownload } from '@/lib/services/backups';
import { BackupFileQuerySchema } from '@/lib/validation/backup';

/**
 * GET /api/v1/backups/:id/file: the backup file (pg_dump -Fc) itself, streamed from the artifact
 * store under the name the restore script expects. It holds all of the target's data: only the
 * Create backup step's holders and admins, checked before the store is touched; each download is audited.
 */
export async function GET(req: Request, ctx: { params: Promise<{ id: string }> }) {
  const { id } = await ctx.params;
  const result = await runApi(BackupFileQuerySchema, { id }, (actor, input) => openBackupDownload(actor.id, input), req);
  if (!result.ok) return respond(result);
  const { body, fileName, sizeBytes, sha256 } = result.data;
  return new NextResponse(Readable.toWeb(body) as ReadableStream<Uint8Array>, {
    headers: {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${fileName}"`,
      'content-length': String(sizeBytes),
      'x-content-sha256': sha256,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
    },
  });
}
