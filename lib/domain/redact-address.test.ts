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

  // Other servers (a rehearsal server, the sandbox) are not the target: their address is hidden, not named as the target.
  it.each([
    ['connect ECONNREFUSED 127.0.0.1:43211', 'connect ECONNREFUSED (address hidden)'],
    ['pg_restore: error: connection to server at "127.0.0.1", port 5433 failed: Connection refused', 'pg_restore: error: connection to server at (address hidden) failed: Connection refused'],
    ['connection to server at "rehearsal-3.internal.example" (10.9.8.7), port 6543 failed: FATAL: role "x" does not exist',
      'connection to server at (address hidden) failed: FATAL: role "x" does not exist'],
    ['connection to server on socket "/tmp/cutover-sandbox-Ab12/.s.PGSQL.5433" failed: No such file or directory', 'connection to server on socket (address hidden) failed: No such file or directory'],
    ['getaddrinfo ENOTFOUND rehearsal-3.internal.example', 'getaddrinfo ENOTFOUND (address hidden)'],
    ['could not translate host name "rehearsal-3.internal.example" to address: Name or service not known', 'could not translate host name (address hidden) to address: Name or service not known'],
    ['Is the server running on host "rehearsal-3" (10.9.8.7) and accepting\n\tTCP/IP connections on port 5433?', 'Is the server running on host (address hidden) and accepting\n\tTCP/IP connections on port (address hidden)?'],
    ['restoring into cutover_drill_x in the rehearsal server rehearsal-3.internal.example:6543', 'restoring into cutover_drill_x in the rehearsal server (address hidden)'],
    ['connect ECONNREFUSED [fd00::9]:5433', 'connect ECONNREFUSED (address hidden)'],
    // The target's machine, another port: a sandbox beside it.
    ['connect ECONNREFUSED db-7.internal.example.com:5433', 'connect ECONNREFUSED (address hidden)'],
  ])('%s', (raw, redacted) => {
    expect(redactTargetAddress(raw, shop)).toBe(redacted);
  });

  it('leaves SQL, casts, clock times and other names alone', () => {
    const text = `column "x" is of type integer but expression is of type text at 12:30:45; 'a'::bad, DEFAULT now()::date; db-7.internal.example.com.au; version 15.4`;
    expect(redactTargetAddress(text, shop)).toBe(text);
    expect(redactTargetAddress('relation "orders" does not exist', shop)).toBe('relation "orders" does not exist');
  });
});
