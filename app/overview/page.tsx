import Link from 'next/link';
import { StatusBadge } from '@/components/ui/badge';
import { Card, PageTitle } from '@/components/ui/card';
import { StepProgress } from '@/components/ui/progress';
import { EnvironmentBoard } from '@/components/requests/environment-board';
import { getOverview } from '@/lib/data/overview';
import { getViewer } from '@/lib/data/viewer';
import { canViewOverview } from '@/lib/domain/permissions';
import { REQUEST_STATUSES } from '@/lib/domain/roles';

export const metadata = { title: 'Overview' };

export default async function OverviewPage() {
  const viewer = await getViewer();
  if (!canViewOverview(viewer)) {
    return <p className="text-sm text-slate-700" role="alert">The overview is for leads and admins.</p>;
  }
  const { statusCounts, environments } = await getOverview(viewer);
  return (
    <>
      <PageTitle sub="What is in flight, per environment.">Deployment overview</PageTitle>
      <div className="mb-5 grid grid-cols-2 gap-3 sm:grid-cols-4">
        {REQUEST_STATUSES.map((s) => (
          <Link key={s} href={`/requests?status=${s}`} className="rounded-lg border border-slate-200 bg-white p-3 shadow-sm hover:border-indigo-300">
            <div className="text-2xl font-semibold tabular-nums" data-testid={`count-${s}`}>{statusCounts[s]}</div>
            <StatusBadge status={s} />
          </Link>
        ))}
      </div>
      <EnvironmentBoard environments={environments.map((e) => ({ environment: e.environment, counts: e.counts }))} />
      <div className="mt-5 grid gap-4 lg:grid-cols-3">
        {environments.map((env) => (
          <Card key={env.environment} title={`In flight: ${env.environment}`}>
            <ul className="space-y-2 text-sm">
              {env.inFlight.map((r) => (
                <li key={r.id}>
                  <Link href={`/requests/${r.id}`} className="font-medium text-indigo-800 hover:underline">#{r.number} {r.title}</Link>
                  <div className="flex items-center gap-2 text-xs text-slate-600">
                    <StatusBadge status={r.status} /> step {r.currentStep}: {r.currentSubject}
                  </div>
                  <StepProgress done={r.completedSteps} total={r.totalSteps} />
                </li>
              ))}
              {env.inFlight.length === 0 && <li className="text-slate-500">Nothing in flight.</li>}
            </ul>
          </Card>
        ))}
      </div>
    </>
  );
}
