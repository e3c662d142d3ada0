import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb, getPool } from '@/lib/db/client';
import { SIGN_IN_UNAVAILABLE, authorizeCredentials } from '@/lib/auth/authorize';
import { clientAddress } from '@/lib/auth/client-address';
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

const from = (address: string) => ({ 'x-forwarded-for': `10.9.9.9, ${address}` });
const attempt = (email: string, password: string, address = '203.0.113.1') =>
  authorizeCredentials({ email, password }, from(address)).then(
    (user) => (user ? 'signed in' : 'refused'),
    (err: Error) => err.message,
  );

beforeAll(async () => {
  store = await openTestAppStore();
  process.env.CUTOVER_TRUST_PROXY = '1';
});
afterAll(async () => {
  delete process.env.CUTOVER_TRUST_PROXY;
  await store.close();
});

describe('sign-in limits', () => {
  it(`allows ${SIGN_IN_LIMITS.perAccount} failures per account in 15 minutes, then refuses even the right password with a clear message`, async () => {
    const email = await account('right password 1');
    const other = await account('right password 2');
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount; i++) expect(await attempt(email, `wrong ${i}`, `198.51.100.${i}`)).toBe('refused');
    expect(await attempt(email, 'right password 1', '198.51.100.99')).toBe('Too many attempts; try again in 15 minutes.');
    expect(await attempt(email.toUpperCase(), 'right password 1')).toBe('Too many attempts; try again in 15 minutes.');
    // Another account is not affected, and the count lives in the app store, shared by every instance.
    expect(await attempt(other, 'right password 2')).toBe('signed in');
    const { rows } = await getPool().query<{ points: number }>(`SELECT points FROM sign_in_limits WHERE key LIKE 'account:%' ORDER BY points DESC LIMIT 1`);
    expect(rows[0].points).toBe(SIGN_IN_LIMITS.perAccount);
  });

  it('a right password resets the account count', async () => {
    const email = await account('pw right');
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount - 1; i++) await recordSignInFailure(email, '192.0.2.50');
    expect(await attempt(email, 'pw right', '192.0.2.51')).toBe('signed in');
    for (let i = 0; i < SIGN_IN_LIMITS.perAccount - 1; i++) await recordSignInFailure(email, '192.0.2.50');
    expect(await attempt(email, 'pw wrong', '192.0.2.52')).toBe('refused'); // 9 after the reset, +1: still allowed to try
  });

  it(`allows ${SIGN_IN_LIMITS.perAddress} failures per address, across accounts`, async () => {
    const email = await account('address pw');
    for (let i = 0; i < SIGN_IN_LIMITS.perAddress; i++) await recordSignInFailure(`guess-${i}@test.local`, '203.0.113.77');
    expect(await attempt(email, 'address pw', '203.0.113.77')).toBe('Too many attempts; try again in 15 minutes.');
    expect(await attempt(email, 'address pw', '203.0.113.78')).toBe('signed in');
  });

  it('takes the address from x-forwarded-for only behind a trusted proxy', () => {
    expect(clientAddress({ 'x-forwarded-for': '1.2.3.4, 5.6.7.8' }, { CUTOVER_TRUST_PROXY: '1' })).toBe('5.6.7.8');
    expect(clientAddress({ 'x-forwarded-for': '1.2.3.4' }, {})).toBe('unknown');
    expect(clientAddress({ 'x-forwarded-for': 'drop table' }, { CUTOVER_TRUST_PROXY: 'true' })).toBe('unknown');
  });

  it('an unknown email costs the same time as a wrong password (no account discovery by timing)', async () => {
    const email = await account('timing pw');
    const inactive = await account('timing pw', false);
    const time = async (who: string, i: number) => {
      const started = performance.now();
      expect(await attempt(who, `wrong-${i}`, `192.0.2.${100 + i}`)).toBe('refused');
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
      expect(await attempt(email, 'store pw')).toBe(SIGN_IN_UNAVAILABLE);
    } finally {
      await getPool().query('ALTER TABLE sign_in_limits_away RENAME TO sign_in_limits');
    }
    expect(await attempt(email, 'store pw')).toBe('signed in');
  });
});
