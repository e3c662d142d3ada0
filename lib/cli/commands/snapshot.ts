import { writeFileSync } from 'node:fs';
import { takeSnapshot } from '../../engine';
import { z } from 'zod';
import { EXIT, defineCommand, url, withDb } from '../command';

/** The database's schema (read-only), optionally written as JSON. */
export default defineCommand({
  name: 'snapshot',
  usage: `  snapshot  --url URL [--out F]   the database's schema: tables, columns, indexes, constraints,
                                  views, sequences, enums and other types, functions, triggers,
                                  policies, extensions, comments, privileges and the rarer kinds
                                  (with --out, the snapshot as JSON)`,
  flags: z.strictObject({ url, out: z.string().min(1).optional() }),
  async run(input, { json, io }) {
    const snap = await withDb(input.url, takeSnapshot);
    if (input.out) writeFileSync(input.out, JSON.stringify(snap, null, 2) + '\n');
    if (json) io.out(JSON.stringify(snap, null, 2));
    else {
      const { shape, stats } = snap;
      io.out(`PostgreSQL ${snap.serverVersion}, schema hash ${snap.hash}`);
      for (const [name, t] of Object.entries(shape.tables)) {
        io.out(`table ${name} (${stats[name]?.estimatedRows == null ? 'never analyzed' : `~${stats[name].estimatedRows} rows`}, ${Math.round((stats[name]?.totalBytes ?? 0) / 1024)} kB)`);
        for (const c of t.columns) io.out(`  ${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default ? ` DEFAULT ${c.default}` : ''}`);
        for (const i of t.indexes) io.out(`  index ${i.name} (${i.method}${i.unique ? ', unique' : ''}${i.predicate ? `, where ${i.predicate}` : ''})`);
      }
      for (const [name, v] of Object.entries(shape.views)) io.out(`${v.materialized ? 'materialized view' : 'view'} ${name}`);
      for (const [name, labels] of Object.entries(shape.enums)) io.out(`enum ${name} (${labels.join(', ')})`);
      for (const name of Object.keys(shape.sequences)) io.out(`sequence ${name}`);
      // Older snapshot formats lack these kinds: `?? {}` keeps them readable.
      for (const name of Object.keys(shape.types ?? {})) io.out(`type ${name}`);
      for (const name of Object.keys(shape.functions ?? {})) io.out(`function ${name}`);
      for (const name of Object.keys(shape.triggers ?? {})) io.out(`trigger ${name}`);
      for (const name of Object.keys(shape.policies ?? {})) io.out(`policy ${name}`);
      const rarer = Object.values(shape.objects ?? {}).reduce((n, byName) => n + Object.keys(byName).length, 0);
      io.out(`${Object.keys(shape.comments ?? {}).length} comment(s), ${Object.keys(shape.privileges ?? {}).length} object(s) with privileges, ${rarer} other object(s)`);
      if (input.out) io.out(`\nwrote ${input.out}`);
    }
    return EXIT.ok;
  },
});
