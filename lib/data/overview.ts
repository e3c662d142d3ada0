import 'server-only';
import { getDb } from '../db/client';
import { DomainError } from '../domain/errors';
import { canViewOverview, type Actor } from '../domain/permissions';
import { ENVIRONMENTS, REQUEST_STATUSES } from '../domain/roles';
import { sharedRead } from './shared-read';

/**
 * The lead's view: counts per status, and per environment what is in flight and at which step.
 * The same for every lead: `sharedMaxAgeMs` lets page views share it (lib/data/shared-read.ts).
 */
export async function getOverview(actor: Actor, opts: { sharedMaxAgeMs?: number } = {}) {
  if (!canViewOverview(actor)) throw new DomainError('forbidden', 'The overview is for leads and admins.');
  return sharedRead('overview', opts.sharedMaxAgeMs ?? 0, readOverview);
}

async function readOverview() {
  const db = getDb();
  const [byStatus, byEnvironment, inFlight] = await Promise.all([
    db.migrationRequest.groupBy({ by: ['status'], _count: { _all: true } }),
    db.$queryRaw<{ environment: string; status: string; n: bigint }[]>`
      SELECT t.environment::text AS environment, r.status::text AS status, count(*) AS n
      FROM migration_requests r JOIN target_databases t ON t.id = r.target_id
      GROUP BY 1, 2`,
    db.migrationRequest.findMany({
      where: { status: { in: ['in_progress', 'blocked', 'open'] } },
      orderBy: { updatedAt: 'desc' },
      take: 60,
      select: {
        id: true, number: true, title: true, status: true, currentStep: true, currentSubject: true, completedSteps: true, totalSteps: true,
        target: { select: { name: true, environment: true } },
      },
    }),
  ]);
  const statusCounts = Object.fromEntries(REQUEST_STATUSES.map((s) => [s, byStatus.find((b) => b.status === s)?._count._all ?? 0]));
  const environments = ENVIRONMENTS.map((env) => ({
    environment: env,
    counts: Object.fromEntries(
      REQUEST_STATUSES.map((s) => [s, Number(byEnvironment.find((b) => b.environment === env && b.status === s)?.n ?? 0)]),
    ) as Record<(typeof REQUEST_STATUSES)[number], number>,
    inFlight: inFlight.filter((r) => r.target.environment === env && r.status !== 'open').slice(0, 15),
  }));
  return { statusCounts: statusCounts as Record<(typeof REQUEST_STATUSES)[number], number>, environments };
}
