'use server';

import { revalidatePath } from 'next/cache';
import { compareAppSchema, intendDifferences } from '../services/app-schema';
import { CompareAppSchemaSchema, IntendDifferencesSchema } from '../validation/project';
import { formObject, runAction, type ActionResult } from './run-action';

/** Step 4: read schema.prisma at the app branch and compare it with the rehearsed schema. */
export async function compareAppSchemaAction(input: unknown) {
  return runAction(CompareAppSchemaSchema, input, async (actor, { requestId }) => {
    const compared = await compareAppSchema(actor.id, requestId);
    revalidatePath(`/requests/${requestId}`, 'layout');
    return compared;
  });
}

export type IntendDifferencesState = (ActionResult<{ evidenceId: string; passed: boolean }> & { values?: Record<string, unknown> }) | undefined;

/** Step 4: record why differences of the latest comparison are intended (audited; a new evidence row). */
export async function intendDifferencesAction(_prev: IntendDifferencesState, form: FormData): Promise<IntendDifferencesState> {
  const raw = formObject(form, ['keys']);
  const result = await runAction(IntendDifferencesSchema, raw, async (actor, input) => {
    const recorded = await intendDifferences(actor.id, input);
    revalidatePath(`/requests/${input.requestId}`, 'layout');
    return recorded;
  });
  if (!result.ok) return { ...result, values: raw };
  return { ...result, message: result.data.passed ? 'Recorded: every difference is explained.' : 'Recorded.' };
}
