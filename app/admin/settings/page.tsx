import { Card, PageTitle } from '@/components/ui/card';
import { FenceSettingsForm } from '@/components/admin/fence-settings-form';
import { getFenceSettings } from '@/lib/data/app-settings';
import { getViewer } from '@/lib/data/viewer';
import { isAdmin } from '@/lib/domain/permissions';

export const metadata = { title: 'Settings' };

export default async function SettingsPage() {
  const viewer = await getViewer();
  if (!isAdmin(viewer)) return <p role="alert" className="text-sm">Settings are managed by admins.</p>;
  const settings = await getFenceSettings(viewer);
  return (
    <>
      <PageTitle sub="The SQL fence refuses statements that reach beyond one database, when a migration is saved or imported and again before it runs.">
        Settings
      </PageTitle>
      <div className="grid gap-5 lg:grid-cols-5">
        <div className="lg:col-span-3">
          <Card title="Extension allow list">
            <FenceSettingsForm allowedExtensions={settings.allowedExtensions} defaults={settings.defaults} />
          </Card>
        </div>
        <div className="lg:col-span-2">
          <Card title="What the fence refuses">
            <p className="mb-2 text-sm text-slate-600">
              An admin may let one kind through for one target (Targets, Edit). PL/pgSQL can build SQL at run time, so the fence
              never replaces the least privilege of the rehearsal sandbox.
            </p>
            <ul className="list-disc space-y-1 pl-5 text-sm text-slate-800">
              {settings.kinds.map((k) => (
                <li key={k.id}>{k.label} <span className="font-mono text-xs text-slate-500">({k.id})</span></li>
              ))}
            </ul>
          </Card>
        </div>
      </div>
    </>
  );
}
