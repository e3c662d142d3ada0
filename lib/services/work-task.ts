import { getDb, type Tx } from '../db/client';
import { conflict, forbidden, notFound } from '../domain/errors';
import { coverageOf, tickRefusal } from '../domain/step-evidence';
import { canWorkTask, isAdmin, type Actor } from '../domain/permissions';
import { assertCanEditChecklist, label, nextStatus, type TaskTransition } from '../domain/workflow';
import { loadActor, type LoadedActor } from '../auth/actor';
import type { AddTaskNoteInput, BlockTaskInput, ReleaseTaskInput, ToggleChecklistItemInput } from '../validation/task';
import { accountLabel, mayReleaseTask } from '../domain/task-shape';
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
  const { workflow, task } = await lockTask(tx, taskId);
  if (claiming) assertHoldsTaskRole(actor, task);
  else await assertMayWork(tx, actor, task);
  return { actor, workflow, task };
}

/** The task and its workflow, locked (lockWorkflow: changes to one request's tasks serialize). */
async function lockTask(tx: Tx, taskId: string) {
  const ref = await tx.task.findUnique({ where: { id: taskId }, select: { requestId: true } });
  if (!ref) throw notFound('Task');
  const workflow = await lockWorkflow(tx, ref.requestId);
  const task = workflow.tasks.find((t) => t.id === taskId);
  if (!task) throw notFound('Task');
  return { workflow, task };
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
  await assertClaimAllows(tx, actor, task);
}

/** The claim half of assertMayWork, for evidence a step's holder produces (each service checks its own roles). */
export async function assertClaimAllows(tx: Tx, actor: LoadedActor, task: { subject: string; assigneeId: string | null }) {
  if (!task.assigneeId || task.assigneeId === actor.id) return;
  const holder = await tx.user.findUnique({ where: { id: task.assigneeId }, select: { name: true, kind: true, ownerId: true, owner: { select: { name: true } } } });
  if (!holder) return;
  const label = accountLabel({ name: holder.name, kind: holder.kind, owner: holder.owner?.name });
  if (actor.kind === 'agent') throw conflict(`"${task.subject}" is held by ${label}; claim a ready task of your own.`);
  if (holder.kind !== 'agent' || isAdmin(actor) || holder.ownerId === actor.id) return;
  throw conflict(`"${task.subject}" is held by ${label}; only the agent's owner or an admin can work it while the agent holds it.`);
}

/**
 * What keeps a task from completing, by label: for the gate, its unsigned items; for a step Cutover
 * checks, first its evidence (refused with what it waits for), then its unticked manual items.
 */
async function openItems(tx: Tx, task: LockedTask, requestId: string): Promise<string[]> {
  if (task.isGate) {
    const unsigned = await tx.gateItem.findMany({ where: { requestId, signedById: null }, orderBy: { position: 'asc' }, select: { label: true } });
    return unsigned.map((i) => i.label);
  }
  const { key } = await tx.task.findUniqueOrThrow({ where: { id: task.id }, select: { key: true } });
  const step = (await getStepEvidence(tx, requestId))[key];
  // Only once the state machine would allow completing: a pending step says "start it" first.
  if (task.status === 'in_progress' && step?.checkable && !step.satisfied) {
    throw conflict(`"${task.subject}" waits for its evidence: ${step.waitingFor.join(' ')}`);
  }
  // Items the evidence covers count as done when it holds; the rest are ticked by hand.
  if (step) return step.items.filter((i) => !i.coveredBy && !i.satisfied).map((i) => i.label);
  const unticked = await tx.checklistItem.findMany({ where: { taskId: task.id, done: false }, orderBy: { position: 'asc' }, select: { label: true } });
  return unticked.map((i) => i.label);
}

/** Start, complete or resume a task, checked against the state machine and the actor's roles. */
export async function transitionTask(actorId: string, input: { taskId: string; transition: TaskTransition; reason?: string }) {
  return getDb().$transaction((tx) => transitionTaskIn(tx, actorId, input));
}

/** The same inside the caller's transaction (the task API's PATCH resumes and ticks at once). */
export async function transitionTaskIn(tx: Tx, actorId: string, input: { taskId: string; transition: TaskTransition; reason?: string }) {
  const { actor, workflow, task } = await openTask(tx, actorId, input.taskId);
  return applyTransition(tx, actor, workflow, task, input.transition, input.reason);
}

/**
 * Claims a task: starts it and assigns it to whoever asks. Two claims of one task serialize on
 * the request's row lock (lockWorkflow): the second finds it taken and is refused, naming the holder.
 */
