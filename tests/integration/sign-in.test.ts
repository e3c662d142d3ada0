import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb, getPool } from '@/lib/db/client';
import { SIGN_IN_UNAVAILABLE, authorizeCredentials } from '@/lib/auth/authorize';
import { CLIENT_ADDRESS_HEADER_ENV, clientAddress } from '@/lib/auth/client-address';
import { SIGN_IN_LIMITS, recordSignInFailure } from '@/lib/auth/sign-in-limits';
import { hashPassword } from '@/lib/services/manage-users';
import { openTestAppStore } from '../support/app-store';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let seq = 0;

async function account(password: string, active = true) {
  seq += 1;
  const email = `sign-in-${seq}-${Date.now()}@test.local`;
  await getDb().user.create({ data: { email, name: `Sign-in ${seq}`, passwordHash: await hashPassword(password), roles: ['engineer'], active } });
  return email;
}

// Each run uses addresses of its own (the counts live in the store for 15 minutes).
const run = Math.floor(Math.random() * 200) + 20;
const ip = (n: number) => `10.${run}.${Math.floor(n / 250)}.${(n % 250) + 1}`;
let nextIp = 0;
const freshIp = () => ip(nextIp++);

// As scripts/web-server.mjs hands the socket's address on.
const from = (address: string) => ({ 'x-cutover-client-address': address });
const attempt = (email: string, password: string, address: string, headers: Record<string, string> = from(address)) =>
  authorizeCredentials({ email, password }, headers).then(
    (user) => (user ? 'signed in' : 'refused'),
    (err: Error) => err.message,
  );
const LIMITED = 'Too many attempts; try again in 15 minutes.';

beforeAll(async () => {
  store = await openTestAppStore();
  process.env[CLIENT_ADDRESS_HEADER_ENV] = '1';
});
afterAll(async () => {
  delete process.env[CLIENT_ADDRESS_HEADER_ENV];
  delete process.env.CUTOVER_TRUST_PROXY;
  await store.close();
});

