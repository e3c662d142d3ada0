import { getDb, type Tx } from '../db/client';
import { conflict, forbidden, notFound } from '../domain/errors';
import { coverageOf, tickRefusal } from '../domain/step-evidence';
import { canWorkTask, isAdmin, type Actor } from '../domain/permissions';
import { assertCanEditChecklist, nextStatus, type TaskTransition } from '../domain/workflow';
import { loadActor, type LoadedActor } from '../auth/actor';
import type { AddTaskNoteInput, BlockTaskInput, ToggleChecklistItemInput } from '../validation/task';
import { accountLabel } from '../domain/task-shape';
import { recordAudit } from './audit';
import { getStepEvidence, loadRequestFacts } from './step-evidence';
import { lockWorkflow, previousTask, refreshProgress, type LockedWorkflow } from './workflow-state';

type LockedTask = LockedWorkflow['tasks'][number];

/**
 * Loads the actor, the task's workflow (locked) and the task, and checks the actor may work it.
 * `claiming`: claimTask answers a task held by someone else itself (naming the holder and status).
 */
async function openTask(tx: Tx, actorId: string, taskId: string, claiming = false) {
  const actor = await loadActor(tx, actorId);
  const ref = await tx.task.findUnique({ where: { id: taskId }, select: { requestId: true } });
  if (!ref) throw notFound('Task');
  const workflow = await lockWorkflow(tx, ref.requestId);
  const task = workflow.tasks.find((t) => t.id === taskId);
  if (!task) throw notFound('Task');
  if (claiming) assertHoldsTaskRole(actor, task);
  else await assertMayWork(tx, actor, task);
  return { actor, workflow, task };
}

function assertHoldsTaskRole(actor: Actor, task: { subject: string; eligibleRoles: readonly string[]; isGate: boolean }) {
  if (!canWorkTask(actor, task)) {
    const who = task.isGate ? 'reviewers' : `holders of ${task.eligibleRoles.join(' or ')} (or admins)`;
    throw forbidden(`Only ${who} can work "${task.subject}".`);
  }
}

/**
 * Who may note, tick, start, block, resume or complete a task: a holder of one of its roles (or an
 * admin) and, once it has an assignee, claiming gives the holder the task. An agent works only
 * the tasks it holds (else agents sharing a role would work each other's claims while the card
 * and the claim name another); a task an agent holds is worked by nobody else but an admin or the
 * agent's owner, who answer for it and unstick it. People keep working tasks people hold together,
 * as the browser always let them.
 */
export async function assertMayWork(
  tx: Tx,
  actor: LoadedActor,
  task: { subject: string; eligibleRoles: readonly string[]; isGate: boolean; assigneeId: string | null },
) {
  assertHoldsTaskRole(actor, task);
  if (!task.assigneeId || task.assigneeId === actor.id) return;
  const holder = await tx.user.findUnique({ where: { id: task.assigneeId }, select: { name: true, kind: true, ownerId: true, owner: { select: { name: true } } } });
  if (!holder) return;
  const label = accountLabel({ name: holder.name, kind: holder.kind, owner: holder.owner?.name });
  if (actor.kind === 'agent') throw conflict(`"${task.subject}" is held by ${label}; claim a ready task of your own.`);
  if (holder.kind !== 'agent' || isAdmin(actor) || holder.ownerId === actor.id) return;
  throw conflict(`"${task.subject}" is held by ${label}; only the agent's owner or an admin can work it while the agent holds it.`);
}

/**
 * What keeps a task from completing: for the gate, its unsigned items; for a step Cutover checks,
 * first its evidence (refused with what it waits for), then its unticked manual items.
 */
async function openItemCount(tx: Tx, task: LockedTask, requestId: string): Promise<number> {
  if (task.isGate) return tx.gateItem.count({ where: { requestId, signedById: null } });
  const { key } = await tx.task.findUniqueOrThrow({ where: { id: task.id }, select: { key: true } });
  const step = (await getStepEvidence(tx, requestId))[key];
  // Only once the state machine would allow completing: a pending step says "start it" first.
  if (task.status === 'in_progress' && step?.checkable && !step.satisfied) {
    throw conflict(`"${task.subject}" waits for its evidence: ${step.waitingFor.join(' ')}`);
  }
  // Items the evidence covers count as done when it holds; the rest are ticked by hand.
  return step ? step.items.filter((i) => !i.coveredBy && !i.satisfied).length : tx.checklistItem.count({ where: { taskId: task.id, done: false } });
}

/** Start, complete or resume a task, checked against the state machine and the actor's roles. */
export async function transitionTask(actorId: string, input: { taskId: string; transition: TaskTransition; reason?: string }) {
  return getDb().$transaction(async (tx) => {
    const { actor, workflow, task } = await openTask(tx, actorId, input.taskId);
    return applyTransition(tx, actor, workflow, task, input.transition, input.reason);
  });
}

/**
 * Claims a task: starts it and assigns it to whoever asks. Two claims of one task serialize on
 * the request's row lock (lockWorkflow): the second finds it taken and is refused, naming the holder.
 */
