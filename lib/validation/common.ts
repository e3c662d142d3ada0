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
  // A Map, then own properties: an unknown key may be "__proto__".
  const errors = new Map(Object.entries(z.flattenError(error).fieldErrors as Record<string, string[]>));
  // A strict object's unknown keys are reported on the object: named here as fields of their own.
  for (const issue of error.issues) {
    if (issue.code !== 'unrecognized_keys') continue;
    for (const key of issue.keys) {
      const field = issue.path.length ? String(issue.path[0]) : key;
      errors.set(field, [...(errors.get(field) ?? []), `Unknown field "${key}".`]);
    }
  }
  return Object.fromEntries(errors);
}
