import { randomUUID } from 'node:crypto';
import { defaultArtifactStore } from '../../artifacts/store';
import { getDb } from '../../db/client';
import { BackupArtifactMetadataSchema, backupSummary, type BackupArtifactMetadata } from '../../domain/backups';
import { endPhase, readDeployPhases, startPhase, type DeployEvidence, type DeployPhase, type DeployPhaseRecord } from '../../domain/deploy';
import { dataLossCheck, driverFor, prismaProvider, scratchDatabaseName, type DataLossReport, type PlannedStatement } from '../../engine';
import type { InputJsonValue } from '../../generated/prisma/internal/prismaNamespace';
import { branchCarries, commitMigration } from '../../git/deploy-commit';
import { checkHealth, publicHealthError } from '../../health/check';
import { fenceAllowancesFor } from '../../services/app-settings';
import { deployPreflight, finishDeploy, loadDeployRun, recordInterruptedDeployment, updateDeployment } from '../../services/deploy';
import { recordEvidence } from '../../services/evidence';
import { targetSettings } from '../../services/manage-targets';
import { declaredChangesOf, migrationFolderName, migrationSqlOf } from '../../services/migration-revisions';
import { checksumsDigest, backupKey } from './backup';
import { defineHandler, sandboxFor, withTargetSession, type RunContext } from '../handler';
import { QUEUES } from '../queue';

/** How many times, how far apart, the health-check URL is polled before the deploy is called unhealthy (read per deploy). */
const healthPolling = () => ({
  attempts: Math.max(1, Number(process.env.CUTOVER_DEPLOY_HEALTH_ATTEMPTS ?? 5) || 5),
  intervalMs: Math.max(0, Number(process.env.CUTOVER_DEPLOY_HEALTH_INTERVAL_MS ?? 2000) || 0),
});

/** A phase that failed: the deploy stops there. */
class PhaseFailed extends Error {
  constructor(readonly phase: DeployPhase, message: string) {
    super(message);
  }
}

/**
 * The Deploy step's run: commit + version bump + push (once per revision), a fresh backup of the
 * environment's target verified by a restore drill in the sandbox, the migration applied through
 * the runner with each statement in the live log, its history row checked, the no-data-loss check
 * of the live data, and the health-check URL polled. Each phase is written to the Deployment as it
 * starts and ends; the first failure stops the deploy and is recorded with its phase, and the page
 * offers the down path or a restore of the backup. Nothing is retried silently.
 */
