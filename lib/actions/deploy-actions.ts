'use server';

import { revalidatePath } from 'next/cache';
import { approveDeployment, requestDeploy, requestRecovery } from '../services/deploy';
import { ApproveDeploySchema, RecoverDeploySchema, RequestDeploySchema } from '../validation/deploy';
import { runAction } from './run-action';

/** Deploy the request's current revision to one environment (Deploy step holders; the server checks the promotion rules). */
export async function requestDeployAction(input: unknown) {
  const result = await runAction(RequestDeploySchema, input, (actor, data) => requestDeploy(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** A lead (not the author) approves the current revision for an environment that requires approval. */
export async function approveDeploymentAction(input: unknown) {
  const result = await runAction(ApproveDeploySchema, input, (actor, data) => approveDeployment(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}

/** Recover a failed deploy (or roll back a succeeded one): its down path or a restore of its pre-deploy backup, confirmed. */
export async function recoverDeploymentAction(input: unknown) {
  const result = await runAction(RecoverDeploySchema, input, (actor, data) => requestRecovery(actor.id, data));
  if (result.ok) revalidatePath('/requests', 'layout');
  return result;
}
