import { z } from 'zod';
import { LIMITS, idSchema } from './common';

/** Deploy the request's current revision to one environment of its project. */
export const RequestDeploySchema = z.object({ requestId: idSchema, environmentId: idSchema });
export type RequestDeployInput = z.infer<typeof RequestDeploySchema>;

/** A lead approves the deploy of the request's current revision to an environment that requires approval. */
export const ApproveDeploySchema = z.object({
  requestId: idSchema,
  environmentId: idSchema,
  note: z.string().trim().max(LIMITS.note, { error: `Keep the note under ${LIMITS.note} characters.` }).optional().transform((v) => v || undefined),
});
export type ApproveDeployInput = z.infer<typeof ApproveDeploySchema>;

/** A form's checkbox ("on") or a JSON true: the person confirmed what the button does. */
const confirmed = z.union([z.literal(true), z.literal('on'), z.literal('true')], { error: 'Tick the box to confirm: this changes the target database.' });

/** Recover a failed deploy (or roll back a succeeded one): run its down path, or restore its pre-deploy backup. */
export const RecoverDeploySchema = z.object({
  deploymentId: idSchema,
  recovery: z.enum(['down', 'restore'], { error: 'Choose the down path or a restore of the backup.' }),
  confirm: confirmed,
});
export type RecoverDeployInput = z.infer<typeof RecoverDeploySchema>;
