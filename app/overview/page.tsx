import Link from 'next/link';
import { StatusBadge } from '@/components/ui/badge';
import { PageTitle } from '@/components/ui/card';
import { EnvironmentBoard } from '@/components/requests/environment-board';
import { AgentsAtWork } from '@/components/board/agents-at-work';
import { BoardCharts } from '@/components/board/board-charts';
import { BoardRefresh } from '@/components/board/board-refresh';
import { EnvironmentLanes } from '@/components/board/environment-lanes';
import { NeedsMe } from '@/components/board/needs-me';
import { OpenRequests } from '@/components/board/open-requests';
import { getBoard } from '@/lib/data/board';
import { getOverview } from '@/lib/data/overview';
import { BOARD_MAX_AGE_MS } from '@/lib/data/shared-read';
import { getViewer } from '@/lib/data/viewer';
import { canViewOverview } from '@/lib/domain/permissions';
import { REQUEST_STATUSES } from '@/lib/domain/roles';

export const metadata = { title: 'Overview' };

/** The lead's board: what needs them, each environment's deploys, what agents hold, open requests and where the time goes. */
export default async function OverviewPage() {
  const viewer = await getViewer();
  if (!canViewOverview(viewer)) {
    return <p className="text-sm text-slate-700" role="alert">The overview is for leads and admins.</p>;
  }
  // The figures that are the same for every lead may be a second old (lib/data/shared-read.ts): the board is polled.
  const [{ statusCounts, environments }, board] = await Promise.all([
    getOverview(viewer, { sharedMaxAgeMs: BOARD_MAX_AGE_MS }),
    getBoard(viewer, undefined, { sharedMaxAgeMs: BOARD_MAX_AGE_MS }),
  ]);
  const now = board.generatedAt;
  return (
    <div className="space-y-5">
      <div className="flex flex-wrap items-end justify-between gap-2">
        <PageTitle sub="What needs you, each environment’s deploys, and where the time goes.">Deployment board</PageTitle>
        <BoardRefresh runs={board.active.runs} deployments={board.active.deployments} generatedAt={now.toISOString()} />
      </div>
      <NeedsMe data={board.needsMe} now={now} />
      <div className="grid grid-cols-2 gap-3 sm:grid-cols-4">
        {REQUEST_STATUSES.map((s) => (
          <Link key={s} href={`/requests?status=${s}`} className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm hover:border-indigo-300">
            <div className="text-2xl font-semibold tabular-nums" data-testid={`count-${s}`}>{statusCounts[s]}</div>
            <StatusBadge status={s} />
          </Link>
        ))}
      </div>
      <section aria-labelledby="environments-title" className="space-y-3">
        <h2 id="environments-title" className="text-sm font-semibold text-slate-800">Environments</h2>
        <EnvironmentLanes lanes={board.lanes} now={now} />
      </section>
      <AgentsAtWork data={board.agentsAtWork} />
      <OpenRequests rows={board.openRequests.rows} total={board.openRequests.total} now={now} />
      <BoardCharts data={board.charts} />
      <EnvironmentBoard environments={environments.map((e) => ({ environment: e.environment, counts: e.counts }))} />
    </div>
  );
}
