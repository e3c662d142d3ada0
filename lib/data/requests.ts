import 'server-only';
import type { Pool } from 'pg';
import { getPool } from '../db/client';
import type { DbEngine, Environment, Priority, RequestKind, RequestStatus, TaskStatus } from '../generated/prisma/enums';
import { notFound } from '../domain/errors';
import { canManageTargets, canWorkTask, checkCanSignGate, type Actor } from '../domain/permissions';
import { redactTargetAddressDeep, type TargetAddress } from '../domain/redact-address';
import { accountLabelSql, mayReleaseTask } from '../domain/task-shape';
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

interface DetailRow {
  id: string; number: number; title: string; kind: RequestKind; description: string; priority: Priority; status: RequestStatus;
  currentStep: number; completedSteps: number; totalSteps: number; createdAt: Date; updatedAt: Date; authorId: string; appBranch: string | null;
  targetId: string; targetName: string; targetEnvironment: Environment; targetEngine: DbEngine; targetHost: string | null; targetPort: number | null;
  authorName: string; templateKey: string; templateVersion: number; templateName: string; projectId: string | null; projectName: string | null;
}
interface TaskRow {
  id: string; key: string; position: number; subject: string; description: string; activeForm: string; status: TaskStatus;
  blockedReason: string | null; owner: string; eligibleRoles: string[]; isGate: boolean; assignee: string | null; startedAt: Date | null; completedAt: Date | null;
  assigneeId: string | null; assigneeKind: string | null; assigneeOwnerId: string | null;
}
interface ChecklistRow { id: string; taskId: string; label: string; done: boolean; checkedBy: string | null; checkedAt: Date | null }
interface NoteRow { id: string; taskId: string; body: string; author: string; createdAt: Date }
interface GateItemRow { id: string; key: string; label: string; note: string | null; signedBy: string | null; signedAt: Date | null; hasEvidence: boolean }

/**
 * One request with its workflow, gate and audit log, plus what the viewer may do. Every request
 * page and GET /api/v1/requests/:id read it: hand-written SQL on the shared pool, six statements
 * in parallel (Prisma's nested include cost ~10 ms of CPU a page; these cost ~1).
 */
export async function getRequestDetail(actor: Actor, id: string, opts: { audit?: boolean } = {}) {
  assertCanRead(actor);
  // The page reads its audit log paged (listRequestAudit); the API still gets the latest 200 here.
  const withAudit = opts.audit ?? true;
  const pool = getPool();
  const [request, taskRows, checklistRows, noteRows, gateRows, auditRows] = await Promise.all([
    pool.query<DetailRow>(
      `SELECT r.id, r.number, r.title, r.kind::text AS kind, r.description, r.priority::text AS priority, r.status::text AS status,
              r.current_step AS "currentStep", r.completed_steps AS "completedSteps", r.total_steps AS "totalSteps",
              r.created_at AS "createdAt", r.updated_at AS "updatedAt", r.author_id AS "authorId", r.app_branch AS "appBranch",
              t.id AS "targetId", t.name AS "targetName", t.environment::text AS "targetEnvironment", t.engine::text AS "targetEngine",
              t.host AS "targetHost", t.port AS "targetPort", u.name AS "authorName",
              w.key AS "templateKey", w.version AS "templateVersion", w.name AS "templateName", p.id AS "projectId", p.name AS "projectName"
       FROM migration_requests r
       JOIN target_databases t ON t.id = r.target_id
       JOIN users u ON u.id = r.author_id
       JOIN workflow_templates w ON w.id = r.template_id
       LEFT JOIN projects p ON p.id = r.project_id
       WHERE r.id = $1::uuid`,
      [id],
    ),
    pool.query<TaskRow>(
      `SELECT t.id, t.key, t.position, t.subject, t.description, t.active_form AS "activeForm", t.status::text AS status,
              t.blocked_reason AS "blockedReason", t.owner, t.eligible_roles AS "eligibleRoles", t.is_gate AS "isGate",
              ${accountLabelSql('u')} AS assignee, t.started_at AS "startedAt", t.completed_at AS "completedAt",
              t.assignee_id AS "assigneeId", u.kind::text AS "assigneeKind", u.owner_id AS "assigneeOwnerId"
       FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id
       WHERE t.request_id = $1::uuid ORDER BY t.position`,
      [id],
    ),
    pool.query<ChecklistRow>(
      `SELECT c.id, c.task_id AS "taskId", c.label, c.done, ${accountLabelSql('u')} AS "checkedBy", c.checked_at AS "checkedAt"
       FROM tasks t JOIN checklist_items c ON c.task_id = t.id LEFT JOIN users u ON u.id = c.checked_by_id
       WHERE t.request_id = $1::uuid ORDER BY c.task_id, c.position`,
      [id],
    ),
    pool.query<NoteRow>(
      `SELECT n.id, n.task_id AS "taskId", n.body, ${accountLabelSql('u')} AS author, n.created_at AS "createdAt"
       FROM tasks t JOIN task_notes n ON n.task_id = t.id JOIN users u ON u.id = n.author_id
       WHERE t.request_id = $1::uuid ORDER BY n.task_id, n.created_at`,
      [id],
    ),
    pool.query<GateItemRow>(
      `SELECT g.id, g.key, g.label, g.note, u.name AS "signedBy", g.signed_at AS "signedAt", g.evidence IS NOT NULL AS "hasEvidence"
       FROM gate_items g LEFT JOIN users u ON u.id = g.signed_by_id
       WHERE g.request_id = $1::uuid ORDER BY g.position`,
      [id],
    ),
    withAudit ? auditRowsOf(pool, id, { limit: 200, offset: 0 }) : Promise.resolve([]),
  ]);
  const r = request.rows[0];
  if (!r) throw notFound('Migration request');
  const gateVerdict = checkCanSignGate(actor, r);
  const checklists = groupBy(checklistRows.rows, (c) => c.taskId);
  const notes = groupBy(noteRows.rows, (n) => n.taskId);
  const tasks = taskRows.rows;
  const target = { id: r.targetId, name: r.targetName, host: r.targetHost, port: r.targetPort };
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
    target: { id: r.targetId, name: r.targetName, environment: r.targetEnvironment, engine: r.targetEngine },
    author: { id: r.authorId, name: r.authorName },
    template: { key: r.templateKey, version: r.templateVersion, name: r.templateName },
    project: r.projectId ? { id: r.projectId, name: r.projectName! } : null,
    appBranch: r.appBranch,
    updatedAt: r.updatedAt,
    tasks: tasks.map((t) => ({
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
      waitingFor: tasks.find((p) => p.position === t.position - 1 && p.status !== 'completed')?.subject ?? null,
      assignee: t.assignee,
      startedAt: t.startedAt,
      completedAt: t.completedAt,
      canWork: canWorkTask(actor, t),
      /** "Release" (hand it back): see mayReleaseTask. */
      canRelease: t.assigneeId !== null && t.status !== 'completed' && mayReleaseTask(actor, { id: t.assigneeId, kind: t.assigneeKind, ownerId: t.assigneeOwnerId }),
      checklist: (checklists.get(t.id) ?? []).map((c) => ({ id: c.id, label: c.label, done: c.done, checkedBy: c.checkedBy, checkedAt: c.checkedAt })),
      notes: (notes.get(t.id) ?? []).map((n) => ({ id: n.id, body: n.body, author: n.author, createdAt: n.createdAt })),
    })),
    gate: {
      canSign: gateVerdict.ok,
      refusal: gateVerdict.ok ? null : gateVerdict.reason,
      items: gateRows.rows.map((g) => ({ id: g.id, key: g.key, label: g.label, note: g.note, signedBy: g.signedBy, signedAt: g.signedAt, hasEvidence: g.hasEvidence })),
    },
    // Failed runs' audit entries carry the error: without the target's address for those who do not manage targets.
    audit: auditRows.map((a) => auditView(actor, target, a)),
  };
}

