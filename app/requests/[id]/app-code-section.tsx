import { AppCodePanel } from '@/components/requests/app-code-panel';
import { getAppCodePanel } from '@/lib/data/app-schema';
import type { SectionProps } from './section-props';

/** Update app code: the app branch's schema.prisma against the rehearsed schema (issue 8, projects). */
export async function AppCodeSection({ viewer, requestId }: SectionProps) {
  return <AppCodePanel panel={await getAppCodePanel(viewer, requestId)} />;
}
