'use client';

import { usePollWhile } from '@/components/requests/use-poll';

/**
 * Reloads the board's data while runs or deploys are queued or running (every 3 s: the board
 * is heavier than a run panel and a lead watches it, not a log), and says so.
 */
export function BoardRefresh({ runs, deployments, generatedAt }: { runs: number; deployments: number; generatedAt: string }) {
  const active = runs + deployments > 0;
  usePollWhile(active, 3000);
  return (
    <p className="text-xs text-slate-500" data-testid="board-refresh" data-active={active ? 'true' : 'false'} aria-live="polite">
      {active
        ? `${deployments} deploy${deployments === 1 ? '' : 's'} and ${runs} run${runs === 1 ? '' : 's'} in progress: refreshing every 3 s.`
        : 'Nothing running.'}{' '}
      As of {generatedAt.slice(11, 19)} UTC.
    </p>
  );
}
