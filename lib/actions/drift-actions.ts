'use server';

import { revalidatePath } from 'next/cache';
import { requestDriftCheck } from '../services/drift';
import { DriftRunSchema } from '../validation/drift';
import { runAction } from './run-action';

/** Check the request's target for drift against its applied migrations (Analysis step). */
export async function requestDriftCheckAction(input: unknown) {
  const result = await runAction(DriftRunSchema, input, (actor, data) => requestDriftCheck(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}
