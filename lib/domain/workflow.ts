import { DomainError } from './errors';
import type { RequestStatus, TaskStatus } from './roles';

export interface TaskState {
  position: number;
  subject: string;
  status: TaskStatus;
  isGate: boolean;
  owner: string;
}

export type TaskTransition = 'start' | 'complete' | 'block' | 'resume';

export interface TransitionContext {
  task: TaskState;
  /** The step this one waits for (blockedBy); null for the first step. */
  previous: TaskState | null;
  /** For ordinary steps: unchecked checklist items. For the gate: unsigned gate items. */
  openItems: number;
  /** Their labels, when known: a refusal names what is left rather than only counting it. */
  openItemLabels?: readonly string[];
  reason?: string;
}

const invalid = (message: string) => new DomainError('conflict', message);

/** Which transitions the state machine allows; refusals say why in words a person can act on. */
export function nextStatus(transition: TaskTransition, ctx: TransitionContext): TaskStatus {
  const { task, previous } = ctx;
  const waitingFor = previous && previous.status !== 'completed' ? previous : null;
  switch (transition) {
    case 'start':
      if (task.status !== 'pending') throw invalid(`"${task.subject}" is ${label(task.status)}; only a pending task can be started.`);
      if (waitingFor) throw invalid(`"${task.subject}" waits for "${waitingFor.subject}" to be completed.`);
      return 'in_progress';
    case 'resume':
      if (task.status !== 'blocked') throw invalid(`"${task.subject}" is not blocked.`);
      return waitingFor ? 'pending' : 'in_progress';
    case 'block':
      if (task.status !== 'pending' && task.status !== 'in_progress')
        throw invalid(`"${task.subject}" is ${label(task.status)} and cannot be marked blocked.`);
      if (!ctx.reason || ctx.reason.trim().length === 0) throw new DomainError('invalid', 'Say why the task is blocked.');
      return 'blocked';
    case 'complete':
      if (task.status !== 'in_progress') throw invalid(`"${task.subject}" is ${label(task.status)}; start it before completing it.`);
      if (waitingFor) throw invalid(`"${task.subject}" waits for "${waitingFor.subject}" to be completed.`);
      if (ctx.openItems > 0) {
        const named = ctx.openItemLabels?.length ? `: ${ctx.openItemLabels.map((l) => `"${l}"`).join(', ')}` : '';
        throw invalid(
          task.isGate
            ? `The quality gate still has ${ctx.openItems} unsigned item${ctx.openItems === 1 ? '' : 's'}${named}.`
            : `"${task.subject}" still has ${ctx.openItems} unchecked checklist item${ctx.openItems === 1 ? '' : 's'}${named}.`,
        );
      }
      return 'completed';
  }
}

/** Checklist items can be ticked only while their task is being worked. */
export function assertCanEditChecklist(task: TaskState): void {
  if (task.status !== 'in_progress') throw invalid(`Start "${task.subject}" before ticking its checklist.`);
}

/** Gate items can be signed once every step before the gate is completed, until the gate is passed. */
export function assertGateOpen(gate: TaskState, previous: TaskState | null): void {
  if (gate.status === 'completed') throw invalid('The quality gate has already been passed.');
  if (gate.status === 'blocked') throw invalid('The quality gate is blocked.');
  if (previous && previous.status !== 'completed') throw invalid(`The quality gate opens when "${previous.subject}" is completed.`);
}

export interface RequestProgress {
  status: RequestStatus;
  currentStep: number;
  currentSubject: string;
  currentOwner: string;
  completedSteps: number;
  totalSteps: number;
}

/** The request's summary, derived from its tasks (stored denormalised for the list page). */
export function summarizeProgress(tasks: readonly TaskState[]): RequestProgress {
  const sorted = [...tasks].sort((a, b) => a.position - b.position);
  const completed = sorted.filter((t) => t.status === 'completed').length;
  const current = sorted.find((t) => t.status !== 'completed') ?? sorted[sorted.length - 1];
  let status: RequestStatus = 'open';
  if (completed === sorted.length) status = 'completed';
  else if (sorted.some((t) => t.status === 'blocked')) status = 'blocked';
  else if (sorted.some((t) => t.status !== 'pending')) status = 'in_progress';
  return {
    status,
    currentStep: current.position,
    currentSubject: current.subject,
    currentOwner: current.owner,
    completedSteps: completed,
    totalSteps: sorted.length,
  };
}

export function label(status: TaskStatus | RequestStatus): string {
  return status.replace('_', ' ');
}
