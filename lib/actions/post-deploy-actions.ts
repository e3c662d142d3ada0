'use server';

import { revalidatePath } from 'next/cache';
import { documentIssues, runVerificationNow } from '../services/post-deploy';
import { addVerificationQuery, archiveVerificationQuery } from '../services/verification-queries';
import { ArchiveVerificationQuerySchema, DocumentIssuesSchema, RunVerificationSchema, VerificationQueryFormSchema } from '../validation/verification';
import { runAction } from './run-action';

/** Add a verification query (SQL and what it must return) to the request's post-deployment checks. */
export async function addVerificationQueryAction(input: unknown) {
  const result = await runAction(VerificationQueryFormSchema, input, (actor, data) => addVerificationQuery(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** Remove a verification query from the request (its past results stay). */
export async function archiveVerificationQueryAction(input: unknown) {
  const result = await runAction(ArchiveVerificationQuerySchema, input, (actor, data) => archiveVerificationQuery(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** Run the post-deployment checks now against the request's newest succeeded deployment (or the one named). */
export async function runVerificationNowAction(input: unknown) {
  const result = await runAction(RunVerificationSchema, input, (actor, data) => runVerificationNow(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** "Document any issues": save a new version of the request's issue notes. */
export async function documentIssuesAction(input: unknown) {
  const result = await runAction(DocumentIssuesSchema, input, (actor, data) => documentIssues(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}
