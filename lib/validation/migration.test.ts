import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { fieldErrors } from './common';
import { SaveRevisionFormSchema, decodeExactSql, encodeExactSql, normalizeTypedSql } from './migration';

const uuid = '3f1c1f0e-8d7a-4b6e-9a41-2b1f4c1d9e10';
const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');
const b64 = (s: string | Buffer) => encodeExactSql(new Uint8Array(typeof s === 'string' ? Buffer.from(s, 'utf8') : s));

describe('SaveRevisionFormSchema: bytes of loaded files are kept, typed text gets LF', () => {
  const files = {
    lf: 'ALTER TABLE orders ADD COLUMN a int;\nCREATE INDEX ON orders (a);\n',
    crlf: 'ALTER TABLE orders ADD COLUMN a int;\r\nCREATE INDEX ON orders (a);\r\n',
    noFinalNewline: 'ALTER TABLE orders ADD COLUMN a int;',
    bomAndUnicode: '\uFEFF-- café ✓\r\nSELECT 1;',
  };
  for (const [label, file] of Object.entries(files)) {
    it(`keeps a loaded file byte for byte (${label})`, () => {
      const bytes = Buffer.from(file, 'utf8');
      const parsed = SaveRevisionFormSchema.parse({ requestId: uuid, name: 'x', upSqlExact: b64(bytes), downSql: 'SELECT 1;' });
      expect(parsed.upSql).toBe(file);
      expect(sha(Buffer.from(parsed.upSql, 'utf8'))).toBe(sha(bytes));
    });
  }

  it('stores typed text with LF whatever line endings the browser sent', () => {
    const parsed = SaveRevisionFormSchema.parse({ requestId: uuid, name: 'x', upSql: 'SELECT 1;\r\nSELECT 2;\rSELECT 3;\r\n', downSql: 'SELECT 4;\r\n' });
    expect(parsed.upSql).toBe('SELECT 1;\nSELECT 2;\nSELECT 3;\n');
    expect(parsed.downSql).toBe('SELECT 4;\n');
    expect(normalizeTypedSql('a\r\n\r\nb')).toBe('a\n\nb');
  });

  it('prefers the exact bytes over the textarea when both arrive', () => {
    const parsed = SaveRevisionFormSchema.parse({ requestId: uuid, name: 'x', upSql: 'typed\r\n', upSqlExact: b64('file\r\n'), downSql: 'SELECT 1;' });
    expect(parsed.upSql).toBe('file\r\n');
  });

  it('refuses a file that is not UTF-8 text, or holds a NUL byte, on its field', () => {
    const latin1 = Buffer.from([0x2d, 0x2d, 0x20, 0x63, 0x61, 0x66, 0xe9, 0x0a]);
    const r = SaveRevisionFormSchema.safeParse({ requestId: uuid, name: 'x', upSqlExact: b64(latin1), downSql: 'SELECT 1;' });
    expect(r.success).toBe(false);
    expect(fieldErrors(r.error!).upSql).toContain('The file is not UTF-8 text; save it as UTF-8 and load it again.');
    const nul = SaveRevisionFormSchema.safeParse({ requestId: uuid, name: 'x', upSql: 'SELECT 1;', downSqlExact: b64('SELECT\u00001;') });
    expect(fieldErrors(nul.error!).downSql?.[0]).toMatch(/NUL byte/);
    expect(decodeExactSql('***')).toEqual({ ok: false, reason: 'The file did not arrive intact; load it again.' });
  });

  it('round-trips a megabyte without a stack overflow', () => {
    const big = Buffer.alloc(900_000, 'a');
    const decoded = decodeExactSql(encodeExactSql(new Uint8Array(big)));
    expect(decoded.ok && decoded.text.length).toBe(900_000);
  });
});