export async function claimTask(actorId: string, taskId: string) {
  return getDb().$transaction((tx) => claimTaskIn(tx, actorId, taskId));
}

export async function claimTaskIn(tx: Tx, actorId: string, taskId: string) {
  const { actor, workflow, task } = await openTask(tx, actorId, taskId, true);
  // A retried claim (the answer was lost) finds the task already ours: nothing to do.
  if (task.assigneeId === actor.id && task.status === 'in_progress') return { taskId: task.id, status: task.status, request: null };
  if (task.assigneeId === actor.id && task.status === 'blocked') {
    throw conflict(`"${task.subject}" is blocked and already yours: resume it (resume_task, or PATCH {"status": "in_progress"}) or hand it back (release).`);
  }
  if (task.assigneeId && task.assigneeId !== actor.id) {
    const holder = await tx.user.findUnique({ where: { id: task.assigneeId }, select: { name: true, kind: true, owner: { select: { name: true } } } });
    const who = holder ? accountLabel({ name: holder.name, kind: holder.kind, owner: holder.owner?.name }) : 'someone else';
    throw conflict(`"${task.subject}" is already claimed by ${who} (${label(task.status)}).`);
  }
  return applyTransition(tx, actor, workflow, task, 'start');
}

/**
 * Hands a claimed task back: pending again with no assignee, for anyone of its roles to claim
 * (the database announces it as task.ready again once its blocker is completed). Allowed to its
 * holder, an admin, and, when an agent holds it, the agent's owner even without the task's role:
 * they answer for an agent that crashed or was paused with the task in hand. Ticks and notes stay.
 */
export async function releaseTask(actorId: string, input: ReleaseTaskInput) {
  return getDb().$transaction((tx) => releaseTaskIn(tx, actorId, input));
}

export async function releaseTaskIn(tx: Tx, actorId: string, input: ReleaseTaskInput) {
  const actor = await loadActor(tx, actorId);
  const { workflow, task } = await lockTask(tx, input.taskId);
  if (!task.assigneeId) {
    assertHoldsTaskRole(actor, task);
    throw conflict(`"${task.subject}" is ${label(task.status)} and held by nobody: there is nothing to hand back.`);
  }
  const holder = await tx.user.findUnique({ where: { id: task.assigneeId }, select: { name: true, kind: true, ownerId: true, owner: { select: { name: true } } } });
  const holderLabel = holder ? accountLabel({ name: holder.name, kind: holder.kind, owner: holder.owner?.name }) : 'someone else';
  if (!mayReleaseTask(actor, { id: task.assigneeId, kind: holder?.kind ?? null, ownerId: holder?.ownerId ?? null })) {
    const who = holder?.kind === 'agent' ? "its holder, the agent's owner or an admin" : 'its holder or an admin';
    throw forbidden(`"${task.subject}" is held by ${holderLabel}; only ${who} can hand it back.`);
  }
  if (task.status === 'completed') throw conflict(`"${task.subject}" is completed; only a task in progress or blocked can be handed back.`);
  await tx.task.update({ where: { id: task.id }, data: { status: 'pending', assigneeId: null, blockedReason: null, startedAt: null } });
  const tasks = workflow.tasks.map((t) => (t.id === task.id ? { ...t, status: 'pending' as const } : t));
  const progress = await refreshProgress(tx, workflow.request.id, tasks);
  await recordAudit(tx, {
    actorId: actor.id,
    requestId: workflow.request.id,
    action: 'task.released',
    entityType: 'Task',
    entityId: task.id,
    before: { subject: task.subject, status: task.status, holder: holderLabel, blockedReason: task.blockedReason },
    after: { subject: task.subject, status: 'pending', holder: null, reason: input.reason || null, requestStatus: progress.status },
  });
  return { taskId: task.id, status: 'pending' as const, request: progress };
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
  const open = transition === 'complete' ? await openItems(tx, task, workflow.request.id) : [];
  const status = nextStatus(transition, { task, previous, openItems: open.length, openItemLabels: open, reason });
  const now = new Date();
  // Whoever starts a task nobody holds takes it; so does whoever resumes one blocked before anyone
  // claimed it (in progress with no holder, nobody could claim or release it).
  const takes = (transition === 'start' || transition === 'resume') && !task.assigneeId;
  const updated = await tx.task.update({
    where: { id: task.id },
    data: {
      status,
      blockedReason: status === 'blocked' ? reason!.trim() : null,
      assigneeId: takes ? actor.id : undefined,
      startedAt: transition === 'start' || takes ? now : undefined,
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
