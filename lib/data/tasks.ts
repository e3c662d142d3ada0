import 'server-only';
import { getDb } from '../db/client';
import { hasRole, isAdmin, type Actor } from '../domain/permissions';
import { listWaitingForMe } from './board';
import { assertCanRead } from './access';

/** Open tasks (not completed) whose roles the viewer holds, grouped by role, oldest request first. */
export async function listMyTasks(actor: Actor) {
  assertCanRead(actor);
  const held = [...actor.agentRoles, ...(actor.roles.includes('reviewer') ? ['reviewer'] : [])];
  const tasks = await getDb().task.findMany({
    where: { status: { not: 'completed' }, eligibleRoles: { hasSome: held.length ? held : ['-none-'] } },
    orderBy: [{ request: { createdAt: 'asc' } }, { position: 'asc' }],
    take: 500,
    select: {
      id: true, key: true, subject: true, status: true, position: true, eligibleRoles: true, owner: true, blockedReason: true,
      assignee: { select: { name: true } },
      request: { select: { id: true, number: true, title: true, currentStep: true, target: { select: { name: true, environment: true } } } },
    },
  });
  const groups = new Map<string, typeof rows>();
  const rows = tasks.map((t) => ({
    id: t.id, key: t.key, subject: t.subject, status: t.status, position: t.position, blockedReason: t.blockedReason,
    assignee: t.assignee?.name ?? null,
    // A step is actionable when it is the request's current one.
    ready: t.request.currentStep === t.position,
    request: { id: t.request.id, number: t.request.number, title: t.request.title, target: t.request.target.name, environment: t.request.target.environment },
    roles: t.eligibleRoles,
  }));
  for (const role of held) groups.set(role, rows.filter((r) => r.roles.includes(role)));
  // A lead approves deploys and a reviewer signs gates: work that is not an agent role's step.
  const waiting = await listWaitingForMe(actor);
  return {
    groups: [...groups.entries()].map(([role, items]) => ({ role, items })), heldRoles: held, admin: isAdmin(actor),
    approvals: waiting.approvals, signatures: waiting.signatures, lead: hasRole(actor, 'lead'),
  };
}
