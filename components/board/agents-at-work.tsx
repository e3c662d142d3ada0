import { formatTime } from '@/components/ui/progress';
import { AGENT_STUCK_AFTER_MS, type AgentsAtWork as AgentsAtWorkData } from '@/lib/data/board';

/** "45m", "1h 20m", "2d 3h": finer than formatAge, since the difference between 20 and 50 minutes matters here. */
export function formatElapsed(ms: number): string {
  const m = Math.floor(ms / 60_000);
  if (m < 1) return `${Math.floor(ms / 1000)}s`;
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return m % 60 ? `${h}h ${m % 60}m` : `${h}h`;
  return h % 24 ? `${Math.floor(h / 24)}d ${h % 24}h` : `${Math.floor(h / 24)}d`;
}

/**
 * The tasks agents hold (in progress, claimed by an agent account), longest first: who holds what,
 * for whom it works, and for how long, with long-held ones flagged as possibly stuck and paused
 * agents (which cannot finish what they hold until resumed) called out.
 */
export function AgentsAtWork({ data }: { data: AgentsAtWorkData }) {
  const stuckAfter = formatElapsed(AGENT_STUCK_AFTER_MS);
  const pausedHolding = data.agents.filter((a) => a.paused);
  return (
    <section className="rounded-lg border border-slate-200 bg-white shadow-sm" aria-labelledby="agents-at-work-title" data-testid="agents-at-work">
      <header className="flex flex-wrap items-center justify-between gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="agents-at-work-title" className="text-sm font-semibold text-slate-800">Agents at work</h2>
        <span className="text-xs text-slate-500">
          {data.total === 0 ? 'no task held by an agent' : `${data.total} task${data.total === 1 ? '' : 's'} held, longest first`}
          {data.stuck > 0 && <> · <span className="font-medium text-amber-800">{data.stuck} in progress over {stuckAfter}</span></>}
          {data.tasks.length < data.total && <> · {data.tasks.length} shown</>}
        </span>
      </header>
      {data.agents.length > 0 && (
        <ul className="flex flex-wrap gap-2 border-b border-slate-100 px-4 py-2 text-xs" aria-label="Tasks held per agent">
          {data.agents.map((a) => (
            <li key={a.id} data-testid="agent-count" data-agent={a.name}
              className={`rounded-full border px-2 py-0.5 ${a.paused ? 'border-red-200 bg-red-50 text-red-800' : 'border-slate-200 bg-slate-50 text-slate-700'}`}>
              <span className="font-mono">{a.name}</span> <span className="tabular-nums font-semibold">{a.held}</span>
              {a.paused && <> · paused</>}
            </li>
          ))}
        </ul>
      )}
      {pausedHolding.length > 0 && (
        <p className="border-b border-slate-100 bg-red-50 px-4 py-2 text-xs text-red-800" data-testid="paused-agents-holding" role="note">
          Paused, still holding tasks: {pausedHolding.map((a) => `${a.name} (${a.held})`).join(', ')}. Their tasks wait until an admin resumes them
          or someone else takes the step over.
        </p>
      )}
      {data.tasks.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-sm" data-testid="agent-tasks">
            <thead className="bg-slate-50 text-left text-xs text-slate-600">
              <tr>
                <th scope="col" className="px-3 py-2 font-medium">Agent</th>
                <th scope="col" className="px-3 py-2 font-medium">Request and step</th>
                <th scope="col" className="px-3 py-2 font-medium">Since</th>
                <th scope="col" className="px-3 py-2 text-right font-medium">In progress</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {data.tasks.map((t) => (
                <tr key={t.taskId} data-testid="agent-task" data-agent={t.agent} data-stuck={t.possiblyStuck ? 'true' : 'false'} className={t.possiblyStuck ? 'bg-amber-50/60' : undefined}>
                  <td className="px-3 py-2 align-top text-xs">
                    <span className="font-mono font-medium text-slate-800">{t.agent}</span>
                    {t.paused && <span className="ml-1 rounded bg-red-100 px-1 text-red-800" data-testid="agent-paused">paused</span>}
                    <div className="text-slate-500">{t.owner ? `agent of ${t.owner}` : 'agent, no owner'}</div>
                  </td>
                  <td className="px-3 py-2 align-top">
                    {/* A plain link, as in the open requests: no prefetch of up to 50 pages. */}
                    <a href={`/requests/${t.id}/steps/${t.step}`} className="font-medium text-indigo-800 hover:underline [overflow-wrap:anywhere]">#{t.number} {t.title}</a>
                    <div className="text-xs text-slate-600">{t.position}. {t.subject}</div>
                  </td>
                  <td className="whitespace-nowrap px-3 py-2 align-top text-xs text-slate-600">{formatTime(t.since)}</td>
                  <td className="whitespace-nowrap px-3 py-2 text-right align-top text-xs tabular-nums">
                    <span className={t.possiblyStuck ? 'font-semibold text-amber-800' : 'text-slate-800'} data-testid="agent-task-elapsed">{formatElapsed(t.elapsedMs)}</span>
                    {t.possiblyStuck && <div className="text-amber-800" title={`In progress for more than ${stuckAfter}`}>possibly stuck</div>}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
