'use client';

import Link from 'next/link';
import { useState } from 'react';
import type { GateItemDto, GateView } from '@/lib/data/gate';
import type { TaskView } from '@/lib/data/requests';
import { signGateItemAction } from '@/lib/actions/task-actions';
import { Badge, StatusBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { useActionCall } from './use-action-call';

function ItemState({ item }: { item: GateItemDto }) {
  if (item.signature) return <Badge tone="green">signed</Badge>;
  if (item.satisfied) return <Badge tone="blue">evidence holds</Badge>;
  return <Badge tone="amber">waiting for evidence</Badge>;
}

/**
 * The quality gate on evidence: each of the six items with the evidence it rests on (linked to
 * the step that shows its run), its state, its signature and any voided ones with the reason.
 * Sign buttons appear only while the gate is open, for a reviewer who may sign, on items whose
 * evidence holds; otherwise the panel says what the gate waits for.
 */
export function GatePanel({ task, gate }: { task: TaskView; gate: GateView }) {
  const { pending, error, call } = useActionCall();
  const [notes, setNotes] = useState<Record<string, string>>({});
  const signable = gate.open && !gate.passed && gate.canSign;

  return (
    <section id={`task-${task.position}`} data-testid="gate-panel" data-status={task.status} data-open={gate.open ? 'true' : 'false'} data-passed={gate.passed ? 'true' : 'false'}
      aria-labelledby="gate-title" className="rounded-lg border-2 border-indigo-200 bg-white shadow-sm">
      <header className="flex flex-wrap items-center gap-2 border-b border-indigo-100 px-4 py-2.5">
        <span className="text-sm tabular-nums text-slate-400">{task.position}.</span>
        <h2 id="gate-title" className="text-sm font-semibold">{task.subject}</h2>
        <StatusBadge status={task.status} />
        <span className="ml-auto text-xs text-slate-600">
          {gate.revision !== null ? <>revision {gate.revision} · </> : null}
          {gate.distinctSigners} of at least {gate.minReviewers} reviewers · at most {gate.maxItemsPerSigner} items each
        </span>
      </header>
      <div className="space-y-3 p-4 text-sm">
        {gate.passed && <p className="rounded-md bg-emerald-50 px-3 py-2 text-emerald-800" data-testid="gate-passed">The quality gate is passed.</p>}
        {!gate.passed && gate.waitingFor.length > 0 && (
          <div data-testid="gate-waiting">
            <p className="font-medium text-slate-700">{gate.open ? 'The gate waits for:' : 'The gate opens, and sign buttons appear, once it has:'}</p>
            <ul className="ml-5 list-disc text-slate-600">
              {gate.waitingFor.map((w) => <li key={w}>{w}</li>)}
            </ul>
          </div>
        )}
        {!gate.passed && !gate.canSign && <p className="text-xs text-slate-500" data-testid="gate-refusal">{gate.refusal}</p>}
        <ul className="divide-y divide-slate-100">
          {gate.items.map((item) => (
            <li key={item.id} className="space-y-1.5 py-2.5" data-testid="gate-item" data-key={item.key}
              data-signed={item.signature ? 'true' : 'false'} data-satisfied={item.satisfied ? 'true' : 'false'}>
              <div className="flex flex-wrap items-center gap-2">
                <span aria-hidden className={item.signature ? 'text-emerald-600' : 'text-slate-300'}>{item.signature ? '☑' : '☐'}</span>
                <span className="font-medium">{item.label}</span>
                <ItemState item={item} />
              </div>
              {item.evidence.length > 0 && (
                <ul className="ml-6 space-y-0.5 text-xs" aria-label={`Evidence for ${item.label}`}>
                  {item.evidence.map((e) => (
                    <li key={e.id} data-testid="gate-evidence" data-passed={e.passed ? 'true' : 'false'}>
                      <span className={e.passed && !e.staleBecause ? 'text-emerald-700' : 'text-red-700'}>{e.passed ? 'passed' : 'failed'}</span>{' '}
                      <span className="font-mono text-slate-500">{e.kind.replace('_', ' ')}</span> {e.summary}{' '}
                      <span className="text-slate-400">{formatTime(e.createdAt)}</span>{' '}
                      {e.runId && <Link href={e.href} className="text-indigo-700 underline">run {e.runId.slice(0, 8)}</Link>}
                      {e.staleBecause && <span className="block text-amber-800">{e.staleBecause}</span>}
                    </li>
                  ))}
                </ul>
              )}
              {!item.satisfied && item.reason && <p className="ml-6 text-xs text-amber-900" data-testid="gate-item-reason">{item.reason}</p>}
              {item.signature && (
                <p className="ml-6 text-xs text-slate-600" data-testid="gate-signature">
                  signed by {item.signature.by}, {formatTime(item.signature.at)}{item.signature.note && <> — “{item.signature.note}”</>}{' '}
                  <span className="font-mono text-slate-400" title="sha256 of the revision and the evidence this signature is bound to">bound {item.signature.boundDigest.slice(0, 12)}</span>
                </p>
              )}
              {item.voided.map((v) => (
                <p key={`${v.by}-${String(v.at)}`} className="ml-6 text-xs text-slate-500 line-through decoration-slate-300" data-testid="gate-voided">
                  <span className="no-underline">signed by {v.by}, {formatTime(v.signedAt)}; voided {formatTime(v.at)}: {v.reason}</span>
                </p>
              ))}
              {signable && item.satisfied && !item.signature && (
                <div className="ml-6 flex flex-wrap items-center gap-2">
                  <label className="sr-only" htmlFor={`gate-note-${item.id}`}>Note for {item.label}</label>
                  <input id={`gate-note-${item.id}`} placeholder={item.needsNote ? 'Your note (required): what you checked' : 'Optional note'} maxLength={5000}
                    value={notes[item.id] ?? ''} onChange={(e) => setNotes({ ...notes, [item.id]: e.target.value })}
                    aria-required={item.needsNote} className="min-w-64 flex-1 rounded-md border border-slate-300 px-2 py-1 text-xs" />
                  <Button variant="secondary" disabled={pending || (item.needsNote && !notes[item.id]?.trim())}
                    onClick={() => call(() => signGateItemAction({ gateItemId: item.id, note: notes[item.id] || undefined }))}>
                    Sign
                  </Button>
                </div>
              )}
            </li>
          ))}
        </ul>
        <div role="alert" aria-live="assertive">{error && <p className="rounded-md bg-red-50 px-3 py-2 text-red-800" data-testid="gate-error">{error}</p>}</div>
      </div>
    </section>
  );
}
