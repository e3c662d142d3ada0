import { describe, expect, it } from 'vitest';
import { DomainError } from './errors';
import type { TaskStatus } from './roles';
import { assertCanEditChecklist, assertGateOpen, nextStatus, summarizeProgress, type TaskState, type TaskTransition } from './workflow';

const task = (status: TaskStatus, position = 2, isGate = false): TaskState => ({ position, subject: `Step ${position}`, status, isGate, owner: 'x' });
const done = task('completed', 1);
const open = task('in_progress', 1);

function attempt(transition: TaskTransition, t: TaskState, previous: TaskState | null, openItems = 0, reason?: string) {
  try {
    return nextStatus(transition, { task: t, previous, openItems, reason });
  } catch (err) {
    expect(err).toBeInstanceOf(DomainError);
    return `refused: ${(err as Error).message}`;
  }
}

describe('task state machine', () => {
  it.each<[TaskTransition, TaskStatus, TaskState | null, number, string | undefined, string]>([
    // start
    ['start', 'pending', done, 0, undefined, 'in_progress'],
    ['start', 'pending', null, 0, undefined, 'in_progress'],
    ['start', 'pending', open, 0, undefined, 'refused: "Step 2" waits for "Step 1" to be completed.'],
    ['start', 'in_progress', done, 0, undefined, 'refused: "Step 2" is in progress; only a pending task can be started.'],
    ['start', 'completed', done, 0, undefined, 'refused: "Step 2" is completed; only a pending task can be started.'],
    ['start', 'blocked', done, 0, undefined, 'refused: "Step 2" is blocked; only a pending task can be started.'],
    // complete
    ['complete', 'in_progress', done, 0, undefined, 'completed'],
    ['complete', 'in_progress', done, 2, undefined, 'refused: "Step 2" still has 2 unchecked checklist items.'],
    ['complete', 'in_progress', done, 1, undefined, 'refused: "Step 2" still has 1 unchecked checklist item.'],
    ['complete', 'pending', done, 0, undefined, 'refused: "Step 2" is pending; start it before completing it.'],
    ['complete', 'blocked', done, 0, undefined, 'refused: "Step 2" is blocked; start it before completing it.'],
    ['complete', 'completed', done, 0, undefined, 'refused: "Step 2" is completed; start it before completing it.'],
    // block
    ['block', 'pending', null, 0, 'waiting for DBA', 'blocked'],
    ['block', 'in_progress', done, 0, 'lock timeout', 'blocked'],
    ['block', 'in_progress', done, 0, '   ', 'refused: Say why the task is blocked.'],
    ['block', 'completed', done, 0, 'x', 'refused: "Step 2" is completed and cannot be marked blocked.'],
    ['block', 'blocked', done, 0, 'x', 'refused: "Step 2" is blocked and cannot be marked blocked.'],
    // resume
    ['resume', 'blocked', done, 0, undefined, 'in_progress'],
    ['resume', 'blocked', open, 0, undefined, 'pending'],
    ['resume', 'in_progress', done, 0, undefined, 'refused: "Step 2" is not blocked.'],
    ['resume', 'pending', done, 0, undefined, 'refused: "Step 2" is not blocked.'],
  ])('%s from %s', (transition, from, previous, openItems, reason, expected) => {
    expect(attempt(transition, task(from), previous, openItems, reason)).toBe(expected);
  });

  it('speaks of unsigned gate items when the gate is completed early', () => {
    expect(attempt('complete', task('in_progress', 7, true), done, 3)).toBe('refused: The quality gate still has 3 unsigned items.');
  });

  it('names the items left when it knows them', () => {
    expect(() => nextStatus('complete', { task: task('in_progress'), previous: done, openItems: 2, openItemLabels: ['Add indexes', 'Write down'] }))
      .toThrow('"Step 2" still has 2 unchecked checklist items: "Add indexes", "Write down".');
    expect(() => nextStatus('complete', { task: task('in_progress', 7, true), previous: done, openItems: 1, openItemLabels: ['Rollback tested'] }))
      .toThrow('The quality gate still has 1 unsigned item: "Rollback tested".');
  });

  it('completing refuses while the step before is not completed, even if started', () => {
    expect(attempt('complete', task('in_progress'), task('blocked', 1))).toMatch(/waits for "Step 1"/);
  });

  it('lets checklists change only while a task is in progress', () => {
    expect(() => assertCanEditChecklist(task('in_progress'))).not.toThrow();
    for (const s of ['pending', 'completed', 'blocked'] as const) expect(() => assertCanEditChecklist(task(s))).toThrow(/Start "Step 2"/);
  });

  it('opens the gate only after the step before it, and closes it once passed', () => {
    expect(() => assertGateOpen(task('pending', 7, true), task('completed', 6))).not.toThrow();
    expect(() => assertGateOpen(task('in_progress', 7, true), task('completed', 6))).not.toThrow();
    expect(() => assertGateOpen(task('pending', 7, true), task('in_progress', 6))).toThrow(/opens when "Step 6"/);
    expect(() => assertGateOpen(task('completed', 7, true), task('completed', 6))).toThrow(/already been passed/);
    expect(() => assertGateOpen(task('blocked', 7, true), task('completed', 6))).toThrow(/blocked/);
  });
});

describe('request progress', () => {
  const tasks = (...statuses: TaskStatus[]) => statuses.map((s, i) => task(s, i + 1));

  it('is open before anything started', () => {
    expect(summarizeProgress(tasks('pending', 'pending', 'pending'))).toMatchObject({ status: 'open', currentStep: 1, completedSteps: 0, totalSteps: 3 });
  });
  it('is in progress with the first unfinished step as current', () => {
    expect(summarizeProgress(tasks('completed', 'in_progress', 'pending'))).toMatchObject({ status: 'in_progress', currentStep: 2, currentSubject: 'Step 2', completedSteps: 1 });
  });
  it('is blocked when any step is blocked', () => {
    expect(summarizeProgress(tasks('completed', 'blocked', 'pending')).status).toBe('blocked');
  });
  it('is completed when every step is, pointing at the last step', () => {
    expect(summarizeProgress(tasks('completed', 'completed'))).toMatchObject({ status: 'completed', currentStep: 2, completedSteps: 2 });
  });
  it('does not depend on the order tasks arrive in', () => {
    const t = tasks('completed', 'in_progress', 'pending');
    expect(summarizeProgress([...t].reverse())).toEqual(summarizeProgress(t));
  });
});
