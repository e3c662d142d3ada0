import { z } from 'zod';
import { idSchema } from './common';

/** Cancel a queued or running run. */
export const CancelRunSchema = z.object({ runId: idSchema });
export type CancelRunInput = z.infer<typeof CancelRunSchema>;