export const deployHandler = defineHandler({
  kinds: ['deploy'],
  queue: QUEUES.deploy,
  async run(ctx) {
    const run = await loadDeployRun(ctx.runId);
    const d = run.deployment;
    const env = d.environment;
    const project = env.project;
    const revision = d.revision;
    const target = run.target;
    const production = Math.max(...project.environments.map((e) => e.position)) === env.position;
    const folder = migrationFolderName(d.request.createdAt, revision.name);
    const migration = { name: folder, sql: migrationSqlOf(revision), checksum: revision.checksum, downSql: revision.downSql };
    const { progress, signal } = ctx;

    let phases: DeployPhaseRecord[] = readDeployPhases(d.phases);
    let current: DeployPhase = 'commit';
    const evidence: DeployEvidence = {
      deploymentId: d.id, environment: { id: env.id, name: env.name, position: env.position, production },
      commit: null, version: null, backupArtifactId: null, applied: null, dataLoss: null, health: null, failedPhase: null, error: null,
    };
    const log = (line: string) => progress.log(line);
    const begin = async (phase: DeployPhase, words: string, percent: number) => {
      current = phase;
      phases = startPhase(phases, phase, new Date());
      log(`== ${words}`);
      await updateDeployment(d.id, { status: 'running', phase, phases });
      progress.update(words, percent, { deploymentId: d.id, phases }, true);
    };
    const end = async (phase: DeployPhase, detail: string, status: 'ok' | 'skipped' = 'ok') => {
      phases = endPhase(phases, phase, status, new Date(), detail);
      log(`ok: ${detail}`);
      await updateDeployment(d.id, { phases });
    };

    try {
      // The gate and the approval again: they may have been voided since the deploy was queued.
      const refusal = await deployPreflight(d.id);
      if (refusal) throw new PhaseFailed('commit', `${refusal} Nothing was done.`);
      // 1-2. Commit + bump, push (or find the commit an earlier deploy of this revision pushed).
      await begin('commit', `committing ${folder} to ${project.deployBranch}`, 5);
      let pushing = false;
      const committed = await commitMigration(
        {
          project, folder, migrationSql: migration.sql, downSql: revision.downSql,
          message: `Deploy migration ${folder} (request #${d.request.number}, revision ${revision.revision})\n\n${d.request.title}\n\nDeployed-by: Cutover (deployment ${d.id}, requested by ${run.requestedBy.name})\n`,
          author: { name: run.requestedBy.name, email: run.requestedBy.email }, provider: prismaProvider(target.engine),
        },
        {
          signal, log,
          beforePush: async (commit, version) => {
            await end('commit', `commit ${commit.slice(0, 12)}, version ${version}`);
            await begin('push', `pushing ${commit.slice(0, 12)} to ${project.deployBranch}`, 12);
            pushing = true;
          },
        },
      ).catch((err) => {
        throw new PhaseFailed(pushing ? 'push' : 'commit', (err as Error).message);
      });
      evidence.commit = committed.commit;
      evidence.version = committed.version || null;
      evidence.commitReused = committed.reused;
      await updateDeployment(d.id, { commitSha: committed.commit, ...(committed.version ? { appVersion: committed.version } : {}) });
      if (committed.reused) {
        await end('commit', `${project.deployBranch} already carries this revision (commit ${committed.commit.slice(0, 12)}${committed.version ? `, version ${committed.version}` : ''})`);
        phases = endPhase(phases, 'push', 'skipped', new Date(), 'nothing to push: the commit is already on the branch');
      } else {
        await end('push', `pushed ${committed.commit.slice(0, 12)} to ${project.deployBranch} (version ${committed.version})`);
      }

      // 3. A fresh backup of the target, verified: its file re-read against its sha256 and restored in the sandbox, table by table.
      await begin('backup', `backing up ${target.name}`, 20);
      evidence.backupArtifactId = await backupAndVerify(ctx, run.id, target, log);
      await updateDeployment(d.id, { backupArtifactId: evidence.backupArtifactId });
      await end('backup', `backup ${evidence.backupArtifactId} verified`);

      // 4-6. Apply with live statements, check the history row, compare the data.
      const fence = await fenceAllowancesFor(target);
      // Only the tables the migration can change are compared (tablesTouchedBy: named, declared, or
      // referencing those by foreign key): the application keeps writing to the others meanwhile,
      // and those writes are not the migration's. A rehearsal, alone on its copy, compares them all.
      const check = dataLossCheck(declaredChangesOf(revision) ?? { tables: [] }, { scopeToSql: migration.sql, serial: true });
      await withTargetSession(ctx, target, { readOnly: false, what: 'Deploys' }, async (session, driver) => {
        await driver.applyTimeouts(session, target);
        await begin('apply', `applying ${folder} to ${target.name}`, 50);
        log('capturing the data before the migration (no-data-loss check)');
        const before = await check.before(session).catch((err) => {
          throw new PhaseFailed('apply', `The no-data-loss check could not capture the data before the migration, so nothing was applied: ${(err as Error).message}`);
        });
        try {
          const onStatement = (name: string, st: PlannedStatement, total: number) => {
            log(`${name}: statement ${st.index + 1} of ${total} (line ${st.line}): ${st.sql.slice(0, 200)}`);
            progress.update(`${name}: statement ${st.index + 1} of ${total} (line ${st.line}): ${st.sql.slice(0, 120)}`, 50 + Math.round(((st.index + 1) / total) * 20), { deploymentId: d.id, phases });
          };
          const applied = await driver.apply(session, [migration], { recordFailure: false, lock: driver.lockTarget, onStatement, signal, fence }).catch((err) => {
            throw new PhaseFailed('apply', (err as Error).message);
          });
          const already = applied.alreadyApplied.includes(folder);
          await end('apply', already ? `${folder} was already applied on ${target.name}: nothing ran` : `${folder} applied (${applied.evidence[folder]?.statements.length ?? 0} statements)`);

          await begin('verify', `checking _prisma_migrations on ${target.name}`, 75);
          const [status] = await driver.status(session, [migration]);
          evidence.applied = { migration: folder, recorded: status?.state === 'applied', alreadyApplied: already };
          if (status?.state !== 'applied') throw new PhaseFailed('verify', `${folder} is not recorded as applied on ${target.name} (its state is ${status?.state ?? 'unknown'}).`);
          await end('verify', `${folder} is recorded as applied in _prisma_migrations`);

          await begin('data_loss', 'comparing the data with what it was before the migration', 82);
          const verdict = await check.after(session, before, migration.sql);
          const compared = comparedTables(verdict.result);
          const scope = compared.length
            ? `Compared ${compared.length} table(s) the migration can change (named or declared by it, or referencing those by foreign key): ${compared.join(', ')}; the other tables were not compared, since the application writes to them meanwhile.`
            : 'The migration names no existing table, so no table was compared.';
          evidence.dataLoss = { ok: verdict.ok, summary: verdict.detail, tables: compared };
          if (!verdict.ok) throw new PhaseFailed('data_loss', `Undeclared data changes: ${verdict.detail} ${scope}`);
          await end('data_loss', `${verdict.detail} ${scope}`);
        } finally {
          await check.dispose?.(before);
        }
      });

      // 7. The application's health check, polled until it answers 2xx (or the attempts run out).
      await begin('health', env.healthCheckUrl ? `polling ${env.healthCheckUrl}` : 'no health-check URL', 90);
      if (!env.healthCheckUrl) {
        phases = endPhase(phases, 'health', 'skipped', new Date(), `${env.name} has no health-check URL`);
      } else {
        const polling = healthPolling();
        let attempts = 0;
        let last = await pollOnce(env.healthCheckUrl, signal);
        // The deploy's log, phases, error and evidence are read by everyone on the request: a failed
        // check is recorded by its status only (publicHealthError), never the socket error or a
        // redirect's Location; the full error is kept only by the post-deployment checks, whose
        // reader (lib/data/post-deploy.ts) shows it to admins and the step's holders.
        for (attempts = 1; !last.ok && attempts < polling.attempts && !signal.aborted; attempts++) {
          log(`health check ${attempts}: ${publicHealthError(last)}`);
          await new Promise((r) => setTimeout(r, polling.intervalMs));
          last = await pollOnce(env.healthCheckUrl, signal);
        }
        const error = last.ok ? null : publicHealthError(last);
        evidence.health = { url: env.healthCheckUrl, ok: last.ok, status: last.status, latencyMs: last.latencyMs, error, attempts };
        if (!last.ok) throw new PhaseFailed('health', `The health check failed after ${attempts} attempt(s): ${error}.`);
        await end('health', `HTTP ${last.status} in ${last.latencyMs} ms`);
      }

      await progress.flush();
      await finishDeploy(run.id, d.id, {
        ok: true, status: 'succeeded', phase: 'health', phases, evidence, log: progress.lines,
        summary: `Deployed to ${env.name}: commit ${evidence.commit?.slice(0, 12)}, version ${evidence.version ?? '?'}, applied, no data lost${evidence.health ? ', healthy' : ''}.`,
      });
    } catch (err) {
      const phase = err instanceof PhaseFailed ? err.phase : current;
      const message = (err as Error).message;
      phases = endPhase(phases, phase, 'failed', new Date(), message);
      log(`FAILED (${phase}): ${message}`);
      await progress.flush();
      evidence.failedPhase = phase;
      evidence.error = message;
      const changed = ['apply', 'verify', 'data_loss', 'health'].includes(phase);
      await finishDeploy(run.id, d.id, {
        ok: false, status: signal.aborted && !changed ? 'cancelled' : 'failed', phase, phases, evidence, log: progress.lines, error: message,
        summary: `Deploy to ${env.name} failed in ${phase}: ${message.slice(0, 200)}`,
      });
    }
  },
  async afterInterrupted(run) {
    // The worker died: say what it left (pushed or not, applied or not) so the page offers the right recovery.
    const full = await getDb().run.findUnique({ where: { id: run.id }, include: { deployment: { include: { environment: { include: { project: true } }, revision: true, request: true } } } });
    const d = full?.deployment;
    if (!d) return;
    const phases = readDeployPhases(d.phases);
    const folder = migrationFolderName(d.request.createdAt, d.revision.name);
    const words: string[] = [];
    if (d.phase === 'commit' || d.phase === 'push' || !d.commitSha) {
      const carrier = await branchCarries({ project: d.environment.project, folder, migrationSql: migrationSqlOf(d.revision) }).catch(() => undefined);
      words.push(carrier === undefined ? 'Whether the commit reached the branch could not be checked.' : carrier ? `The commit ${carrier.slice(0, 12)} is on ${d.environment.project.deployBranch}: deploying again reuses it.` : `Nothing was pushed to ${d.environment.project.deployBranch}.`);
    }
    if (['apply', 'verify', 'data_loss', 'health'].includes(d.phase ?? '')) {
      const state = await withTargetSession({ runId: run.id, signal: new AbortController().signal }, run.target, { readOnly: true, what: 'Deploys' }, async (session, driver) =>
        (await driver.status(session, [{ name: folder, sql: migrationSqlOf(d.revision), checksum: d.revision.checksum }]))[0]?.state ?? 'unknown',
      ).catch(() => 'unknown');
      words.push(state === 'applied'
        ? `${folder} is applied on ${run.target.name}: roll it back (down) or restore the backup, or deploy again to finish the checks.`
        : state === 'pending' ? `${folder} is not applied on ${run.target.name} (its transaction rolled back): the target is as it was.` : `The state of ${folder} on ${run.target.name} is ${state}.`);
      if (state === 'pending') {
        const at = phases.find((p) => p.phase === 'apply');
        if (at) phases.splice(phases.indexOf(at), 1, { ...at, status: 'failed', finishedAt: at.finishedAt ?? new Date().toISOString(), detail: 'the worker stopped; the migration was rolled back' });
      }
    } else {
      words.push(`The target ${run.target.name} was not changed.`);
    }
    await recordInterruptedDeployment(d.id, phases, words.join(' '));
  },
});