function groupBy<T>(rows: readonly T[], key: (row: T) => string): Map<string, T[]> {
  const by = new Map<string, T[]>();
  for (const row of rows) (by.get(key(row)) ?? by.set(key(row), []).get(key(row))!).push(row);
  return by;
}

/** A request's audit rows, newest first, optionally only the actions that start with `action`. */
async function auditRowsOf(pool: Pool, requestId: string, f: { action?: string; limit: number; offset: number }): Promise<AuditRow[]> {
  const { rows } = await pool.query<Omit<AuditRow, 'actor'> & { actorName: string | null }>(
    `SELECT a.id, a.action, ${accountLabelSql('u')} AS "actorName", a.entity_type AS "entityType", a.before, a.after, a.created_at AS "createdAt"
     FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id
     WHERE a.request_id = $1::uuid ${f.action ? `AND starts_with(a.action, $4)` : ''}
     ORDER BY a.created_at DESC, a.id DESC LIMIT $2 OFFSET $3`,
    f.action ? [requestId, f.limit, f.offset, f.action] : [requestId, f.limit, f.offset],
  );
  return rows.map(({ actorName, ...a }) => ({ ...a, actor: actorName === null ? null : { name: actorName } }));
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
  const pool = getPool();
  const [request, rows, counts] = await Promise.all([
    pool.query<TargetAddress>(
      `SELECT t.name, t.host, t.port FROM migration_requests r JOIN target_databases t ON t.id = r.target_id WHERE r.id = $1::uuid`,
      [requestId],
    ),
    auditRowsOf(pool, requestId, { action: f.action, limit: f.pageSize, offset: (f.page - 1) * f.pageSize }),
    // Every action of the request with its count: the filter's options, and the total of those the filter keeps.
    pool.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM audit_log WHERE request_id = $1::uuid GROUP BY action ORDER BY action`,
      [requestId],
    ),
  ]);
  if (!request.rows[0]) throw notFound('Migration request');
  const total = counts.rows.filter((a) => !f.action || a.action.startsWith(f.action)).reduce((n, a) => n + a.n, 0);
  return {
    entries: rows.map((a) => auditView(actor, request.rows[0], a)),
    total,
    page: f.page,
    pages: Math.max(1, Math.ceil(total / f.pageSize)),
    actions: counts.rows.map((a) => a.action),
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
