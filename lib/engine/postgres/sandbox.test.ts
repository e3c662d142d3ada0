import { describe, expect, it } from 'vitest';
import { assertRestorable, majorOf, rehearsalServerFromUrl } from './sandbox';

describe('which rehearsal server can take a target', () => {
  it('reads major versions from server_version_num', () => {
    expect(majorOf(150018)).toBe(15);
    expect(majorOf(180001)).toBe(18);
    expect(majorOf(90624)).toBe(9.6);
  });

  it('takes the same or an older major version', () => {
    const server = { num: 150018, version: '15.18', label: 'the Cutover sandbox (PostgreSQL 15.18)' };
    expect(() => assertRestorable({ num: 150020, version: '15.20 (Debian 15.20-0+deb12u1)' }, server)).not.toThrow();
    expect(() => assertRestorable({ num: 130012, version: '13.12' }, server)).not.toThrow();
    expect(() => assertRestorable({ num: 90624, version: '9.6.24' }, server)).not.toThrow();
  });

  it('refuses a newer major at once, naming both versions and the way out', () => {
    const server = { num: 150018, version: '15.18', label: 'the Cutover sandbox (PostgreSQL 15.18)' };
    expect(() => assertRestorable({ num: 170002, version: '17.2' }, server)).toThrow(
      'The target runs PostgreSQL 17.2, a newer major version than the Cutover sandbox (PostgreSQL 15.18), which cannot restore its schema. ' +
        'Name a rehearsal server of PostgreSQL 17 or newer for this target (Admin > Targets > Rehearsal server), or set CUTOVER_SANDBOX_URL.',
    );
  });

  it('reads a rehearsal server from its URL, the password from PGPASSWORD when the URL has none', () => {
    const named = rehearsalServerFromUrl('postgresql://rehearse:s%40cret@db.internal:6543/postgres?sslmode=require');
    expect(named).toEqual({
      label: 'the rehearsal server db.internal:6543',
      admin: { host: 'db.internal', port: 6543, database: 'postgres', username: 'rehearse', password: 's@cret', sslMode: 'require', connectTimeoutMs: 10_000 },
    });
    const before = process.env.PGPASSWORD;
    process.env.PGPASSWORD = 'from-env';
    try {
      expect(rehearsalServerFromUrl('postgresql://rehearse@db.internal/postgres').admin.password).toBe('from-env');
    } finally {
      if (before === undefined) delete process.env.PGPASSWORD;
      else process.env.PGPASSWORD = before;
    }
  });
});
