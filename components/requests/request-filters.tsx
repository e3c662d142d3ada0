import Link from 'next/link';
import { AGENT_ROLES, REQUEST_KINDS, REQUEST_KIND_LABELS, REQUEST_STATUSES } from '@/lib/domain/roles';

const select = 'rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm';

/** A plain GET form: filters live in the URL, so they can be shared and bookmarked. */
export function RequestFilters({ targets, current }: { targets: { id: string; name: string }[]; current: Record<string, string> }) {
  return (
    <form method="get" action="/requests" className="mb-4 flex flex-wrap items-end gap-3" aria-label="Filter requests">
      <label className="text-xs font-medium text-slate-700">
        Status
        <select name="status" defaultValue={current.status ?? ''} className={`${select} mt-1 block`}>
          <option value="">Any</option>
          {REQUEST_STATUSES.map((s) => <option key={s} value={s}>{s.replace('_', ' ')}</option>)}
        </select>
      </label>
      <label className="text-xs font-medium text-slate-700">
        Kind
        <select name="kind" defaultValue={current.kind ?? ''} className={`${select} mt-1 block`}>
          <option value="">Any</option>
          {REQUEST_KINDS.map((k) => <option key={k} value={k}>{REQUEST_KIND_LABELS[k]}</option>)}
        </select>
      </label>
      <label className="text-xs font-medium text-slate-700">
        Target
        <select name="targetId" defaultValue={current.targetId ?? ''} className={`${select} mt-1 block`}>
          <option value="">Any</option>
          {targets.map((t) => <option key={t.id} value={t.id}>{t.name}</option>)}
        </select>
      </label>
      <label className="text-xs font-medium text-slate-700">
        Current step&apos;s role
        <select name="agentRole" defaultValue={current.agentRole ?? ''} className={`${select} mt-1 block`}>
          <option value="">Any</option>
          {[...AGENT_ROLES, 'reviewer'].map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </label>
      <label className="flex items-center gap-1.5 pb-2 text-sm text-slate-700">
        <input type="checkbox" name="mine" value="true" defaultChecked={current.mine === 'true'} /> Mine
      </label>
      <button className="rounded-md bg-white px-3 py-1.5 text-sm font-medium ring-1 ring-slate-300 hover:bg-slate-50">Apply</button>
      <Link href="/requests" className="pb-1.5 text-sm text-slate-600 underline">Clear</Link>
    </form>
  );
}
