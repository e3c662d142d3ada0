import { z } from 'zod';

/**
 * Drift (issue 7, section 5): the target's live schema against the schema its applied migrations
 * build when replayed in the sandbox. What a drift run stores (its fields in runs.result) and
 * what its evidence record keeps. Loose objects: a field added later keeps older rows readable.
 */
const history = z.looseObject({ missing: z.array(z.string()), modified: z.array(z.string()), failed: z.array(z.string()) });
const folder = z.looseObject({ id: z.string(), name: z.string() });

/** The drift run's own fields beside the common outcome (ok, error, log); optional while it runs. */
export const DriftRunFields = {
  step: z.string().optional(),
  drifted: z.boolean().optional(),
  differences: z.array(z.string()).optional(),
  expectedHash: z.string().optional(),
  actualHash: z.string().optional(),
  replayed: z.array(z.string()).optional(),
  history: history.optional(),
  pending: z.array(z.string()).optional(),
  folder: folder.nullable().optional(),
  server: z.string().optional(),
  note: z.string().optional(),
  durationMs: z.number().optional(),
};

/** A drift check's evidence: passed when the live schema is what the applied migrations build. */
export const DriftEvidenceSchema = z.looseObject({
  drifted: z.boolean(),
  differences: z.array(z.string()),
  expectedHash: z.string(),
  actualHash: z.string(),
  replayed: z.array(z.string()),
  history,
  pending: z.array(z.string()),
  folder: folder.nullable(),
  server: z.string().optional(),
  note: z.string().optional(),
});
export type DriftEvidence = z.infer<typeof DriftEvidenceSchema>;

/** "its 1 applied migration builds" / "its 3 applied migrations build": the grammar of every drift sentence. */
export function whatMigrationsBuild(count: number): string {
  return count === 1 ? `its 1 applied migration builds` : `its ${count.toLocaleString('en')} applied migrations build`;
}

/** What to do about drift, said wherever drift is reported (panel, CLI, risk reason). */
export const DRIFT_ADVICE =
  'Bring the target back in line with a migration that records the change (or recreate the object as the migrations define it), then check drift again.';

/** One line for lists and the gate: "no drift: the live schema is what its 3 applied migrations build", "drift: 2 differences from ...". */
export function driftSummary(r: { drifted: boolean; differences: string[]; replayed: string[] }): string {
  const build = whatMigrationsBuild(r.replayed.length);
  if (!r.drifted) return `no drift: the live schema is what ${build}`;
  return `drift: ${r.differences.length} difference${r.differences.length === 1 ? '' : 's'} from what ${build} (${r.differences[0]}${r.differences.length > 1 ? ', ...' : ''})`;
}

/**
 * Which imported folder a drift check of a request compares with, when nobody chose one: the
 * latest import that holds the migration the request was made from, else the latest import.
 */
export function defaultDriftFolder<F extends { id: string; migrationNames: string[] }>(foldersNewestFirst: F[], sourceMigration: string | null): F | null {
  if (sourceMigration) {
    const holding = foldersNewestFirst.find((f) => f.migrationNames.includes(sourceMigration));
    if (holding) return holding;
  }
  return foldersNewestFirst[0] ?? null;
}
