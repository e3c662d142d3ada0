'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { requestApply, requestRehearsal, saveMigrationRevision } from '../services/migration-revisions';
import { cancelRun, requestSnapshot } from '../services/runs';
import { CancelRunSchema } from '../validation/run';
import { idSchema } from '../validation/common';
import { SaveRevisionFormSchema } from '../validation/migration';
import { RequestRehearsalSchema } from '../validation/rehearsal';
import { formObject, runAction, type ActionResult } from './run-action';

export async function requestSnapshotAction(input: unknown) {
  const result = await runAction(z.object({ requestId: idSchema }), input, (actor, data) => requestSnapshot(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

export async function requestRehearsalAction(input: unknown) {
  const result = await runAction(RequestRehearsalSchema, input, (actor, data) => requestRehearsal(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

export type SaveRevisionState = (ActionResult<{ revision: number; checksum: string }> & { values?: Record<string, unknown> }) | undefined;

export async function saveRevisionAction(_prev: SaveRevisionState, form: FormData): Promise<SaveRevisionState> {
  const raw = formObject(form);
  const result = await runAction(SaveRevisionFormSchema, raw, (actor, input) => saveMigrationRevision(actor.id, input));
  // The name and declared changes go back to the form: the SQL fields keep their own state (and exact bytes) in the editor.
  if (!result.ok) return { ...result, values: { name: raw.name, declaredChanges: raw.declaredChanges } };
  revalidatePath('/requests', 'layout');
  return { ...result, message: `Saved as revision ${result.data.revision}.` };
}

export async function requestApplyAction(input: unknown) {
  const schema = z.object({ requestId: idSchema, direction: z.enum(['up', 'down'], { error: 'Say whether to apply or roll back.' }) });
  const result = await runAction(schema, input, (actor, data) => requestApply(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** Cancel: a queued run ends at once; a running one is stopped by its worker and recorded cancelled. */
export async function cancelRunAction(input: unknown) {
  const result = await runAction(CancelRunSchema, input, (actor, data) => cancelRun(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result.ok && result.data.status === 'running' ? { ...result, message: 'Cancel requested: the run stops in a moment.' } : result;
}
