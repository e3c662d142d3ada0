import { getDb, getPool, type Tx } from '../db/client';
import { DomainError, forbidden, notFound } from '../domain/errors';
import { NO_ROLE_MESSAGE, holdsAnyRole, isAdmin } from '../domain/permissions';
import type { TaskStatus } from '../domain/roles';
import { STEP_COVERAGE, evaluateStep } from '../domain/step-evidence';
import { toTaskShape, type TaskAssignee, type TaskRow, type TaskShape } from '../domain/task-shape';
import { loadActor, loadSessionActor, type AccountKind, type LoadedActor } from '../auth/actor';
import {
  BlockTaskWithReasonSchema, ExportWorkflowSchema, TASK_LIST_DEFAULT, TaskFilterSchema, TaskIdSchema, UpdateTaskSchema,
  parseOrRefuse, type BlockTaskWithReasonInput, type TaskFilter, type UpdateTaskInput,
} from '../validation/agent';
import { ReleaseTaskSchema, type ReleaseTaskInput } from '../validation/task';
import { getStepEvidence, loadRequestFacts } from './step-evidence';
import {
  addTaskNoteIn, assertMayWork, blockTask, claimTask as claimWorkTask, claimTaskIn, releaseTask as releaseWorkTask, releaseTaskIn,
  toggleChecklistItemIn, transitionTask, transitionTaskIn,
} from './work-task';

/**
 * The task API (REST under /api/v1/tasks and the MCP tools): a request's steps in the shape of
 * TaskCreate/TaskUpdate (lib/domain/task-shape.ts), worked through the same services, state
 * machine, evidence rules and audit as the browser. Every function loads who is asking and
 * parses its input with the shared schemas, so REST and MCP callers get the same refusals.
 */

export type { TaskFilter } from '../validation/agent';
export type { TaskShape } from '../domain/task-shape';

/** Who is asking a read: one indexed query on the pool (lists are the agents' hottest calls). */
async function reader(actorId: string): Promise<LoadedActor> {
  const actor = await loadSessionActor(actorId);
  if (!holdsAnyRole(actor)) throw forbidden(NO_ROLE_MESSAGE);
  return actor;
}

/** The roles whose tasks someone works: agent roles, and reviewer for the gate. */
export const heldRoles = (actor: LoadedActor): string[] => [...actor.agentRoles, ...(actor.roles.includes('reviewer') ? ['reviewer'] : [])];

interface SqlTaskRow {
  id: string; requestId: string; requestTitle: string; requestCreatedAt: Date; key: string; position: number;
  subject: string; description: string; activeForm: string; status: TaskStatus; owner: string; eligibleRoles: string[];
  isGate: boolean; blockedReason: string | null; blockedById: string | null; blockerStatus: TaskStatus | null; blocks: string[];
  assigneeId: string | null; assigneeName: string | null; assigneeKind: AccountKind | null; assigneeOwner: string | null;
  checklist: { id: string; label: string; done: boolean }[];
}

/**
 * One query for a page of tasks with everything the shape needs (checklist, assignee and its
 * owner, blocker status, what it blocks): the list is the agents' hottest read. The page is
 * picked first (filters, order, limit) so that the per-task subqueries run for its rows only.
 * `where` may use t (the task), r (its request) and b (its blocker).
 */
function shapeSql(where: string, limit: string): string {
  return `
  WITH page AS (
    SELECT t.id FROM tasks t
    JOIN migration_requests r ON r.id = t.request_id
    LEFT JOIN tasks b ON b.id = t.blocked_by_id
    ${where ? `WHERE ${where}` : ''}
    ORDER BY r.created_at, r.id, t.position ${limit}
  )
  SELECT t.id, t.request_id AS "requestId", r.title AS "requestTitle", r.created_at AS "requestCreatedAt", t.key, t.position,
         t.subject, t.description, t.active_form AS "activeForm", t.status::text AS status, t.owner, t.eligible_roles AS "eligibleRoles",
         t.is_gate AS "isGate", t.blocked_reason AS "blockedReason", t.blocked_by_id AS "blockedById", b.status::text AS "blockerStatus",
         COALESCE((SELECT array_agg(x.id::text ORDER BY x.position) FROM tasks x WHERE x.blocked_by_id = t.id), '{}') AS blocks,
         u.id AS "assigneeId", u.name AS "assigneeName", u.kind::text AS "assigneeKind", o.name AS "assigneeOwner",
         COALESCE((SELECT json_agg(json_build_object('id', c.id, 'label', c.label, 'done', c.done) ORDER BY c.position)
                   FROM checklist_items c WHERE c.task_id = t.id), '[]') AS checklist
  FROM page
  JOIN tasks t ON t.id = page.id
  JOIN migration_requests r ON r.id = t.request_id
  LEFT JOIN tasks b ON b.id = t.blocked_by_id
  LEFT JOIN users u ON u.id = t.assignee_id
  LEFT JOIN users o ON o.id = u.owner_id
  ORDER BY r.created_at, r.id, t.position`;
}

