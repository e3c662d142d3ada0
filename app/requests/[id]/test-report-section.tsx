import type { SectionProps } from './section-props';

/** Test app with new schema: attach a test report; failures listed (issue 8, api-tokens). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function TestReportSection(props: SectionProps) {
  return null;
}
