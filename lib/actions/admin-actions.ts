'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { createTarget, testTargetConnection, updateTarget } from '../services/manage-targets';
import { updateFenceSettings } from '../services/app-settings';
import { createUser, updateUserRoles } from '../services/manage-users';
import { CreateUserSchema, FenceSettingsSchema, TargetSchema, UpdateTargetSchema, UpdateUserRolesSchema } from '../validation/admin';
import { idSchema } from '../validation/common';
import { formObject, runAction, type ActionResult } from './run-action';

export type FormState = (ActionResult<{ id: string }> & { values?: Record<string, unknown> }) | undefined;

// Secrets typed into the form are never sent back with its errors (the rehearsal server URL holds a password).
const TARGET_ARRAYS = ['allowedStatementKinds'] as const;
const withoutSecrets = (raw: Record<string, unknown>) => ({ ...raw, password: '', rehearsalServer: '' });

export async function createTargetAction(_prev: FormState, form: FormData): Promise<FormState> {
  const raw = formObject(form, TARGET_ARRAYS);
  const result = await runAction(TargetSchema, raw, (actor, input) => createTarget(actor.id, input));
  if (!result.ok) return { ...result, values: withoutSecrets(raw) };
  revalidatePath('/admin/targets');
  return { ...result, message: 'Target registered.' };
}

export async function updateTargetAction(_prev: FormState, form: FormData): Promise<FormState> {
  const raw = formObject(form, TARGET_ARRAYS);
  const result = await runAction(UpdateTargetSchema, raw, (actor, input) => updateTarget(actor.id, input));
  if (!result.ok) return { ...result, values: withoutSecrets(raw) };
  revalidatePath('/admin/targets');
  return { ...result, message: 'Target saved.' };
}

export async function testTargetConnectionAction(input: unknown) {
  return runAction(z.object({ targetId: idSchema }), input, (actor, { targetId }) => testTargetConnection(actor.id, targetId));
}

export type FenceSettingsState = ActionResult<{ allowedExtensions: string[] }> | undefined;

/** The SQL fence's extension allow list (admins only; audited). */
export async function updateFenceSettingsAction(_prev: FenceSettingsState, form: FormData): Promise<FenceSettingsState> {
  const result = await runAction(FenceSettingsSchema, formObject(form), (actor, input) => updateFenceSettings(actor.id, input));
  if (!result.ok) return result;
  revalidatePath('/admin/settings');
  return { ...result, message: 'Extension allow list saved.' };
}

export async function createUserAction(_prev: FormState, form: FormData): Promise<FormState> {
  const raw = formObject(form, ['roles', 'agentRoles']);
  const result = await runAction(CreateUserSchema, raw, (actor, input) => createUser(actor.id, input));
  if (!result.ok) return { ...result, values: { ...raw, password: '' } };
  revalidatePath('/admin/users');
  return { ...result, message: 'Person added.' };
}

export async function updateUserRolesAction(_prev: FormState, form: FormData): Promise<FormState> {
  const raw = formObject(form, ['roles', 'agentRoles']);
  const result = await runAction(UpdateUserRolesSchema, { ...raw, active: raw.active === 'on' }, (actor, input) =>
    updateUserRoles(actor.id, input),
  );
  if (!result.ok) return result;
  revalidatePath('/admin/users');
  const paused = result.data.pausedAgents;
  return { ...result, message: paused.length ? `Saved. Their agents were paused, as nobody answers for them now: ${paused.join(', ')}.` : 'Roles saved.' };
}