/** The tables a data-loss report compared (those the migration created aside), by name. */
function comparedTables(report: unknown): string[] {
  const tables = (report as Partial<DataLossReport> | null)?.tables ?? [];
  return tables.filter((t) => t.status !== 'added').map((t) => t.table);
}

async function pollOnce(url: string, signal: AbortSignal) {
  return checkHealth(url, { timeoutMs: 5000, signal });
}

/**
 * Backs up the target into the artifact store (the backup engine: pg_dump of an exported snapshot
 * with per-table checksums in it), records the artifact and its `backup` evidence, then verifies
 * it: the file against its sha256 and size, restored into the sandbox, every table's checksum
 * against the backup's. Returns the artifact's id; a backup that fails either is a failed phase.
 */
async function backupAndVerify(ctx: RunContext, runId: string, target: Awaited<ReturnType<typeof loadDeployRun>>['target'], log: (l: string) => void): Promise<string> {
  const driver = driverFor(target, 'Deploys');
  if (!driver.backup || !driver.drill) throw new PhaseFailed('backup', `Backups of ${target.name} are not supported.`);
  const store = defaultArtifactStore();
  const key = backupKey(target.id, runId);
  const result = await driver.backup(targetSettings(target), store, key, { signal: ctx.signal }).catch((err) => {
    throw new PhaseFailed('backup', `The backup of ${target.name} failed, so nothing was applied: ${(err as Error).message}`);
  });
  log(`backup stored: sha256 ${result.sha256}, ${result.checksums.length} tables`);
  const artifactId = randomUUID();
  const metadata: BackupArtifactMetadata = {
    format: 'pg_dump custom', database: result.database, serverVersion: result.serverVersion, pgDumpVersion: result.pgDumpVersion,
    startedAt: result.startedAt, durationMs: result.durationMs, dumpMs: result.dumpMs, checksumMs: result.checksumMs,
    checksums: result.checksums, layouts: result.layouts.map((l) => ({ ...l, columns: l.columns.map((c) => ({ ...c })) })),
  };
  const rows = result.checksums.reduce((n, c) => n + c.rows, 0);
  await getDb().$transaction(async (tx) => {
    const run = await tx.run.findUniqueOrThrow({ where: { id: runId }, select: { requestId: true } });
    await tx.artifact.create({
      data: {
        id: artifactId, kind: 'backup', storeKey: key, sha256: result.sha256, sizeBytes: BigInt(result.sizeBytes),
        mediaType: 'application/octet-stream', targetId: target.id, runId, metadata: metadata as unknown as InputJsonValue,
      },
    });
    await recordEvidence(tx, {
      kind: 'backup', targetId: target.id, requestId: run.requestId, runId, passed: true,
      summary: `pre-deploy ${backupSummary({ sizeBytes: result.sizeBytes, tables: result.checksums.length, rows, durationMs: result.durationMs })}`,
      detail: {
        artifactId, sha256: result.sha256, sizeBytes: result.sizeBytes, database: result.database, serverVersion: result.serverVersion,
        pgDumpVersion: result.pgDumpVersion, durationMs: result.durationMs, checksumMs: result.checksumMs, tables: result.checksums,
      },
      hashes: { dumpSha256: result.sha256, checksumsSha256: checksumsDigest(result.checksums) },
    });
  });
  log('verifying the backup: sha256, then a restore in the sandbox compared table by table');
  const parsed = BackupArtifactMetadataSchema.parse(metadata);
  const drill = await driver.drill(
    store,
    { key, sha256: result.sha256, sizeBytes: result.sizeBytes, checksums: parsed.checksums },
    sandboxFor(target),
    { signal: ctx.signal, scratch: scratchDatabaseName(`${runId}`), fence: await fenceAllowancesFor(target), onProgress: (p) => log(p.message) },
  );
  if (!drill.ok) throw new PhaseFailed('backup', `The pre-deploy backup did not verify (${drill.failedStep}): ${drill.error}. Nothing was applied.`);
  log(`backup verified: ${drill.tables.length} tables equal to the backup's checksums`);
  return artifactId;
}


