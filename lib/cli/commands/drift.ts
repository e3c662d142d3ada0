import { checkDrift, readMigrationsDir } from '../../engine';
import { z } from 'zod';
import { DRIFT_ADVICE, whatMigrationsBuild } from '../../domain/drift';
import { EXIT, commandSandbox, existingDirectory, defineCommand, fenceFlags, fenceFrom, settingsFromUrl, url } from '../command';

/** Whether a database's live schema is what its applied migrations build (the database is only read). */
export default defineCommand({
  name: 'drift',
  usage: `  drift     --url URL --dir DIR   replay the migrations the database's history marks applied in a
            [--sandbox-url URL]   sandbox and compare that schema with the database's own; lists
                                  each difference (exit 1 when it drifted or the check failed).
                                  The database is only read; the replay runs in a PostgreSQL
                                  started for the command (embedded), or on --sandbox-url /
                                  CUTOVER_SANDBOX_URL`,
  flags: z.strictObject({ url, dir: z.string().min(1), 'sandbox-url': url.optional(), ...fenceFlags }),
  async run(input, { json, io }) {
    const migrations = readMigrationsDir(existingDirectory(input.dir));
    const sandbox = commandSandbox(input['sandbox-url']);
    const result = await checkDrift(settingsFromUrl(input.url), migrations, {
      sandbox: await sandbox.get(),
      fence: fenceFrom(input),
      onStep: (step, detail) => {
        if (!json && step === 'replay') io.out(`replaying ${detail}`);
      },
    }).finally(() => sandbox.stop());
    if (json) {
      io.out(JSON.stringify(result, null, 2));
    } else if (!result.ok) {
      io.err(`error: ${result.error}`);
    } else {
      for (const line of result.differences) io.out(line);
      if (result.note) io.out(`note: ${result.note}`);
      if (result.pending.length) io.out(`not applied yet (not drift): ${result.pending.join(', ')}`);
      const differences = `${result.differences.length} difference${result.differences.length === 1 ? '' : 's'}`;
      io.out(result.drifted
        ? `\nDrift: ${differences} from what ${whatMigrationsBuild(result.replayed.length)}.\n${DRIFT_ADVICE}`
        : `\nNo drift: the schema is what ${whatMigrationsBuild(result.replayed.length)} (hash ${result.actualHash?.slice(0, 12)}).`);
    }
    return result.ok && !result.drifted ? EXIT.ok : EXIT.failed;
  },
});
