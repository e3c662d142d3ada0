'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
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
};

type Board = MigrationStatusBoard & { folder: NonNullable<MigrationStatusBoard['folder']>; targets: NonNullable<MigrationStatusBoard['targets']> };

/** Migrations down, targets across: the state of each migration on each target, in colour. */
export function StatusBoard({ board, canCheck, canRequest }: { board: Board; canCheck: boolean; canRequest: boolean }) {
  const router = useRouter();
  const { pending, error, call } = useActionCall();
  const checking = board.targets.some((t) => t.check && (t.check.status === 'queued' || t.check.status === 'running'));
  usePollWhile(checking);

  return (
    <section className="rounded-lg border border-slate-200 bg-white shadow-sm" data-testid="status-board" data-checking={checking ? 'true' : 'false'}>
      <header className="flex flex-wrap items-center gap-3 border-b border-slate-200 px-4 py-2.5">
        <h2 className="text-sm font-semibold">{board.folder.name}</h2>
        <span className="text-xs text-slate-500">{board.folder.migrations.length} migrations</span>
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
      <div className="overflow-x-auto p-4">
        <div role="alert" aria-live="assertive">{error && <p className="mb-2 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}</div>
        <table className="text-xs">
          <thead>
            <tr>
              <th className="pr-4 text-left font-semibold">Migration</th>
              {board.targets.map((t) => (
                <th key={t.id} className="px-2 text-left font-semibold">
                  <div>{t.name}</div>
                  <EnvironmentBadge environment={t.environment} />
                  <div className="font-normal text-slate-500" data-testid={`check-${t.name}`}>{t.check ? (t.check.error ? <span className="text-red-700" title={t.check.error}>unreachable</span> : t.check.status) : 'not checked'}</div>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {board.folder.migrations.map((m) => (
              <tr key={m.name} className="border-t border-slate-100">
                <td className="py-1.5 pr-4 font-mono">{m.name}</td>
                {board.targets.map((t) => {
                  const s = t.states[m.name];
                  return (
                    <td key={t.id} className="px-2 py-1.5" data-testid="status-cell" data-target={t.name} data-migration={m.name} data-state={s?.state ?? 'unknown'}>
                      {s ? (
                        <span className={`rounded px-1.5 py-0.5 ${stateStyle[s.state] ?? ''}`} title={s.state === 'modified' ? `applied ${s.appliedChecksum}, file ${s.fileChecksum}` : undefined}>
                          {s.state}
                        </span>
                      ) : (
                        <span className="text-slate-400">—</span>
                      )}
                      {s?.state === 'pending' && canRequest && (
                        <button
                          className="ml-2 text-indigo-700 underline disabled:text-slate-400"
                          disabled={pending}
                          onClick={() => call(() => requestFromPendingMigrationAction({ folderId: board.folder.id, targetId: t.id, migrationName: m.name }).then((r) => {
                            if (r.ok) router.push(`/requests/${r.data.requestId}`);
                            return r;
                          }))}
                        >
                          request
                        </button>
                      )}
                    </td>
                  );
                })}
              </tr>
            ))}
            {board.targets.some((t) => t.missingLocally.length) && (
              <tr className="border-t border-slate-100 text-slate-600">
                <td className="py-1.5 pr-4">applied but not in this folder</td>
                {board.targets.map((t) => <td key={t.id} className="px-2 py-1.5 font-mono">{t.missingLocally.join(', ')}</td>)}
              </tr>
            )}
          </tbody>
        </table>
      </div>
    </section>
  );
}
