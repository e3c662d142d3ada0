/**
 * The engine layer's one door. Services, actions, reads, the worker, the CLI, pages and scripts
 * import from here (`@/lib/engine` or '../engine'), never an engine's modules by path (eslint's
 * no-restricted-imports says so). `driverFor(target)` picks the engine's driver; the re-exports
 * below are the engine-neutral helpers and, for now, PostgreSQL's types and functions that callers
 * name directly. A new engine module adds its `export *` line here.
 */
import { DomainError } from '../domain/errors';
import type { EngineDriver, EngineName, EngineTarget } from './driver';
import { postgresDriver } from './postgres/driver';

export type { EngineDriver, EngineName, EngineTarget, TableChecksum } from './driver';
export { postgresDriver } from './postgres/driver';

const ENGINE_LABELS: Record<string, string> = { postgresql: 'PostgreSQL', mysql: 'MySQL', mariadb: 'MariaDB', sqlite: 'SQLite' };

/** Prisma's datasource provider for an engine (migration_lock.toml): MariaDB is Prisma's "mysql". */
export const prismaProvider = (engine: EngineName): string => (engine === 'mariadb' ? 'mysql' : engine);

/** A target whose engine Cutover cannot drive yet: a clear refusal, not a driver error later. */
export class EngineNotSupportedError extends DomainError {
  constructor(readonly engine: string, target?: string, what = 'Runs') {
    super('invalid', `${what} on ${ENGINE_LABELS[engine] ?? engine} targets${target ? ` (${target})` : ''} are not supported yet: only PostgreSQL is.`);
    this.name = 'EngineNotSupportedError';
  }
}

/** The driver for a target's engine; EngineNotSupportedError for engines not supported yet (SQLite, MySQL, ...). */
export function driverFor(target: Pick<EngineTarget, 'engine'> & { name?: string }, what?: string): EngineDriver {
  if (target.engine === 'postgresql') return postgresDriver;
  throw new EngineNotSupportedError(target.engine, target.name, what);
}

/** Whether Cutover can drive this engine (forms and pages, to say so before anything is queued). */
export const isEngineSupported = (engine: string) => engine === 'postgresql';

// Engine-neutral helpers.
export * from './connection';
export * from './secrets';
export * from './archive';
export * from './prisma-migrations';
export * from './demo-shop';

// PostgreSQL's modules (types and functions callers still name directly).
export * from './postgres/diff';
export * from './postgres/pg-tools';
export * from './postgres/rehearsal';
export * from './postgres/runner';
export * from './postgres/sandbox';
export * from './postgres/snapshot';
export * from './postgres/sql-guard';
export * from './postgres/side-effects';
export * from './postgres/sql-plan';
export * from './postgres/target-lock';
export * from './postgres/backup';
export * from './postgres/checksum';
export * from './postgres/data-loss';
export * from './postgres/restore-drill';
export * from './postgres/restore-script';
export * from './postgres/restore-target';
export * from './postgres/drift';
export * from './postgres/impact';
export * from './postgres/lock-levels';
export * from './squawk';
