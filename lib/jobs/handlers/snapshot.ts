import { getDb } from '../../db/client';
import { completeSnapshotRun } from '../../services/runs';
import { defineHandler, withTargetSession } from '../handler';
import { QUEUES } from '../queue';

/** Takes a schema snapshot of the run's target (a read-only session) and records it. */
export const snapshotHandler = defineHandler({
  kinds: ['snapshot'],
  queue: QUEUES.snapshot,
  async run(ctx) {
    await ctx.report('connecting to the target', 20);
    const target = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: ctx.targetId } });
    await withTargetSession(ctx, target, { readOnly: true, what: 'Snapshots' }, async (session, driver) => {
      await ctx.report('reading the catalog', 50);
      const snapshot = await driver.snapshot(session);
      await ctx.report('storing the snapshot', 90);
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await completeSnapshotRun(ctx.runId, snapshot);
    });
  },
});
