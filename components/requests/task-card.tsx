'use client';

import Link from 'next/link';
import { useState } from 'react';
import type { StepEvidenceView } from '@/lib/data/gate';
import type { TaskView } from '@/lib/data/requests';
import {
  addTaskNoteAction,
  blockTaskAction,
  releaseTaskAction,
  toggleChecklistItemAction,
  transitionTaskAction,
} from '@/lib/actions/task-actions';
import { StatusBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatAge, formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';

/**
 * A step's card. Checklist items that evidence covers (lib/data/gate.ts getStepEvidenceView) are
 * not boxes to click (the server refuses a hand tick): they read "ticked by evidence", with a link
 * to where its run is shown, or "waits for evidence"; only the others are ticked by hand.
 */
export function TaskCard({ task, evidence = null }: { task: TaskView; evidence?: StepEvidenceView | null }) {
  const { pending, error, call } = useActionCall();
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const [blocking, setBlocking] = useState(false);
  const covered = new Map((evidence?.items ?? []).filter((i) => i.coveredBy).map((i) => [i.label, i]));
  const open = task.checklist.filter((c) => !c.done && !covered.has(c.label)).length;
  const waitingForEvidence = [...covered.values()].filter((i) => !i.satisfied).length;
  // What "Complete" still needs, said before it is clicked (the server refuses with the same reasons).
  const missing = [
    ...(open ? [`${open} checklist item${open === 1 ? '' : 's'} left`] : []),
    ...(waitingForEvidence ? [`${waitingForEvidence} item${waitingForEvidence === 1 ? '' : 's'} waiting for evidence`] : []),
    ...(task.waitingFor ? [`waits for “${task.waitingFor}”`] : []),
  ];
  const refusal = task.canWork ? null : `Only holders of ${task.eligibleRoles.join(' or ')} (or admins) can work this task.`;

  return (
    <section id={`task-${task.position}`} aria-labelledby={`task-${task.position}-title`} data-testid="task-card" data-subject={task.subject} data-status={task.status}
      className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <span className="text-sm tabular-nums text-slate-400">{task.position}.</span>
        <h2 id={`task-${task.position}-title`} className="text-sm font-semibold">{task.subject}</h2>
        <StatusBadge status={task.status} />
        <span className="ml-auto text-xs text-slate-600">
          owner <span className="font-mono">{task.owner}</span>
          {task.assignee && <> · assignee {task.assignee}</>}
          {task.blockedByPosition && <> · after step {task.blockedByPosition}</>}
        </span>
      </header>
      <div className="space-y-3 p-4 text-sm">
        <p className="text-slate-600">{task.description}</p>
        {task.status === 'blocked' && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800">Blocked: {task.blockedReason}</p>}
        {task.status === 'in_progress' && <p className="text-blue-800">{task.activeForm}…</p>}

        <ul className="space-y-1.5" aria-label={`Checklist of ${task.subject}`}>
          {task.checklist.map((item) => {
            const byEvidence = covered.get(item.label);
            const link = byEvidence?.runId ? evidence?.links[item.label] : undefined;
            return byEvidence ? (
              <li key={item.id} className="flex items-start gap-2" data-testid="checklist-item" data-label={item.label} data-by="evidence" data-satisfied={byEvidence.satisfied ? 'true' : 'false'}>
                <span aria-hidden className={byEvidence.satisfied ? 'text-emerald-600' : 'text-slate-300'}>{byEvidence.satisfied ? '☑' : '☐'}</span>
                <span className={byEvidence.satisfied ? 'text-slate-500' : ''}>{item.label}</span>
                <span className="text-xs text-slate-500">
                  {byEvidence.satisfied ? 'ticked by evidence' : 'waits for evidence'}
                  {link && <> · <Link href={link} className="text-indigo-700 underline">see the run</Link></>}
                </span>
              </li>
            ) : (
            <li key={item.id} data-testid="checklist-item" data-label={item.label} data-by="hand">
              <label className="flex items-start gap-2">
                <input
                  type="checkbox"
                  checked={item.done}
                  disabled={pending || !task.canWork || task.status !== 'in_progress'}
                  onChange={(e) => call(() => toggleChecklistItemAction({ itemId: item.id, done: e.target.checked }))}
                  className="mt-0.5"
                />
                <span className={item.done ? 'text-slate-500 line-through' : ''}>{item.label}</span>
                {item.checkedBy && <span className="text-xs text-slate-400">({item.checkedBy})</span>}
              </label>
            </li>
            );
          })}
        </ul>

        {refusal ? (
          <p className="text-xs text-slate-500" data-testid="task-refusal">{refusal}</p>
        ) : (
          <div className="flex flex-wrap items-center gap-2">
            {task.status === 'pending' && (
              <Button onClick={() => call(() => transitionTaskAction({ taskId: task.id, transition: 'start' }))} disabled={pending || task.waitingFor !== null}
                aria-describedby={task.waitingFor ? `waiting-${task.id}` : undefined}>
                Start
              </Button>
            )}
            {task.status === 'pending' && task.waitingFor && (
              <span id={`waiting-${task.id}`} className="text-xs text-slate-500" data-testid="task-waiting">Waits for “{task.waitingFor}”.</span>
            )}
            {task.status === 'in_progress' && (
              <Button onClick={() => call(() => transitionTaskAction({ taskId: task.id, transition: 'complete' }))} disabled={pending}
                aria-describedby={missing.length ? `missing-${task.id}` : undefined}>
                Complete
              </Button>
            )}
            {task.status === 'in_progress' && missing.length > 0 && (
              <span id={`missing-${task.id}`} className="text-xs text-slate-500" data-testid="task-missing">{missing.join('; ')}.</span>
            )}
            {task.status === 'blocked' && (
              <Button onClick={() => call(() => transitionTaskAction({ taskId: task.id, transition: 'resume' }))} disabled={pending}>Resume</Button>
            )}
            {(task.status === 'pending' || task.status === 'in_progress') &&
              (blocking ? (
                <span className="flex items-center gap-2">
                  <label className="sr-only" htmlFor={`reason-${task.id}`}>Why is it blocked?</label>
                  <input id={`reason-${task.id}`} value={reason} onChange={(e) => setReason(e.target.value)} placeholder="Why is it blocked?"
                    className="rounded-md border border-slate-300 px-2 py-1" maxLength={1000} />
                  <Button variant="danger" disabled={pending} onClick={() => call(() => blockTaskAction({ taskId: task.id, reason }), () => { setBlocking(false); setReason(''); })}>
                    Mark blocked
                  </Button>
                </span>
              ) : (
                <Button variant="secondary" onClick={() => setBlocking(true)}>Block…</Button>
              ))}
          </div>
        )}
        {task.canRelease && (
          <p className="flex items-center gap-2 text-xs text-slate-500">
            <Button variant="secondary" disabled={pending} onClick={() => call(() => releaseTaskAction({ taskId: task.id }))}>Release</Button>
            Hand it back: pending again, for anyone of its roles to claim.
          </p>
        )}
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="task-error">{error}</p>}</div>

        {(task.notes.length > 0 || task.canWork) && (
          <div className="border-t border-slate-100 pt-3">
            <h3 className="mb-1 text-xs font-semibold uppercase tracking-wide text-slate-500">Notes</h3>
            <ul className="space-y-1">
              {task.notes.map((n) => (
                <li key={n.id} className="text-slate-700"><span className="font-medium">{n.author}</span> <span className="text-xs text-slate-400">{formatTime(n.createdAt)}</span><p className="whitespace-pre-wrap">{n.body}</p></li>
              ))}
            </ul>
            {task.canWork && (
              <form className="mt-2 flex gap-2" onSubmit={(e) => { e.preventDefault(); call(() => addTaskNoteAction({ taskId: task.id, body: note }), () => setNote('')); }}>
                <label className="sr-only" htmlFor={`note-${task.id}`}>Add a note</label>
                <input id={`note-${task.id}`} value={note} onChange={(e) => setNote(e.target.value)} placeholder="Add a note" maxLength={5000}
                  className="flex-1 rounded-md border border-slate-300 px-2 py-1" />
                <Button variant="secondary" type="submit" disabled={pending || !note.trim()}>Add note</Button>
              </form>
            )}
          </div>
        )}
        {(task.startedAt || task.completedAt) && (
          <p className="text-xs text-slate-400">
            {task.startedAt && <>started {formatTime(task.startedAt)}</>} {task.completedAt && <>· completed {formatTime(task.completedAt)}</>}
            {/* How long its holder (often an agent) has had it; the client's clock may differ from the server's render by a minute. */}
            {task.status === 'in_progress' && task.startedAt && <span data-testid="task-elapsed" suppressHydrationWarning> · in progress for {formatAge(new Date(task.startedAt))}</span>}
          </p>
        )}
      </div>
    </section>
  );
}
