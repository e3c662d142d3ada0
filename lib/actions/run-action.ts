import 'server-only';
import type { z } from 'zod';
import { DomainError, type DomainErrorCode } from '../domain/errors';
import { requireUser, type SessionActor } from '../auth/session';
import { fieldErrors } from '../validation/common';

export type ActionFailure = { ok: false; code: DomainErrorCode | 'server_error'; message: string; fieldErrors?: Record<string, string[]> };
export type ActionResult<T = undefined> = { ok: true; data: T; message?: string } | ActionFailure;

/**
 * The one wrapper every server action goes through: who is asking, input parsed with the
 * shared zod schema (per-field errors), then the service; refusals become messages.
 */
export async function runAction<S extends z.ZodType, T>(
  schema: S,
  raw: unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
): Promise<ActionResult<T>> {
  try {
    return await runAs(await requireUser(), schema, raw, run);
  } catch (err) {
    return toActionError(err);
  }
}

/** The same for a caller that has already established who is asking (the JSON API). */
export async function runAs<S extends z.ZodType, T>(
  actor: SessionActor,
  schema: S,
  raw: unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
): Promise<ActionResult<T>> {
  try {
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      return { ok: false, code: 'invalid', message: 'Some fields need attention.', fieldErrors: fieldErrors(parsed.error) };
    }
    return { ok: true, data: await run(actor, parsed.data) };
  } catch (err) {
    return toActionError(err);
  }
}

export function toActionError(err: unknown): ActionFailure {
  if (err instanceof DomainError) {
    return { ok: false, code: err.code, message: err.message, fieldErrors: err.field ? { [err.field]: [err.message] } : undefined };
  }
  // Not a refusal we planned for: log it (messages only; inputs may hold secrets), tell the user plainly.
  console.error('[cutover] action failed:', err instanceof Error ? err.message : err);
  return { ok: false, code: 'server_error', message: 'Something went wrong on the server; nothing was changed.' };
}

/** FormData to a plain object; repeated keys (checkbox groups) become arrays. */
export function formObject(form: FormData, arrays: readonly string[] = []): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // A crafted call can pass anything as the form: what is not a FormData reads as an empty form
  // (refused as invalid input), not as a TypeError (a 500).
  const fields = form instanceof FormData ? form : new FormData();
  for (const key of new Set(fields.keys())) {
    if (key.startsWith('$ACTION')) continue;
    out[key] = arrays.includes(key) ? fields.getAll(key) : fields.get(key);
  }
  for (const key of arrays) out[key] ??= [];
  return out;
}
