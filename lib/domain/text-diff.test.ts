import { describe, expect, it } from 'vitest';
import { MAX_DIFF_LINES, diffLines, hasChanges } from './text-diff';

const show = (before: string, after: string) => diffLines(before, after)!.map((l) => `${l.op}${l.text}`);

describe('line diff of migration revisions', () => {
  it('marks nothing when the texts are equal', () => {
    expect(show('a\nb', 'a\nb')).toEqual([' a', ' b']);
    expect(hasChanges(diffLines('a\nb', 'a\nb'))).toBe(false);
  });
  it('shows an added, a removed and a changed line in order', () => {
    expect(show('ALTER TABLE a ADD x int;\nCREATE INDEX i ON a (x);\nCOMMENT ON TABLE a IS \'old\';', 'ALTER TABLE a ADD x int;\nCOMMENT ON TABLE a IS \'new\';\nVACUUM a;')).toEqual([
      ' ALTER TABLE a ADD x int;',
      '-CREATE INDEX i ON a (x);',
      "-COMMENT ON TABLE a IS 'old';",
      "+COMMENT ON TABLE a IS 'new';",
      '+VACUUM a;',
    ]);
  });
  it('treats CRLF and LF alike', () => {
    expect(hasChanges(diffLines('a\r\nb', 'a\nb'))).toBe(false);
  });
  it('handles empty sides', () => {
    expect(show('', 'x')).toEqual(['-', '+x']);
  });
  it('declines texts too long to compare', () => {
    const long = Array.from({ length: MAX_DIFF_LINES + 1 }, (_, i) => `line ${i}`).join('\n');
    expect(diffLines(long, 'x')).toBeNull();
    expect(hasChanges(null)).toBe(true);
  });
});
