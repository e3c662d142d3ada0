import { createHash } from 'node:crypto';
import { RateLimiterPostgres } from 'rate-limiter-flexible';
import { getPool } from '../db/client';
import { UNKNOWN_ADDRESS } from './client-address';

/**
 * Failed sign-ins are counted per account and per address in the app store (table
 * sign_in_limits, rate-limiter-flexible's PostgreSQL store), so every instance on one
 * DATABASE_URL shares the counts.
 */
export const SIGN_IN_LIMITS = {
  windowSeconds: 15 * 60,
  perAccount: 10,
  perAddress: 50,
  // Without a trusted proxy every sign-in shares one address key; a larger allowance keeps one
  // attacker from locking everybody out (the per-account limit still holds).
  perUnknownAddress: 500,
} as const;

export class SignInLimitError extends Error {
  constructor(readonly retryAfterMs: number) {
    const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
    super(`Too many attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
    this.name = 'SignInLimitError';
  }
}

interface Limiters {
  account: RateLimiterPostgres;
  address: RateLimiterPostgres;
  unknownAddress: RateLimiterPostgres;
}

const globalForLimits = globalThis as unknown as { cutoverSignInLimits?: { pool: unknown; limiters: Limiters } };

function limiters(): Limiters {
  const pool = getPool();
  // A new pool (tests switch DATABASE_URL) gets new limiters.
  if (globalForLimits.cutoverSignInLimits?.pool !== pool) {
    const make = (keyPrefix: string, points: number) =>
      new RateLimiterPostgres({
        storeClient: pool,
        tableName: 'sign_in_limits',
        tableCreated: true, // a migration creates it
        keyPrefix,
        points,
        duration: SIGN_IN_LIMITS.windowSeconds,
      });
    globalForLimits.cutoverSignInLimits = {
      pool,
      limiters: {
        account: make('account', SIGN_IN_LIMITS.perAccount),
        address: make('address', SIGN_IN_LIMITS.perAddress),
        unknownAddress: make('address', SIGN_IN_LIMITS.perUnknownAddress),
      },
    };
  }
  return globalForLimits.cutoverSignInLimits.limiters;
}

// Keys are hashed: the table keeps no typed email addresses (nor their length).
const hashed = (value: string) => createHash('sha256').update(value).digest('hex');
const accountKey = (email: string) => hashed(email.trim().toLowerCase());

function pick(address: string) {
  const l = limiters();
  return { account: l.account, address: address === UNKNOWN_ADDRESS ? l.unknownAddress : l.address };
}

/** Throws SignInLimitError while the account or the address has used up its failures. */
export async function assertSignInAllowed(email: string, address: string): Promise<void> {
  const { account, address: byAddress } = pick(address);
  const [a, b] = await Promise.all([account.get(accountKey(email)), byAddress.get(hashed(address))]);
  const waits = [
    a && a.consumedPoints >= account.points ? a.msBeforeNext : 0,
    b && b.consumedPoints >= byAddress.points ? b.msBeforeNext : 0,
  ];
  const wait = Math.max(...waits);
  if (wait > 0) throw new SignInLimitError(wait);
}

/** Counts one failed attempt against both keys. */
export async function recordSignInFailure(email: string, address: string): Promise<void> {
  const { account, address: byAddress } = pick(address);
  await Promise.all([account.penalty(accountKey(email), 1), byAddress.penalty(hashed(address), 1)]);
}

/**
 * A right password clears the account's count. The address keeps its count: one valid account
 * must not reset the budget of everyone guessing from the same place.
 */
export async function recordSignInSuccess(email: string): Promise<void> {
  await limiters().account.delete(accountKey(email));
}
