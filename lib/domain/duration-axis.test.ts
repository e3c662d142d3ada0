import { describe, expect, it } from 'vitest';
import { durationAxis } from './duration-axis';

const labels = (maxHours: number) => {
  const axis = durationAxis(maxHours);
  return axis.ticks.map(axis.format);
};

describe('durationAxis: the time-per-step chart\'s y axis', () => {
  it('steps of about a minute read in seconds, never "0, 0m, 0m, 0m, 1m"', () => {
    expect(labels(1 / 60)).toEqual(['0', '15s', '30s', '45s', '60s']);
    expect(labels(45 / 3600)).toEqual(['0', '15s', '30s', '45s']);
  });

  it('minutes and hours get round ticks in their unit', () => {
    expect(labels(0.75)).toEqual(['0', '15m', '30m', '45m']);
    expect(labels(1.5)).toEqual(['0', '30m', '60m', '90m']);
    expect(labels(7 / 60)).toEqual(['0', '2m', '4m', '6m', '8m']);
    expect(labels(2.2)).toEqual(['0', '1h', '2h', '3h']);
    expect(labels(37)).toEqual(['0', '10h', '20h', '30h', '40h']);
  });

  it('the top tick covers the longest value, and every label differs', () => {
    for (const max of [0.0001, 0.004, 1 / 60, 0.034, 0.2, 0.99, 1, 1.5, 2, 3.3, 12.5, 99, 1000]) {
      const axis = durationAxis(max);
      expect(axis.top, String(max)).toBeGreaterThanOrEqual(max);
      expect(axis.ticks[0]).toBe(0);
      const text = axis.ticks.map(axis.format);
      expect(new Set(text).size, `${max}: ${text.join(', ')}`).toBe(text.length);
      expect(axis.ticks.length, `${max}: ${text.join(', ')}`).toBeGreaterThanOrEqual(2);
    }
  });

  it('an empty chart still has an axis', () => {
    expect(labels(0)).toEqual(['0', '1s']);
    expect(durationAxis(Number.NaN).top).toBeGreaterThan(0);
  });
});