describe('sign-in limits', () => {
  it(`allows ${SIGN_IN_LIMITS.perAccountAndAddress} failures per account from one address, then refuses even the right password there, but not from another address`, async () => {
    const email = await account('right password 1');
    const other = await account('right password 2');
    const attacker = freshIp();
    for (let i = 0; i < SIGN_IN_LIMITS.perAccountAndAddress; i++) expect(await attempt(email, `wrong ${i}`, attacker)).toBe('refused');
    expect(await attempt(email, 'right password 1', attacker)).toBe(LIMITED);
    expect(await attempt(email.toUpperCase(), 'right password 1', attacker)).toBe(LIMITED);
    // The owner, elsewhere, is not locked out by the attacker's failures; other accounts from the attacker's address are not either.
    expect(await attempt(email, 'right password 1', freshIp())).toBe('signed in');
    expect(await attempt(other, 'right password 2', attacker)).toBe('signed in');
    // The counts live in the app store, shared by every instance.
    const { rows } = await getPool().query<{ points: number }>(`SELECT points FROM sign_in_limits WHERE key LIKE 'pair:%' ORDER BY points DESC LIMIT 1`);
    expect(rows[0].points).toBeGreaterThanOrEqual(SIGN_IN_LIMITS.perAccountAndAddress);
  });

  it('a parallel burst of wrong passwords gets at most the limit checked; the rest are refused before the password is', async () => {
    const email = await account('burst pw');
    const burst = SIGN_IN_LIMITS.perAccountAndAddress * 3;
    const address = freshIp();
    const results = await Promise.all(Array.from({ length: burst }, (_, i) => attempt(email, `burst wrong ${i}`, address)));
    const checked = results.filter((r) => r === 'refused').length;
    expect(checked).toBeLessThanOrEqual(SIGN_IN_LIMITS.perAccountAndAddress);
    expect(checked).toBeGreaterThan(0);
    expect(results.filter((r) => r === LIMITED).length).toBe(burst - checked);
    expect(await attempt(email, 'burst pw', address)).toBe(LIMITED);
  });

  it('a right password resets the count of its account and address', async () => {
    const email = await account('pw right');
    const address = freshIp();
    for (let i = 0; i < SIGN_IN_LIMITS.perAccountAndAddress - 1; i++) await recordSignInFailure(email, address);
    expect(await attempt(email, 'pw right', address)).toBe('signed in');
    for (let i = 0; i < SIGN_IN_LIMITS.perAccountAndAddress - 1; i++) await recordSignInFailure(email, address);
    expect(await attempt(email, 'pw wrong', address)).toBe('refused'); // 9 after the reset, +1: still allowed to try
    expect(await attempt(email, 'pw right', address)).toBe(LIMITED);
  });

  it(`allows ${SIGN_IN_LIMITS.perAddress} failures per address, across accounts; random emails lock out only that address`, async () => {
    const email = await account('address pw');
    const address = freshIp();
    const before = SIGN_IN_LIMITS.perAddress - 5;
    for (let i = 0; i < before; i++) await recordSignInFailure(`earlier-${i}-${run}@test.local`, address);
    const guesses = await Promise.all(Array.from({ length: 15 }, (_, i) => attempt(`guess-${i}-${run}@test.local`, 'whatever', address)));
    expect(guesses.filter((r) => r === 'refused').length).toBeLessThanOrEqual(SIGN_IN_LIMITS.perAddress - before);
    expect(guesses.filter((r) => r === LIMITED).length).toBeGreaterThanOrEqual(10);
    expect(await attempt(email, 'address pw', address)).toBe(LIMITED);
    expect(await attempt(email, 'address pw', freshIp())).toBe('signed in');
  });

  it(`past ${SIGN_IN_LIMITS.perAccount} failures across addresses, an account is open only to an address with no failures, one attempt at a time`, async () => {
    const email = await account('spread pw');
    const attackers = Array.from({ length: SIGN_IN_LIMITS.perAccount / SIGN_IN_LIMITS.perAccountAndAddress }, freshIp);
    for (const a of attackers) for (let i = 0; i < SIGN_IN_LIMITS.perAccountAndAddress; i++) await recordSignInFailure(email, a);
    // A fresh attacker address that already failed elsewhere is refused.
    const failedElsewhere = freshIp();
    await recordSignInFailure(`someone-${run}@test.local`, failedElsewhere);
    expect(await attempt(email, 'spread pw', failedElsewhere)).toBe(LIMITED);
    // A clean address gets one guess; having failed, it is refused next time.
    const guesser = freshIp();
    expect(await attempt(email, 'guess', guesser)).toBe('refused');
    expect(await attempt(email, 'spread pw', guesser)).toBe(LIMITED);
    // The owner, from a clean address: a burst lets one attempt through, and the right password signs in.
    const owner = freshIp();
    const burst = await Promise.all(Array.from({ length: 5 }, (_, i) => attempt(email, `typo ${i}`, owner)));
    expect(burst.filter((r) => r === 'refused')).toHaveLength(1);
    expect(await attempt(email, 'spread pw', freshIp())).toBe('signed in');
  });

  it('without a known address, the limits count per account (never one key shared by every sign-in)', async () => {
    const locked = await account('unknown pw 1');
    const bystander = await account('unknown pw 2');
    const anonymous = {} as Record<string, string>;
    delete process.env[CLIENT_ADDRESS_HEADER_ENV];
    try {
      const guesses = await Promise.all(
        Array.from({ length: SIGN_IN_LIMITS.perAccountAndAddress + 5 }, (_, i) => attempt(`nobody-${i}-${run}@test.local`, 'x', '', anonymous)),
      );
      expect(guesses.every((r) => r === 'refused')).toBe(true); // random emails lock nobody else out
      for (let i = 0; i < SIGN_IN_LIMITS.perAccountAndAddress; i++) expect(await attempt(locked, `wrong ${i}`, '', anonymous)).toBe('refused');
      expect(await attempt(locked, 'unknown pw 1', '', anonymous)).toBe(LIMITED);
      expect(await attempt(bystander, 'unknown pw 2', '', anonymous)).toBe('signed in');
    } finally {
      process.env[CLIENT_ADDRESS_HEADER_ENV] = '1';
    }
  });

  it('takes the address from the web server\'s header, or from x-forwarded-for only behind a trusted proxy', () => {
    expect(clientAddress({ 'x-forwarded-for': '1.2.3.4, 5.6.7.8' }, { CUTOVER_TRUST_PROXY: '1' })).toBe('5.6.7.8');
    expect(clientAddress({ 'x-forwarded-for': '1.2.3.4' }, {})).toBe('unknown');
    expect(clientAddress({ 'x-forwarded-for': 'drop table' }, { CUTOVER_TRUST_PROXY: 'true' })).toBe('unknown');
    // The header counts only when scripts/web-server.mjs set it (and says so); a client's own is ignored.
    expect(clientAddress({ 'x-cutover-client-address': '::ffff:127.0.0.1' }, { [CLIENT_ADDRESS_HEADER_ENV]: '1' })).toBe('::ffff:127.0.0.1');
    expect(clientAddress({ 'x-cutover-client-address': '9.9.9.9' }, {})).toBe('unknown');
    expect(clientAddress({ 'x-cutover-client-address': 'x; drop' }, { [CLIENT_ADDRESS_HEADER_ENV]: '1' })).toBe('unknown');
    expect(clientAddress(new Headers({ 'x-cutover-client-address': '192.0.2.1' }), { [CLIENT_ADDRESS_HEADER_ENV]: '1' })).toBe('192.0.2.1');
  });

  it('an unknown email costs the same time as a wrong password (no account discovery by timing)', async () => {
    const email = await account('timing pw');
    const inactive = await account('timing pw', false);
    const time = async (who: string, i: number) => {
      const started = performance.now();
      expect(await attempt(who, `wrong-${i}`, freshIp())).toBe('refused');
      return performance.now() - started;
    };
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const known: number[] = [];
    const unknown: number[] = [];
    const off: number[] = [];
    for (let i = 0; i < 3; i++) {
      known.push(await time(email, i));
      unknown.push(await time(`nobody-${i}@test.local`, i));
      off.push(await time(inactive, i));
    }
    const ratio = median(unknown) / median(known);
    expect(ratio, `unknown ${median(unknown)} ms vs known ${median(known)} ms`).toBeGreaterThan(0.5);
    expect(ratio).toBeLessThan(2);
    expect(median(off) / median(known)).toBeGreaterThan(0.5);
    expect(median(off) / median(known)).toBeLessThan(2);
    // bcrypt at cost 12 is what makes both slow; if the dummy hash were skipped, unknown would be ~0 ms.
    expect(median(unknown)).toBeGreaterThan(20);
  });

  it('a store failure refuses sign-in with a plain message, not the database error', async () => {
    const email = await account('store pw');
    await getPool().query('ALTER TABLE sign_in_limits RENAME TO sign_in_limits_away');
    try {
      expect(await attempt(email, 'store pw', freshIp())).toBe(SIGN_IN_UNAVAILABLE);
    } finally {
      await getPool().query('ALTER TABLE sign_in_limits_away RENAME TO sign_in_limits');
    }
    expect(await attempt(email, 'store pw', freshIp())).toBe('signed in');
  });
});
