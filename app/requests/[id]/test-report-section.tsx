import { TestReportPanel } from '@/components/requests/test-report-panel';
import { getTestReportPanel } from '@/lib/data/test-reports';
import type { SectionProps } from './section-props';

/** Test app with new schema: attach a test report (or CI posts one); failures listed. */
export async function TestReportSection({ viewer, requestId, task }: SectionProps) {
  const { reports, currentRevision } = await getTestReportPanel(viewer, requestId);
  return <TestReportPanel requestId={requestId} reports={reports} canAttach={task.canWork} currentRevision={currentRevision} />;
}
