'use server';

import { revalidatePath } from 'next/cache';
import { acknowledgeDestructiveOperation, requestAnalysis, saveAnalysisFields } from '../services/analysis';
import { AcknowledgeDestructiveSchema, AnalysisFieldsSchema, AnalysisRunSchema } from '../validation/analysis';
import { runAction } from './run-action';

/** Analyse the latest saved revision against the target's catalog (Analysis step). */
export async function requestAnalysisAction(input: unknown) {
  const result = await runAction(AnalysisRunSchema, input, (actor, data) => requestAnalysis(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** Acknowledge one destructive operation of the latest analysis, with a note (database-administrator, lead, reviewer, admin). */
export async function acknowledgeDestructiveAction(input: unknown) {
  const result = await runAction(AcknowledgeDestructiveSchema, input, (actor, data) => acknowledgeDestructiveOperation(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result.ok ? { ...result, message: 'Acknowledged.' } : result;
}

/** Save "Document desired changes" and "Plan migration strategy" (Analysis step holders, admins). */
export async function saveAnalysisFieldsAction(input: unknown) {
  const result = await runAction(AnalysisFieldsSchema, input, (actor, data) => saveAnalysisFields(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result.ok ? { ...result, message: result.data.changed ? 'Saved.' : 'Nothing changed.' } : result;
}
