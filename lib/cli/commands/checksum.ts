import { tableChecksums } from '../../engine';
import { z } from 'zod';
import { EXIT, defineCommand, url, withDb } from '../command';

/** Row counts and content checksums of the database's tables (read-only, one snapshot for all). */
export default defineCommand({
  name: 'checksum',
  usage: `  checksum  --url URL [--table T] row count and content checksum of every table (or of T, as
                                  schema.table), computed inside the database in one snapshot;
                                  equal checksums mean equal content, whatever the row order`,
  flags: z.strictObject({ url, table: z.string().min(1).optional() }),
  async run(input, { json, io }) {
    // One REPEATABLE READ transaction: every table is read in the same snapshot.
    const tables = await withDb(input.url, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      try {
        return await tableChecksums(c, { tables: input.table ? [input.table] : undefined });
      } finally {
        await c.query('COMMIT').catch(() => undefined);
      }
    });
    if (json) io.out(JSON.stringify({ ok: true, tables }, null, 2));
    else {
      const width = Math.max(5, ...tables.map((t) => t.table.length));
      for (const t of tables) io.out(`${t.table.padEnd(width)}  ${String(t.rows).padStart(12)}  ${t.checksum}`);
      io.out(`\n${tables.length} table(s), ${tables.reduce((n, t) => n + t.rows, 0)} rows`);
    }
    return EXIT.ok;
  },
});
