import { GatePanel } from '@/components/requests/gate-panel';
import { getGateView } from '@/lib/data/gate';
import type { SectionProps } from './section-props';

/** The quality gate: its six items, each with the evidence it rests on, signatures and what it waits for (issue 8, gate). */
export async function GateSection({ viewer, requestId, task }: SectionProps) {
  return <GatePanel task={task} gate={await getGateView(viewer, requestId)} />;
}
