import type { TaskView } from '@/lib/data/requests';

const dot: Record<string, string> = {
  completed: 'bg-emerald-500 text-white',
  in_progress: 'bg-blue-600 text-white',
  blocked: 'bg-red-600 text-white',
  pending: 'bg-white text-slate-500 ring-1 ring-slate-300',
};

/** The nine steps at a glance: where the request is and what is done. */
export function StepTimeline({ tasks }: { tasks: TaskView[] }) {
  return (
    <ol className="flex flex-wrap gap-y-3 rounded-lg border border-slate-200 bg-white p-3 shadow-sm" aria-label="Workflow steps">
      {tasks.map((t, i) => (
        <li key={t.id} className="flex min-w-[7.5rem] flex-1 items-start" data-testid="timeline-step" data-status={t.status}>
          <a href={`#task-${t.position}`} className="flex flex-col items-center gap-1 px-1 text-center">
            <span className={`flex h-7 w-7 items-center justify-center rounded-full text-xs font-semibold ${dot[t.status]}`} aria-hidden>
              {t.status === 'completed' ? '✓' : t.position}
            </span>
            <span className="text-xs font-medium leading-tight text-slate-800">{t.subject}</span>
            <span className="text-[11px] text-slate-500">{t.status === 'in_progress' ? t.activeForm : t.status.replace('_', ' ')}</span>
          </a>
          {i < tasks.length - 1 && <span className="mt-3.5 hidden h-px flex-1 bg-slate-300 sm:block" aria-hidden />}
        </li>
      ))}
    </ol>
  );
}
