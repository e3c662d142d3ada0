import Link from 'next/link';
import type { WaitingOn } from '@/lib/domain/request-focus';

/** The line at the top of a request: what it waits for and on whom, with a link to that step. */
export function RequestSummary({ waiting, currentHref }: { waiting: WaitingOn; currentHref: string | null }) {
  const tone = waiting.blockedReason ? 'bg-red-50 text-red-900 ring-red-200' : waiting.role ? 'bg-indigo-50 text-indigo-900 ring-indigo-200' : 'bg-emerald-50 text-emerald-900 ring-emerald-200';
  return (
    <p className={`rounded-md px-3 py-2 text-sm ring-1 ${tone}`} data-testid="request-summary" role="status">
      {waiting.text}
      {currentHref && <> <Link href={currentHref} className="font-medium underline">Go to the step</Link></>}
    </p>
  );
}
