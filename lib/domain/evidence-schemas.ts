import { z } from 'zod';
import { AnalysisEvidenceSchema } from './analysis';
import { AppSchemaEvidenceSchema } from './app-schema';
import { BackupEvidenceSchema, DrillEvidenceSchema } from './backups';
import { DataLossEvidenceSchema } from './data-loss';
import { DeployEvidenceSchema } from './deploy';
import { DriftEvidenceSchema } from './drift';
import { LockImpactSchema } from './run-results';
import { HealthCheckEvidenceSchema, VerificationEvidenceSchema } from './verification';
import { TestReportEvidenceSchema } from './test-report';
import { RehearsalEvidenceSchema, RevisionEvidenceSchema } from './step-evidence';

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
  /** A rehearsal: per-phase status, hashes, the sample, the data-loss verdict and the schema after up (lib/domain/step-evidence.ts). */
  rehearsal: RehearsalEvidenceSchema,
  /** A saved revision that parsed and passed the fence: its statements and whether it has a way back. */
  revision: RevisionEvidenceSchema,
  /** A test report (step 5): counts, failures with names and messages, the revision it is for (lib/domain/test-report.ts). */
  test_report: TestReportEvidenceSchema,
  /** Update app code: the app branch's schema.prisma against the rehearsed schema, differences and the ones recorded as intended (lib/domain/app-schema.ts). */
  app_schema: AppSchemaEvidenceSchema,
  /** A deploy to one environment: commit, version, pre-deploy backup, applied, no data loss, health (lib/domain/deploy.ts). */
  deploy: DeployEvidenceSchema,
  /** Post-deployment verification queries run against a deployment's target, each with expected and actual (lib/domain/verification.ts). */
  verification: VerificationEvidenceSchema,
  /** One poll of an environment's health-check URL after a deploy (lib/domain/verification.ts). */
  health_check: HealthCheckEvidenceSchema,
} as const satisfies Record<EvidenceKindName, z.ZodType>;

export type EvidenceDetailOf<K extends EvidenceKindName> = z.infer<(typeof EVIDENCE_DETAIL_SCHEMAS)[K]>;

/** Hashes an evidence record rests on (dump sha256, snapshot hashes, checksums digest): names to hex strings. */
export const EvidenceHashesSchema = z.record(z.string().min(1).max(100), z.string().max(200));
