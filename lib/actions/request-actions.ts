'use server';

import { revalidatePath } from 'next/cache';
import { redirect } from 'next/navigation';
import { fileRequest } from '../services/file-request';
import { FileRequestSchema } from '../validation/request';
import { formObject, runAction, type ActionResult } from './run-action';

export type FileRequestState = ActionResult<{ id: string }> & { values?: Record<string, unknown> };

export async function fileRequestAction(_prev: FileRequestState | undefined, form: FormData): Promise<FileRequestState> {
  const raw = formObject(form);
  const result = await runAction(FileRequestSchema, raw, (actor, input) => fileRequest(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath('/requests');
  redirect(`/requests/${result.data.id}`);
}
