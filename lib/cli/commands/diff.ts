import { readFileSync } from 'node:fs';
import { describeChange, diffSnapshots, takeSnapshot, type SchemaSnapshot } from '../../engine';
import { z } from 'zod';
import { EXIT, UsageError, defineCommand, withDb } from '../command';

async function loadSchema(source: string): Promise<SchemaSnapshot> {
  if (/^postgres(ql)?:\/\//.test(source)) return withDb(source, takeSnapshot, 'diff');
  const parsed = JSON.parse(readFileSync(source, 'utf8')) as SchemaSnapshot;
  if (!parsed?.shape?.tables) throw new UsageError(`${source} is not a snapshot written by "cutover snapshot --out".`);
  return parsed;
}

/** What changed between two schemas (URLs or snapshot files). */
export default defineCommand({
  name: 'diff',
  usage: `  diff      --from A --to B       what changed between two schemas (A and B: a PostgreSQL URL
                                  or a snapshot file written by "snapshot --out")`,
  flags: z.strictObject({ from: z.string().min(1), to: z.string().min(1) }),
  async run(input, { json, io }) {
    const [from, to] = await Promise.all([loadSchema(input.from), loadSchema(input.to)]);
    const changes = diffSnapshots(from.shape, to.shape);
    if (json) io.out(JSON.stringify({ ok: true, same: changes.length === 0, from: from.hash, to: to.hash, changes }, null, 2));
    else if (changes.length === 0) io.out(`No differences (schema hash ${from.hash}).`);
    else {
      for (const c of changes) io.out(describeChange(c));
      io.out(`\n${changes.length} difference(s).`);
    }
    return EXIT.ok;
  },
});
