import { formatAge } from '@/components/ui/progress';

export interface TimelineStep {
  position: number;
  subject: string;
  status: string;
  startedAt: Date | string | null;
  completedAt: Date | string | null;
}

const fill: Record<string, string> = { completed: '#10b981', in_progress: '#2563eb', blocked: '#dc2626', pending: '#e2e8f0' };

/**
 * A request's timeline: one segment per step that has started, as wide as the time it took
 * (or has taken so far), so where the days went shows at a glance.
 */
export function StepTimeline({ steps, now, label }: { steps: TimelineStep[]; now: Date; label: string }) {
  const spans = steps
    .filter((s) => s.startedAt)
    .map((s) => {
      const from = new Date(s.startedAt!);
      const to = s.completedAt ? new Date(s.completedAt) : now;
      return { ...s, from, ms: Math.max(1, to.getTime() - from.getTime()) };
    });
  const total = spans.reduce((n, s) => n + s.ms, 0);
  if (!spans.length) return <span className="text-xs text-slate-500" data-testid="step-timeline">not started</span>;
  return (
    <div className="flex h-3 w-full min-w-24 overflow-hidden rounded bg-slate-100" role="img" data-testid="step-timeline"
      aria-label={`${label}: ${spans.map((s) => `${s.subject} ${formatAge(s.from, new Date(s.from.getTime() + s.ms))}`).join(', ')}`}>
      {spans.map((s) => (
        <div key={s.position} style={{ width: `${(s.ms / total) * 100}%`, background: fill[s.status] ?? fill.pending }}
          className="border-r border-white last:border-r-0" title={`${s.position}. ${s.subject}: ${formatAge(s.from, new Date(s.from.getTime() + s.ms))}`} />
      ))}
    </div>
  );
}
