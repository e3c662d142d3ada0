import { revalidatePath } from 'next/cache';
import { NextResponse, type NextRequest } from 'next/server';
import { toActionError } from '@/lib/actions/run-action';
import { authenticateChange, respond } from '@/lib/api/route';
import { readBodyCapped } from '@/lib/api/read-body';
import { MAX_ARCHIVE_BYTES, assertCanImportMigrations, importMigrationFolder } from '@/lib/services/migration-status';
import { ImportArchiveQuerySchema } from '@/lib/validation/migration-import';

const TOO_LARGE = 'Archives can be at most 10 MB.';

/**
 * POST /api/v1/migration-folders?name=<file name>: imports a Prisma migrations folder; the body is
 * the archive itself (.tar.gz, .tar or .zip). Answers 201 with `{ id, migrations }`.
 *
 * A route handler rather than a server action: Next reads an action's whole body before the
 * action runs, for anyone. Here who is asking and their role are settled before a byte of the
 * body is read, and the body is read with a cap. (proxy.ts does not match /api, so nothing
 * buffers the body on the way in.)
 */
export async function POST(req: NextRequest) {
  try {
    const auth = await authenticateChange(req);
    if (auth instanceof NextResponse) return auth;
    const actor = auth.actor;
    await assertCanImportMigrations(actor.id);
    const query = ImportArchiveQuerySchema.safeParse(Object.fromEntries(req.nextUrl.searchParams));
    if (!query.success) return respond({ ok: false, code: 'invalid', message: 'The file name is too long.', fieldErrors: { archive: ['The file name is too long.'] } });
    const bytes = await readBodyCapped(req, MAX_ARCHIVE_BYTES);
    if (!bytes) {
      return Response.json({ error: { code: 'payload_too_large', message: TOO_LARGE, fieldErrors: { archive: [TOO_LARGE] } } }, { status: 413 });
    }
    const folder = await importMigrationFolder(actor.id, { fileName: query.data.name ?? '', bytes });
    revalidatePath('/migrations');
    return respond({ ok: true, data: folder }, 201);
  } catch (err) {
    return respond(toActionError(err));
  }
}
