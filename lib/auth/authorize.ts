import { randomBytes } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { getDb } from '../db/client';
import { SignInSchema } from '../validation/admin';
import { clientAddress } from './client-address';
import { SignInLimitError, beginSignInAttempt } from './sign-in-limits';

export const SIGN_IN_UNAVAILABLE = 'Sign-in is not available right now; try again in a minute.';

// Unknown emails are compared against this, so that they cost what a wrong password costs and
// accounts cannot be found by timing. Same cost as stored hashes (lib/services/manage-users.ts).
const DUMMY_HASH_COST = 12;
let dummyHash: Promise<string> | undefined;
const getDummyHash = () => (dummyHash ??= bcrypt.hash(randomBytes(16).toString('hex'), DUMMY_HASH_COST));
void getDummyHash(); // ready before the first unknown email, which must not pay for it

type Headers = Parameters<typeof clientAddress>[0];

/**
 * Checks an email and password, within the sign-in limits. Returns the user, or null for a
 * wrong email/password or an inactive account (one answer for all three); throws
 * SignInLimitError ("Too many attempts; try again in N minutes.") while an account or an
 * address is limited. next-auth passes a thrown error's message to the sign-in page.
 */
export async function authorizeCredentials(credentials: unknown, headers: Headers) {
  try {
    return await checkCredentials(credentials, headers);
  } catch (err) {
    if (err instanceof SignInLimitError) throw err;
    // The message reaches the sign-in page's URL: a store error's text stays in the log.
    console.error('[cutover] sign-in failed:', err instanceof Error ? err.message : err);
    throw new Error(SIGN_IN_UNAVAILABLE);
  }
}

async function checkCredentials(credentials: unknown, headers: Headers) {
  const parsed = SignInSchema.safeParse(credentials);
  if (!parsed.success) return null;
  const email = parsed.data.email.toLowerCase();
  // The attempt is counted before the password is checked (a parallel burst cannot pass a check
  // made before any of it failed); a right password gives the point back.
  const attempt = await beginSignInAttempt(email, clientAddress(headers));
  const [user, fallbackHash] = await Promise.all([
    getDb().user.findUnique({ where: { email }, select: { id: true, name: true, email: true, active: true, kind: true, passwordHash: true } }),
    getDummyHash(),
  ]);
  // Always one bcrypt comparison, whether the account exists, is inactive or not.
  const matches = await bcrypt.compare(parsed.data.password, user?.passwordHash ?? fallbackHash);
  // Automation accounts act only through their API token: never a session.
  if (!user || !user.active || user.kind !== 'person' || !matches) return null; // the point stays: a failure
  await attempt.succeeded();
  return { id: user.id, name: user.name, email: user.email };
}
