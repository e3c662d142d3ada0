import Link from 'next/link';
import { EnvironmentBadge, StatusBadge } from '@/components/ui/badge';
import { PageTitle } from '@/components/ui/card';
import { StepProgress, formatAge } from '@/components/ui/progress';
import { RequestFilters } from '@/components/requests/request-filters';
import { listRequests } from '@/lib/data/requests';
import { listTargetOptions } from '@/lib/data/admin';
import { getViewer } from '@/lib/data/viewer';
import { REQUEST_KIND_LABELS, type RequestKind } from '@/lib/domain/roles';
import { ListRequestsSchema } from '@/lib/validation/request';

export const metadata = { title: 'Requests' };

type Search = Record<string, string | string[] | undefined>;

export default async function RequestsPage({ searchParams }: { searchParams: Promise<Search> }) {
  const viewer = await getViewer();
  const raw = await searchParams;
  const flat = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]).filter(([, v]) => v !== '' && v !== undefined));
  // Unknown filter values are dropped rather than failing the whole page.
  const parsed = ListRequestsSchema.safeParse(flat);
  const filters = parsed.success ? parsed.data : ListRequestsSchema.parse({});
  const [{ rows, total }, targets] = await Promise.all([listRequests(viewer, filters), listTargetOptions()]);
  const pages = Math.max(1, Math.ceil(total / filters.pageSize));
  const pageHref = (page: number) => `/requests?${new URLSearchParams({ ...(flat as Record<string, string>), page: String(page) })}`;
  const now = new Date();

  return (
    <>
      <div className="flex items-start justify-between">
        <PageTitle sub={`${total} request${total === 1 ? '' : 's'}`}>Migration requests</PageTitle>
        <Link href="/requests/new" className="rounded-md bg-indigo-700 px-3 py-1.5 text-sm font-medium text-white hover:bg-indigo-800">
          File a request
        </Link>
      </div>
      {!parsed.success && <p className="mb-3 text-sm text-amber-800">Some filters were not understood and were ignored.</p>}
      <RequestFilters targets={targets} current={flat as Record<string, string>} />
      <div className="overflow-x-auto rounded-lg border border-slate-200 bg-white shadow-sm">
        <table className="min-w-full divide-y divide-slate-200 text-sm">
          <thead className="bg-slate-50 text-left text-xs font-semibold uppercase tracking-wide text-slate-600">
            <tr>
              <th className="px-3 py-2">#</th>
              <th className="px-3 py-2">Title</th>
              <th className="px-3 py-2">Status</th>
              <th className="px-3 py-2">Current step</th>
              <th className="px-3 py-2">Progress</th>
              <th className="px-3 py-2">Target</th>
              <th className="px-3 py-2">Age</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((r) => (
              <tr key={r.id} className="hover:bg-slate-50" data-testid="request-row">
                <td className="px-3 py-2 tabular-nums text-slate-500">{r.number}</td>
                <td className="px-3 py-2">
                  <Link href={`/requests/${r.id}`} className="font-medium text-indigo-800 hover:underline">
                    {r.title}
                  </Link>
                  <div className="text-xs text-slate-500">
                    {REQUEST_KIND_LABELS[r.kind as RequestKind]} · {r.priority} · by {r.authorName}
                  </div>
                </td>
                <td className="px-3 py-2"><StatusBadge status={r.status} /></td>
                <td className="px-3 py-2">
                  <div>{r.status === 'completed' ? 'Done' : r.currentSubject}</div>
                  <div className="text-xs text-slate-500">{r.status === 'completed' ? '' : r.currentOwner}</div>
                </td>
                <td className="px-3 py-2"><StepProgress done={r.completedSteps} total={r.totalSteps} /></td>
                <td className="px-3 py-2">
                  <div>{r.targetName}</div>
                  <EnvironmentBadge environment={r.environment} />
                </td>
                <td className="px-3 py-2 tabular-nums text-slate-600" title={r.createdAt.toISOString()}>{formatAge(r.createdAt, now)}</td>
              </tr>
            ))}
            {rows.length === 0 && (
              <tr>
                <td colSpan={7} className="px-3 py-8 text-center text-slate-500">
                  No requests match. <Link href="/requests/new" className="text-indigo-700 underline">File one</Link>.
                </td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      <nav className="mt-4 flex items-center justify-between text-sm" aria-label="Pagination">
        <span className="text-slate-600">Page {filters.page} of {pages}</span>
        <div className="flex gap-2">
          {filters.page > 1 && <Link className="rounded-md px-3 py-1.5 ring-1 ring-slate-300 hover:bg-slate-50" href={pageHref(filters.page - 1)}>Previous</Link>}
          {filters.page < pages && <Link className="rounded-md px-3 py-1.5 ring-1 ring-slate-300 hover:bg-slate-50" href={pageHref(filters.page + 1)}>Next</Link>}
        </div>
      </nav>
      <p className="sr-only">Signed in as {viewer.name}</p>
    </>
  );
}
