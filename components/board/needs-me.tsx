import Link from 'next/link';
import { formatAge } from '@/components/ui/progress';
import type { NeedsMe as NeedsMeData } from '@/lib/data/board';

/** The top of the lead's board: what needs them now, each item a link to the step where they act. */
export function NeedsMe({ data, now }: { data: NeedsMeData; now: Date }) {
  const items = [
    ...data.approvals.map((a) => ({ key: `a-${a.id}-${a.environment}`, href: `/requests/${a.id}/steps/deploy`, kind: 'Approve',
      text: `#${a.number} ${a.title}: revision ${a.revision} to ${a.project} ${a.environment}`, tone: 'text-violet-800' })),
    ...data.failedDeployments.map((f) => ({ key: `f-${f.id}-${f.environment}`, href: `/requests/${f.id}/steps/deploy`, kind: 'Failed deploy',
      text: `#${f.number} ${f.title} on ${f.environment}, ${formatAge(new Date(f.at), now)} ago${f.error ? `: ${f.error}` : ''}`, tone: 'text-red-800' })),
    ...data.alerts.map((a) => ({ key: `al-${a.id}-${a.kind}`, href: `/requests/${a.id}/steps/post-deployment`, kind: 'Alert',
      text: `#${a.number} ${a.title}: ${a.summary}`, tone: 'text-red-800' })),
    ...data.signatures.map((s) => ({ key: `s-${s.id}`, href: `/requests/${s.id}/steps/quality-gate`, kind: 'Sign',
      text: `#${s.number} ${s.title}: ${s.unsigned} gate item${s.unsigned === 1 ? '' : 's'} unsigned`, tone: 'text-indigo-800' })),
  ];
  return (
    <section className="rounded-lg border-2 border-indigo-200 bg-white shadow-sm" aria-labelledby="needs-me-title" data-testid="needs-me">
      <header className="flex items-center justify-between border-b border-indigo-100 px-4 py-2.5">
        <h2 id="needs-me-title" className="text-sm font-semibold text-slate-800">What needs you</h2>
        {data.blocked > 0 && <Link href="/requests?status=blocked" className="text-xs text-red-800 hover:underline">{data.blocked} blocked request{data.blocked === 1 ? '' : 's'}</Link>}
      </header>
      <ul className="divide-y divide-slate-100 text-sm">
        {items.map((i) => (
          <li key={i.key} className="flex gap-3 px-4 py-2" data-testid="needs-me-item">
            <span className={`w-24 shrink-0 text-xs font-semibold uppercase tracking-wide ${i.tone}`}>{i.kind}</span>
            <Link href={i.href} className="min-w-0 flex-1 text-indigo-800 hover:underline [overflow-wrap:anywhere]">{i.text}</Link>
          </li>
        ))}
        {items.length === 0 && <li className="px-4 py-2 text-slate-500">Nothing needs you right now.</li>}
      </ul>
    </section>
  );
}
