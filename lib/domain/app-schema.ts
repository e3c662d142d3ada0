import { z } from 'zod';

/**
 * Step 4's evidence (kind app_schema): the app branch's schema.prisma compared with the schema the
 * passing rehearsal of the current revision produced. It passes when nothing differs, or when every
 * difference was recorded as intended by a holder of the step (each such record is a new evidence row).
 */
export const AppSchemaDifferenceSchema = z.object({
  /** Stable across comparisons ("column:public.orders.total:default"). */
  key: z.string().min(1).max(500),
  description: z.string().max(2000),
  /**
   * The deployed app (schema.prisma on the deploy branch) and the database before the migration differ
   * the same way: not this change's doing, listed but not blocking the step.
   */
  preExisting: z.boolean().optional(),
});
export type AppSchemaDifference = z.infer<typeof AppSchemaDifferenceSchema>;

export const IntendedDifferenceSchema = z.object({
  key: z.string().min(1).max(500),
  note: z.string().max(5000),
  /** Who said so (name) and when (ISO time); byId for the audit trail. */
  by: z.string().max(200),
  byId: z.string().max(100).optional(),
  at: z.string().max(40),
});
export type IntendedDifference = z.infer<typeof IntendedDifferenceSchema>;

export const AppSchemaEvidenceSchema = z.looseObject({
  /** The repository as the project names it (no credentials: they never enter the URL). */
  repository: z.string().max(2000),
  /** The request's project when compared (absent on records made before it was kept). */
  projectId: z.string().max(100).optional(),
  branch: z.string().max(200),
  commit: z.string().regex(/^[0-9a-f]{40,64}$/),
  schemaPath: z.string().max(500),
  /** The rehearsal evidence whose afterUpShape was compared. */
  rehearsalEvidenceId: z.string().max(100).nullable().optional(),
  differences: z.array(AppSchemaDifferenceSchema),
  intended: z.array(IntendedDifferenceSchema),
  /**
   * What "before" was compared with to find pre-existing differences: schema.prisma on the deploy branch
   * against the target's snapshot the rehearsal started from. null (or absent): no such snapshot or file,
   * so every difference counts as this migration's.
   */
  baseline: z.object({
    branch: z.string().max(200),
    commit: z.string().regex(/^[0-9a-f]{40,64}$/),
    snapshotHash: z.string().max(200),
  }).nullable().optional(),
});
export type AppSchemaEvidence = z.infer<typeof AppSchemaEvidenceSchema>;

/**
 * Why a comparison no longer speaks for the request: it read another project's repository or another
 * branch than the request names now. null while both still match.
 */
export function appSourceChange(
  compared: Pick<AppSchemaEvidence, 'repository' | 'projectId' | 'branch'>,
  now: { projectId: string | null; projectName: string | null; appBranch: string | null },
): string | null {
  if (compared.projectId !== undefined && compared.projectId !== now.projectId) {
    return `The comparison was of ${compared.repository}; the request now names ${now.projectName ? `project ${now.projectName}` : 'no project'}: compare again.`;
  }
  if (compared.branch !== now.appBranch) {
    return `The comparison was of branch ${compared.branch}; the request now names ${now.appBranch ? `branch ${now.appBranch}` : 'no app branch'}: compare again.`;
  }
  return null;
}

/** Differences this migration brings that nobody has recorded as intended (pre-existing ones never block). */
export function openDifferences(detail: Pick<AppSchemaEvidence, 'differences' | 'intended'>): AppSchemaDifference[] {
  const intended = new Set(detail.intended.map((i) => i.key));
  return detail.differences.filter((d) => !d.preExisting && !intended.has(d.key));
}

/**
 * Marks the differences that were already there before the migration: the same difference (key and words)
 * between the deployed schema.prisma and the database before. A field the branch adds but the migration
 * forgot is not among them: before, the deployed schema.prisma did not declare it either.
 */
export function markPreExisting<D extends AppSchemaDifference>(after: readonly D[], before: readonly AppSchemaDifference[]): D[] {
  const earlier = new Map(before.map((d) => [d.key, d.description]));
  return after.map((d) => (earlier.get(d.key) === d.description ? { ...d, preExisting: true } : d));
}

/** The comparison agrees: no differences, or every one recorded as intended. */
export const appSchemaAgrees = (detail: Pick<AppSchemaEvidence, 'differences' | 'intended'>) => openDifferences(detail).length === 0;

/** One line for lists. */
export function appSchemaSummary(detail: Pick<AppSchemaEvidence, 'differences' | 'intended' | 'branch' | 'commit'>): string {
  const at = `${detail.branch} @ ${detail.commit.slice(0, 12)}`;
  if (detail.differences.length === 0) return `schema.prisma on ${at} agrees with the rehearsed schema`;
  const open = openDifferences(detail).length;
  const pre = detail.differences.filter((d) => d.preExisting).length;
  const n = detail.differences.length - pre;
  const already = pre ? `; ${pre} already different before this migration (not blocking)` : '';
  if (n === 0) return `schema.prisma on ${at} agrees with what this migration changes${already}`;
  return open === 0
    ? `schema.prisma on ${at}: ${n} difference${n === 1 ? '' : 's'}, all recorded as intended${already}`
    : `schema.prisma on ${at}: ${open} of ${n} difference${n === 1 ? '' : 's'} not explained${already}`;
}

/**
 * Intended notes of an earlier comparison that still apply: the same difference (key and words) on
 * the same branch. A changed difference needs a new note.
 */
export function carriedOverIntended(
  previous: Pick<AppSchemaEvidence, 'differences' | 'intended' | 'branch'> | null,
  now: { branch: string; differences: readonly AppSchemaDifference[] },
): IntendedDifference[] {
  if (!previous || previous.branch !== now.branch) return [];
  const before = new Map(previous.differences.map((d) => [d.key, d.description]));
  const current = new Map(now.differences.map((d) => [d.key, d.description]));
  return previous.intended.filter((i) => current.has(i.key) && before.get(i.key) === current.get(i.key));
}
