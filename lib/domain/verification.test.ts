import { describe, expect, it } from 'vitest';
import {
  MAX_SCHEDULED_CHECKS, VerificationExpectationSchema, columnExistsSql, compareOutcome, describeExpectation, sameValue,
  verificationPassed, verificationSchedule, verificationSummary, type QueryOutcome,
} from './verification';

const rows = (...values: unknown[][]): QueryOutcome => ({ rowCount: values.length, truncated: false, columns: ['c'], firstRow: values[0] ?? null });

describe('compareOutcome', () => {
  it('count: one number compared with its operator', () => {
    expect(compareOutcome({ kind: 'count', op: '=', value: 50 }, rows(['50']))).toEqual({ passed: true, actual: '50', reason: null });
    expect(compareOutcome({ kind: 'count', op: '>=', value: 10 }, rows([9]))).toMatchObject({ passed: false, reason: 'Expected a number at least 10, got 9.' });
    expect(compareOutcome({ kind: 'count', op: '!=', value: 0 }, rows([1]))).toMatchObject({ passed: true });
    expect(compareOutcome({ kind: 'count', op: '<', value: 3 }, rows([3]))).toMatchObject({ passed: false });
  });

  it('count: refuses what is not one number', () => {
    expect(compareOutcome({ kind: 'count', op: '=', value: 0 }, rows())).toMatchObject({ passed: false, actual: 'no rows' });
    expect(compareOutcome({ kind: 'count', op: '=', value: 1 }, rows([1], [2])).reason).toMatch(/one row with one number/);
    expect(compareOutcome({ kind: 'count', op: '=', value: 1 }, rows(['abc'])).reason).toBe('Expected a number, got "abc".');
    expect(compareOutcome({ kind: 'count', op: '=', value: 0 }, rows([null])).passed).toBe(false);
  });

  it('value: text, numbers and booleans compared as what they are', () => {
    expect(compareOutcome({ kind: 'value', value: 'shipped' }, rows(['shipped']))).toMatchObject({ passed: true });
    expect(compareOutcome({ kind: 'value', value: 'shipped' }, rows(['new']))).toMatchObject({ passed: false, reason: 'Expected "shipped", got "new".' });
    expect(compareOutcome({ kind: 'value', value: '1.5' }, rows(['1.50']))).toMatchObject({ passed: true });
    expect(compareOutcome({ kind: 'value', value: 'true' }, rows([true]))).toMatchObject({ passed: true });
    expect(compareOutcome({ kind: 'value', value: 'NULL' }, rows([null]))).toMatchObject({ passed: true });
    expect(compareOutcome({ kind: 'value', value: 'x' }, rows()).reason).toMatch(/returned no rows/);
  });

  it('no_rows and column_exists', () => {
    expect(compareOutcome({ kind: 'no_rows' }, rows())).toEqual({ passed: true, actual: 'no rows', reason: null });
    const many: QueryOutcome = { rowCount: 20, truncated: true, columns: ['id'], firstRow: [7] };
    expect(compareOutcome({ kind: 'no_rows' }, many)).toMatchObject({ passed: false, actual: '20+ rows', reason: 'Expected no rows, got 20+ rows (first: 7).' });
    expect(compareOutcome({ kind: 'column_exists', table: 'orders', column: 'status' }, rows(['status'])).passed).toBe(true);
    expect(compareOutcome({ kind: 'column_exists', table: 'orders', column: 'status' }, rows()).reason).toBe('Column status does not exist on orders.');
  });
});

describe('sameValue', () => {
  it('does not mistake empty or odd text for numbers', () => {
    expect(sameValue('', '0')).toBe(false);
    expect(sameValue(' 0 ', '0')).toBe(true);
    expect(sameValue('f', 'false')).toBe(true);
    expect(sameValue('yes', 'no')).toBe(false);
  });
});

describe('columnExistsSql', () => {
  it('reads the catalog with quoted literals, public by default', () => {
    expect(columnExistsSql('orders', 'status')).toContain("n.nspname = 'public' AND c.relname = 'orders' AND a.attname = 'status'");
    expect(columnExistsSql('shop.orders', "it's")).toContain("n.nspname = 'shop' AND c.relname = 'orders' AND a.attname = 'it''s'");
  });
});

describe('expectations', () => {
  it('parse and read as words', () => {
    expect(VerificationExpectationSchema.safeParse({ kind: 'count', op: '~', value: 1 }).success).toBe(false);
    expect(describeExpectation({ kind: 'count', op: '<=', value: 3 })).toBe('returns a number at most 3');
    expect(describeExpectation({ kind: 'no_rows' })).toBe('returns no rows');
  });
});

describe('verdicts', () => {
  it('no query is not a pass', () => {
    expect(verificationPassed([])).toBe(false);
    expect(verificationPassed([{ passed: true }, { passed: false }])).toBe(false);
    expect(verificationSummary([], 'production')).toMatch(/No verification queries/);
    expect(verificationSummary([{ name: 'a', passed: true }, { name: 'b', passed: false }], 'production')).toBe('1 of 2 verification queries failed on production: b.');
  });
});

describe('verificationSchedule', () => {
  const from = new Date('2026-11-26T10:00:00Z');
  it('runs at once, then every interval to the end of the window', () => {
    const { times, until } = verificationSchedule(from, 300, 60);
    expect(times).toHaveLength(13);
    expect(times[0]).toEqual(from);
    expect(times[12]).toEqual(until);
    expect(until.toISOString()).toBe('2026-11-26T11:00:00.000Z');
  });
  it('a window shorter than the interval still checks once', () => {
    expect(verificationSchedule(from, 600, 5).times).toEqual([from]);
  });
  it('spreads too many checks over the window', () => {
    const { times, until } = verificationSchedule(from, 1, 24 * 60);
    expect(times).toHaveLength(MAX_SCHEDULED_CHECKS);
    expect(times.at(-1)!.getTime()).toBe(until.getTime());
  });
});
