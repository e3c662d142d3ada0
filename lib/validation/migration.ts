import { z } from 'zod';
import { idSchema } from './common';

/** A migration file may be large (a data backfill), not unbounded. */
export const MAX_SQL_BYTES = 1_000_000;
const sql = (what: string, required: boolean) => {
  const base = z.string({ error: `Write the ${what}.` }).refine((s) => Buffer.byteLength(s) <= MAX_SQL_BYTES, `The ${what} can be at most 1 MB.`);
  return required ? base.refine((s) => s.trim().length > 0, `Write the ${what}.`) : base;
};

export const SaveRevisionSchema = z.object({
  requestId: idSchema,
  name: z
    .string({ error: 'Name the migration.' })
    .trim()
    .min(1, 'Name the migration.')
    .max(100, 'At most 100 characters.')
    .regex(/^[a-z0-9_]+$/, 'Use lower-case letters, digits and underscores, as Prisma names migrations.'),
  upSql: sql('up migration (migration.sql)', true),
  downSql: sql('down migration (down.sql)', true),
  dataSql: sql('data transformation', false).optional(),
});
export type SaveRevisionInput = z.infer<typeof SaveRevisionSchema>;
