import type { SectionProps } from './section-props';

/** Post-deployment: verification queries, scheduled checks, alerts and documented issues (issue 8, post-deploy). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function PostDeploySection(props: SectionProps) {
  return null;
}
