import { Card, PageTitle } from '@/components/ui/card';
import { getRolelessViewer } from '@/lib/data/viewer';

export const metadata = { title: 'No role yet' };

/** Where an account without a role lands: it may sign in, but sees no requests, runs or SQL until an admin gives it a role. */
export default async function NoRolePage() {
  const { admins, ...viewer } = await getRolelessViewer();
  return (
    <div className="mx-auto max-w-xl" data-testid="no-role">
      <PageTitle>Your account has no role yet</PageTitle>
      <Card>
        <div className="space-y-3 text-sm text-slate-700">
          <p>
            You are signed in as <strong>{viewer.name}</strong> ({viewer.email}), but your account holds no role, so Cutover shows you no
            requests, runs, snapshots, SQL or audit entries yet.
          </p>
          <p>
            Ask an admin to give you a role (engineer, reviewer, lead) or an agent role on the <strong>People</strong> page.
            {admins.length > 0 ? ' Admins:' : null}
          </p>
          {admins.length > 0 && (
            <ul className="list-disc pl-5" data-testid="admin-names">
              {admins.map((a) => (
                <li key={a.email}>
                  {a.name} (<a className="text-indigo-700 underline" href={`mailto:${a.email}`}>{a.email}</a>)
                </li>
              ))}
            </ul>
          )}
          <p className="text-slate-500">Roles apply at once: reload this page after an admin has added yours.</p>
        </div>
      </Card>
    </div>
  );
}
