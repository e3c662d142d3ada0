import 'server-only';
import { getDb } from '../db/client';
import { notFound } from '../domain/errors';
import { canWorkTask, checkCanSignGate, type Actor } from '../domain/permissions';
import type { Where } from './types';
import type { ListRequestsInput } from '../validation/request';

export interface RequestRow {
  id: string;
  number: number;
  title: string;
  kind: string;
  priority: string;
  status: string;
  currentStep: number;
  currentSubject: string;
  currentOwner: string;
  completedSteps: number;
  totalSteps: number;
  targetName: string;
  environment: string;
  authorName: string;
  createdAt: Date;
}

export function requestWhere(actor: Actor, f: Omit<ListRequestsInput, 'page' | 'pageSize'>): Where {
  return {
    status: f.status,
    kind: f.kind,
    targetId: f.targetId,
    currentOwner: f.agentRole || undefined,
    ...(f.mine ? { OR: [{ authorId: actor.id }, { tasks: { some: { assigneeId: actor.id } } }] } : {}),
  };
}

/** The requests list: one page plus the total, newest first. Every signed-in person may read it. */
export async function listRequests(actor: Actor, f: ListRequestsInput): Promise<{ rows: RequestRow[]; total: number }> {
  const db = getDb();
  const where = requestWhere(actor, f);
  const [rows, total] = await Promise.all([
    db.migrationRequest.findMany({
      where,
      orderBy: { createdAt: 'desc' },
      skip: (f.page - 1) * f.pageSize,
      take: f.pageSize,
      select: {
        id: true, number: true, title: true, kind: true, priority: true, status: true, currentStep: true,
        currentSubject: true, currentOwner: true, completedSteps: true, totalSteps: true, createdAt: true,
        target: { select: { name: true, environment: true } },
        author: { select: { name: true } },
      },
    }),
    db.migrationRequest.count({ where }),
  ]);
  return {
    total,
    rows: rows.map(({ target, author, ...r }) => ({ ...r, targetName: target.name, environment: target.environment, authorName: author.name })),
  };
}

/** One request with its workflow, gate and audit log, plus what the viewer may do. */
export async function getRequestDetail(actor: Actor, id: string) {
  const db = getDb();
  const r = await db.migrationRequest.findUnique({
    where: { id },
    include: {
      target: { select: { id: true, name: true, environment: true, engine: true } },
      author: { select: { id: true, name: true } },
      template: { select: { key: true, version: true, name: true } },
      tasks: {
        orderBy: { position: 'asc' },
        include: {
          assignee: { select: { name: true } },
          checklist: { orderBy: { position: 'asc' }, include: { checkedBy: { select: { name: true } } } },
          notes: { orderBy: { createdAt: 'asc' }, include: { author: { select: { name: true } } } },
        },
      },
      gateItems: { orderBy: { position: 'asc' }, include: { signedBy: { select: { name: true } } } },
      audit: { orderBy: { createdAt: 'desc' }, take: 200, include: { actor: { select: { name: true } } } },
    },
  });
  if (!r) throw notFound('Migration request');
  const gateVerdict = checkCanSignGate(actor, r);
  return {
    id: r.id,
    number: r.number,
    title: r.title,
    kind: r.kind,
    description: r.description,
    priority: r.priority,
    status: r.status,
    currentStep: r.currentStep,
    completedSteps: r.completedSteps,
    totalSteps: r.totalSteps,
    createdAt: r.createdAt,
    target: r.target,
    author: r.author,
    template: r.template,
    tasks: r.tasks.map((t) => ({
      id: t.id,
      position: t.position,
      subject: t.subject,
      description: t.description,
      activeForm: t.activeForm,
      status: t.status,
      blockedReason: t.blockedReason,
      owner: t.owner,
      eligibleRoles: t.eligibleRoles,
      isGate: t.isGate,
      blockedByPosition: t.position > 1 ? t.position - 1 : null,
      assignee: t.assignee?.name ?? null,
      startedAt: t.startedAt,
      completedAt: t.completedAt,
      canWork: canWorkTask(actor, t),
      checklist: t.checklist.map((c) => ({ id: c.id, label: c.label, done: c.done, checkedBy: c.checkedBy?.name ?? null, checkedAt: c.checkedAt })),
      notes: t.notes.map((n) => ({ id: n.id, body: n.body, author: n.author.name, createdAt: n.createdAt })),
    })),
    gate: {
      canSign: gateVerdict.ok,
      refusal: gateVerdict.ok ? null : gateVerdict.reason,
      items: r.gateItems.map((g) => ({
        id: g.id, key: g.key, label: g.label, note: g.note, signedBy: g.signedBy?.name ?? null, signedAt: g.signedAt,
        hasEvidence: g.evidence !== null,
      })),
    },
    audit: r.audit.map((a) => ({
      id: a.id, action: a.action, actor: a.actor?.name ?? 'Cutover', entityType: a.entityType,
      before: a.before as Record<string, unknown> | null, after: a.after as Record<string, unknown> | null, createdAt: a.createdAt,
    })),
  };
}
export type RequestDetail = Awaited<ReturnType<typeof getRequestDetail>>;
export type TaskView = RequestDetail['tasks'][number];
