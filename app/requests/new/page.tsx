import { PageTitle } from '@/components/ui/card';
import { FileRequestForm } from '@/components/requests/file-request-form';
import { listTargetOptions } from '@/lib/data/admin';
import { listProjectOptions } from '@/lib/data/projects';
import { getViewer } from '@/lib/data/viewer';

export const metadata = { title: 'File a request' };

export default async function NewRequestPage() {
  const viewer = await getViewer();
  const [targets, projects] = await Promise.all([listTargetOptions(), listProjectOptions(viewer)]);
  return (
    <div className="max-w-2xl">
      <PageTitle sub="Cutover turns it into the nine-step database migration workflow.">File a migration request</PageTitle>
      <FileRequestForm targets={targets} projects={projects} />
    </div>
  );
}
