import { BackupPanel } from '@/components/requests/backup-panel';
import { getBackupPanel } from '@/lib/data/backups';
import type { Actor } from '@/lib/domain/permissions';

/** The Create backup step's panel, read for the viewer (its own read, so the page adds one line). */
export async function BackupSection({ viewer, requestId, canRun, runners }: { viewer: Actor; requestId: string; canRun: boolean; runners: readonly string[] }) {
  return <BackupPanel requestId={requestId} panel={await getBackupPanel(viewer, requestId)} canRun={canRun} runners={runners} />;
}
