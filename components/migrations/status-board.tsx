'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useState } from 'react';
import type { MigrationStatusBoard } from '@/lib/data/migration-status';
import { requestFromPendingMigrationAction, requestStatusCheckAction } from '@/lib/actions/migration-status-actions';
import { EnvironmentBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from '@/components/requests/use-action-call';
import { usePollWhile } from '@/components/requests/use-poll';

const stateStyle: Record<string, string> = {
  applied: 'bg-emerald-100 text-emerald-900',
  pending: 'bg-slate-100 text-slate-700',
  failed: 'bg-red-100 text-red-900',
  modified: 'bg-amber-100 text-amber-900',
  missing_locally: 'bg-violet-100 text-violet-900',
};

const COUNTED = [
  ['applied', 'applied'],
  ['pending', 'pending'],
  ['failed', 'failed'],
  ['modified', 'modified'],
  ['missing_locally', 'missing'],
] as const;
const PROBLEMS = new Set(['failed', 'modified', 'missing_locally']);

type Board = MigrationStatusBoard & { folder: NonNullable<MigrationStatusBoard['folder']>; targets: NonNullable<MigrationStatusBoard['targets']> };
type Target = Board['targets'][number];
type Filter = 'all' | 'pending' | 'problems';

/** Per target, how many migrations are in each state: the page's answer at a glance. */
function Summary({ targets }: { targets: Target[] }) {
  return (
    <table className="text-xs" data-testid="status-summary">
      <caption className="mb-1 text-left text-xs font-semibold uppercase tracking-wide text-slate-500">Summary per target</caption>
      <thead className="text-slate-500">
        <tr>
          <th className="pr-4 text-left font-medium">Target</th>
          {COUNTED.map(([state, label]) => <th key={state} className="px-2 text-right font-medium">{label}</th>)}
        </tr>
      </thead>
      <tbody>
        {targets.map((t) => {
          const counts = Object.fromEntries(COUNTED.map(([state]) => [state, Object.values(t.states).filter((s) => s.state === state).length]));
          return (
            <tr key={t.id} data-testid="summary-row" data-target={t.name} className="border-t border-slate-100">
              <th scope="row" className="py-1 pr-4 text-left font-medium">
                {t.name} <EnvironmentBadge environment={t.environment} />
              </th>
              {t.check?.status === 'succeeded' ? (
                COUNTED.map(([state]) => (
                  <td key={state} data-count={state} className={`px-2 text-right tabular-nums ${counts[state] && PROBLEMS.has(state) ? 'font-semibold text-red-800' : ''}`}>
                    {counts[state]}
                  </td>
                ))
              ) : (
                <td colSpan={COUNTED.length} className="px-2 text-slate-500">
                  {!t.check ? 'not checked yet' : t.check.error ? <span className="text-red-700">could not be checked: {t.check.error}</span> : `check ${t.check.status.replace('_', ' ')}`}
                </td>
              )}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

/** What each state means, on the page (not only in a tooltip). */
function Legend() {
  return (
    <dl className="grid gap-x-3 gap-y-1 text-xs text-slate-700 sm:grid-cols-[max-content_1fr]" data-testid="status-legend">
      <dt><span className={`rounded px-1.5 py-0.5 ${stateStyle.applied}`}>applied</span></dt>
      <dd>recorded in the target&apos;s <span className="font-mono">_prisma_migrations</span> with the checksum of the file in this folder.</dd>
      <dt><span className={`rounded px-1.5 py-0.5 ${stateStyle.pending}`}>pending</span></dt>
      <dd>not applied to the target yet.</dd>
      <dt><span className={`rounded px-1.5 py-0.5 ${stateStyle.failed}`}>failed</span></dt>
      <dd>started on the target and did not finish; Prisma Migrate applies nothing more until it is resolved.</dd>
      <dt><span className={`rounded px-1.5 py-0.5 ${stateStyle.modified}`}>modified</span></dt>
      <dd data-testid="modified-explained">
        applied, but not from this file: the checksum recorded when it was applied (<em>applied</em>) is not the sha256 of the{' '}
        <span className="font-mono">migration.sql</span> in this folder (<em>file</em>); both are shown in its row. The file was changed after it
        was applied, even if only its line endings (CRLF against LF). Prisma Migrate reports it as drift: put the applied file back, or resolve it
        with the team.
      </dd>
      <dt><span className={`rounded px-1.5 py-0.5 ${stateStyle.missing_locally}`}>missing</span></dt>
      <dd>applied on the target but not in this folder.</dd>
    </dl>
  );
}

/** Migrations down, targets across: the state of each migration on each target, in colour. */
export function StatusBoard({ board, canCheck, canRequest }: { board: Board; canCheck: boolean; canRequest: boolean }) {
  const router = useRouter();
  const { pending, error, call } = useActionCall();
  const [filter, setFilter] = useState<Filter>('all');
  const checking = board.targets.some((t) => t.check && (t.check.status === 'queued' || t.check.status === 'running'));
  usePollWhile(checking);

  const states = (name: string) => board.targets.map((t) => t.states[name]?.state);
  const isPending = (name: string) => states(name).includes('pending');
  const isProblem = (name: string) => states(name).some((s) => s !== undefined && PROBLEMS.has(s));
  const all = board.folder.migrations;
  const missing = [...new Set(board.targets.flatMap((t) => t.missingLocally))];
  const counts = { all: all.length + missing.length, pending: all.filter((m) => isPending(m.name)).length, problems: all.filter((m) => isProblem(m.name)).length + missing.length };
  const rows = filter === 'all' ? all : all.filter((m) => (filter === 'pending' ? isPending(m.name) : isProblem(m.name)));
  const filters: [Filter, string][] = [['all', 'All'], ['pending', 'Pending'], ['problems', 'Problems (failed, modified, missing)']];

  return (
    <section className="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="status-board" data-checking={checking ? 'true' : 'false'}>
      <header className="flex flex-wrap items-center gap-3 border-b border-slate-200 px-4 py-2.5">
        <h2 className="text-sm font-semibold">{board.folder.name}</h2>
        <span className="text-xs text-slate-500">{all.length} migrations</span>
        {board.folders.length > 1 && (
          <nav className="flex gap-2 text-xs" aria-label="Imported folders">
            {board.folders.map((f) => (
              <Link key={f.id} href={`/migrations?folder=${f.id}`} aria-current={f.id === board.folder.id ? 'page' : undefined} className="text-indigo-700 underline aria-[current=page]:font-semibold aria-[current=page]:no-underline">
                {f.name} ({formatTime(f.importedAt)})
              </Link>
            ))}
          </nav>
        )}
        {canCheck && (
          <Button className="ml-auto" variant="secondary" disabled={pending || checking} onClick={() => call(() => requestStatusCheckAction({ folderId: board.folder.id }))}>
            {checking ? 'Checking…' : 'Check all targets'}
          </Button>
        )}
      </header>
      <div className="space-y-4 p-4">
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}</div>
        {/* No buttons without a reason: say who may create a request from a pending migration. */}
        {!canRequest && counts.pending > 0 && (
          <p className="text-xs text-slate-500" data-testid="request-who">Only engineers and leads (or admins) can create a request from a pending migration.</p>
        )}
        <div className="flex flex-wrap gap-8">
          <Summary targets={board.targets} />
          <Legend />
        </div>
        <fieldset className="flex flex-wrap items-center gap-3 text-xs" data-testid="status-filter">
          <legend className="sr-only">Show</legend>
          <span className="font-semibold text-slate-600" aria-hidden>Show:</span>
          {filters.map(([value, label]) => (
            <label key={value} className="flex items-center gap-1">
              <input type="radio" name="status-filter" value={value} checked={filter === value} onChange={() => setFilter(value)} />
              {label} ({counts[value]})
            </label>
          ))}
          <span className="ml-auto text-slate-500" aria-live="polite" data-testid="status-shown">
            Showing {rows.length + (filter === 'pending' ? 0 : missing.length)} of {counts.all}
          </span>
        </fieldset>
        {/* The table scrolls inside its own box, so its header stays in view over 163 rows. */}
        <div className="max-h-[70vh] overflow-auto rounded border border-slate-100" data-testid="status-scroll">
          <table className="min-w-full text-xs">
            <thead className="sticky top-0 z-10 bg-white shadow-[0_1px_0_rgb(226,232,240)]" data-testid="status-head">
              <tr>
                <th scope="col" className="bg-white px-2 py-1.5 text-left font-semibold">Migration</th>
                {board.targets.map((t) => (
                  <th key={t.id} scope="col" className="bg-white px-2 py-1.5 text-left font-semibold">
                    <div>{t.name} <EnvironmentBadge environment={t.environment} /></div>
                    <div className="font-normal text-slate-500" data-testid={`check-${t.name}`}>
                      {t.check ? (t.check.error ? <span className="text-red-700">unreachable</span> : t.check.status.replace('_', ' ')) : 'not checked'}
                    </div>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {rows.map((m) => (
                <tr key={m.name} className="border-t border-slate-100" data-testid="status-row" data-migration={m.name}>
                  <th scope="row" className="px-2 py-1.5 text-left font-mono font-normal">{m.name}</th>
                  {board.targets.map((t) => {
                    const s = t.states[m.name];
                    const made = t.requests[m.name];
                    return (
                      <td key={t.id} className="px-2 py-1.5 align-top" data-testid="status-cell" data-target={t.name} data-migration={m.name} data-state={s?.state ?? 'unknown'}>
                        {s ? <span className={`rounded px-1.5 py-0.5 ${stateStyle[s.state] ?? ''}`}>{s.state}</span> : <span className="text-slate-400">—</span>}
                        {s?.state === 'modified' && (
                          <span className="mt-1 block font-mono text-[11px] text-amber-900" data-testid="checksums">
                            applied {s.appliedChecksum}
                            <br />
                            file {s.fileChecksum}
                          </span>
                        )}
                        {s?.state === 'pending' && made && (
                          <Link href={`/requests/${made.id}`} className="ml-2 text-indigo-700 underline" aria-label={`Open request #${made.number} for ${m.name} on ${t.name}`}>
                            Open request #{made.number}
                          </Link>
                        )}
                        {s?.state === 'pending' && !made && canRequest && (
                          <button
                            className="ml-2 text-indigo-700 underline disabled:text-slate-400"
                            disabled={pending}
                            aria-label={`Create a request for ${m.name} on ${t.name}`}
                            onClick={() => call(() => requestFromPendingMigrationAction({ folderId: board.folder.id, targetId: t.id, migrationName: m.name }).then((r) => {
                              if (r.ok) router.push(`/requests/${r.data.requestId}`);
                              return r;
                            }))}
                          >
                            Create a request
                          </button>
                        )}
                      </td>
                    );
                  })}
                </tr>
              ))}
              {filter !== 'pending' && missing.map((name) => (
                <tr key={`missing-${name}`} className="border-t border-slate-100" data-testid="status-row" data-migration={name}>
                  <th scope="row" className="px-2 py-1.5 text-left font-mono font-normal">{name} <span className="font-sans text-slate-500">(not in this folder)</span></th>
                  {board.targets.map((t) => (
                    <td key={t.id} className="px-2 py-1.5" data-testid="status-cell" data-target={t.name} data-migration={name} data-state={t.missingLocally.includes(name) ? 'missing_locally' : 'unknown'}>
                      {t.missingLocally.includes(name) ? <span className={`rounded px-1.5 py-0.5 ${stateStyle.missing_locally}`}>missing</span> : <span className="text-slate-400">—</span>}
                    </td>
                  ))}
                </tr>
              ))}
              {rows.length === 0 && (filter === 'pending' || missing.length === 0) && (
                <tr><td colSpan={board.targets.length + 1} className="px-2 py-3 text-slate-600">{filter === 'pending' ? 'Nothing pending on any target.' : filter === 'problems' ? 'No problems: nothing failed, modified or missing.' : 'No migrations.'}</td></tr>
              )}
            </tbody>
          </table>
        </div>
      </div>
    </section>
  );
}
