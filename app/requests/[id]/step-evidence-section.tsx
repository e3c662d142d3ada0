import type { SectionProps } from './section-props';

/** What a checkable step waits for and the evidence that ticks its checklist items (issue 8, gate). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function StepEvidenceSection(props: SectionProps) {
  return null;
}
