import { describe, expect, it } from 'vitest';
import { RUN_KINDS } from '../../domain/run-rules';
import { RUN_RESULT_SCHEMAS, parseRunResult, readRunResult } from '../../domain/run-results';
import { RUN_QUEUE } from '../../services/runs';
import { QUEUES } from '../queue';
import { RUN_HANDLERS } from '.';

describe('the worker\'s handler table', () => {
  it('has at most one handler a queue, and each handler takes jobs from the queue RUN_QUEUE sends its kinds to', () => {
    const queues = RUN_HANDLERS.map((h) => h.queue);
    expect(new Set(queues).size).toBe(queues.length);
    for (const h of RUN_HANDLERS) for (const kind of h.kinds) expect(RUN_QUEUE[kind]).toBe(h.queue);
  });
  it('names a queue for every kind, from QUEUES', () => {
    for (const kind of RUN_KINDS) expect(Object.values(QUEUES)).toContain(RUN_QUEUE[kind]);
    expect(Object.keys(RUN_RESULT_SCHEMAS).sort()).toEqual([...RUN_KINDS].sort());
  });
});

describe('run results', () => {
  it('parse what a handler writes, partial and final, and refuse a wrong shape', () => {
    expect(parseRunResult('rehearsal', { phases: [], log: ['x'] })).toMatchObject({ phases: [] });
    expect(parseRunResult('status', { ok: true, entries: [{ name: 'm', state: 'applied', fileChecksum: 'a', appliedChecksum: 'a' }] }).entries).toHaveLength(1);
    expect(() => parseRunResult('status', { ok: true, entries: [{ name: 'm', state: 'sideways' }] })).toThrow(/status run's result does not match its schema: entries\.0\.state/);
    expect(() => parseRunResult('apply', { ok: 'yes' })).toThrow(/apply run's result/);
  });
  it('read a stored result, or null for none or one that no longer matches', () => {
    expect(readRunResult('snapshot', null)).toBeNull();
    expect(readRunResult('snapshot', { ok: true, changesSincePrevious: ['added table a'], later: 1 })).toMatchObject({ changesSincePrevious: ['added table a'], later: 1 });
    const quiet = console.error;
    console.error = () => undefined;
    try {
      expect(readRunResult('snapshot', { tables: 'many' }, 'r1')).toBeNull();
    } finally {
      console.error = quiet;
    }
  });
});
