'use server';

import { revalidatePath } from 'next/cache';
import { issueApiToken, revokeApiToken } from '../services/api-tokens';
import { IssueApiTokenSchema, RevokeApiTokenSchema } from '../validation/api-token';
import { formObject, runAction, type ActionResult } from './run-action';

export interface IssuedToken {
  id: string;
  name: string;
  /** Null for an agent account's token: every agent role the account holds. */
  role: string | null;
  prefix: string;
  expiresAt: Date | null;
  /** Shown once, on the page that issued it. */
  secret: string;
}

export type IssueTokenState = (ActionResult<IssuedToken> & { values?: Record<string, unknown> }) | undefined;

/** Admin > API tokens: issues a token for one role; the secret comes back in this answer only. */
export async function issueApiTokenAction(_prev: IssueTokenState, form: FormData): Promise<IssueTokenState> {
  const raw = formObject(form);
  const result = await runAction(IssueApiTokenSchema, raw, (actor, input) => issueApiToken(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath('/admin/tokens');
  return { ...result, message: 'Token issued. Copy it now: Cutover keeps only its hash and cannot show it again.' };
}

export async function revokeApiTokenAction(input: unknown) {
  const result = await runAction(RevokeApiTokenSchema, input, (actor, data) => revokeApiToken(actor.id, data));
  if (result.ok) revalidatePath('/admin/tokens');
  return result;
}
