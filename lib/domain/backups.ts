import { z } from 'zod';
import { formatBytes } from './format-bytes';

/**
 * What Cutover keeps about a backup and a restore drill, as zod schemas: the backup artifact's
 * metadata (Artifact.metadata of kind 'backup'), and the evidence records' details. The records
 * are loose objects (a field added later keeps older rows readable); their per-table items are
 * plain ones, so the engine's own types fit them. Pure: no I/O.
 */

export const TableChecksumSchema = z.object({ table: z.string(), rows: z.number().int().min(0), checksum: z.string() });

/** The columns a table's checksum hashed (what a restore script needs to compute it again in SQL). */
export const TableLayoutSchema = z.object({
  table: z.string(),
  sqlName: z.string(),
  // Loose: whatever else the row hash depends on (lib/engine/postgres/checksum.ts ColumnInfo) is kept.
  columns: z.array(z.looseObject({ name: z.string(), baseTypeOid: z.number().int(), type: z.string().optional(), scaleFixed: z.boolean().optional() })),
});

/** Artifact.metadata of a backup: versions, timings, and the checksums taken in the dump's own snapshot. */
export const BackupArtifactMetadataSchema = z.looseObject({
  format: z.literal('pg_dump custom'),
  database: z.string(),
  serverVersion: z.string(),
  pgDumpVersion: z.string(),
  startedAt: z.string(),
  durationMs: z.number(),
  dumpMs: z.number(),
  checksumMs: z.number(),
  checksums: z.array(TableChecksumSchema),
  layouts: z.array(TableLayoutSchema),
});
export type BackupArtifactMetadata = z.infer<typeof BackupArtifactMetadataSchema>;

/** What a backup stored and what its tables held: its evidence's detail, and its run's result at the end. */
const backupStored = {
  artifactId: z.string().optional(),
  sha256: z.string().optional(),
  sizeBytes: z.number().optional(),
  database: z.string().optional(),
  serverVersion: z.string().optional(),
  pgDumpVersion: z.string().optional(),
  durationMs: z.number().optional(),
  checksumMs: z.number().optional(),
  tables: z.array(TableChecksumSchema).optional(),
};

/** Evidence detail of a backup: what was stored and what its tables held (or why it failed). */
export const BackupEvidenceSchema = z.looseObject({ ...backupStored, error: z.string().optional() });

/** The backup run's own fields beside the common outcome: while it runs, the stage and table; at the end, what was stored. */
export const BackupRunFields = {
  stage: z.string().optional(),
  table: z.string().optional(),
  tablesDumped: z.number().int().optional(),
  tablesTotal: z.number().int().optional(),
  bytesWritten: z.number().optional(),
  ...backupStored,
  dumpMs: z.number().optional(),
};

export const DrillTableSchema = z.object({
  table: z.string(),
  rows: z.number().int(),
  actualRows: z.number().int().nullable(),
  expected: z.string(),
  actual: z.string().nullable(),
  equal: z.boolean(),
});

/** Evidence detail of a restore drill: parity per table against the backup-time checksums, or the step that failed. */
export const DrillEvidenceSchema = z.looseObject({
  artifactId: z.string(),
  backupSha256: z.string(),
  ok: z.boolean(),
  failedStep: z.string().optional(),
  error: z.string().optional(),
  server: z.string().optional(),
  pgRestoreVersion: z.string().optional(),
  integrityMs: z.number(),
  restoreMs: z.number(),
  verifyMs: z.number(),
  tables: z.array(DrillTableSchema),
  differing: z.array(z.string()),
});

/** One line for a backup's evidence. */
export function backupSummary(b: { sizeBytes: number; tables: number; rows: number; durationMs: number }): string {
  return `backup of ${b.tables} table${b.tables === 1 ? '' : 's'} (${b.rows.toLocaleString('en')} rows), ${formatBytes(b.sizeBytes)} in ${(b.durationMs / 1000).toFixed(1)} s`;
}

/** One line for a drill's evidence. */
export function drillSummary(d: { ok: boolean; failedStep?: string; error?: string; tables: { equal: boolean }[]; differing: string[]; restoreMs: number }): string {
  if (d.ok) return `restore drill passed: ${d.tables.length} table${d.tables.length === 1 ? '' : 's'} equal to the backup's checksums, restored in ${(d.restoreMs / 1000).toFixed(1)} s`;
  if (d.failedStep === 'verify' && d.differing.length) return `restore drill failed: ${d.differing.length} table(s) differ (${d.differing.slice(0, 3).join(', ')})`;
  return `restore drill failed at ${d.failedStep ?? 'an unknown step'}: ${(d.error ?? '').slice(0, 200)}`;
}
