import { DriftPanel } from '@/components/requests/drift-panel';
import { getDriftPanel } from '@/lib/data/drift';
import type { Actor } from '@/lib/domain/permissions';

/** The Analysis step's drift panel, read for the viewer (its own read, so the page adds one line). */
export async function DriftSection({ viewer, requestId }: { viewer: Actor; requestId: string }) {
  return <DriftPanel requestId={requestId} panel={await getDriftPanel(viewer, requestId)} />;
}
