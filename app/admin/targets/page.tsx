import { Card, PageTitle } from '@/components/ui/card';
import { TargetForm } from '@/components/admin/target-form';
import { TargetList } from '@/components/admin/target-list';
import { listTargets } from '@/lib/data/admin';
import { getViewer } from '@/lib/data/viewer';
import { canManageTargets } from '@/lib/domain/permissions';

export const metadata = { title: 'Target databases' };

export default async function TargetsPage() {
  const viewer = await getViewer();
  if (!canManageTargets(viewer)) return <p role="alert" className="text-sm">Target databases are managed by admins.</p>;
  const targets = await listTargets(viewer);
  return (
    <>
      <PageTitle sub="The databases migrations run against. Passwords are encrypted at rest and never shown.">Target databases</PageTitle>
      <div className="grid gap-5 lg:grid-cols-5">
        <div className="lg:col-span-3"><TargetList targets={targets} /></div>
        <div className="lg:col-span-2">
          <Card title="Register a target"><TargetForm /></Card>
        </div>
      </div>
    </>
  );
}
