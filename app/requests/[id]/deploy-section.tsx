import { DeployPanel } from '@/components/requests/deploy-panel';
import { getDeployPanel } from '@/lib/data/deploy';
import type { SectionProps } from './section-props';

/** Deploy: environments in order, approvals, live deploy logs and recovery (issue 8, deploy). */
export async function DeploySection({ viewer, requestId }: SectionProps) {
  return <DeployPanel requestId={requestId} panel={await getDeployPanel(viewer, requestId)} />;
}
