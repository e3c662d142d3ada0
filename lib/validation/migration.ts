import { z } from 'zod';
import { idSchema } from './common';
import { DeclaredChangesTextSchema } from './declared-changes';

/** A migration file may be large (a data backfill), not unbounded. */
export const MAX_SQL_BYTES = 1_000_000;

/** The SQL fields of a revision, in the order the editor shows them. */
export const SQL_FIELDS = ['upSql', 'downSql', 'dataSql'] as const;
export type SqlField = (typeof SQL_FIELDS)[number];

/**
 * The form field that carries a SQL field's exact bytes (base64) instead of typed text: a file
 * loaded from disk, or a file left as a revision saved it. A textarea submits CRLF line endings
 * whatever the file had, so exact bytes never travel through one.
 */
export const exactFieldName = (field: SqlField) => `${field}Exact` as const;

const utf8Bytes = (s: string) => new TextEncoder().encode(s).length;

const sql = (what: string, required: boolean) => {
  const base = z
    .string({ error: `Write the ${what}.` })
    .refine((s) => utf8Bytes(s) <= MAX_SQL_BYTES, `The ${what} can be at most 1 MB.`)
    // PostgreSQL text cannot hold a NUL byte: a file with one is not SQL text.
    .refine((s) => !s.includes('\u0000'), `The ${what} contains a NUL byte; it is not a text file.`);
  return required ? base.refine((s) => s.trim().length > 0, `Write the ${what}.`) : base;
};

/**
 * A revision's name: lower-case snake case as typed, or a whole Prisma folder name kept as the
 * team's repository spells it (an imported migration), so the target records the same name.
 */
export const MIGRATION_NAME = /^(?:[a-z0-9_]+|\d{14}_[A-Za-z0-9_-]+)$/;

export const SaveRevisionSchema = z.object({
  requestId: idSchema,
  name: z
    .string({ error: 'Name the migration.' })
    .trim()
    .min(1, 'Name the migration.')
    .max(100, 'At most 100 characters.')
    .regex(MIGRATION_NAME, 'Use lower-case letters, digits and underscores, as Prisma names migrations.'),
  upSql: sql('up migration (migration.sql)', true),
  downSql: sql('down migration (down.sql)', true),
  dataSql: sql('data transformation', false).optional(),
  /** What the migration changes in the data, one declaration a line (the data-loss check holds it to them). */
  declaredChanges: DeclaredChangesTextSchema.optional(),
});
export type SaveRevisionInput = z.infer<typeof SaveRevisionSchema>;

/** Typed text is stored with LF line endings, whatever the browser submitted (a textarea sends CRLF). */
export const normalizeTypedSql = (text: string) => text.replace(/\r\n?/g, '\n');

/** Base64 of a file's bytes, as the editor sends a loaded file (works in the browser and in Node). */
export function encodeExactSql(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/**
 * A file's exact bytes back as the string that holds them: UTF-8, decoded strictly (a byte
 * order mark is kept), so that encoding the string again gives the same bytes and checksum.
 */
export function decodeExactSql(base64: string): { ok: true; text: string } | { ok: false; reason: string } {
  if (base64.length > Math.ceil(MAX_SQL_BYTES / 3) * 4 + 4) return { ok: false, reason: 'The file can be at most 1 MB.' };
  let bytes: Uint8Array;
  try {
    bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  } catch {
    return { ok: false, reason: 'The file did not arrive intact; load it again.' };
  }
  if (bytes.length > MAX_SQL_BYTES) return { ok: false, reason: 'The file can be at most 1 MB.' };
  try {
    return { ok: true, text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes) };
  } catch {
    return { ok: false, reason: 'The file is not UTF-8 text; save it as UTF-8 and load it again.' };
  }
}

/**
 * The "Create migration" form: each SQL field arrives either typed (stored with LF) or as the
 * exact bytes of a file (kept byte for byte), then is checked as SaveRevisionSchema checks it.
 */
export const SaveRevisionFormSchema = z.preprocess((raw, ctx) => {
  if (!raw || typeof raw !== 'object') return raw;
  const out: Record<string, unknown> = { ...(raw as Record<string, unknown>) };
  for (const field of SQL_FIELDS) {
    const exact = out[exactFieldName(field)];
    delete out[exactFieldName(field)];
    if (typeof exact === 'string' && exact !== '') {
      const decoded = decodeExactSql(exact);
      if (decoded.ok) out[field] = decoded.text;
      else ctx.addIssue({ code: 'custom', path: [field], message: decoded.reason });
    } else if (typeof out[field] === 'string') {
      out[field] = normalizeTypedSql(out[field] as string);
    }
  }
  return out;
}, SaveRevisionSchema);
