import { z } from 'zod';

export const idSchema = z.uuid({ error: 'Not a valid id.' });

/** Text limits, shared by forms, actions and the API. */
export const LIMITS = {
  title: 200,
  description: 10_000,
  note: 5_000,
  reason: 1_000,
  name: 100,
  email: 254,
  password: 200,
} as const;

/** Turns a zod error into per-field messages, as forms show them next to the fields. */
export function fieldErrors(error: z.ZodError): Record<string, string[]> {
  return z.flattenError(error).fieldErrors as Record<string, string[]>;
}
