import type { SectionProps } from './section-props';

/** The procedure's five success criteria, each with its evidence (issue 8, post-deploy). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function SuccessCriteriaSection(props: SectionProps) {
  return null;
}
