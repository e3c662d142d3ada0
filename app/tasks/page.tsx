import Link from 'next/link';
import { EnvironmentBadge, StatusBadge } from '@/components/ui/badge';
import { Card, PageTitle } from '@/components/ui/card';
import { listMyTasks } from '@/lib/data/tasks';
import { getViewer } from '@/lib/data/viewer';

export const metadata = { title: 'My tasks' };

export default async function MyTasksPage() {
  const viewer = await getViewer();
  const { groups, heldRoles } = await listMyTasks(viewer);
  return (
    <>
      <PageTitle sub={heldRoles.length ? `Open steps for the roles you hold: ${heldRoles.join(', ')}` : undefined}>My tasks</PageTitle>
      {heldRoles.length === 0 && (
        <p className="text-sm text-slate-600">You hold no agent role yet. An admin can assign roles under People.</p>
      )}
      <div className="grid gap-4 md:grid-cols-2">
        {groups.map((g) => (
          <Card key={g.role} title={<span className="font-mono">{g.role}</span>} actions={<span className="text-xs text-slate-500">{g.items.length} open</span>}>
            <ul className="divide-y divide-slate-100 text-sm" data-testid={`tasks-${g.role}`}>
              {g.items.map((t) => (
                <li key={t.id} className="flex items-center gap-2 py-2">
                  <div className="min-w-0 flex-1">
                    <Link href={`/requests/${t.request.id}#task-${t.position}`} className="font-medium text-indigo-800 hover:underline">
                      {t.subject}
                    </Link>
                    <div className="truncate text-xs text-slate-500">
                      #{t.request.number} {t.request.title} · {t.request.target} <EnvironmentBadge environment={t.request.environment} />
                    </div>
                  </div>
                  {t.ready ? <StatusBadge status={t.status} /> : <span className="text-xs text-slate-400">waiting</span>}
                </li>
              ))}
              {g.items.length === 0 && <li className="py-2 text-slate-500">Nothing open.</li>}
            </ul>
          </Card>
        ))}
      </div>
    </>
  );
}
