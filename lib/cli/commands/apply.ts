import { applyMigrations, applyTimeouts, lockTargetOrFail, readMigrationsDir } from '../../engine';
import { z } from 'zod';
import { defineCommand, describeRun, fenceFlags, fenceFrom, reportWork, timeouts, url, withDb } from '../command';

/** Applies every pending migration of a folder, each in its own transaction, stopping at the first failure. */
export default defineCommand({
  name: 'apply',
  usage: `  apply     --url URL --dir DIR   apply every pending migration in order, each in its own
                                  transaction, stopping at the first failure`,
  flags: z.strictObject({ url, dir: z.string().min(1), ...timeouts, ...fenceFlags }),
  async run(input, { json, io }) {
    const migrations = readMigrationsDir(input.dir);
    return reportWork(json, io, async () => {
      const result = await withDb(input.url, async (c) => {
        await applyTimeouts(c, { lockTimeoutMs: Number(input['lock-timeout']), statementTimeoutMs: Number(input['statement-timeout']) });
        return applyMigrations(c, migrations, { recordFailure: true, lock: lockTargetOrFail, fence: fenceFrom(input) });
      }, 'apply');
      if (json) io.out(JSON.stringify({ ok: true, ...result }, null, 2));
      else {
        for (const name of result.applied) io.out(`applied  ${name}  ${describeRun(result.evidence[name])}`);
        io.out(result.applied.length ? `\n${result.applied.length} migration(s) applied.` : 'Nothing to apply: the database is up to date.');
      }
    });
  },
});
