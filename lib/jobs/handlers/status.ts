import { getDb } from '../../db/client';
import type { MigrationFile } from '../../engine';
import { completeEvidenceRun } from '../../services/runs';
import { defineHandler, withTargetSession } from '../handler';
import { QUEUES } from '../queue';

/** Reads the target's migration history and compares it with the imported folder (read-only). */
export const statusHandler = defineHandler({
  kinds: ['status'],
  queue: QUEUES.status,
  async run(ctx) {
    const run = await getDb().run.findUniqueOrThrow({ where: { id: ctx.runId }, include: { folder: true, target: true } });
    if (!run.folder) throw new Error('The imported folder no longer exists.');
    const migrations = run.folder.migrations as unknown as MigrationFile[];
    await withTargetSession(ctx, run.target, { readOnly: true, what: 'Status checks' }, async (session, driver) => {
      const entries = await driver.status(session, migrations);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await completeEvidenceRun(ctx.runId, {
        ok: true, entries: entries.map(({ name, state, fileChecksum, appliedChecksum }) => ({ name, state, fileChecksum, appliedChecksum })),
      });
    });
  },
});
