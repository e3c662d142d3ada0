import { describe, expect, it } from 'vitest';
import { READ_ONLY_OPTIONS, readOnlySession } from './connection';

describe('read-only sessions', () => {
  it('make every transaction read-only, resolve names in pg_catalog only and never run row-level security policies', () => {
    expect(readOnlySession({ host: 'h', user: 'u' })).toEqual({
      host: 'h', user: 'u', options: '-c default_transaction_read_only=on -c search_path=pg_catalog -c row_security=off',
    });
  });

  it('keep options of their own, and put ours last so that a URL cannot switch them off', () => {
    const config = readOnlySession({ connectionString: 'postgresql://u:p@h:5432/db?sslmode=disable&options=-c%20default_transaction_read_only%3Doff' });
    expect(config.options).toBe(`-c default_transaction_read_only=off ${READ_ONLY_OPTIONS}`);
    expect(config.connectionString).toBe('postgresql://u:p@h:5432/db?sslmode=disable');
  });
});
