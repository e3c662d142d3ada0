'use server';

import { revalidatePath } from 'next/cache';
import { signGateItem } from '../services/sign-gate';
import { addTaskNote, blockTask, releaseTask, toggleChecklistItem, transitionTask } from '../services/work-task';
import {
  AddTaskNoteSchema,
  BlockTaskSchema,
  ReleaseTaskSchema,
  SignGateItemSchema,
  TaskTransitionSchema,
  ToggleChecklistItemSchema,
} from '../validation/task';
import { runAction } from './run-action';

function refresh() {
  revalidatePath('/requests', 'layout');
  revalidatePath('/tasks');
}

export async function transitionTaskAction(input: unknown) {
  const result = await runAction(TaskTransitionSchema, input, (actor, data) => transitionTask(actor.id, data));
  if (result.ok) refresh();
  return result;
}

export async function blockTaskAction(input: unknown) {
  const result = await runAction(BlockTaskSchema, input, (actor, data) => blockTask(actor.id, data));
  if (result.ok) refresh();
  return result;
}

/** "Release": hands a claimed task back (its holder, an admin, or the owner of the agent holding it). */
export async function releaseTaskAction(input: unknown) {
  const result = await runAction(ReleaseTaskSchema, input, (actor, data) => releaseTask(actor.id, data));
  if (result.ok) refresh();
  return result;
}

export async function toggleChecklistItemAction(input: unknown) {
  const result = await runAction(ToggleChecklistItemSchema, input, (actor, data) => toggleChecklistItem(actor.id, data));
  if (result.ok) refresh();
  return result;
}

export async function addTaskNoteAction(input: unknown) {
  const result = await runAction(AddTaskNoteSchema, input, (actor, data) => addTaskNote(actor.id, data));
  if (result.ok) refresh();
  return result;
}

export async function signGateItemAction(input: unknown) {
  const result = await runAction(SignGateItemSchema, input, (actor, data) => signGateItem(actor.id, data));
  if (result.ok) refresh();
  return result;
}