/**
 * `verdict`: the step's evidence was judged (one task, an export); a step Cutover does not check
 * (and the gate, whose verdict is the gate's own) then waits for nothing here.
 */
function toRow(r: SqlTaskRow, evidence?: { waitingFor: string[]; items: { coveredBy: string | null; satisfied: boolean }[] }, verdict = evidence !== undefined): TaskRow {
  const assignee: TaskAssignee | null = r.assigneeId
    ? { id: r.assigneeId, name: r.assigneeName!, kind: r.assigneeKind!, owner: r.assigneeKind === 'agent' ? r.assigneeOwner : null }
    : null;
  return {
    id: r.id, requestId: r.requestId, requestTitle: r.requestTitle, key: r.key, position: r.position, subject: r.subject,
    description: r.description, activeForm: r.activeForm, status: r.status, owner: r.owner, eligibleRoles: r.eligibleRoles,
    isGate: r.isGate, blockedReason: r.blockedReason, blockedById: r.blockedById, blockerStatus: r.blockerStatus, blocks: r.blocks,
    assignee,
    // With the step's evidence (one task, a workflow export): items evidence ticks read as done when it holds.
    // In lists (many requests at once): the stored ticks and which items evidence ticks, without the verdict.
    checklist: r.checklist.map((c, i) => ({
      id: c.id, label: c.label,
      done: evidence?.items[i] ? evidence.items[i].satisfied : c.done,
      coveredBy: evidence?.items[i] ? evidence.items[i].coveredBy : (STEP_COVERAGE[r.key]?.[c.label] ?? null),
    })),
    // null where the verdict is not computed (lists): [] would read as "waits for nothing".
    waitingFor: evidence ? evidence.waitingFor : verdict ? [] : null,
  };
}

/** Whole shapes, with the evidence verdict, of every task of one request. */
async function shapesOfRequest(requestId: string): Promise<TaskShape[]> {
  const [{ rows }, evidence] = await Promise.all([
    getPool().query<SqlTaskRow>(shapeSql('t.request_id = $1::uuid', ''), [requestId]),
    getStepEvidence(getDb(), requestId),
  ]);
  return rows.map((r) => toTaskShape(toRow(r, evidence[r.key], true)));
}

/**
 * One task with its step's verdict: the facts of its request and the checklist the shape query
 * read (getStepEvidence would read every step's checklist again to judge this one step).
 */
async function shapeOf(taskId: string): Promise<TaskShape> {
  const { rows: [row] } = await getPool().query<SqlTaskRow>(shapeSql('t.id = $1::uuid', ''), [taskId]);
  if (!row) throw notFound('Task');
  const evidence = row.isGate ? undefined : evaluateStep(row.key, row.checklist, await loadRequestFacts(getDb(), row.requestId));
  return toTaskShape(toRow(row, evidence, true));
}

/** The opaque cursor: where the last page ended, in the list's order (request created, request, position). */
function encodeCursor(r: SqlTaskRow): string {
  return Buffer.from(JSON.stringify([r.requestCreatedAt.toISOString(), r.requestId, r.position])).toString('base64url');
}

