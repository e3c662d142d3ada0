import Link from 'next/link';
import { Card } from '@/components/ui/card';
import { formatTime } from '@/components/ui/progress';

interface Entry {
  id: string;
  action: string;
  actor: string;
  before: Record<string, unknown> | null;
  after: Record<string, unknown> | null;
  createdAt: Date;
}

function summary(v: Record<string, unknown> | null): string {
  if (!v) return '';
  return Object.entries(v)
    .filter(([, x]) => x !== null && x !== undefined)
    .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : String(x)}`)
    .join(', ');
}

/** Paging and filtering happen in the URL (plain links and a GET form), so they work without JavaScript. */
export interface AuditPaging {
  basePath: string;
  /** Other query parameters to keep (the view). */
  keep: Record<string, string>;
  filter: string | undefined;
  page: number;
  pages: number;
  total: number;
  actions: string[];
}

/** Action prefixes worth offering besides the exact actions ("run." covers every run entry). */
function filterOptions(actions: string[]): string[] {
  const prefixes = [...new Set(actions.map((a) => a.split('.')[0] + '.'))];
  return [...prefixes, ...actions].filter((v, i, all) => all.indexOf(v) === i).sort();
}

export function AuditLog({ entries, paging }: { entries: Entry[]; paging?: AuditPaging }) {
  const href = (page: number) => {
    const q = new URLSearchParams({ ...(paging?.keep ?? {}), ...(paging?.filter ? { audit: paging.filter } : {}), ...(page > 1 ? { auditPage: String(page) } : {}) });
    return `${paging?.basePath}${q.size ? `?${q}` : ''}#audit`;
  };
  return (
    <Card title={<span id="audit">Audit log{paging ? <span className="font-normal text-slate-500"> ({paging.total})</span> : null}</span>}>
      {paging && (
        <form method="get" action={paging.basePath} className="mb-3 flex items-center gap-2 text-sm" aria-label="Filter the audit log">
          {Object.entries(paging.keep).map(([k, v]) => <input key={k} type="hidden" name={k} value={v} />)}
          <label htmlFor="audit-filter" className="text-slate-600">Show</label>
          <select id="audit-filter" name="audit" defaultValue={paging.filter ?? ''} className="min-w-0 flex-1 rounded-md border border-slate-300 px-2 py-1">
            <option value="">every action</option>
            {filterOptions(paging.actions).map((a) => <option key={a} value={a}>{a.endsWith('.') ? `${a}*` : a}</option>)}
          </select>
          <button type="submit" className="rounded-md px-2 py-1 ring-1 ring-slate-300 hover:bg-slate-50">Filter</button>
        </form>
      )}
      <ol className="space-y-3 text-sm" data-testid="audit-log">
        {entries.map((e) => (
          <li key={e.id} className="border-l-2 border-slate-200 pl-3 [overflow-wrap:anywhere]">
            <div className="font-medium text-slate-800">
              {e.action} <span className="font-normal text-slate-500">by {e.actor}</span>
            </div>
            <div className="text-xs text-slate-500">{formatTime(e.createdAt)}</div>
            {e.before && <div className="mt-0.5 text-xs text-slate-600"><span className="font-medium">before</span> {summary(e.before)}</div>}
            {e.after && <div className="text-xs text-slate-600"><span className="font-medium">after</span> {summary(e.after)}</div>}
          </li>
        ))}
        {entries.length === 0 && <li className="text-slate-500">No entries{paging?.filter ? ` for ${paging.filter}` : ''}.</li>}
      </ol>
      {paging && paging.pages > 1 && (
        <nav className="mt-3 flex items-center justify-between text-sm" aria-label="Audit log pages">
          <span className="text-slate-600" data-testid="audit-page">Page {paging.page} of {paging.pages}</span>
          <span className="flex gap-2">
            {paging.page > 1 && <Link className="rounded-md px-2 py-1 ring-1 ring-slate-300 hover:bg-slate-50" href={href(paging.page - 1)}>Newer</Link>}
            {paging.page < paging.pages && <Link className="rounded-md px-2 py-1 ring-1 ring-slate-300 hover:bg-slate-50" href={href(paging.page + 1)}>Older</Link>}
          </span>
        </nav>
      )}
    </Card>
  );
}
