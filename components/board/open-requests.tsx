'use client';

import Link from 'next/link';
import { EnvironmentBadge, StatusBadge } from '@/components/ui/badge';
import { formatAge } from '@/components/ui/progress';
import { StepTimeline } from '@/components/requests/step-timeline';
import type { OpenRequestRow } from '@/lib/data/board';

/**
 * Requests not done yet, blocked first then the oldest: where each is, on whom it waits, why it is
 * blocked, and its timeline. A client component given plain rows, so the page's RSC payload carries
 * 40 rows of data rather than their element trees beside the HTML (decision 004); titles are plain
 * links (no prefetch of 40 pages), as in the requests list.
 */
export function OpenRequests({ rows, total, now }: { rows: OpenRequestRow[]; total: number; now: Date }) {
  return (
    <section className="rounded-lg border border-slate-200 bg-white shadow-sm" aria-labelledby="open-requests-title">
      <header className="flex items-center justify-between border-b border-slate-200 px-4 py-2.5">
        <h2 id="open-requests-title" className="text-sm font-semibold text-slate-800">Open requests</h2>
        <span className="text-xs text-slate-500">{rows.length < total ? `${rows.length} of ${total}, ` : `${total}, `}blocked first, then the oldest · <Link href="/requests" className="text-indigo-700 hover:underline">all requests</Link></span>
      </header>
      <div className="overflow-x-auto">
        <table className="w-full text-sm" data-testid="open-requests">
          <thead className="bg-slate-50 text-left text-xs text-slate-600">
            <tr>
              <th scope="col" className="px-3 py-2 font-medium">Request</th>
              <th scope="col" className="px-3 py-2 font-medium">Where</th>
              <th scope="col" className="px-3 py-2 font-medium">Step</th>
              <th scope="col" className="px-3 py-2 font-medium">Waits on</th>
              <th scope="col" className="px-3 py-2 font-medium">Age</th>
              <th scope="col" className="w-48 px-3 py-2 font-medium">Timeline</th>
            </tr>
          </thead>
          <tbody className="divide-y divide-slate-100">
            {rows.map((r) => (
              <tr key={r.id} data-testid="open-request" data-status={r.status}>
                <th scope="row" className="px-3 py-2 text-left font-normal">
                  <a href={`/requests/${r.id}`} className="font-medium text-indigo-800 hover:underline">#{r.number} {r.title}</a>
                  <div className="mt-0.5 flex items-center gap-1"><StatusBadge status={r.status} /> <span className="text-xs text-slate-500">{r.priority}</span></div>
                </th>
                <td className="px-3 py-2 text-xs text-slate-600">{r.project ?? 'no project'} · {r.target} <EnvironmentBadge environment={r.environment} /></td>
                <td className="px-3 py-2 text-xs">{r.currentStep}. {r.currentSubject}</td>
                <td className="px-3 py-2 text-xs" data-testid="waits-on">
                  {r.waiting.blockedReason && <div className="font-medium text-red-800">Blocked: {r.waiting.blockedReason}</div>}
                  <span className="font-mono">{r.waiting.role}</span>
                  {r.waiting.people.length > 0 ? <> · {r.waiting.people.join(', ')}</> : r.waiting.role ? <> · <span className="text-amber-800">nobody holds it</span></> : null}
                </td>
                <td className="px-3 py-2 text-xs tabular-nums">{formatAge(new Date(r.createdAt), now)}</td>
                <td className="px-3 py-2"><StepTimeline steps={r.steps} now={now} label={`Time per step of #${r.number}`} /></td>
              </tr>
            ))}
            {rows.length === 0 && <tr><td colSpan={6} className="px-3 py-3 text-slate-500">Every request is done.</td></tr>}
          </tbody>
        </table>
      </div>
    </section>
  );
}
