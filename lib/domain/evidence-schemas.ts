import { z } from 'zod';
import { AnalysisEvidenceSchema } from './analysis';
import { BackupEvidenceSchema, DrillEvidenceSchema } from './backups';
import { DataLossEvidenceSchema } from './data-loss';
import { DriftEvidenceSchema } from './drift';
import { LockImpactSchema } from './run-results';

/** What an evidence record proves (prisma enum EvidenceKind). */
export type EvidenceKindName =
  | 'analysis' | 'lock_impact' | 'backup' | 'drill' | 'data_loss' | 'drift'
  | 'rehearsal' | 'revision' | 'test_report' | 'app_schema' | 'deploy' | 'verification' | 'health_check';
export const EVIDENCE_KINDS: readonly EvidenceKindName[] = [
  'analysis', 'lock_impact', 'backup', 'drill', 'data_loss', 'drift',
  'rehearsal', 'revision', 'test_report', 'app_schema', 'deploy', 'verification', 'health_check',
];

/**
 * The `detail` of each kind of evidence record, parsed when written (recordEvidence) and when read
 * (latestEvidence, evidenceFor). Placeholders for now: each vertical replaces its own kind's schema
 * with the real shape (a loose object, so fields added later keep older records readable).
 */
export const EVIDENCE_DETAIL_SCHEMAS = {
  /** Impact analysis: risk, destructive operations, sizes, counts of locks, rewrites and squawk findings (lib/domain/analysis.ts). */
  analysis: AnalysisEvidenceSchema,
  /**
   * Lock impact measured in a rehearsal with a data sample and a probe workload, per statement
   * (without the probe samples: the rehearsal run's result keeps those); passed unless a
   * statement kept a probe waiting longer than the target's threshold.
   */
  lock_impact: LockImpactSchema.extend({ sampleRows: z.number().int() }),
  /** A backup: artifact, sizes, versions, per-table checksums (H6). */
  backup: BackupEvidenceSchema,
  /** A restore drill: parity per table against the backup's checksums (H6). */
  drill: DrillEvidenceSchema,
  /** No data loss: per-table counts and checksums before and after, declared vs undeclared changes (H4). */
  data_loss: DataLossEvidenceSchema,
  /** Drift: the live schema against the replayed applied migrations (H2). */
  drift: DriftEvidenceSchema,
  // Placeholders until their owners land them (issue 8): each is replaced by its domain module's schema.
  rehearsal: z.looseObject({}),
  revision: z.looseObject({}),
  test_report: z.looseObject({}),
  app_schema: z.looseObject({}),
  deploy: z.looseObject({}),
  verification: z.looseObject({}),
  health_check: z.looseObject({}),
} as const satisfies Record<EvidenceKindName, z.ZodType>;

export type EvidenceDetailOf<K extends EvidenceKindName> = z.infer<(typeof EVIDENCE_DETAIL_SCHEMAS)[K]>;

/** Hashes an evidence record rests on (dump sha256, snapshot hashes, checksums digest): names to hex strings. */
export const EvidenceHashesSchema = z.record(z.string().min(1).max(100), z.string().max(200));
