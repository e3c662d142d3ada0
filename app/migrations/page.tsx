import { PageTitle } from '@/components/ui/card';
import { ImportFolderForm } from '@/components/migrations/import-folder-form';
import { StatusBoard } from '@/components/migrations/status-board';
import { getMigrationStatusBoard } from '@/lib/data/migration-status';
import { getViewer } from '@/lib/data/viewer';
import { canFileRequest, hasRole, isAdmin } from '@/lib/domain/permissions';

export const metadata = { title: 'Migration status' };

export default async function MigrationStatusPage({ searchParams }: { searchParams: Promise<{ folder?: string }> }) {
  const viewer = await getViewer();
  const { folder } = await searchParams;
  const board = await getMigrationStatusBoard(viewer, folder && /^[0-9a-f-]{36}$/i.test(folder) ? folder : undefined);
  const canCheck = isAdmin(viewer) || hasRole(viewer, 'lead') || viewer.agentRoles.includes('database-administrator');
  return (
    <>
      <PageTitle sub="Like prisma migrate status, for every target at once: import a Prisma migrations folder and compare.">Migration status</PageTitle>
      {canCheck && <ImportFolderForm />}
      {board.folder ? (
        <StatusBoard board={board as Required<typeof board> & { folder: NonNullable<typeof board.folder> }} canCheck={canCheck} canRequest={canFileRequest(viewer)} />
      ) : (
        <p className="mt-4 text-sm text-slate-600">No migrations folder imported yet.</p>
      )}
    </>
  );
}
