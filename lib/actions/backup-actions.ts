'use server';

import { revalidatePath } from 'next/cache';
import { requestBackup, requestDrill } from '../services/backups';
import { BackupRunSchema } from '../validation/backup';
import { runAction } from './run-action';

/** Back up the request's target (Create backup step). */
export async function requestBackupAction(input: unknown) {
  const result = await runAction(BackupRunSchema, input, (actor, data) => requestBackup(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** Restore the request's latest backup in the sandbox and prove it holds what was backed up. */
export async function requestDrillAction(input: unknown) {
  const result = await runAction(BackupRunSchema, input, (actor, data) => requestDrill(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}
