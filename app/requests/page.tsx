import Link from 'next/link';
import { PageTitle } from '@/components/ui/card';
import { RequestFilters } from '@/components/requests/request-filters';
import { RequestTable } from '@/components/requests/request-table';
import { listRequests } from '@/lib/data/requests';
import { listTargetOptions } from '@/lib/data/admin';
import { getViewer } from '@/lib/data/viewer';
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
      <RequestTable rows={rows.map((r) => ({ ...r, createdAt: r.createdAt.toISOString() }))} now={new Date().toISOString()} />
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
