import { z } from 'zod';
import { idSchema, LIMITS } from './common';

export const TaskTransitionSchema = z.object({
  taskId: idSchema,
  transition: z.enum(['start', 'complete', 'resume'], { error: 'Unknown task action.' }),
});
export type TaskTransitionInput = z.infer<typeof TaskTransitionSchema>;

export const BlockTaskSchema = z.object({
  taskId: idSchema,
  reason: z
    .string({ error: 'Say why the task is blocked.' })
    .trim()
    .min(3, 'Say why the task is blocked (at least 3 characters).')
    .max(LIMITS.reason, `The reason can have at most ${LIMITS.reason} characters.`),
});
export type BlockTaskInput = z.infer<typeof BlockTaskSchema>;

/** Hands a claimed task back (pending, no assignee); the reason, if given, goes into the audit log. */
export const ReleaseTaskSchema = z.object({
  taskId: idSchema,
  reason: z
    .string({ error: 'Say why in words, or leave the reason out.' })
    .trim()
    .max(LIMITS.reason, `The reason can have at most ${LIMITS.reason} characters.`)
    .refine((s) => !s.includes('\u0000'), 'The text contains a NUL byte.')
    .optional(),
});
export type ReleaseTaskInput = z.output<typeof ReleaseTaskSchema>;

export const ToggleChecklistItemSchema = z.object({
  itemId: idSchema,
  done: z.boolean({ error: 'Say whether the item is done.' }),
});
export type ToggleChecklistItemInput = z.infer<typeof ToggleChecklistItemSchema>;

export const AddTaskNoteSchema = z.object({
  taskId: idSchema,
  body: z
    .string({ error: 'Write a note.' })
    .trim()
    .min(1, 'Write a note.')
    .max(LIMITS.note, `A note can have at most ${LIMITS.note} characters.`),
});
export type AddTaskNoteInput = z.infer<typeof AddTaskNoteSchema>;

export const SignGateItemSchema = z.object({
  gateItemId: idSchema,
  note: z.string().trim().max(LIMITS.note, `A note can have at most ${LIMITS.note} characters.`).optional(),
});
export type SignGateItemInput = z.infer<typeof SignGateItemSchema>;
