import 'server-only';
import { NextResponse } from 'next/server';
import type { z } from 'zod';
import { HTTP_STATUS } from '../domain/errors';
import { runAction, type ActionResult } from '../actions/run-action';
import type { SessionActor } from '../auth/session';

/** Maps the shared action result onto HTTP: 2xx with data, or 4xx/500 with the message and field errors. */
export function respond<T>(result: ActionResult<T>, successStatus = 200): NextResponse {
  if (result.ok) return NextResponse.json({ data: result.data }, { status: successStatus });
  const status = result.code === 'server_error' ? 500 : result.code === 'invalid' ? 400 : HTTP_STATUS[result.code];
  return NextResponse.json({ error: { code: result.code, message: result.message, fieldErrors: result.fieldErrors } }, { status });
}

/** Reads a JSON body; a body that is not JSON is answered like any other invalid input. */
export async function jsonBody(req: Request): Promise<unknown> {
  try {
    return await req.json();
  } catch {
    return Symbol.for('invalid-json');
  }
}

/** The API's one path: same session check, zod schema and services as the server actions. */
export async function handle<S extends z.ZodType, T>(
  schema: S,
  raw: unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
  successStatus = 200,
): Promise<NextResponse> {
  if (raw === Symbol.for('invalid-json')) {
    return NextResponse.json({ error: { code: 'invalid', message: 'The request body is not valid JSON.' } }, { status: 400 });
  }
  return respond(await runAction(schema, raw, run), successStatus);
}
