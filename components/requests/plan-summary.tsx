import type { MigrationPanelView } from '@/lib/data/runs';

type Plan = NonNullable<NonNullable<MigrationPanelView['plan']>['up']>;

/** How a file will run, in one sentence: how many statements, and whether all in one transaction. */
export function PlanSummary({ file, plan }: { file: string; plan: Plan }) {
  return (
    <>
      <span className="font-mono">{file}</span>: {plan.statements} statement{plan.statements === 1 ? '' : 's'},{' '}
      {plan.ownsTransactions
        ? 'manages its own transactions (runs as written)'
        : plan.atomic
          ? 'all in one transaction (a failure changes nothing)'
          : <span className="text-amber-800">not atomic: {plan.outside.map((o) => `line ${o.line} (${o.reason})`).join('; ')} runs outside a transaction</span>}
    </>
  );
}
