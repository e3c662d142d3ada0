import { z } from 'zod';
import { idSchema } from './common';

/**
 * A rehearsal's data sample: rows copied from each table of the target. With none (0) the
 * rehearsal is schema only: the no-data-loss check and the lock-impact probe need data, so they do
 * not run, and the gate's "No data loss" item refuses the rehearsal. The default is a sample
 * (as the lock-impact and data-loss tests rehearse on), so that the usual rehearsal checks data
 * too; 0 stays available on purpose.
 */
export const DEFAULT_SAMPLE_ROWS = 1_000;
/** The most rows a table the sample copies (the sandbox holds it, and the copy is timed). */
export const MAX_SAMPLE_ROWS = 100_000;

export const sampleRowsSchema = z.coerce
  .number({ error: 'The sample size is a number.' })
  .int('A whole number of rows.')
  .min(0, 'At least 0 rows.')
  .max(MAX_SAMPLE_ROWS, 'At most 100 000 rows a table.');

export const RequestRehearsalSchema = z.object({ requestId: idSchema, sampleRows: sampleRowsSchema.default(DEFAULT_SAMPLE_ROWS) });

/** What step 3's evidence says of a rehearsal that ran without a data sample. */
export const NO_SAMPLE_WORDS = 'rehearsed without a data sample: the no-data-loss check did not run';
