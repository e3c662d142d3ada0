import Link from 'next/link';

export const metadata = { title: 'Not found' };

/** The 404 page: says what happened and offers the way back (rendered inside the layout, with its navigation). */
export default function NotFound() {
  return (
    <div className="mx-auto max-w-xl rounded-lg border border-slate-200 bg-white p-6 shadow-sm" data-testid="not-found">
      <p className="text-sm font-semibold text-slate-500">404</p>
      <h1 className="mt-1 text-xl font-semibold tracking-tight text-slate-900">This page does not exist</h1>
      <p className="mt-2 text-sm text-slate-600">
        The address may be mistyped, or the request, run or folder it pointed to is not there (or not for you to see).
      </p>
      <ul className="mt-4 flex flex-wrap gap-4 text-sm">
        <li><Link href="/requests" className="text-indigo-700 underline">Back to the requests</Link></li>
        <li><Link href="/tasks" className="text-indigo-700 underline">My tasks</Link></li>
        <li><Link href="/migrations" className="text-indigo-700 underline">Migrations</Link></li>
      </ul>
    </div>
  );
}
