import { z } from 'zod';
import { LIMITS, idSchema } from './common';

/** Limits of the Post-deployment forms. */
export const VERIFICATION_LIMITS = { sql: 20_000, value: 1_000, identifier: 127, issues: 20_000 } as const;

const COUNT_OPS = ['=', '!=', '<', '<=', '>', '>='] as const;
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const identifier = z
  .string()
  .trim()
  .min(1, { error: 'Name the table.' })
  .max(VERIFICATION_LIMITS.identifier, { error: `At most ${VERIFICATION_LIMITS.identifier} characters.` });

/**
 * A verification query as the form sends it: flat fields, the expectation's kind deciding which
 * matter. A column_exists check needs no SQL (Cutover writes the catalog query); the others do.
 */
export const VerificationQueryFormSchema = z
  .object({
    requestId: idSchema,
    name: z.string().trim().min(1, { error: 'Give the check a name.' }).max(LIMITS.name, { error: `At most ${LIMITS.name} characters.` }),
    kind: z.enum(['count', 'value', 'column_exists', 'no_rows'], { error: 'Choose what the query must return.' }),
    sql: z.preprocess(blankToUndefined, z.string().max(VERIFICATION_LIMITS.sql, { error: `At most ${VERIFICATION_LIMITS.sql} characters.` }).optional()),
    op: z.preprocess(blankToUndefined, z.enum(COUNT_OPS, { error: 'Choose a comparison.' }).optional()),
    value: z.preprocess(blankToUndefined, z.string().max(VERIFICATION_LIMITS.value, { error: `At most ${VERIFICATION_LIMITS.value} characters.` }).optional()),
    table: z.preprocess(blankToUndefined, identifier.optional()),
    column: z.preprocess(blankToUndefined, identifier.optional()),
  })
  .superRefine((v, ctx) => {
    if (v.kind !== 'column_exists' && !v.sql?.trim()) ctx.addIssue({ code: 'custom', path: ['sql'], message: 'Write the SELECT query to run.' });
    if (v.kind === 'count') {
      if (!v.op) ctx.addIssue({ code: 'custom', path: ['op'], message: 'Choose a comparison.' });
      if (v.value === undefined || !/^-?\d{1,15}$/.test(v.value.trim())) ctx.addIssue({ code: 'custom', path: ['value'], message: 'The expected count is a whole number.' });
    }
    if (v.kind === 'value' && v.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: 'Write the value the query must return.' });
    if (v.kind === 'column_exists') {
      if (!v.table) ctx.addIssue({ code: 'custom', path: ['table'], message: 'Name the table (schema.table, or table for public).' });
      if (!v.column) ctx.addIssue({ code: 'custom', path: ['column'], message: 'Name the column.' });
    }
  });
export type VerificationQueryFormInput = z.infer<typeof VerificationQueryFormSchema>;

/** Remove a verification query from the request (its past results stay in the evidence). */
export const ArchiveVerificationQuerySchema = z.object({ queryId: idSchema });
export type ArchiveVerificationQueryInput = z.infer<typeof ArchiveVerificationQuerySchema>;

/** Run the post-deployment checks now, for the request's newest succeeded deployment or the one named. */
export const RunVerificationSchema = z.object({ requestId: idSchema, deploymentId: z.preprocess(blankToUndefined, idSchema.optional()) });
export type RunVerificationInput = z.infer<typeof RunVerificationSchema>;

/** "Document any issues": the new text (the previous versions are kept). */
export const DocumentIssuesSchema = z.object({
  requestId: idSchema,
  body: z.string().trim().min(1, { error: 'Write what happened (or "No issues").' }).max(VERIFICATION_LIMITS.issues, { error: `At most ${VERIFICATION_LIMITS.issues} characters.` }),
});
export type DocumentIssuesInput = z.infer<typeof DocumentIssuesSchema>;

/** GET /api/v1/requests/:id/post-deploy. */
export const PostDeployReportSchema = z.object({ id: idSchema });
