import 'server-only';
import { NextResponse } from 'next/server';
import { readBodyCapped } from './read-body';
import type { z } from 'zod';
import { HTTP_STATUS } from '../domain/errors';
import { runAs, toActionError, type ActionResult } from '../actions/run-action';
import { authenticate, type Authenticated } from '../auth/authenticate';
import { trustsProxy } from '../auth/client-address';
import type { SessionActor } from '../auth/session';

/** The largest JSON body the API reads; anything longer is refused with 413 before it is parsed. */
export const MAX_JSON_BODY_BYTES = 1024 * 1024;

/** Codes the API adds to the domain's own (see lib/domain/errors.ts). */
export type ApiErrorCode = 'invalid_json' | 'unsupported_media_type' | 'payload_too_large' | 'cross_site';

export function apiError(status: number, code: string, message: string): NextResponse {
  return NextResponse.json({ error: { code, message } }, { status, headers: status === 401 ? bearerChallenge(message) : undefined });
}

/**
 * RFC 6750's challenge on every 401: a client (an MCP client especially) learns that the answer is
 * a bearer token, not OAuth discovery. The description is the message, as a quoted-string may hold it.
 */
export function bearerChallenge(message: string): Record<string, string> {
  const description = message.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, "'");
  return { 'WWW-Authenticate': `Bearer realm="cutover", error="invalid_token", error_description="${description}"` };
}

/**
 * Maps the shared action result onto HTTP: 2xx with data, or 4xx/500 with the message and
 * field errors. Validation errors are 422 here as everywhere (HTTP_STATUS); only a body that
 * is not JSON at all is 400.
 */
export function respond<T>(result: ActionResult<T>, successStatus = 200): NextResponse {
  if (result.ok) return NextResponse.json({ data: result.data }, { status: successStatus });
  const status = result.code === 'server_error' ? 500 : HTTP_STATUS[result.code];
  return NextResponse.json(
    { error: { code: result.code, message: result.message, fieldErrors: result.fieldErrors } },
    { status, headers: status === 401 ? bearerChallenge(result.message) : undefined },
  );
}

/**
 * The API's runAction: who is asking (bearer token or session cookie, lib/auth/authenticate.ts),
 * the input parsed with the shared zod schema, then the service. For routes that shape their own
 * response (downloads); the others use `handle` or `handleJson`.
 */
export async function runApi<S extends z.ZodType, T>(
  schema: S,
  raw: unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
  /** The request, when the route has it (else the current request's headers are read). */
  req?: Request,
): Promise<ActionResult<T>> {
  let auth: Authenticated;
  try {
    auth = await authenticate(req);
  } catch (err) {
    return toActionError(err);
  }
  return runAs(auth.actor, schema, raw, run);
}

/** The API's path for reads: the same checks, zod schema and services as the server actions, with a token or the cookie. */
export async function handle<S extends z.ZodType, T>(
  schema: S,
  raw: unknown,
  run: (actor: SessionActor, input: z.output<S>) => Promise<T>,
  successStatus = 200,
): Promise<NextResponse> {
  return respond(await runApi(schema, raw, run), successStatus);
}

export const CROSS_SITE_MESSAGE = 'Cross-site requests are refused; call the API from Cutover itself or without a browser.';

/**
 * Who is asking a state-changing route, before anything else is read: the caller (or the
 * response to send instead: 401, or 403 for a cross-site call made with the session cookie; a
 * bearer token is never sent by a browser on its own, so token calls skip that check).
 */
export async function authenticateChange(req: Request): Promise<Authenticated | NextResponse> {
  let auth: Authenticated;
  try {
    auth = await authenticate(req);
  } catch (err) {
    return respond(toActionError(err));
  }
  if (auth.via === 'session' && isCrossSite(req)) return apiError(403, 'cross_site', CROSS_SITE_MESSAGE);
  return auth;
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

/** A Content-Type's media type, without parameters such as `; charset=utf-8`, lower case. */
export function mediaTypeOf(value: string | null): string {
  return (value ?? '').split(';')[0].trim().toLowerCase();
}

const isJsonContentType = (value: string | null) => mediaTypeOf(value) === 'application/json';

/**
 * The API's path for calls with a JSON body, in this order, so that nothing is read for
 * someone who may not call: who is asking (401), where a cookie call comes from (403 cross-site),
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
  const auth = await authenticateChange(req);
  if (auth instanceof NextResponse) return auth;
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
  return respond(await runAs(auth.actor, schema, toInput(body), run), successStatus);
}

/** Adds path parameters to a JSON object body; any other body is passed on for the schema to refuse. */
export const withParams = (params: Record<string, string>) => (body: unknown) =>
  typeof body === 'object' && body !== null && !Array.isArray(body) ? { ...body, ...params } : body;
