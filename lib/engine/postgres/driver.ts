import { checkPostgresConnection, connectWithTimeout, pgClientConfig, readOnlySession } from '../connection';
import type { EngineDriver } from '../driver';
import { applyMigrations, migrationStatus, rollbackMigration } from '../prisma-migrations';
import { backupDatabase } from './backup';
import { tableChecksums } from './checksum';
import { describeChange, diffSnapshots } from './diff';
import { checkDrift } from './drift';
import { analyzeMigration } from './impact';
import { dumpSchema, restoreArchive } from './pg-tools';
import { rehearseMigration } from './rehearsal';
import { drillRestore } from './restore-drill';
import { applyTimeouts } from './runner';
import { takeSnapshot } from './snapshot';
import { findFenceViolations } from './sql-guard';
import { planSql, summarizePlan } from './sql-plan';
import { lockTargetOrFail } from './target-lock';

/** PostgreSQL: the engine Cutover was built on. Built from the modules beside it. */
export const postgresDriver: EngineDriver = {
  engine: 'postgresql',
  label: 'PostgreSQL',

  async connect(settings, options) {
    const config = { ...pgClientConfig(settings), ...(options.applicationName ? { application_name: options.applicationName.slice(0, 63) } : {}) };
    return connectWithTimeout(options.readOnly ? readOnlySession(config) : config, settings.connectTimeoutMs, { queryTimeoutMs: options.queryTimeoutMs });
  },
  checkConnection: checkPostgresConnection,
  async close(session) {
    await session.end().catch(() => undefined);
  },

  snapshot: takeSnapshot,
  diff: diffSnapshots,
  describeChange,

  plan: planSql,
  summarizePlan,
  fenceViolations: findFenceViolations,

  status: migrationStatus,
  applyTimeouts,
  lockTarget: lockTargetOrFail,
  apply: applyMigrations,
  down: rollbackMigration,

  rehearse: rehearseMigration,
  dumpSchema,
  restore: restoreArchive,
  checksum: tableChecksums,
  backup: backupDatabase,
  drill: drillRestore,
  drift: checkDrift,
  analyze: (session, sql, options) => analyzeMigration(sql, { client: session, thresholds: options?.thresholds, squawk: { signal: options?.signal } }),
};
