/**
 * Calling API route handlers directly in integration tests, as a client would over HTTP: with a
 * bearer token, with a session cookie (whoever `routeContext.sessionUserId` names), or neither.
 * The test file wires Next's request scope to `routeContext` with these mocks (vi.mock is hoisted,
 * so each file declares them):
 *
 *   vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
 *   vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
 *   vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig()), ...(await import('../support/api-routes')).sessionMock() }));
 */
import { NextRequest } from 'next/server';
import { loadActor } from '@/lib/auth/actor';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';

export const routeContext: { headers: Headers; sessionUserId: string | null } = { headers: new Headers(), sessionUserId: null };

export function nextHeadersMock() {
  return {
    headers: async () => routeContext.headers,
    // The session is mocked at requireUser; a real cookie jar is never read.
    cookies: async () => ({ get: () => undefined }),
  };
}

export function sessionMock() {
  return {
    requireUser: async () => {
      if (!routeContext.sessionUserId) throw new DomainError('unauthenticated', 'Sign in first.');
      return loadActor(getDb(), routeContext.sessionUserId);
    },
  };
}

export interface RouteCall {
  /** A bearer token, or a whole Authorization header value (`raw`). */
  token?: string;
  authorization?: string;
  /** The session cookie's user (a browser call); cleared after the call. */
  sessionUserId?: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  query?: Record<string, string>;
}

// A NextRequest, which every handler takes (some declare Request, some NextRequest).
type Handler<P> = (req: NextRequest, ctx: { params: Promise<P> }) => Promise<Response>;

/** Calls a route handler like the server would; answers the status and the parsed JSON body. */
export async function callRoute<P extends Record<string, string>>(
  handler: Handler<P>,
  method: string,
  path: string,
  params: P,
  call: RouteCall = {},
  // Answers are read field by field in assertions: typing every route's data here would only repeat it.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
): Promise<{ status: number; body: { data?: any; error?: { code: string; message: string; fieldErrors?: Record<string, string[]> } } }> {
  const headers = new Headers(call.headers ?? {});
  if (call.token) headers.set('authorization', `Bearer ${call.token}`);
  if (call.authorization) headers.set('authorization', call.authorization);
  const url = `http://cutover.test${path}${call.query ? `?${new URLSearchParams(call.query)}` : ''}`;
  const req = new NextRequest(url, { method, headers, body: call.body === undefined ? undefined : new Uint8Array(Buffer.from(call.body)) });
  routeContext.headers = headers;
  routeContext.sessionUserId = call.sessionUserId ?? null;
  try {
    const res = await handler(req, { params: Promise.resolve(params) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : {} };
  } finally {
    routeContext.sessionUserId = null;
    routeContext.headers = new Headers();
  }
}
