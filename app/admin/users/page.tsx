import { Card, PageTitle } from '@/components/ui/card';
import { UserForm, UserRolesForm } from '@/components/admin/user-forms';
import { listUsers } from '@/lib/data/admin';
import { getViewer } from '@/lib/data/viewer';
import { canManageUsers } from '@/lib/domain/permissions';

export const metadata = { title: 'People' };

export default async function UsersPage() {
  const viewer = await getViewer();
  if (!canManageUsers(viewer)) return <p role="alert" className="text-sm">People are managed by admins.</p>;
  const users = await listUsers(viewer);
  return (
    <>
      <PageTitle sub="Roles decide what people see and may do; agent roles decide which workflow steps they work.">People</PageTitle>
      <div className="grid gap-5 lg:grid-cols-5">
        <ul className="space-y-3 lg:col-span-3">
          {users.map((u) => (
            <li key={u.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="user" data-email={u.email}>
              <div className="mb-2 flex items-center gap-2">
                <span className="font-semibold">{u.name}</span>
                <span className="text-sm text-slate-500">{u.email}</span>
                {!u.active && <span className="text-xs text-red-700">inactive</span>}
              </div>
              <UserRolesForm user={u} />
            </li>
          ))}
        </ul>
        <div className="lg:col-span-2"><Card title="Add a person"><UserForm /></Card></div>
      </div>
    </>
  );
}
