import Link from 'next/link';

export interface StepperStep {
  key: string;
  position: number;
  subject: string;
  activeForm: string;
  status: string;
  /** Who holds it: the person working it, else the role(s) that may. */
  holder: string;
}

const dot: Record<string, string> = {
  completed: 'bg-emerald-500 text-white',
  in_progress: 'bg-blue-600 text-white',
  blocked: 'bg-red-600 text-white',
  pending: 'bg-white text-slate-500 ring-1 ring-slate-300',
};

/**
 * The nine steps as the page's navigation: each one line (state, holder) and a deep link
 * (/requests/ID/steps/KEY); the open step is marked for people and screen readers alike.
 */
export function Stepper({ requestId, steps, openKey }: { requestId: string; steps: StepperStep[]; openKey: string | null }) {
  return (
    <nav aria-label="Workflow steps">
      <ol className="grid grid-cols-1 gap-1 rounded-lg border border-slate-200 bg-white p-2 shadow-sm sm:grid-cols-3 lg:grid-cols-9">
        {steps.map((s) => {
          const open = s.key === openKey;
          return (
            // min-w-0: a grid item is otherwise as wide as its longest word, and pushes into its neighbour.
            <li key={s.key} className="min-w-0" data-testid="timeline-step" data-status={s.status} data-step={s.key} data-open={open ? 'true' : undefined}>
              <Link
                href={`/requests/${requestId}/steps/${s.key}`}
                aria-current={open ? 'step' : undefined}
                className="flex h-full items-start gap-2 rounded-md px-2 py-1.5 hover:bg-slate-50 aria-[current=step]:bg-indigo-50 aria-[current=step]:ring-1 aria-[current=step]:ring-indigo-300 lg:flex-col lg:items-center lg:text-center"
              >
                <span className={`flex h-6 w-6 shrink-0 items-center justify-center rounded-full text-xs font-semibold ${dot[s.status] ?? dot.pending}`} aria-hidden>
                  {s.status === 'completed' ? '✓' : s.position}
                </span>
                {/* Full column width on wide screens: centred text sized to its content overflowed into the next step (1366 px). */}
                <span className="min-w-0 lg:w-full">
                  <span className="block text-xs font-medium leading-tight wrap-break-word text-slate-800">{s.subject}</span>
                  <span className="block text-[11px] text-slate-500">
                    {s.status === 'in_progress' ? s.activeForm : s.status.replace('_', ' ')}
                  </span>
                  {/* Role lines ("database-administrator or postgres-pro") wrap, at most two lines, the rest in the tooltip. */}
                  <span className="line-clamp-2 text-[11px] leading-tight wrap-break-word text-slate-500" title={s.holder} data-testid="step-holder">{s.holder}</span>
                </span>
              </Link>
            </li>
          );
        })}
      </ol>
    </nav>
  );
}
