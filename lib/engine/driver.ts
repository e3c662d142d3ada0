import type { Client } from 'pg';
import type { ConnectionCheck, PgTargetSettings } from './connection';
import type { ApplyOptions, ApplyResult, MigrationFile, MigrationStatusEntry } from './prisma-migrations';
import type { SchemaChange } from './postgres/diff';
import type { ArtifactStore } from '../artifacts/store';
import type { BackupProgress, BackupResult } from './postgres/backup';
import type { RehearsalOptions, RehearsalResult } from './postgres/rehearsal';
import type { BackupArtifact, DrillOptions, DrillResult, SandboxSource } from './postgres/restore-drill';
import type { ScriptResult } from './postgres/runner';
import type { SchemaShape, SchemaSnapshot } from './postgres/snapshot';
import type { DriftOptions, DriftResult } from './postgres/drift';
import type { MigrationAnalysis, RiskThresholds } from './postgres/impact';
import type { FenceAllowances, FenceViolation } from './postgres/sql-guard';
import type { PlanSummary, SqlPlan } from './postgres/sql-plan';

/** Engines the store can name (prisma enum DbEngine). */
export type EngineName = 'postgresql' | 'mysql' | 'mariadb' | 'sqlite';

/**
 * A target as the engine layer needs it: its engine, and either host/port (server engines) or a
 * file path (SQLite, later). Services turn a TargetDatabase row into this (targetSettings).
 */
export interface EngineTarget {
  engine: EngineName | string;
  name: string;
}

/** Per-table row count and content checksum, computed inside the database (never rows in Node). */
export interface TableChecksum {
  /** schema.table, quoted as needed. */
  table: string;
  rows: number;
  /** hex */
  checksum: string;
}

/**
 * What Cutover does with a database engine. One object per engine (lib/engine/<engine>/driver.ts),
 * chosen by `driverFor(target)` (lib/engine/index.ts). Services, the worker and the CLI call these,
 * never an engine's modules by path, so a second engine is a second folder and one line in driverFor.
 *
 * `Session` is the engine's connection (pg's Client for PostgreSQL); `Settings` how to reach a target.
 * Optional slots are capabilities an engine may not have yet; callers check for them and say so.
 */
export interface EngineDriver<Session = Client, Settings = PgTargetSettings> {
  readonly engine: EngineName;
  /** For messages: "PostgreSQL". */
  readonly label: string;

  // --- connecting -------------------------------------------------------------------------
  /**
   * Opens a session bounded by the target's connect timeout. `readOnly` sessions (snapshots,
   * status, analysis, drift, backups) cannot write whatever SQL they run; only apply/down write.
   */
  connect(settings: Settings, options: { readOnly: boolean; applicationName?: string; queryTimeoutMs?: number }): Promise<Session>;
  /** Connects for real and reports the server version or a readable error. */
  checkConnection(settings: Settings): Promise<ConnectionCheck>;
  /** Ends a session, ignoring errors (a session the server already ended). */
  close(session: Session): Promise<void>;

  // --- reading the schema -----------------------------------------------------------------
  snapshot(session: Session): Promise<SchemaSnapshot>;
  diff(before: SchemaShape, after: SchemaShape): SchemaChange[];
  describeChange(change: SchemaChange): string;

  // --- planning SQL -----------------------------------------------------------------------
  /** Statements of a file as they will run (transactional or not), from the parse tree. */
  plan(sql: string): Promise<SqlPlan>;
  summarizePlan(sql: string): Promise<PlanSummary | null>;
  /** The SQL fence: what a file may not do on this target. */
  fenceViolations(sql: string, allowances: FenceAllowances): Promise<FenceViolation[]>;

  // --- running migrations (Prisma's history table) ---------------------------------------
  status(session: Session, migrations: MigrationFile[]): Promise<MigrationStatusEntry[]>;
  /** Lock and statement timeouts for a session that changes the target. */
  applyTimeouts(session: Session, t: { lockTimeoutMs: number; statementTimeoutMs: number }): Promise<void>;
  /** The target's migration lock, taken without waiting (TargetBusyError when held). */
  lockTarget(session: Session): Promise<void>;
  apply(session: Session, migrations: MigrationFile[], options: ApplyOptions): Promise<ApplyResult>;
  down(session: Session, migration: MigrationFile, options: Pick<ApplyOptions, 'lock' | 'onStatement' | 'signal' | 'fence'>): Promise<ScriptResult>;

  // --- the sandbox ------------------------------------------------------------------------
  /** Up, verify, down, verify the rollback, redo on a scratch copy (never on the target's server). */
  rehearse(settings: Settings, migration: { name: string; upSql: string; downSql: string }, options: RehearsalOptions): Promise<RehearsalResult>;
  /** Schema-only dump of the target (read-only) into `file`, in the engine's archive format. */
  dumpSchema(settings: Settings, file: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Restores an archive written by the engine's dump into `to`. */
  restore(file: string, to: Settings, options?: { useList?: string; signal?: AbortSignal }): Promise<void>;

  // --- evidence (issue 7; filled in by the engine's modules as they land) ----------------
  /** Per-table row counts and content checksums inside the caller's transaction/snapshot (H4). */
  checksum?(session: Session, options?: { tables?: string[]; signal?: AbortSignal }): Promise<TableChecksum[]>;
  /** A full, consistent backup into an artifact store with its checksums in the dump's own snapshot (lib/engine/postgres/backup.ts). */
  backup?(settings: Settings, store: ArtifactStore, key: string, options?: { signal?: AbortSignal; onProgress?: (p: BackupProgress) => void }): Promise<BackupResult>;
  /** Checks a backup's file, restores it into the sandbox and proves parity per table (lib/engine/postgres/restore-drill.ts). */
  drill?(store: ArtifactStore, artifact: BackupArtifact, sandbox?: SandboxSource, options?: DrillOptions): Promise<DrillResult>;
  /** Per-statement lock impact measured with a probe workload in the sandbox (H5: lock-probe.ts). */
  observeLocks?: (...args: never[]) => Promise<unknown>;
  /** Impact analysis of a migration against the live catalog (read-only session), with squawk's findings beside it (impact.ts). */
  analyze?(session: Session, sql: string, options?: { thresholds?: Partial<RiskThresholds>; signal?: AbortSignal }): Promise<MigrationAnalysis>;
  /** Replays applied migrations in the sandbox and compares with the live schema (H2: drift.ts). */
  drift?(settings: Settings, migrations: MigrationFile[], options: DriftOptions): Promise<DriftResult>;
}
