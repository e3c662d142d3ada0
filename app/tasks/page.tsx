import Link from 'next/link';
import { EnvironmentBadge, StatusBadge } from '@/components/ui/badge';
import { Card, PageTitle } from '@/components/ui/card';
import { listMyTasks } from '@/lib/data/tasks';
import { getViewer } from '@/lib/data/viewer';

export const metadata = { title: 'My tasks' };

export default async function MyTasksPage() {
  const viewer = await getViewer();
  const { groups, heldRoles, approvals, signatures, lead } = await listMyTasks(viewer);
  const nothingToHold = heldRoles.length === 0 && !lead;
  return (
    <>
      <PageTitle sub={heldRoles.length ? `Open steps for the roles you hold: ${heldRoles.join(', ')}` : lead ? 'Deploys waiting for your approval.' : undefined}>My tasks</PageTitle>
      {nothingToHold && (
        <p className="text-sm text-slate-600">You hold no agent role yet. An admin can assign roles under People.</p>
      )}
      <div className="grid gap-4 md:grid-cols-2">
        {lead && (
          <Card title="Approvals waiting for you" actions={<span className="text-xs text-slate-500">{approvals.length} waiting</span>}>
            <ul className="divide-y divide-slate-100 text-sm" data-testid="tasks-approvals">
              {approvals.map((a) => (
                <li key={`${a.id}-${a.environment}`} className="py-2">
                  <Link href={`/requests/${a.id}/steps/deploy`} className="font-medium text-indigo-800 hover:underline">
                    Approve revision {a.revision} for {a.project} {a.environment}
                  </Link>
                  <div className="truncate text-xs text-slate-500">#{a.number} {a.title} · the quality gate passed</div>
                </li>
              ))}
              {approvals.length === 0 && <li className="py-2 text-slate-500">No deploy waits for your approval.</li>}
            </ul>
          </Card>
        )}
        {signatures.length > 0 && (
          <Card title="Gates waiting for your signature" actions={<span className="text-xs text-slate-500">{signatures.length} open</span>}>
            <ul className="divide-y divide-slate-100 text-sm" data-testid="tasks-signatures">
              {signatures.map((s) => (
                <li key={s.id} className="py-2">
                  <Link href={`/requests/${s.id}/steps/quality-gate`} className="font-medium text-indigo-800 hover:underline">#{s.number} {s.title}</Link>
                  <div className="text-xs text-slate-500">{s.unsigned} item{s.unsigned === 1 ? '' : 's'} unsigned{s.signedByMe ? `, ${s.signedByMe} signed by you` : ''}</div>
                </li>
              ))}
            </ul>
          </Card>
        )}
        {groups.map((g) => (
          <Card key={g.role} title={<span className="font-mono">{g.role}</span>} actions={<span className="text-xs text-slate-500">{g.items.length} open</span>}>
            <ul className="divide-y divide-slate-100 text-sm" data-testid={`tasks-${g.role}`}>
              {g.items.map((t) => (
                <li key={t.id} className="flex items-center gap-2 py-2">
                  <div className="min-w-0 flex-1">
                    <Link href={`/requests/${t.request.id}/steps/${t.key}`} className="font-medium text-indigo-800 hover:underline">
                      {t.subject}
                    </Link>
                    <div className="truncate text-xs text-slate-500">
                      #{t.request.number} {t.request.title} · {t.request.target} <EnvironmentBadge environment={t.request.environment} />
                    </div>
                    {t.status === 'blocked' && t.blockedReason && <div className="text-xs text-red-800">Blocked: {t.blockedReason}</div>}
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
