'use server';

import { revalidatePath } from 'next/cache';
import { createAgent, issueAgentToken, revokeAgentToken, setAgentPaused, updateAgent } from '../services/agent-accounts';
import { setAgentWebhook } from '../services/agent-webhooks';
import { SetAgentWebhookSchema } from '../validation/agent-webhook';
import { CreateAgentSchema, IssueAgentTokenSchema, PauseAgentSchema, RevokeAgentTokenSchema, UpdateAgentSchema } from '../validation/agent';
import { formObject, runAction, type ActionResult } from './run-action';

export type AgentFormState = (ActionResult<unknown> & { values?: Record<string, unknown> }) | undefined;

export interface IssuedAgentToken {
  id: string;
  name: string;
  prefix: string;
  expiresAt: Date | null;
  /** Shown once, on the page that issued it. */
  secret: string;
}
export type IssueAgentTokenState = (ActionResult<IssuedAgentToken> & { values?: Record<string, unknown> }) | undefined;

const PAGE = '/admin/agents';

/** Admin > Agents: creates an agent account (name, agent roles, owner). */
export async function createAgentAction(_prev: AgentFormState, form: FormData): Promise<AgentFormState> {
  const raw = formObject(form, ['agentRoles']);
  const result = await runAction(CreateAgentSchema, raw, (actor, input) => createAgent(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath(PAGE);
  return { ...result, message: `Agent "${result.data.name}" created. Issue it a token below.` };
}

export async function updateAgentAction(_prev: AgentFormState, form: FormData): Promise<AgentFormState> {
  const raw = formObject(form, ['agentRoles']);
  const result = await runAction(UpdateAgentSchema, raw, (actor, input) => updateAgent(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath(PAGE);
  return { ...result, message: 'Saved.' };
}

export async function setAgentPausedAction(input: unknown) {
  const result = await runAction(PauseAgentSchema, input, (actor, data) => setAgentPaused(actor.id, data));
  if (result.ok) revalidatePath(PAGE);
  return result;
}

/** Issues a token for an agent account; the secret comes back in this answer only. */
export async function issueAgentTokenAction(_prev: IssueAgentTokenState, form: FormData): Promise<IssueAgentTokenState> {
  const raw = formObject(form);
  const result = await runAction(IssueAgentTokenSchema, raw, (actor, input) => issueAgentToken(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath(PAGE);
  return { ...result, message: 'Token issued. Copy it now: Cutover keeps only its hash and cannot show it again.' };
}

export async function revokeAgentTokenAction(input: unknown) {
  const result = await runAction(RevokeAgentTokenSchema, input, (actor, data) => revokeAgentToken(actor.id, data));
  if (result.ok) revalidatePath(PAGE);
  return result;
}

export type AgentWebhookState = (ActionResult<{ url: string | null; secret: string | null }> & { values?: Record<string, unknown> }) | undefined;

/** Sets or (empty URL) removes an agent's webhook; a new URL's signing secret comes back in this answer only. */
export async function setAgentWebhookAction(_prev: AgentWebhookState, form: FormData): Promise<AgentWebhookState> {
  const raw = formObject(form);
  const result = await runAction(SetAgentWebhookSchema, raw, (actor, input) => setAgentWebhook(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath(PAGE);
  return { ...result, message: result.data.url ? 'Webhook saved. Copy the signing secret now: it is not shown again.' : 'Webhook removed.' };
}
