import { z } from 'zod';

/**
 * No data loss (issue 7, section 4): what the data-loss check of a rehearsal with a data sample
 * found (lib/engine/postgres/data-loss.ts DataLossReport), as the rehearsal's 'data-loss' phase
 * stores it and as its evidence record keeps it. Loose objects: a field added later keeps older
 * rows readable.
 */
export const DataLossTableSchema = z.looseObject({
  table: z.string(),
  status: z.enum(['unchanged', 'changed as declared', 'undeclared changes', 'dropped as declared', 'added']),
  rowsBefore: z.number().nullable(),
  rowsAfter: z.number().nullable(),
  compared: z.array(z.string()),
  method: z.enum(['incremental', 'full', 'none']),
  checksumBefore: z.string().optional(),
  checksumAfter: z.string().optional(),
  problems: z.array(z.string()),
  suggestedDeclaration: z.string().optional(),
  declared: z.array(z.string()),
  notes: z.array(z.string()),
  keys: z.array(z.looseObject({ key: z.record(z.string(), z.string()), change: z.enum(['deleted', 'inserted', 'updated']) })),
  moreKeys: z.boolean().optional(),
  differingRows: z.number().optional(),
  keysUnavailable: z.string().optional(),
  bisection: z.looseObject({ queries: z.number(), depth: z.number(), ms: z.number() }).optional(),
  ms: z.number(),
});
export type DataLossTable = z.infer<typeof DataLossTableSchema>;

export const DataLossReportSchema = z.looseObject({
  ok: z.boolean(),
  tables: z.array(DataLossTableSchema),
  unknownDeclarations: z.array(z.string()),
  captureMs: z.number(),
  checkMs: z.number(),
});
export type DataLossReportView = z.infer<typeof DataLossReportSchema>;

/**
 * The evidence record: the report (absent when the check could not run: `error` says why), the
 * sample it ran on, and the declarations it held the migration to.
 */
export const DataLossEvidenceSchema = z.looseObject({
  report: DataLossReportSchema.nullable(),
  error: z.string().optional(),
  sampleRows: z.number().int(),
  declaredChanges: z.unknown(),
});
export type DataLossEvidence = z.infer<typeof DataLossEvidenceSchema>;

/** The data-loss phase of a rehearsal's phases: its status, summary and report (null when the phase did not run). */
export function dataLossOfPhases(phases: readonly { phase: string; status: string; detail?: string; result?: unknown }[] | undefined) {
  const p = phases?.find((x) => x.phase === 'data-loss');
  if (!p) return null;
  const report = DataLossReportSchema.safeParse(p.result);
  return { passed: p.status === 'ok', summary: p.detail ?? '', report: report.success ? report.data : null };
}
