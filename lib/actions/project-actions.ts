'use server';

import { revalidatePath } from 'next/cache';
import {
  addEnvironment, createProject, deleteProject, moveEnvironment, removeEnvironment, setRequestProject, updateEnvironment, updateProject,
} from '../services/projects';
import {
  AddEnvironmentSchema, DeleteProjectSchema, MoveEnvironmentSchema, ProjectSchema, RemoveEnvironmentSchema, SetRequestProjectSchema,
  UpdateEnvironmentSchema, UpdateProjectSchema,
} from '../validation/project';
import { formObject, runAction, type ActionResult } from './run-action';

export type ProjectFormState = (ActionResult<{ id: string }> & { values?: Record<string, unknown> }) | undefined;

// The repository credential typed into the form is never sent back with its errors.
const withoutSecrets = (raw: Record<string, unknown>) => ({ ...raw, repositoryCredential: '' });

export async function createProjectAction(_prev: ProjectFormState, form: FormData): Promise<ProjectFormState> {
  const raw = formObject(form);
  const result = await runAction(ProjectSchema, raw, (actor, input) => createProject(actor.id, input));
  if (!result.ok) return { ...result, values: withoutSecrets(raw) };
  revalidatePath('/admin/projects');
  return { ...result, message: 'Project registered.' };
}

export async function updateProjectAction(_prev: ProjectFormState, form: FormData): Promise<ProjectFormState> {
  const raw = formObject(form);
  const result = await runAction(UpdateProjectSchema, raw, (actor, input) => updateProject(actor.id, input));
  if (!result.ok) return { ...result, values: withoutSecrets(raw) };
  revalidatePath('/admin/projects');
  return { ...result, message: 'Project saved.' };
}

export async function deleteProjectAction(input: unknown) {
  const result = await runAction(DeleteProjectSchema, input, (actor, { id }) => deleteProject(actor.id, id));
  if (result.ok) revalidatePath('/admin/projects');
  return result;
}

export async function addEnvironmentAction(_prev: ProjectFormState, form: FormData): Promise<ProjectFormState> {
  const raw = formObject(form);
  const result = await runAction(AddEnvironmentSchema, raw, (actor, input) => addEnvironment(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath('/admin/projects');
  return { ...result, message: 'Environment added.' };
}

export async function updateEnvironmentAction(_prev: ProjectFormState, form: FormData): Promise<ProjectFormState> {
  const raw = formObject(form);
  const result = await runAction(UpdateEnvironmentSchema, raw, (actor, input) => updateEnvironment(actor.id, input));
  if (!result.ok) return { ...result, values: raw };
  revalidatePath('/admin/projects');
  return { ...result, message: 'Environment saved.' };
}

export async function moveEnvironmentAction(input: unknown) {
  const result = await runAction(MoveEnvironmentSchema, input, (actor, parsed) => moveEnvironment(actor.id, parsed));
  if (result.ok) revalidatePath('/admin/projects');
  return result;
}

export async function removeEnvironmentAction(input: unknown) {
  const result = await runAction(RemoveEnvironmentSchema, input, (actor, { id }) => removeEnvironment(actor.id, id));
  if (result.ok) revalidatePath('/admin/projects');
  return result;
}

export type RequestProjectState = (ActionResult<{ changed: boolean }> & { values?: Record<string, unknown> }) | undefined;

/** The request's project and app branch (author, holders of Update app code, admins; audited). */
export async function setRequestProjectAction(_prev: RequestProjectState, form: FormData): Promise<RequestProjectState> {
  const raw = formObject(form);
  const result = await runAction(SetRequestProjectSchema, raw, async (actor, input) => {
    const saved = await setRequestProject(actor.id, input);
    revalidatePath(`/requests/${input.requestId}`, 'layout');
    return saved;
  });
  if (!result.ok) return { ...result, values: raw };
  return { ...result, message: result.data.changed ? 'Project and branch saved.' : 'Nothing changed.' };
}
