import { createHash } from 'node:crypto';
import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible';
import { getPool } from '../db/client';
import { UNKNOWN_ADDRESS } from './client-address';

/**
 * Failed sign-ins are counted in the app store (table sign_in_limits, rate-limiter-flexible's
 * PostgreSQL store), so every instance on one DATABASE_URL shares the counts. Three keys:
 *
 * - account + address: the guessing limit. An attacker's failures lock the account for the
 *   attacker's address, not for its owner elsewhere.
 * - address: volume from one place, across accounts.
 * - account: a larger cap across all addresses, against guessing spread over many addresses.
 *   Past it, an account is still open to an address with no failure in the window (its owner at
 *   their desk), one attempt at a time: a botnet cannot lock a named account, and each of its
 *   addresses gets one guess per window.
 *
 * A point is taken BEFORE the password is checked and given back on success, so a burst of
 * parallel attempts cannot all pass a check made before any of them failed.
 */
export const SIGN_IN_LIMITS = {
  windowSeconds: 15 * 60,
  perAccountAndAddress: 10,
  perAddress: 50,
  perAccount: 100,
} as const;

export class SignInLimitError extends Error {
  constructor(readonly retryAfterMs: number) {
    const minutes = Math.max(1, Math.ceil(retryAfterMs / 60_000));
    super(`Too many attempts; try again in ${minutes} minute${minutes === 1 ? '' : 's'}.`);
    this.name = 'SignInLimitError';
  }
}

interface Limiters {
  pair: RateLimiterPostgres;
  address: RateLimiterPostgres;
  account: RateLimiterPostgres;
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
        pair: make('pair', SIGN_IN_LIMITS.perAccountAndAddress),
        address: make('address', SIGN_IN_LIMITS.perAddress),
        account: make('account', SIGN_IN_LIMITS.perAccount),
      },
    };
  }
  return globalForLimits.cutoverSignInLimits.limiters;
}

// Keys are hashed: the table keeps no typed email addresses (nor their length).
const hashed = (value: string) => createHash('sha256').update(value).digest('hex');
const normalEmail = (email: string) => email.trim().toLowerCase();

/** The keys one attempt counts against; without a known address there is no address key. */
function keysOf(email: string, address: string) {
  const account = hashed(normalEmail(email));
  return {
    account,
    pair: hashed(`${normalEmail(email)}\n${address}`),
    address: address === UNKNOWN_ADDRESS ? undefined : hashed(address),
  };
}

type Taken = { ok: true; res: RateLimiterRes } | { ok: false; res: RateLimiterRes };

/** consume(), with "over the limit" as a value; a store error still throws. */
async function take(limiter: RateLimiterPostgres, key: string): Promise<Taken> {
  try {
    return { ok: true, res: await limiter.consume(key, 1) };
  } catch (err) {
    if (err instanceof RateLimiterRes) return { ok: false, res: err };
    throw err;
  }
}

export interface SignInAttempt {
  /** The password was right: the attempt's points go back and the account+address count starts over. */
  succeeded(): Promise<void>;
}

/**
 * Takes one point from each key before the password is checked; throws SignInLimitError (and
 * gives the points back) when the attempt is over a limit. A wrong password keeps the points:
 * they are the failures counted.
 */
export async function beginSignInAttempt(email: string, address: string): Promise<SignInAttempt> {
  const l = limiters();
  const keys = keysOf(email, address);
  const [pair, account, byAddress] = await Promise.all([
    take(l.pair, keys.pair),
    take(l.account, keys.account),
    keys.address ? take(l.address, keys.address) : Promise.resolve(undefined),
  ]);
  // Past the account-wide cap, only an address with no other failure in the window may try
  // (its count is this attempt alone); the atomic count lets one of a parallel burst through.
  const cleanAddress = byAddress?.ok === true && byAddress.res.consumedPoints === 1;
  const refusedBy = [pair, byAddress, account.ok || cleanAddress ? undefined : account].filter(
    (t): t is Taken => t !== undefined && !t.ok,
  );
  const giveBack = () =>
    Promise.all([
      l.pair.reward(keys.pair, 1),
      l.account.reward(keys.account, 1),
      keys.address ? l.address.reward(keys.address, 1) : undefined,
    ]);
  if (refusedBy.length > 0) {
    // A refused attempt is not a failure: it must not use up the address's budget for other
    // accounts, nor make its address look like one that has been failing.
    await giveBack();
    throw new SignInLimitError(Math.max(...refusedBy.map((t) => t.res.msBeforeNext)));
  }
  return {
    async succeeded() {
      // One valid account must not reset the budget of everyone guessing from the same place,
      // nor of guesses at this account from elsewhere: those keys only get this attempt back.
      await Promise.all([
        l.pair.delete(keys.pair),
        l.account.reward(keys.account, 1),
        keys.address ? l.address.reward(keys.address, 1) : undefined,
      ]);
    },
  };
}

/** Counts one failed attempt against every key (tests set up a history with it). */
export async function recordSignInFailure(email: string, address: string): Promise<void> {
  const l = limiters();
  const keys = keysOf(email, address);
  await Promise.all([
    l.pair.penalty(keys.pair, 1),
    l.account.penalty(keys.account, 1),
    keys.address ? l.address.penalty(keys.address, 1) : undefined,
  ]);
}
