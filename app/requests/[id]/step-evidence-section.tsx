import { StepEvidencePanel } from '@/components/requests/step-evidence';
import { getStepEvidenceView } from '@/lib/data/gate';
import type { SectionProps } from './section-props';

/** What a checkable step waits for and the evidence that ticks its checklist items (issue 8, gate). */
export async function StepEvidenceSection({ viewer, requestId, task }: SectionProps) {
  if (task.isGate) return null;
  const evidence = await getStepEvidenceView(viewer, requestId, task.key);
  if (!evidence?.checkable) return null;
  return <StepEvidencePanel subject={task.subject} evidence={evidence} />;
}
