import 'server-only';
import { getDb, getPool } from '../db/client';
import { notFound } from '../domain/errors';
import { canManageTargets, canWorkTask, checkCanSignGate, type Actor } from '../domain/permissions';
import { redactTargetAddressDeep, type TargetAddress } from '../domain/redact-address';
import type { ListRequestsInput } from '../validation/request';
import { assertCanRead } from './access';

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

/** WHERE clause and its parameters for the list's filters ($1.. in order). */
function listConditions(actor: Actor, f: Omit<ListRequestsInput, 'page' | 'pageSize'>) {
  const params: unknown[] = [];
  const p = (value: unknown) => `$${params.push(value)}`;
  const conditions: string[] = [];
  if (f.status) conditions.push(`r.status = ${p(f.status)}::"RequestStatus"`);
  if (f.kind) conditions.push(`r.kind = ${p(f.kind)}::"RequestKind"`);
  if (f.targetId) conditions.push(`r.target_id = ${p(f.targetId)}::uuid`);
  // The role that acts next; a completed request has no next step.
  if (f.agentRole) conditions.push(`r.current_owner = ${p(f.agentRole)} AND r.status <> 'completed'`);
  // Two index lookups instead of an OR that would scan every request.
  if (f.mine) {
    const me = p(actor.id);
    conditions.push(`r.id IN (SELECT id FROM migration_requests WHERE author_id = ${me}::uuid
      UNION SELECT request_id FROM tasks WHERE assignee_id = ${me}::uuid)`);
  }
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', params };
}

/**
 * The requests list: one page plus the total, newest first. Anyone who holds a role may read it.
 * Hand-written SQL over the denormalised progress columns: this is the app's hottest page.
 */
