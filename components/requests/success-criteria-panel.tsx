import Link from 'next/link';
import type { SuccessCriterionView } from '@/lib/data/success-criteria';
import { Badge } from '@/components/ui/badge';

/** The procedure's five success criteria, each with its state, the evidence it rests on and what it waits for. */
export function SuccessCriteriaPanel({ criteria, allMet, hasProject }: { criteria: readonly SuccessCriterionView[]; allMet: boolean; hasProject: boolean }) {
  return (
    <section aria-labelledby="success-criteria-title" data-testid="success-criteria" data-all-met={allMet} className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="success-criteria-title" className="text-sm font-semibold">Success criteria</h2>
        <span className="ml-auto">{allMet ? <Badge tone="green">all met</Badge> : <Badge tone="amber">{criteria.filter((c) => c.met).length} of {criteria.length} met</Badge>}</span>
      </header>
      {!hasProject && <p className="px-4 pt-3 text-sm text-slate-600">This request has no project, so it is never deployed through Cutover: the criteria that rest on a deploy stay open.</p>}
      <ul className="divide-y divide-slate-100">
        {criteria.map((c) => (
          <li key={c.key} data-testid={`criterion-${c.key}`} data-met={c.met} className="px-4 py-2.5 text-sm">
            <div className="flex items-center gap-2">
              <span aria-hidden className={c.met ? 'text-emerald-700' : 'text-slate-400'}>{c.met ? '✔' : '○'}</span>
              <span className="font-medium">{c.label}</span>
              <span className="sr-only">{c.met ? 'met' : 'not met'}</span>
            </div>
            {c.reasons.length > 0 && (
              <ul className="ml-6 mt-1 list-disc text-slate-600">
                {c.reasons.map((r) => <li key={r}>{r}</li>)}
              </ul>
            )}
            {c.evidence.length > 0 && (
              <ul className="ml-6 mt-1 space-y-0.5 text-xs">
                {c.evidence.map((e) => (
                  <li key={e.id}>
                    <Badge tone={e.passed ? 'green' : 'red'}>{e.kind.replace('_', ' ')}</Badge>{' '}
                    <Link className="text-indigo-700 underline" href={e.href}>{e.summary}</Link>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
