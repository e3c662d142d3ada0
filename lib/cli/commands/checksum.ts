import { describeTables, tableChecksums } from '../../engine';
import { z } from 'zod';
import { EXIT, defineCommand, url, withDb } from '../command';

/** Whether a table name (as SQL would write it) starts with a schema: `public.orders`, `"My Schema".t`. */
const SCHEMA_QUALIFIED = /^(?:"(?:[^"]|"")*"|[^".]+)\./;

/**
 * `--table orders` means public.orders, as with the default search_path (the command's read-only
 * session searches only pg_catalog, so the engine's lookup needs the schema).
 */
export function qualifyTableName(name: string): string {
  return SCHEMA_QUALIFIED.test(name) ? name : `public.${name}`;
}

/** Row counts and content checksums of the database's tables (read-only, one snapshot for all). */
export default defineCommand({
  name: 'checksum',
  usage: `  checksum  --url URL [--table T] row count and content checksum of every table (or of T:
                                  schema.table, or a table in public), computed inside the database
                                  in one snapshot; equal checksums mean equal content, whatever the
                                  row order`,
  flags: z.strictObject({ url, table: z.string().min(1).optional() }),
  async run(input, { json, io }) {
    const table = input.table === undefined ? undefined : qualifyTableName(input.table);
    // One REPEATABLE READ transaction: every table is read in the same snapshot.
    const tables = await withDb(input.url, async (c) => {
      await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await c.query('SAVEPOINT before_lookup');
      try {
        return await tableChecksums(c, { tables: table ? [table] : undefined }).catch(async (err: unknown) => {
          if (!(err instanceof Error) || !/does not exist/.test(err.message)) throw err;
          // Say which tables there are, so the next try can be right.
          await c.query('ROLLBACK TO SAVEPOINT before_lookup').catch(() => undefined);
          const existing = await describeTables(c).then((ts) => ts.map((t) => t.qualified), () => null);
          if (!existing) throw err;
          const shown = existing.slice(0, 20).join(', ') + (existing.length > 20 ? `, ... (${existing.length} in all)` : '');
          throw new Error(`Table ${table} does not exist. ${existing.length ? `Its tables: ${shown}.` : 'The database has no tables.'}`);
        });
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