export async function listRequests(actor: Actor, f: ListRequestsInput): Promise<{ rows: RequestRow[]; total: number }> {
  assertCanRead(actor);
  const pool = getPool();
  const { where, params } = listConditions(actor, f);
  const [rows, count] = await Promise.all([
    pool.query<RequestRow>(
      `SELECT r.id, r.number, r.title, r.kind::text AS kind, r.priority::text AS priority, r.status::text AS status,
              r.current_step AS "currentStep", r.current_subject AS "currentSubject", r.current_owner AS "currentOwner",
              r.completed_steps AS "completedSteps", r.total_steps AS "totalSteps", r.created_at AS "createdAt",
              t.name AS "targetName", t.environment::text AS environment, u.name AS "authorName"
       FROM migration_requests r
       JOIN target_databases t ON t.id = r.target_id
       JOIN users u ON u.id = r.author_id
       ${where}
       ORDER BY r.created_at DESC, r.number DESC
       LIMIT ${Number(f.pageSize)} OFFSET ${(f.page - 1) * f.pageSize}`,
      params,
    ),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM migration_requests r ${where}`, params),
  ]);
  return { rows: rows.rows, total: count.rows[0].n };
}

/** One request with its workflow, gate and audit log, plus what the viewer may do. */
export async function getRequestDetail(actor: Actor, id: string, opts: { audit?: boolean } = {}) {
  assertCanRead(actor);
  // The page reads its audit log paged (listRequestAudit); the API still gets the latest 200 here.
  const withAudit = opts.audit ?? true;
  const db = getDb();
  const [r, audit] = await Promise.all([db.migrationRequest.findUnique({
    where: { id },
    include: {
      target: { select: { id: true, name: true, environment: true, engine: true, host: true, port: true } },
      author: { select: { id: true, name: true } },
      template: { select: { key: true, version: true, name: true } },
      project: { select: { id: true, name: true } },
      tasks: {
        orderBy: { position: 'asc' },
        include: {
          assignee: { select: { name: true } },
          checklist: { orderBy: { position: 'asc' }, include: { checkedBy: { select: { name: true } } } },
          notes: { orderBy: { createdAt: 'asc' }, include: { author: { select: { name: true } } } },
        },
      },
      gateItems: { orderBy: { position: 'asc' }, include: { signedBy: { select: { name: true } } } },
    },
  }), withAudit
    ? db.auditLog.findMany({ where: { requestId: id }, orderBy: { createdAt: 'desc' }, take: 200, include: { actor: { select: { name: true } } } })
    : Promise.resolve([])]);
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
    target: { id: r.target.id, name: r.target.name, environment: r.target.environment, engine: r.target.engine },
    author: r.author,
    template: r.template,
    project: r.project,
    appBranch: r.appBranch,
    updatedAt: r.updatedAt,
    tasks: r.tasks.map((t) => ({
      id: t.id,
      key: t.key,
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
      /** The step this one still waits for (TaskCreate's blockedBy, while it is not completed). */
      waitingFor: r.tasks.find((p) => p.position === t.position - 1 && p.status !== 'completed')?.subject ?? null,
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
    // Failed runs' audit entries carry the error: without the target's address for those who do not manage targets.
    audit: audit.map((a) => auditView(actor, r.target, a)),
  };
}

type AuditRow = { id: string; action: string; actor: { name: string } | null; entityType: string; before: unknown; after: unknown; createdAt: Date };

/** One audit entry as pages show it: failed runs' errors without the target's address for those who do not manage targets. */
function auditView(actor: Actor, target: TargetAddress, a: AuditRow) {
  const redact = <T>(v: T): T => (canManageTargets(actor) ? v : redactTargetAddressDeep(v, target));
  return {
    id: a.id, action: a.action, actor: a.actor?.name ?? 'Cutover', entityType: a.entityType,
    before: redact(a.before as Record<string, unknown> | null), after: redact(a.after as Record<string, unknown> | null), createdAt: a.createdAt,
  };
}

/**
 * A request's audit log, newest first, one page at a time, optionally only the actions that
 * start with `action` ("run." or "task.complete"); with the distinct actions for the filter.
 */
export async function listRequestAudit(actor: Actor, requestId: string, f: { action?: string; page: number; pageSize: number }) {
  assertCanRead(actor);
  const db = getDb();
  const where = { requestId, ...(f.action ? { action: { startsWith: f.action } } : {}) };
  const [request, rows, total, actions] = await Promise.all([
    db.migrationRequest.findUnique({ where: { id: requestId }, select: { target: { select: { name: true, host: true, port: true } } } }),
    db.auditLog.findMany({
      where, orderBy: [{ createdAt: 'desc' }, { id: 'desc' }], skip: (f.page - 1) * f.pageSize, take: f.pageSize,
      include: { actor: { select: { name: true } } },
    }),
    db.auditLog.count({ where }),
    db.auditLog.groupBy({ by: ['action'], where: { requestId }, orderBy: { action: 'asc' } }),
  ]);
  if (!request) throw notFound('Migration request');
  return {
    entries: rows.map((a) => auditView(actor, request.target, a)),
    total,
    page: f.page,
    pages: Math.max(1, Math.ceil(total / f.pageSize)),
    actions: actions.map((a) => a.action),
  };
}

/**
 * Who holds each role (active people, not automation accounts), names only: the page and the
 * board say on whom a step waits. The users table is small; one read per page.
 */
export async function getRoleHolders(): Promise<Record<string, string[]>> {
  const users = await getPool().query<{ name: string; roles: string[]; agentRoles: string[] }>(
    `SELECT name, roles::text[] AS roles, agent_roles AS "agentRoles" FROM users WHERE active AND kind = 'person' ORDER BY name`,
  );
  const byRole: Record<string, string[]> = {};
  for (const u of users.rows) for (const role of [...u.roles, ...u.agentRoles]) (byRole[role] ??= []).push(u.name);
  return byRole;
}
export type RequestDetail = Awaited<ReturnType<typeof getRequestDetail>>;
export type TaskView = RequestDetail['tasks'][number];
