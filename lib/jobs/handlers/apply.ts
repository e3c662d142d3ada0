import { getDb } from '../../db/client';
import { FenceError, MigrationError, TargetBusyError, type PlannedStatement } from '../../engine';
import { fenceAllowancesFor } from '../../services/app-settings';
import { migrationFolderName, migrationSqlOf } from '../../services/migration-revisions';
import { completeEvidenceRun } from '../../services/runs';
import { markDeploymentRecovered } from '../../services/deploy';
import { defineHandler, withTargetSession } from '../handler';
import { QUEUES } from '../queue';

/**
 * Applies (or rolls back) the run's revision on its target: the target's migration lock taken
 * without waiting, its lock and statement timeouts set, the history row written as Prisma does.
 */
export const applyHandler = defineHandler({
  kinds: ['apply', 'down'],
  queue: QUEUES.apply,
  async run(ctx) {
    const { runId, signal, progress } = ctx;
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId }, include: { revision: true, target: true, request: true } });
    if (!run.revision || !run.request) throw new Error('The revision to apply no longer exists.');
    const target = run.target;
    const migration = {
      name: migrationFolderName(run.request.createdAt, run.revision.name),
      sql: migrationSqlOf(run.revision),
      checksum: run.revision.checksum,
      downSql: run.revision.downSql,
    };
    // The target's fence allowances plus the app-wide extension allow list; the runner checks before anything runs.
    const fence = await fenceAllowancesFor(target);
    await ctx.report(`connecting to ${target.name}`, 10);
    await withTargetSession(ctx, target, { readOnly: false, what: 'Migrations' }, async (session, driver) => {
      try {
        await driver.applyTimeouts(session, target);
        await ctx.report(run.kind === 'apply' ? `applying ${migration.name}` : `rolling back ${migration.name}`, 40);
        const onStatement = (name: string, st: PlannedStatement, total: number) =>
          progress.update(`${name}: statement ${st.index + 1} of ${total} (line ${st.line}): ${st.sql.slice(0, 120)}`, 40 + Math.round(((st.index + 1) / total) * 55), {});
        const evidence =
          run.kind === 'apply'
            ? (await driver.apply(session, [migration], { recordFailure: true, lock: driver.lockTarget, onStatement, signal, fence })).evidence[migration.name] ?? null
            : await driver.down(session, migration, { lock: driver.lockTarget, onStatement, signal, fence });
        await progress.flush();
        await completeEvidenceRun(runId, {
          ok: true, migration: migration.name, revision: run.revision!.revision, script: evidence,
          note: evidence ? undefined : 'already applied: nothing to do',
        }, async (tx, done) => {
          // The down path of a deploy (its recovery): the deployment is recorded recovered with it.
          if (run.kind === 'down' && run.deploymentId) await markDeploymentRecovered(tx, run.deploymentId, 'down', done.id);
        });
      } catch (err) {
        await progress.flush();
        if (!(err instanceof MigrationError) && !(err instanceof TargetBusyError) && !(err instanceof FenceError)) throw err;
        // A cancelled migration has rolled back before we get here (the runner waits for it).
        await completeEvidenceRun(runId, {
          ok: false, error: err.message, migration: migration.name, revision: run.revision!.revision,
          script: err instanceof MigrationError ? err.evidence : undefined, aborted: err instanceof MigrationError && err.aborted,
          ...(err instanceof FenceError ? { violations: err.violations } : {}),
        });
      }
    });
  },
});
