import type { TaskView } from '@/lib/data/requests';
import type { Actor } from '@/lib/domain/permissions';

/** What the request page gives each step's section: who is looking, the request and the step's task. */
export interface SectionProps {
  viewer: Actor;
  requestId: string;
  task: TaskView;
}
