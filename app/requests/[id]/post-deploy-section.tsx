import { PostDeployPanel } from '@/components/requests/post-deploy-panel';
import { getPostDeployPanel } from '@/lib/data/post-deploy';
import type { SectionProps } from './section-props';

/** Post-deployment: verification queries, scheduled checks, alerts and documented issues (issue 8, post-deploy). */
export async function PostDeploySection({ viewer, requestId }: SectionProps) {
  return <PostDeployPanel panel={await getPostDeployPanel(viewer, requestId)} />;
}