export async function claimTask(actorId: string, taskId: string) {
  return getDb().$transaction(async (tx) => {
    const { actor, workflow, task } = await openTask(tx, actorId, taskId, true);
    // A retried claim (the answer was lost) finds the task already ours: nothing to do.
    if (task.assigneeId === actor.id && task.status === 'in_progress') return { taskId: task.id, status: task.status, request: null };
    if (task.assigneeId && task.assigneeId !== actor.id) {
      const holder = await tx.user.findUnique({ where: { id: task.assigneeId }, select: { name: true, kind: true, owner: { select: { name: true } } } });
      const who = holder ? accountLabel({ name: holder.name, kind: holder.kind, owner: holder.owner?.name }) : 'someone else';
      throw conflict(`"${task.subject}" is already claimed by ${who} (${task.status.replace('_', ' ')}).`);
    }
    return applyTransition(tx, actor, workflow, task, 'start');
  });
}

export async function blockTask(actorId: string, input: BlockTaskInput) {
  return transitionTask(actorId, { taskId: input.taskId, transition: 'block', reason: input.reason });
}

async function applyTransition(
  tx: Tx,
  actor: Actor,
  workflow: LockedWorkflow,
  task: LockedTask,
  transition: TaskTransition,
  reason?: string,
) {
  const previous = previousTask(workflow.tasks, task);
  const openItems = transition === 'complete' ? await openItemCount(tx, task, workflow.request.id) : 0;
  const status = nextStatus(transition, { task, previous, openItems, reason });
  const now = new Date();
  const updated = await tx.task.update({
    where: { id: task.id },
    data: {
      status,
      blockedReason: status === 'blocked' ? reason!.trim() : null,
      assigneeId: transition === 'start' && !task.assigneeId ? actor.id : undefined,
      startedAt: transition === 'start' ? now : undefined,
      completedAt: status === 'completed' ? now : undefined,
    },
    select: { status: true, blockedReason: true, assigneeId: true },
  });
  const tasks = workflow.tasks.map((t) => (t.id === task.id ? { ...t, status } : t));
  const progress = await refreshProgress(tx, workflow.request.id, tasks);
  await recordAudit(tx, {
    actorId: actor.id,
    requestId: workflow.request.id,
    action: `task.${transition}`,
    entityType: 'Task',
    entityId: task.id,
    before: { subject: task.subject, status: task.status, blockedReason: task.blockedReason },
    after: { subject: task.subject, status: updated.status, blockedReason: updated.blockedReason, requestStatus: progress.status },
  });
  return { taskId: task.id, status, request: progress };
}

export async function toggleChecklistItem(actorId: string, input: ToggleChecklistItemInput) {
  return getDb().$transaction((tx) => toggleChecklistItemIn(tx, actorId, input));
}

/** The same inside the caller's transaction (the task API ticks several items and adds a note at once). */
export async function toggleChecklistItemIn(tx: Tx, actorId: string, input: ToggleChecklistItemInput) {
  const item = await tx.checklistItem.findUnique({ where: { id: input.itemId } });
  if (!item) throw notFound('Checklist item');
  const { actor, workflow, task } = await openTask(tx, actorId, item.taskId);
  assertCanEditChecklist(task);
  const { key } = await tx.task.findUniqueOrThrow({ where: { id: task.id }, select: { key: true } });
  const coverage = coverageOf(key, item.label, await loadRequestFacts(tx, workflow.request.id));
  if (coverage) throw conflict(tickRefusal(item.label, coverage));
  if (item.done === input.done) return { itemId: item.id, done: item.done };
  await tx.checklistItem.update({
    where: { id: item.id },
    data: { done: input.done, checkedById: input.done ? actor.id : null, checkedAt: input.done ? new Date() : null },
  });
  await recordAudit(tx, {
    actorId: actor.id,
    requestId: workflow.request.id,
    action: input.done ? 'checklist.checked' : 'checklist.unchecked',
    entityType: 'ChecklistItem',
    entityId: item.id,
    before: { task: task.subject, label: item.label, done: item.done },
    after: { task: task.subject, label: item.label, done: input.done },
  });
  return { itemId: item.id, done: input.done };
}

export async function addTaskNote(actorId: string, input: AddTaskNoteInput) {
  return getDb().$transaction((tx) => addTaskNoteIn(tx, actorId, input));
}

export async function addTaskNoteIn(tx: Tx, actorId: string, input: AddTaskNoteInput) {
  const { actor, workflow, task } = await openTask(tx, actorId, input.taskId);
  const note = await tx.taskNote.create({ data: { taskId: task.id, authorId: actor.id, body: input.body } });
  await recordAudit(tx, {
    actorId: actor.id,
    requestId: workflow.request.id,
    action: 'task.note_added',
    entityType: 'TaskNote',
    entityId: note.id,
    after: { task: task.subject, body: note.body },
  });
  return { noteId: note.id };
}
