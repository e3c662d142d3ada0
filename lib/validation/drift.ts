import { z } from 'zod';
import { idSchema } from './common';

/** Check the request's target for drift, against an imported folder (default: the request's). */
export const DriftRunSchema = z.object({ requestId: idSchema, folderId: idSchema.optional() });
export type DriftRunInput = z.infer<typeof DriftRunSchema>;
