import { assertFenceAllows, migrationStatus, readMigrationsDir, rehearseMigration } from '../../engine';
import { z } from 'zod';
import { EXIT, UsageError, commandSandbox, defineCommand, fenceFlags, fenceFrom, settingsFromUrl, url, withDb } from '../command';

/** Rehearses a migration on a copy of the database's schema in a sandbox (the database is only read). */
export default defineCommand({
  name: 'rehearse',
  usage: `  rehearse  --url URL --dir DIR   rehearse the first pending migration (or --name) on a copy of
            [--name MIGRATION]    the database's schema in a sandbox: up, verify, down, verify the
            [--sample ROWS]       rollback restores the schema, up again; the copy is dropped
            [--sandbox-url URL]   (--sample: also copy up to ROWS rows of each table). The database
                                  is only read; the copy runs in a PostgreSQL started for the
                                  command (embedded), or on --sandbox-url / CUTOVER_SANDBOX_URL
                                  (a role there that may create databases and roles)`,
  flags: z.strictObject({
    url, dir: z.string().min(1), name: z.string().min(1).optional(), sample: z.coerce.number().int().min(0).max(100_000).default(0),
    'sandbox-url': url.optional(), ...fenceFlags,
  }),
  async run(input, { json, io }) {
    const migrations = readMigrationsDir(input.dir);
    const name = input.name ?? (await withDb(input.url, (c) => migrationStatus(c, migrations))).find((e) => e.state === 'pending')?.name;
    if (!name) throw new UsageError('No migration is pending; name the one to rehearse with --name.');
    const m = migrations.find((x) => x.name === name);
    if (!m) throw new UsageError(`There is no migration named "${name}" in ${input.dir}.`);
    if (m.downSql === undefined) throw new UsageError(`${name} has no down.sql: a rehearsal proves the way back, so write one first.`);
    // The fence first: a refused file never costs a sandbox start.
    await assertFenceAllows('migration.sql', m.sql, fenceFrom(input));
    await assertFenceAllows('down.sql', m.downSql, fenceFrom(input));
    const sandbox = commandSandbox(input['sandbox-url'], (own) => !json && io.out(`sandbox: ${own.label}, started in ${own.startMs} ms`));
    const result = await rehearseMigration(settingsFromUrl(input.url), { name, upSql: m.sql, downSql: m.downSql }, {
      sandbox: await sandbox.get(),
      sampleRows: Number(input.sample),
      fence: fenceFrom(input),
      onPhase: (p) => {
        if (json) return;
        io.out(`${p.status === 'ok' ? 'ok    ' : 'FAILED'} ${p.label} (${p.durationMs} ms)${p.detail ? `: ${p.detail}` : ''}`);
        for (const c of p.changes ?? []) io.out(`         ${c}`);
      },
    }).finally(() => sandbox.stop());
    if (json) io.out(JSON.stringify({ migration: name, ...result }, null, 2));
    else io.out(result.ok ? `\nRehearsal of ${name} passed in ${result.durationMs} ms.` : `\nRehearsal of ${name} failed: ${result.error}`);
    return result.ok ? EXIT.ok : EXIT.failed;
  },
});
