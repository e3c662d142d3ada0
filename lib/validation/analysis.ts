import { z } from 'zod';
import { LIMITS, idSchema } from './common';

/** Analyse the latest saved revision of the request's migration against its target (Analysis step). */
export const AnalysisRunSchema = z.object({ requestId: idSchema });
export type AnalysisRunInput = z.infer<typeof AnalysisRunSchema>;

/** Acknowledge one destructive operation of the latest analysis, with a note saying why it is fine. */
export const AcknowledgeDestructiveSchema = z.object({
  requestId: idSchema,
  operationKey: z.string().trim().min(1, 'Say which operation.').max(1_000, 'Not an operation of this analysis.'),
  note: z
    .string({ error: 'Say why this is acceptable.' })
    .trim()
    .min(3, 'Say why this is acceptable (a few words at least).')
    .max(LIMITS.note, `At most ${LIMITS.note} characters.`),
});
export type AcknowledgeDestructiveInput = z.infer<typeof AcknowledgeDestructiveSchema>;

/** The Analysis step's two written fields: "Document desired changes" and "Plan migration strategy". */
export const AnalysisFieldsSchema = z.object({
  requestId: idSchema,
  desiredChanges: z.string().trim().max(20_000, 'At most 20,000 characters.'),
  migrationStrategy: z.string().trim().max(50_000, 'At most 50,000 characters.'),
});
export type AnalysisFieldsInput = z.infer<typeof AnalysisFieldsSchema>;
