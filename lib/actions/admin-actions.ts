'use server';

import { revalidatePath } from 'next/cache';
import { z } from 'zod';
import { createTarget, testTargetConnection, updateTarget } from '../services/manage-targets';
import { createUser, updateUserRoles } from '../services/manage-users';
import { CreateUserSchema, TargetSchema, UpdateTargetSchema, UpdateUserRolesSchema } from '../validation/admin';
import { idSchema } from '../validation/common';
import { formObject, runAction, type ActionResult } from './run-action';

export type FormState = (ActionResult<{ id: string }> & { values?: Record<string, unknown> }) | undefined;

export async function createTargetAction(_prev: FormState, form: FormData): Promise<FormState> {
  const raw = formObject(form);
  const result = await runAction(TargetSchema, raw, (actor, input) => createTarget(actor.id, input));
  if (!result.ok) return { ...result, values: { ...raw, password: '' } };
  revalidatePath('/admin/targets');
  return { ...result, message: 'Target registered.' };
}

export async function updateTargetAction(_prev: FormState, form: FormData): Promise<FormState> {
  const raw = formObject(form);
  const result = await runAction(UpdateTargetSchema, raw, (actor, input) => updateTarget(actor.id, input));
  if (!result.ok) return { ...result, values: { ...raw, password: '' } };
  revalidatePath('/admin/targets');
  return { ...result, message: 'Target saved.' };
}

export async function testTargetConnectionAction(input: unknown) {
  return runAction(z.object({ targetId: idSchema }), input, (actor, { targetId }) => testTargetConnection(actor.id, targetId));
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
  if (result.ok) revalidatePath('/admin/users');
  return result.ok ? { ...result, message: 'Roles saved.' } : result;
}
