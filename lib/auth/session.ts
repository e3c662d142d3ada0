import 'server-only';
import { decode } from 'next-auth/jwt';
import { cookies } from 'next/headers';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import { DomainError } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import { loadSessionActor, type LoadedActor } from './actor';
import { authOptions } from './options';

export type SessionActor = LoadedActor;

// next-auth's cookie names: the __Secure- one over HTTPS.
const SESSION_COOKIES = ['__Secure-next-auth.session-token', 'next-auth.session-token'];

/**
 * The signed-in user's id from the session cookie. Decoding the JWT is all we need:
 * getServerSession would also re-encrypt it for a cookie that server components cannot set.
 * `decode` checks the token's integrity and expiry.
 */
async function sessionUserId(): Promise<string | undefined> {
  const jar = await cookies();
  const raw = SESSION_COOKIES.map((name) => jar.get(name)?.value).find(Boolean);
  if (!raw) return undefined;
  const secret = authOptions.secret ?? process.env.NEXTAUTH_SECRET;
  if (!secret) throw new Error('NEXTAUTH_SECRET is not set.');
  const token = await decode({ token: raw, secret }).catch(() => null);
  return token?.sub ?? undefined;
}

/**
 * Who is asking, or a DomainError('unauthenticated'). Loaded once per server request
 * (React `cache`): the layout and the page ask the same question.
 */
export const requireUser = cache(async (): Promise<SessionActor> => {
  const userId = await sessionUserId();
  if (!userId) throw new DomainError('unauthenticated', 'Sign in first.');
  return loadSessionActor(userId);
});

/** For pages: who is asking, or a redirect to the sign-in page. */
export async function requireUserOrRedirect(): Promise<SessionActor> {
  try {
    return await requireUser();
  } catch (err) {
    if (err instanceof DomainError && err.code === 'unauthenticated') redirect('/signin');
    throw err;
  }
}

export type { Actor };
