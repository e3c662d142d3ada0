import { SuccessCriteriaPanel } from '@/components/requests/success-criteria-panel';
import { getSuccessCriteria } from '@/lib/data/success-criteria';
import type { SectionProps } from './section-props';

/** The procedure's five success criteria, each with its evidence (issue 8, post-deploy). */
export async function SuccessCriteriaSection({ viewer, requestId }: SectionProps) {
  const { criteria, allMet, hasProject } = await getSuccessCriteria(viewer, requestId);
  return <SuccessCriteriaPanel criteria={criteria} allMet={allMet} hasProject={hasProject} />;
}
