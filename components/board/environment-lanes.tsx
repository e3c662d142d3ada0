import Link from 'next/link';
import { formatAge } from '@/components/ui/progress';
import type { BoardLane, LaneEntry } from '@/lib/data/board';

const COLUMNS = [
  { key: 'deployed', label: 'Deployed', tone: 'text-emerald-800' },
  { key: 'inFlight', label: 'In flight', tone: 'text-blue-800' },
  { key: 'failed', label: 'Failed', tone: 'text-red-800' },
  { key: 'waiting', label: 'Waiting', tone: 'text-slate-700' },
] as const;

function Entry({ e, now }: { e: LaneEntry; now: Date }) {
  return (
    <li className="text-xs" data-testid="lane-entry">
      <Link href={`/requests/${e.id}`} className="font-medium text-indigo-800 hover:underline">#{e.number} {e.title}</Link>
      <div className="text-slate-600">
        {e.revision !== null && <>rev {e.revision} · </>}{formatAge(new Date(e.at), now)} ago{e.detail && <> · {e.detail}</>}
      </div>
      {e.waiting && <div className="text-slate-500">{e.waiting.people.length ? `on ${e.waiting.people.join(', ')}` : e.waiting.role ? `on ${e.waiting.role}` : null}</div>}
    </li>
  );
}

/** Per project environment, in promotion order: what is deployed, in flight, failed, or waiting and on whom. */
export function EnvironmentLanes({ lanes, now }: { lanes: BoardLane[]; now: Date }) {
  if (!lanes.length) {
    return <p className="rounded-lg border border-slate-200 bg-white p-4 text-sm text-slate-600 shadow-sm">No project has environments yet. An admin adds projects and their environments under Projects.</p>;
  }
  return (
    <div className="grid gap-4 md:grid-cols-2 xl:grid-cols-3">
      {lanes.map((lane) => (
        <section key={lane.environmentId} className="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="environment-lane"
          data-project={lane.project} data-environment={lane.environment} aria-labelledby={`lane-${lane.environmentId}`}>
          <header className="border-b border-slate-200 px-4 py-2.5">
            <h3 id={`lane-${lane.environmentId}`} className="text-sm font-semibold text-slate-800">
              {lane.project} · {lane.position}. {lane.environment}
            </h3>
            <p className="text-xs text-slate-500">{lane.target}{lane.requiresApproval && ' · needs the gate and a lead’s approval'}</p>
          </header>
          <div className="grid grid-cols-2 gap-3 p-3">
            {COLUMNS.map((c) => (
              <div key={c.key} data-testid={`lane-${c.key}`}>
                <h4 className={`mb-1 text-xs font-semibold uppercase tracking-wide ${c.tone}`}>{c.label} <span className="tabular-nums">({lane[c.key].length})</span></h4>
                <ul className="space-y-1.5">
                  {lane[c.key].map((e) => <Entry key={e.id} e={e} now={now} />)}
                  {lane[c.key].length === 0 && <li className="text-xs text-slate-400">none</li>}
                </ul>
              </div>
            ))}
          </div>
        </section>
      ))}
    </div>
  );
}
