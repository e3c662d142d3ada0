import { describe, expect, it } from 'vitest';
import { sortArchiveEntries } from './restore-as-role';
import { DEFAULT_FENCE_ALLOWANCES, FENCE_OFF } from './sql-guard';

// Lines as `pg_restore --list` prints them (extensions have no owner: the line ends in a space).
const LIST = [
  '9; 2615 355287 SCHEMA - we ird postgres',
  '2; 3079 355136 EXTENSION - citext ',
  '3487; 0 0 COMMENT - EXTENSION citext ',
  '5; 3079 364302 EXTENSION - uuid-ossp ',
  '3501; 0 0 COMMENT - EXTENSION "uuid-ossp" ',
  '219; 1259 355292 TABLE public t postgres',
  '300; 3466 1 EVENT TRIGGER - audit postgres',
];

describe('sortArchiveEntries', () => {
  it('gives the admin schemas and allowed extensions with their comments, the role the rest, and skips event triggers', () => {
    const { first, rest, skipped } = sortArchiveEntries(LIST, DEFAULT_FENCE_ALLOWANCES, 'the sandbox');
    expect(first).toEqual([LIST[0], LIST[1], LIST[2], LIST[3], LIST[4]]);
    expect(rest).toEqual([LIST[5]]);
    expect(skipped).toEqual([LIST[6]]);
  });

  it('refuses an extension outside the allow list, naming it and the way out', () => {
    const list = [...LIST, '3; 3079 355241 EXTENSION - dblink ', '3488; 0 0 COMMENT - EXTENSION dblink '];
    expect(() => sortArchiveEntries(list, DEFAULT_FENCE_ALLOWANCES, 'the sandbox')).toThrow(/extension "dblink".*allow list.*Rehearsal server/s);
    // A name that only looks allowed (another line format) is refused too.
    expect(() => sortArchiveEntries(['4; 3079 1 EXTENSION - citext; x ', ...LIST], DEFAULT_FENCE_ALLOWANCES, 'x')).toThrow(/"citext; x"/);
  });

  it('lets any extension through when the allowances let the extension kind through (FENCE_OFF), as for CREATE EXTENSION', () => {
    const list = ['3; 3079 355241 EXTENSION - dblink '];
    expect(sortArchiveEntries(list, FENCE_OFF, 'the sandbox').first).toEqual(list);
    expect(() => sortArchiveEntries(list, { allowedKinds: [], allowedExtensions: ['citext'] }, 'x')).toThrow(/dblink/);
  });
});
