import 'server-only';
import { getServerSession } from 'next-auth';
import { redirect } from 'next/navigation';
import { cache } from 'react';
import { getDb } from '../db/client';
import { DomainError } from '../domain/errors';
import { hasRole, type Actor } from '../domain/permissions';
import type { Role } from '../domain/roles';
import { loadActor } from './actor';
import { authOptions } from './options';

export type SessionActor = Awaited<ReturnType<typeof loadActor>>;

async function sessionUserId(): Promise<string | undefined> {
  const session = await getServerSession(authOptions);
  return (session?.user as { id?: string } | undefined)?.id;
}

/**
 * Who is asking, or a DomainError('unauthenticated'). Loaded once per server request
 * (React `cache`): the layout and the page ask the same question.
 */
export const requireUser = cache(async (): Promise<SessionActor> => {
  const userId = await sessionUserId();
  if (!userId) throw new DomainError('unauthenticated', 'Sign in first.');
  return loadActor(getDb(), userId);
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

export async function requireRole(role: Role): Promise<SessionActor> {
  const actor = await requireUser();
  if (!hasRole(actor, role)) throw new DomainError('forbidden', `This needs the ${role} role.`);
  return actor;
}

export type { Actor };
