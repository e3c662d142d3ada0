import { z } from 'zod';
import type { JsonTestSummary } from '../domain/test-report';
import { idSchema } from './common';

/** The largest test report Cutover reads (JUnit files of big suites run to a few MB). */
export const MAX_TEST_REPORT_BYTES = 4 * 1024 * 1024;

const countOf = (what: string) => z.number({ error: `${what} is a number.` }).int(`${what} is a whole number.`).min(0, `${what} cannot be negative.`).max(10_000_000, `${what} is too large.`);

/** A JSON summary: `{tests, failures, errors?, skipped?, cases?: [{name, classname?, status, message?}]}`. */
export const TestReportJsonSchema = z.object({
  tests: countOf('tests'),
  failures: countOf('failures'),
  errors: countOf('errors').optional(),
  skipped: countOf('skipped').optional(),
  cases: z
    .array(
      z.object({
        name: z.string().trim().min(1, 'Each case needs a name.').max(2000),
        classname: z.string().max(2000).nullish(),
        status: z.enum(['passed', 'failed', 'error', 'skipped'], { error: 'A case\'s status is passed, failed, error or skipped.' }),
        message: z.string().max(100_000).nullish(),
      }),
    )
    .max(100_000)
    .optional(),
}) satisfies z.ZodType<JsonTestSummary>;

/** Which revision a report is for: its number, or (absent) the request's current revision. */
const revisionNumber = z.preprocess(
  (v) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v),
  z.coerce.number({ error: 'The revision is a number.' }).int('The revision is a whole number.').min(1, 'Revisions start at 1.').optional(),
);

/** POST /api/v1/requests/:id/test-reports?revision=N (the body is the report). */
export const TestReportTargetSchema = z.object({ requestId: idSchema, revision: revisionNumber });
export type TestReportTarget = z.output<typeof TestReportTargetSchema>;

/** The step 5 form: a report pasted or chosen as a file (the action reads the file to text). */
export const AttachTestReportSchema = TestReportTargetSchema.extend({
  report: z.string({ error: 'Choose a report file or paste one.' }).trim().min(1, 'Choose a report file or paste one.').max(MAX_TEST_REPORT_BYTES, 'Reports can be at most 4 MB.'),
  fileName: z.string().max(255).nullish(),
});
export type AttachTestReportInput = z.output<typeof AttachTestReportSchema>;
