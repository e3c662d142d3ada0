import Link from 'next/link';
import type { StepEvidenceView } from '@/lib/data/gate';
import { Badge } from '@/components/ui/badge';

/**
 * What a step Cutover checks rests on: each checklist item "ticked by evidence" (with a link to
 * where its run is shown) or "ticked by hand", and what the step still waits for. Completing the
 * step is refused with the same words until its evidence holds.
 */
export function StepEvidencePanel({ subject, evidence }: { subject: string; evidence: StepEvidenceView }) {
  return (
    <section aria-labelledby="step-evidence-title" data-testid="step-evidence" data-satisfied={evidence.satisfied ? 'true' : 'false'}
      className="rounded-lg border border-slate-200 bg-white p-4 text-sm shadow-sm">
      <h2 id="step-evidence-title" className="mb-2 flex items-center gap-2 text-sm font-semibold">
        Evidence for “{subject}”
        {evidence.satisfied ? <Badge tone="green">holds</Badge> : <Badge tone="amber">waiting</Badge>}
      </h2>
      <ul className="space-y-1.5">
        {evidence.items.map((i) => (
          <li key={i.label} data-testid="step-evidence-item" data-label={i.label} data-by={i.coveredBy ? 'evidence' : 'hand'} data-satisfied={i.satisfied ? 'true' : 'false'}>
            <span aria-hidden className={i.satisfied ? 'text-emerald-600' : 'text-slate-300'}>{i.satisfied ? '☑' : '☐'}</span>{' '}
            <span className={i.satisfied ? 'text-slate-700' : ''}>{i.label}</span>{' '}
            {i.coveredBy ? (
              <span className="text-xs text-slate-500">
                {i.satisfied ? 'ticked by evidence' : 'ticked by evidence when it holds'}
                {evidence.links[i.label] && <> · <Link href={evidence.links[i.label]} className="text-indigo-700 underline">{i.coveredBy.replace('_', ' ')}</Link></>}
              </span>
            ) : (
              <span className="text-xs text-slate-400">ticked by hand</span>
            )}
            {!i.satisfied && i.reason && <span className="block pl-5 text-xs text-amber-900">{i.reason}</span>}
          </li>
        ))}
      </ul>
      {!evidence.satisfied && evidence.waitingFor.length > 0 && (
        <p className="mt-3 text-xs text-slate-600" data-testid="step-evidence-waiting">The step can be completed once it has: {evidence.waitingFor.join(' ')}</p>
      )}
    </section>
  );
}
