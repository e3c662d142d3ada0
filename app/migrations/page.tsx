import { PageTitle } from '@/components/ui/card';
import { ImportFolderForm } from '@/components/migrations/import-folder-form';
import { StatusBoard } from '@/components/migrations/status-board';
import { getMigrationStatusBoard } from '@/lib/data/migration-status';
import { getViewer } from '@/lib/data/viewer';
import { canFileRequest } from '@/lib/domain/permissions';
import { canCheckMigrationStatus } from '@/lib/domain/run-rules';

export const metadata = { title: 'Migration status' };

export default async function MigrationStatusPage({ searchParams }: { searchParams: Promise<{ folder?: string }> }) {
  const viewer = await getViewer();
  const { folder } = await searchParams;
  const board = await getMigrationStatusBoard(viewer, folder && /^[0-9a-f-]{36}$/i.test(folder) ? folder : undefined);
  const canCheck = canCheckMigrationStatus(viewer);
  return (
    <>
      <PageTitle sub="Like prisma migrate status, for every target at once: import a Prisma migrations folder and compare.">Migration status</PageTitle>
      {canCheck ? <ImportFolderForm /> : <p className="mb-4 text-xs text-slate-500" data-testid="migrations-who">Only admins, leads and holders of database-administrator can import a folder and check targets.</p>}
      {board.folder ? (
        <StatusBoard board={board as Required<typeof board> & { folder: NonNullable<typeof board.folder> }} canCheck={canCheck} canRequest={canFileRequest(viewer)} />
      ) : (
        <div className="mt-4 space-y-1 text-sm text-slate-600" data-testid="migrations-empty">
          <p>No migrations folder imported yet.</p>
          <p>
            From your app&apos;s repository, pack the folder with <code className="rounded bg-slate-100 px-1 font-mono text-xs">tar czf migrations.tar.gz prisma/migrations</code>
            {canCheck ? ' and import the archive above.' : ' and ask an admin, a lead or a database-administrator to import it.'}
          </p>
        </div>
      )}
    </>
  );
}
