import { describe, expect, it } from 'vitest';
import { redactTargetAddress } from './redact-address';

const shop = { name: 'Shop staging', host: 'db-7.internal.example.com', port: 6543 };

describe('stored run errors without the target address', () => {
  it.each([
    ['connect ECONNREFUSED 10.0.0.5:6543', 'connect ECONNREFUSED Shop staging'],
    ['getaddrinfo ENOTFOUND db-7.internal.example.com', 'getaddrinfo ENOTFOUND Shop staging'],
    ['connection to server at "db-7.internal.example.com" (10.0.0.5), port 6543 failed: FATAL: password authentication failed',
      'connection to server at "Shop staging" (Shop staging) failed: FATAL: password authentication failed'],
    ['connect ECONNREFUSED [fd00::1]:6543', 'connect ECONNREFUSED Shop staging'],
    ['connect ECONNREFUSED ::1:6543 and 2001:db8:0:0:0:0:0:7', 'connect ECONNREFUSED Shop staging and Shop staging'],
    ['timeout connecting to DB-7.INTERNAL.EXAMPLE.COM:6543', 'timeout connecting to Shop staging'],
  ])('%s', (raw, redacted) => {
    expect(redactTargetAddress(raw, shop)).toBe(redacted);
  });

  it('leaves SQL, casts, clock times and other names alone', () => {
    const text = `column "x" is of type integer but expression is of type text at 12:30:45; 'a'::bad, DEFAULT now()::date; db-7.internal.example.com.au; version 15.4`;
    expect(redactTargetAddress(text, shop)).toBe(text);
    expect(redactTargetAddress('relation "orders" does not exist', shop)).toBe('relation "orders" does not exist');
  });
});
