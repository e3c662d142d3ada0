import type { SectionProps } from './section-props';

/** The quality gate: its six items, each with the evidence it rests on, signatures and what it waits for (issue 8, gate). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function GateSection(props: SectionProps) {
  return null;
}
