import { Card, PageTitle } from '@/components/ui/card';
import { ProjectForm } from '@/components/admin/project-form';
import { ProjectList } from '@/components/admin/project-list';
import { listTargetOptions } from '@/lib/data/admin';
import { listProjects } from '@/lib/data/projects';
import { getViewer } from '@/lib/data/viewer';
import { isAdmin } from '@/lib/domain/permissions';

export const metadata = { title: 'Projects' };

export default async function ProjectsPage() {
  const viewer = await getViewer();
  if (!isAdmin(viewer)) return <p role="alert" className="text-sm">Projects are managed by admins.</p>;
  const [projects, targets] = await Promise.all([listProjects(viewer), listTargetOptions()]);
  return (
    <>
      <PageTitle sub="An application: its git repository (where Update app code reads schema.prisma and Deploy pushes the migration) and its environments in promotion order. Credentials are encrypted at rest and never shown.">
        Projects
      </PageTitle>
      <div className="grid gap-5 lg:grid-cols-5">
        <div className="lg:col-span-3"><ProjectList projects={projects} targets={targets} /></div>
        <div className="lg:col-span-2">
          <Card title="Register a project"><ProjectForm /></Card>
        </div>
      </div>
    </>
  );
}