function decodeCursor(cursor: string): [string, string, number] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 3 && typeof v[0] === 'string' && typeof v[1] === 'string' && /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v[1])
      && Number.isInteger(v[2]) && v[2] >= 0 && v[2] <= 10_000) {
      // Only what encodeCursor writes: an ISO time PostgreSQL reads as it is.
      const at = new Date(v[0]);
      if (!Number.isNaN(at.getTime()) && /^\d{4}-\d\d-\d\dT/.test(at.toISOString())) return [at.toISOString(), v[1], v[2]];
    }
  } catch { /* refused below */ }
  throw new DomainError('invalid', 'cursor: Not a cursor from a previous page (use nextCursor as it was returned).', 'cursor');
}

/**
 * Tasks in TaskCreate's shape, oldest request first. Without a role, an agent (or a person) sees
 * the tasks of the roles it holds; an admin without one sees every task. `ready`: pending with
 * its blocker completed (claimable); `mine`: assigned to whoever asks.
 */
export async function listTasks(actorId: string, filter: TaskFilter): Promise<TaskPage> {
  return listTasksAs(await reader(actorId), filter);
}

type TaskPage = { tasks: TaskShape[]; nextCursor: string | null };

async function listTasksAs(actor: LoadedActor, filter: TaskFilter): Promise<TaskPage> {
  const f = parseOrRefuse(TaskFilterSchema, filter);
  const limit = f.limit ?? TASK_LIST_DEFAULT;
  const params: unknown[] = [];
  const where: string[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  const roles = f.role ? [f.role] : isAdmin(actor) ? null : heldRoles(actor);
  if (roles) add((p) => `t.eligible_roles && ${p}::text[]`, roles);
  if (f.status) add((p) => `t.status = ${p}::"TaskStatus"`, f.status);
  if (f.requestId) add((p) => `t.request_id = ${p}::uuid`, f.requestId);
  if (f.mine) add((p) => `t.assignee_id = ${p}::uuid`, actor.id);
  if (f.ready === true) where.push(`t.status = 'pending' AND (t.blocked_by_id IS NULL OR b.status = 'completed')`);
  if (f.ready === false) where.push(`NOT (t.status = 'pending' AND (t.blocked_by_id IS NULL OR b.status = 'completed'))`);
  if (f.cursor) {
    const [createdAt, requestId, position] = decodeCursor(f.cursor);
    params.push(createdAt, requestId, position);
    const n = params.length;
    where.push(`(r.created_at, r.id, t.position) > ($${n - 2}::timestamptz, $${n - 1}::uuid, $${n}::int)`);
  }
  params.push(limit + 1);
  const { rows } = await getPool().query<SqlTaskRow>(shapeSql(where.join(' AND '), `LIMIT $${params.length}`), params);
  const page = rows.slice(0, limit);
  return { tasks: page.map((r) => toTaskShape(toRow(r))), nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]) : null };
}

/**
 * "My ready tasks" (the MCP tool): ready tasks of the roles the caller holds, or of one of them.
 * A role the caller does not hold is refused rather than answered with an empty list, which would
 * read as "nothing to do"; agents hold agent roles only (the gate is for people).
 */
export async function listMyReadyTasks(actorId: string, filter: Omit<TaskFilter, 'ready' | 'mine' | 'status'>): Promise<TaskPage> {
  const actor = await reader(actorId);
  const held = heldRoles(actor);
  if (filter.role !== undefined && !isAdmin(actor) && !held.includes(filter.role)) {
    const yours = held.length ? `; yours: ${held.join(', ')}` : '';
    throw new DomainError('invalid', `role: You do not hold ${filter.role}${yours}. Leave role out to list every role you hold.`, 'role');
  }
  return listTasksAs(actor, { ...filter, ready: true });
}

/** One task with its step's evidence verdict (what it waits for, which items evidence ticked). */
export async function getTask(actorId: string, taskId: string): Promise<TaskShape> {
  await reader(actorId);
  return shapeOf(parseOrRefuse(TaskIdSchema, { taskId }).taskId);
}

/** Starts a ready task and assigns it to whoever asks; of two concurrent claims exactly one wins. */
export async function claimTask(actorId: string, taskId: string): Promise<TaskShape> {
  const input = parseOrRefuse(TaskIdSchema, { taskId });
  await claimWorkTask(actorId, input.taskId);
  return shapeOf(input.taskId);
}

