'use client';

import { useState } from 'react';
import type { RequestDetail, TaskView } from '@/lib/data/requests';
import { signGateItemAction } from '@/lib/actions/task-actions';
import { StatusBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';

/** The quality gate: six items, each signed by a reviewer who did not file the request. */
export function GatePanel({ task, gate }: { task: TaskView; gate: RequestDetail['gate'] }) {
  const { pending, error, call } = useActionCall();
  const [notes, setNotes] = useState<Record<string, string>>({});

  return (
    <section id={`task-${task.position}`} data-testid="gate-panel" data-status={task.status} aria-labelledby="gate-title"
      className="rounded-lg border-2 border-indigo-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-indigo-100 px-4 py-2.5">
        <span className="text-sm tabular-nums text-slate-400">{task.position}.</span>
        <h2 id="gate-title" className="text-sm font-semibold">{task.subject}</h2>
        <StatusBadge status={task.status} />
        <span className="ml-auto text-xs text-slate-600">owner <span className="font-mono">{task.owner}</span> · after step {task.blockedByPosition}</span>
      </header>
      <div className="space-y-3 p-4 text-sm">
        {!gate.canSign && <p className="text-xs text-slate-500" data-testid="gate-refusal">{gate.refusal}</p>}
        <ul className="divide-y divide-slate-100">
          {gate.items.map((item) => (
            <li key={item.id} className="flex flex-wrap items-center gap-3 py-2" data-testid="gate-item" data-signed={item.signedBy ? 'true' : 'false'}>
              <span aria-hidden className={item.signedBy ? 'text-emerald-600' : 'text-slate-300'}>{item.signedBy ? '☑' : '☐'}</span>
              <span className="font-medium">{item.label}</span>
              {item.signedBy ? (
                <span className="text-xs text-slate-600">
                  signed by {item.signedBy}, {formatTime(item.signedAt)}{item.note && <> — “{item.note}”</>}
                </span>
              ) : (
                gate.canSign && (
                  <span className="ml-auto flex items-center gap-2">
                    <label className="sr-only" htmlFor={`gate-note-${item.id}`}>Note for {item.label}</label>
                    <input id={`gate-note-${item.id}`} placeholder="Optional note" maxLength={5000} value={notes[item.id] ?? ''}
                      onChange={(e) => setNotes({ ...notes, [item.id]: e.target.value })} className="rounded-md border border-slate-300 px-2 py-1 text-xs" />
                    <Button variant="secondary" disabled={pending} onClick={() => call(() => signGateItemAction({ gateItemId: item.id, note: notes[item.id] || undefined }))}>
                      Sign
                    </Button>
                  </span>
                )
              )}
            </li>
          ))}
        </ul>
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="gate-error">{error}</p>}</div>
      </div>
    </section>
  );
}
