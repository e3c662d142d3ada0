import { describe, expect, it } from 'vitest';
import { currentTask, focusStep, waitingOn, type FocusTask } from './request-focus';

const step = (position: number, over: Partial<FocusTask> = {}): FocusTask => ({
  key: `step-${position}`, position, subject: `Step ${position}`, status: 'pending', owner: position === 2 ? 'database-administrator' : 'database-optimizer',
  eligibleRoles: [position === 2 ? 'database-administrator' : 'database-optimizer'], isGate: false, blockedReason: null, assignee: null, canWork: false, ...over,
});

describe('the step the request page opens', () => {
  it('is the current step when the viewer may work it', () => {
    const tasks = [step(1, { status: 'completed', canWork: true }), step(2, { canWork: true }), step(3, { canWork: true })];
    expect(focusStep(tasks)?.position).toBe(2);
  });

  it('is the first open step the viewer holds when the current one is someone else’s', () => {
    const tasks = [step(1), step(2, { canWork: true }), step(3)];
    expect(focusStep(tasks)?.position).toBe(2);
  });

  it('prefers a step over the gate for a person who holds both', () => {
    const tasks = [step(1), step(2, { isGate: true, canWork: true }), step(3, { canWork: true })];
    expect(focusStep(tasks)?.position).toBe(3);
  });

  it('is the current step for a viewer who holds none, and the last step of a finished request', () => {
    expect(focusStep([step(1, { status: 'completed' }), step(2), step(3)])?.position).toBe(2);
    expect(focusStep([step(1, { status: 'completed' }), step(2, { status: 'completed' })])?.position).toBe(2);
    expect(currentTask([step(2, { status: 'completed' }), step(1, { status: 'in_progress' })])?.position).toBe(1);
  });
});

describe('what a request waits for and on whom', () => {
  const holders = (role: string) => (role === 'database-administrator' ? ['Dana', 'Dave'] : []);

  it('names the person working the step', () => {
    const w = waitingOn([step(1, { status: 'completed' }), step(2, { status: 'in_progress', assignee: 'Dana' })], holders);
    expect(w).toMatchObject({ role: 'database-administrator', people: ['Dana'], blockedReason: null });
    expect(w.text).toBe('In progress: Step 2. On database-administrator (Dana).');
  });

  it('names who could take an unassigned step, or says nobody holds the role', () => {
    expect(waitingOn([step(1, { status: 'completed' }), step(2)], holders).text).toBe('Waits to start: Step 2. On database-administrator (any of Dana, Dave).');
    expect(waitingOn([step(1)], holders).text).toBe('Waits to start: Step 1. On database-optimizer (nobody holds that role yet).');
  });

  it('gives a blocked step’s reason, and what the evidence still waits for', () => {
    const blocked = waitingOn([step(2, { status: 'blocked', blockedReason: 'staging is down' })], holders);
    expect(blocked.blockedReason).toBe('staging is down');
    expect(blocked.text).toContain('Blocked at Step 2: staging is down.');
    expect(waitingOn([step(2, { status: 'in_progress' })], holders, { waitingFor: ['a passing rehearsal.', 'a saved revision.'] }).text).toContain('Step 2: a passing rehearsal; a saved revision. On');
  });

  it('says when everything is done', () => {
    expect(waitingOn([step(1, { status: 'completed' })], holders)).toMatchObject({ role: null, text: 'Done: every step is completed.' });
  });
});
