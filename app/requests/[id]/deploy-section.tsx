import type { SectionProps } from './section-props';

/** Deploy: environments in order, approvals, live deploy logs and recovery (issue 8, deploy). */
// eslint-disable-next-line @typescript-eslint/no-unused-vars
export async function DeploySection(props: SectionProps) {
  return null;
}
