import 'server-only';
import { NextResponse } from 'next/server';
import { readBodyCapped } from './read-body';
import type { z } from 'zod';
import { HTTP_STATUS } from '../domain/errors';
import { runAction, runAs, toActionError, type ActionResult } from '../actions/run-action';
import { trustsProxy } from '../auth/client-address';
import { requireUser, type SessionActor } from '../auth/session';

/** The largest JSON body the API reads; anything longer is refused with 413 before it is parsed. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** Codes the API adds to the domain's own (see lib/domain/errors.ts). */
export type ApiErrorCode = 'invalid_json' | 'unsupported_media_type' | 'payload_too_large' | 'cross_site';

export function apiError(status: number, code: string, message: string): NextResponse {
  return NextResponse.json({ error: { code, message } }, { status });
}

/**
 * Maps the shared action result onto HTTP: 2xx with data, or 4xx/500 with the message and
 * field errors. Validation errors are 422 here as everywhere (HTTP_STATUS); only a body that
 * is not JSON at all is 400.
 */
export function respond<T>(result: ActionResult<T>, successStatus = 200): NextResponse {
  if (result.ok) return NextResponse.json({ data: result.data }, { status: successStatus });
  const status = result.code === 'server_error' ? 500 : HTTP_STATUS[result.code];
  return NextResponse.json({ error: { code: result.code, message: result.message, fieldErrors: result.fieldErrors } }, { status });
}

/** The API's path for reads: the same session check, zod schema and services as the server actions. */
export async function handle<S extends z.ZodType, T>(
  schema: S,
  raw: unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
  successStatus = 200,
): Promise<NextResponse> {
  return respond(await runAction(schema, raw, run), successStatus);
}

/**
 * A state-changing call made with the session cookie must come from Cutover's own pages:
 * browsers say where a request comes from in Sec-Fetch-Site and Origin, and a cross-site
 * page cannot forge either. Clients that are not browsers send neither.
 */
export function isCrossSite(req: Request): boolean {
  const site = req.headers.get('sec-fetch-site');
  if (site && site !== 'same-origin' && site !== 'none') return true;
  const origin = req.headers.get('origin');
  if (!origin) return false;
  let originHost: string;
  try {
    originHost = new URL(origin).host; // "null" (sandboxed frames, file:) does not parse: refused
  } catch {
    return true;
  }
  const hosts = [req.headers.get('host'), trustsProxy() ? req.headers.get('x-forwarded-host') : null];
  if (process.env.NEXTAUTH_URL) hosts.push(new URL(process.env.NEXTAUTH_URL).host);
  return !hosts.includes(originHost);
}

/** `application/json`, with or without parameters such as `; charset=utf-8`. */
function isJsonContentType(value: string | null): boolean {
  return (value ?? '').split(';')[0].trim().toLowerCase() === 'application/json';
}

/**
 * The API's path for calls with a JSON body, in this order, so that nothing is read for
 * someone who may not call: who is asking (401), where the call comes from (403 cross-site),
 * the declared content type (415), the size (413), JSON (400), the schema (422), the service.
 * `toInput` adds path parameters to the parsed body.
 */
export async function handleJson<S extends z.ZodType, T>(
  req: Request,
  schema: S,
  toInput: (body: unknown) => unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
  successStatus = 200,
): Promise<NextResponse> {
  let actor: SessionActor;
  try {
    actor = await requireUser();
  } catch (err) {
    return respond(toActionError(err));
  }
  if (isCrossSite(req)) return apiError(403, 'cross_site', 'Cross-site requests are refused; call the API from Cutover itself or without a browser.');
  if (!isJsonContentType(req.headers.get('content-type'))) {
    return apiError(415, 'unsupported_media_type', 'Send the body as JSON, with Content-Type: application/json.');
  }
  const text = (await readBodyCapped(req, MAX_JSON_BODY_BYTES))?.toString('utf8') ?? null;
  if (text === null) return apiError(413, 'payload_too_large', `The request body is larger than ${MAX_JSON_BODY_BYTES / 1024 / 1024} MiB.`);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return apiError(400, 'invalid_json', 'The request body is not valid JSON.');
  }
  return respond(await runAs(actor, schema, toInput(body), run), successStatus);
}

/** Adds path parameters to a JSON object body; any other body is passed on for the schema to refuse. */
export const withParams = (params: Record<string, string>) => (body: unknown) =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, ...params } : body;
