'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { z } from 'zod';
import { DomainError } from '../domain/errors';
import {
  MAX_ARCHIVE_BYTES,
  assertCanImportMigrations,
  importMigrationFolder,
  requestFromPendingMigration,
  requestStatusCheck,
} from '../services/migration-status';
import { idSchema } from '../validation/common';
import { runAction, type ActionResult } from './run-action';

export type ImportState = ActionResult<{ id: string; migrations: number }> | undefined;

const ImportSchema = z.object({
  archive: z.instanceof(File, { error: 'Choose an archive to upload.' }).refine((f) => f.size > 0, 'Choose an archive to upload.'),
});

export async function importMigrationFolderAction(_prev: ImportState, form: FormData): Promise<ImportState> {
  const result = await runAction(ImportSchema, { archive: form instanceof FormData ? form.get('archive') : null }, async (actor, { archive }) => {
    // Who may import is settled before a byte of the upload is read, and its size before it is buffered.
    await assertCanImportMigrations(actor.id);
    if (archive.size > MAX_ARCHIVE_BYTES) throw new DomainError('invalid', 'Archives can be at most 10 MB.', 'archive');
    return importMigrationFolder(actor.id, { fileName: archive.name, bytes: Buffer.from(await archive.arrayBuffer()) });
  });
  if (!result.ok) return result;
  revalidatePath('/migrations');
  redirect(`/migrations?folder=${result.data.id}`);
}

export async function requestStatusCheckAction(input: unknown) {
  const result = await runAction(z.object({ folderId: idSchema }), input, (actor, data) => requestStatusCheck(actor.id, data));
  if (result.ok) revalidatePath('/migrations');
  return result;
}

export async function requestFromPendingMigrationAction(input: unknown) {
  const schema = z.object({ folderId: idSchema, targetId: idSchema, migrationName: z.string().min(1).max(255) });
  const result = await runAction(schema, input, (actor, data) => requestFromPendingMigration(actor.id, data));
  if (result.ok) revalidatePath('/requests');
  return result;
}
