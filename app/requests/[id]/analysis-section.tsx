import { AnalysisPanel } from '@/components/requests/analysis-panel';
import { getAnalysisPanel } from '@/lib/data/analysis';
import type { Actor } from '@/lib/domain/permissions';

/** The Analysis step's impact analysis, read for the viewer (its own read, so the page adds one line). */
export async function AnalysisSection({ viewer, requestId }: { viewer: Actor; requestId: string }) {
  return <AnalysisPanel requestId={requestId} panel={await getAnalysisPanel(viewer, requestId)} />;
}
