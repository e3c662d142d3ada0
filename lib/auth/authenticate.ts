import 'server-only';
import { headers as requestHeaders } from 'next/headers';
import type { LoadedActor } from './actor';
import { authenticateToken, bearerSecret } from './api-tokens';
import { requireUser } from './session';

export interface Authenticated {
  actor: LoadedActor;
  /** How the caller proved who they are: cross-site checks apply to cookie calls only. */
  via: 'session' | 'token';
}

/**
 * Who is asking an API route: a bearer token (CI, agents) when the call carries an Authorization
 * header, else the session cookie. A header that is present but wrong is refused (401), never
 * answered with the cookie's identity. Without `source`, the current request's headers.
 */
export async function authenticate(source?: Request | Headers): Promise<Authenticated> {
  const hdrs = source instanceof Request ? source.headers : (source ?? (await requestHeaders()));
  const secret = bearerSecret(hdrs.get('authorization'));
  if (secret !== undefined) return { actor: await authenticateToken(secret), via: 'token' };
  return { actor: await requireUser(), via: 'session' };
}