/**
 * TaskUpdate: ticks or unticks checklist items, adds a note and changes the status, all in one
 * transaction (all or nothing). `in_progress` claims a ready task or resumes a blocked one, before
 * the ticks; `pending` hands the task back after them, and the note is then the reason (in the
 * audit log), not a note: the agent's owner may hand a task back without the role notes need.
 */
export async function updateTask(actorId: string, raw: UpdateTaskInput): Promise<TaskShape> {
  const input = parseOrRefuse(UpdateTaskSchema, raw);
  await getDb().$transaction(async (tx) => {
    if (input.status === 'in_progress') {
      const current = await tx.task.findUnique({ where: { id: input.taskId }, select: { status: true } });
      if (!current) throw notFound('Task');
      if (current.status === 'blocked') await transitionTaskIn(tx, actorId, { taskId: input.taskId, transition: 'resume' });
      else await claimTaskIn(tx, actorId, input.taskId);
    }
    const changes = input.checklist ?? [];
    const note = input.status === 'pending' ? undefined : input.note;
    if (changes.length || note !== undefined) await tickAndNote(tx, actorId, { taskId: input.taskId, checklist: changes, note });
    if (input.status === 'pending') await releaseTaskIn(tx, actorId, { taskId: input.taskId, reason: input.note });
  });
  return shapeOf(input.taskId);
}

/** Checklist ticks and a note inside updateTask's transaction. */
async function tickAndNote(tx: Tx, actorId: string, input: { taskId: string; checklist: { itemId: string; done: boolean }[]; note?: string }) {
  const actor = await loadActor(tx, actorId);
  const task = await tx.task.findUnique({ where: { id: input.taskId }, select: { subject: true, eligibleRoles: true, isGate: true, assigneeId: true } });
  if (!task) throw notFound('Task');
  // Who may work it (its roles, and who holds it) is checked before saying anything about its items.
  await assertMayWork(tx, actor, task);
  const changes = input.checklist;
  if (changes.length) {
    const own = await tx.checklistItem.count({ where: { taskId: input.taskId, id: { in: changes.map((c) => c.itemId) } } });
    if (own !== new Set(changes.map((c) => c.itemId)).size) throw notFound(`A checklist item of "${task.subject}"`);
  }
  for (const c of changes) await toggleChecklistItemIn(tx, actorId, { itemId: c.itemId, done: c.done });
  if (input.note !== undefined) await addTaskNoteIn(tx, actorId, { taskId: input.taskId, body: input.note });
}

/** Completes a task under the browser's rules: its evidence holds and its manual items are ticked. */
export async function completeTask(actorId: string, taskId: string): Promise<TaskShape> {
  const input = parseOrRefuse(TaskIdSchema, { taskId });
  await transitionTask(actorId, { taskId: input.taskId, transition: 'complete' });
  return shapeOf(input.taskId);
}

/** Resumes a blocked task: in progress again (pending while the task before it is not completed). */
export async function resumeTask(actorId: string, taskId: string): Promise<TaskShape> {
  const input = parseOrRefuse(TaskIdSchema, { taskId });
  await transitionTask(actorId, { taskId: input.taskId, transition: 'resume' });
  return shapeOf(input.taskId);
}

/** Hands a claimed (or blocked) task back: pending, no assignee; see releaseTask in work-task.ts for who may. */
export async function releaseTask(actorId: string, raw: ReleaseTaskInput): Promise<TaskShape> {
  const input = parseOrRefuse(ReleaseTaskSchema, raw);
  await releaseWorkTask(actorId, input);
  return shapeOf(input.taskId);
}

export async function blockTaskWithReason(actorId: string, raw: BlockTaskWithReasonInput): Promise<TaskShape> {
  const input = parseOrRefuse(BlockTaskWithReasonSchema, raw);
  await blockTask(actorId, input);
  return shapeOf(input.taskId);
}

/** A request's whole workflow as a TaskCreate list, in step order. */
export async function exportWorkflow(actorId: string, requestId: string): Promise<TaskShape[]> {
  await reader(actorId);
  const input = parseOrRefuse(ExportWorkflowSchema, { requestId });
  const exists = await getDb().migrationRequest.findUnique({ where: { id: input.requestId }, select: { id: true } });
  if (!exists) throw notFound('Migration request');
  return shapesOfRequest(input.requestId);
}
