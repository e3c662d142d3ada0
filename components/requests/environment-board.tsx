import { REQUEST_STATUSES, type RequestStatus } from '@/lib/domain/roles';

const colors: Record<RequestStatus, string> = {
  open: '#94a3b8',
  in_progress: '#2563eb',
  blocked: '#dc2626',
  completed: '#10b981',
};

/** Requests per environment as stacked bars: status across environments at a glance. */
export function EnvironmentBoard({ environments }: { environments: { environment: string; counts: Record<RequestStatus, number> }[] }) {
  const max = Math.max(1, ...environments.map((e) => REQUEST_STATUSES.reduce((n, s) => n + e.counts[s], 0)));
  return (
    <figure className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <figcaption className="mb-3 text-sm font-semibold text-slate-800">Requests per environment, by status</figcaption>
      <div className="space-y-2">
        {environments.map((e) => {
          const total = REQUEST_STATUSES.reduce((n, s) => n + e.counts[s], 0);
          return (
            <div key={e.environment} className="flex items-center gap-3 text-sm">
              <span className="w-24 text-slate-700">{e.environment}</span>
              <div className="flex h-5 flex-1 overflow-hidden rounded bg-slate-100" role="img"
                aria-label={`${e.environment}: ${REQUEST_STATUSES.map((s) => `${e.counts[s]} ${s.replace('_', ' ')}`).join(', ')}`}>
                {REQUEST_STATUSES.map((s) =>
                  e.counts[s] ? (
                    <div key={s} style={{ width: `${(e.counts[s] / max) * 100}%`, background: colors[s] }} title={`${e.counts[s]} ${s.replace('_', ' ')}`} />
                  ) : null,
                )}
              </div>
              <span className="w-10 text-right tabular-nums text-slate-600">{total}</span>
            </div>
          );
        })}
      </div>
      <div className="mt-3 flex gap-4 text-xs text-slate-600">
        {REQUEST_STATUSES.map((s) => (
          <span key={s} className="flex items-center gap-1"><span className="inline-block h-2.5 w-2.5 rounded-sm" style={{ background: colors[s] }} />{s.replace('_', ' ')}</span>
        ))}
      </div>
    </figure>
  );
}
