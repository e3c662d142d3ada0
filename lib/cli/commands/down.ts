import { applyTimeouts, lockTargetOrFail, migrationStatus, readMigrationsDir, rollbackMigration } from '../../engine';
import { z } from 'zod';
import { UsageError, defineCommand, describeRun, fenceFlags, fenceFrom, reportWork, timeouts, url, withDb } from '../command';

const lastApplied = (entries: { name: string; finishedAt: Date | null }[]) =>
  [...entries].sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0) || b.name.localeCompare(a.name))[0]?.name;

/** Rolls back the last applied migration (or the one named) with its down.sql. */
export default defineCommand({
  name: 'down',
  usage: `  down      --url URL --dir DIR   roll back the last applied migration with its down.sql
            [--name MIGRATION]    (or the one named) and mark it rolled back`,
  flags: z.strictObject({ url, dir: z.string().min(1), name: z.string().min(1).optional(), ...timeouts, ...fenceFlags }),
  async run(input, { json, io }) {
    const migrations = readMigrationsDir(input.dir);
    return reportWork(json, io, async () => {
      const result = await withDb(input.url, async (c) => {
        await applyTimeouts(c, { lockTimeoutMs: Number(input['lock-timeout']), statementTimeoutMs: Number(input['statement-timeout']) });
        const name = input.name ?? lastApplied((await migrationStatus(c, migrations)).filter((e) => e.state === 'applied'));
        if (!name) throw new UsageError('No migration of this folder is applied; there is nothing to roll back.');
        const m = migrations.find((x) => x.name === name);
        if (!m) throw new UsageError(`There is no migration named "${name}" in ${input.dir}.`);
        return { name, run: await rollbackMigration(c, m, { lock: lockTargetOrFail, fence: fenceFrom(input) }) };
      }, 'down');
      if (json) io.out(JSON.stringify({ ok: true, rolledBack: result.name, evidence: result.run }, null, 2));
      else io.out(`rolled back  ${result.name}  ${describeRun(result.run)}`);
    });
  },
});
