'use client';

import { useState } from 'react';
import type { PostDeployPanelView } from '@/lib/data/post-deploy';
import { archiveVerificationQueryAction, documentIssuesAction, runVerificationNowAction } from '@/lib/actions/post-deploy-actions';
import { Badge, type Tone } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { formatTime } from '@/components/ui/progress';
import { AlertsList } from './alerts-list';
import { VerificationQueryForm } from './verification-query-form';
import { useActionCall } from './use-action-call';
import { usePollWhile } from './use-poll';

const runTone: Record<string, Tone> = { queued: 'slate', running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'red', cancelled: 'amber', timed_out: 'red' };
const deployTone: Record<string, Tone> = { succeeded: 'green', failed: 'red', recovered: 'amber', running: 'blue', queued: 'slate', cancelled: 'slate' };

/**
 * Post-deployment (step 9): verification queries, the checks scheduled after each deploy with
 * their results, alerts with a way to roll back, and "Document any issues" with its history.
 */
export function PostDeployPanel({ panel }: { panel: PostDeployPanelView }) {
  const { pending, error, call } = useActionCall();
  const [issues, setIssues] = useState(panel.issues.current?.body ?? '');
  const running = panel.checks.some((c) => c.status === 'running' || c.status === 'queued');
  usePollWhile(running);
  const watched = panel.deployments.find((d) => d.status === 'succeeded');

  return (
    <section aria-labelledby="post-deploy-title" data-testid="post-deploy-panel" className="space-y-4 rounded-lg border border-slate-200 bg-white p-4 shadow-sm">
      <header className="flex flex-wrap items-center gap-2">
        <h2 id="post-deploy-title" className="text-sm font-semibold">Post-deployment checks</h2>
        {panel.canRunChecks && watched && (
          <Button className="ml-auto" variant="secondary" disabled={pending} onClick={() => call(() => runVerificationNowAction({ requestId: panel.requestId }))}>
            Run checks now
          </Button>
        )}
      </header>
      {error && <p role="status" className="text-sm text-red-700">{error}</p>}
      {!panel.hasProject && <p className="text-sm text-slate-600">This request has no project: it is not deployed through Cutover, so no checks are scheduled. Queries written here run once it is.</p>}

      <AlertsList alerts={panel.alerts} canRollback={panel.canRollback} />

      <div>
        <h3 className="text-sm font-medium">Deployments watched</h3>
        {panel.deployments.length === 0 ? (
          <p className="text-sm text-slate-600">Nothing deployed yet. After a deploy succeeds, the checks run at once, then every {panel.schedule ? `${panel.schedule.intervalSeconds} s for ${panel.schedule.windowMinutes} min` : 'interval the project sets'}.</p>
        ) : (
          <ul className="mt-1 space-y-1 text-sm" data-testid="post-deploy-deployments">
            {panel.deployments.map((d) => (
              <li key={d.id} className="flex flex-wrap items-center gap-2">
                <Badge tone="violet">{d.environment}</Badge>
                <Badge tone={deployTone[d.status] ?? 'slate'}>{d.status}</Badge>
                <span className="text-slate-600">deployed {formatTime(d.finishedAt ?? d.createdAt)}</span>
                {d.checksLeft > 0 && d.nextCheckAt && <span className="text-slate-600">· next check {formatTime(d.nextCheckAt)}, {d.checksLeft} left until {formatTime(d.verifyUntil)}</span>}
                {d.healthCheckUrl && <span className="text-xs text-slate-500">· health: {d.healthCheckUrl}</span>}
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="space-y-2">
        <h3 className="text-sm font-medium">Verification queries</h3>
        {panel.queries.length === 0 ? (
          <p className="text-sm text-slate-600">No queries yet. Verification passes only with at least one, all passing.</p>
        ) : (
          <ul className="space-y-2" data-testid="verification-queries">
            {panel.queries.map((q) => (
              <li key={q.id} data-testid="verification-query" className="rounded border border-slate-200 p-2 text-sm">
                <div className="flex flex-wrap items-center gap-2">
                  <span className="font-medium">{q.name}</span>
                  <span className="text-slate-600">— {q.expects}</span>
                  <span className="text-xs text-slate-500">by {q.createdBy}</span>
                  {panel.canWriteQueries && (
                    <Button className="ml-auto" variant="secondary" disabled={pending} aria-label={`Remove ${q.name}`} onClick={() => call(() => archiveVerificationQueryAction({ queryId: q.id }))}>Remove</Button>
                  )}
                </div>
                <pre className="mt-1 overflow-x-auto rounded bg-slate-50 p-1.5 text-xs">{q.sql}</pre>
              </li>
            ))}
          </ul>
        )}
        {panel.canWriteQueries && <VerificationQueryForm requestId={panel.requestId} />}
      </div>

      <div>
        <h3 className="text-sm font-medium">Checks so far</h3>
        {panel.checks.length === 0 ? (
          <p className="text-sm text-slate-600">No check has run yet.</p>
        ) : (
          <ul className="mt-1 space-y-2" data-testid="post-deploy-checks">
            {panel.checks.map((c) => (
              <li key={c.runId} id={`run-${c.runId}`} data-testid="post-deploy-check" data-status={c.status} className="rounded border border-slate-200 p-2 text-sm">
                <div className="flex flex-wrap items-center gap-2">
                  <Badge tone={runTone[c.status] ?? 'slate'}>{c.status.replace('_', ' ')}</Badge>
                  {c.environment && <Badge tone="violet">{c.environment}</Badge>}
                  <span className="text-slate-600">{formatTime(c.finishedAt ?? c.queuedAt)}</span>
                  {c.health && <span className={c.health.passed ? 'text-emerald-800' : 'text-red-700'}>health: {c.health.passed ? `HTTP ${c.health.status}, ${c.health.latencyMs} ms` : (c.health.error ?? 'failed')}</span>}
                </div>
                {c.verification && (
                  <ul className="mt-1 space-y-0.5">
                    {c.verification.results.map((r) => (
                      <li key={r.queryId} data-testid="verification-result" data-passed={r.passed}>
                        <span aria-hidden className={r.passed ? 'text-emerald-700' : 'text-red-700'}>{r.passed ? '✔' : '✘'}</span>{' '}
                        {r.name}: {r.actual ?? (r.passed ? 'passed' : 'failed')} <span className="text-slate-500">({r.expects})</span>
                        {r.reason && <span className="block pl-4 text-red-700">{r.reason}</span>}
                      </li>
                    ))}
                  </ul>
                )}
                {!c.verification && c.error && <p className="mt-1 text-slate-700">{c.error}</p>}
              </li>
            ))}
          </ul>
        )}
      </div>

      <div className="space-y-2" data-testid="issue-notes">
        <h3 className="text-sm font-medium">Document any issues</h3>
        {panel.canWrite ? (
          <form
            aria-label="Document any issues"
            onSubmit={(e) => {
              e.preventDefault();
              call(() => documentIssuesAction({ requestId: panel.requestId, body: issues }));
            }}
            className="space-y-2"
          >
            <label htmlFor="issues-body" className="sr-only">Issues</label>
            <textarea id="issues-body" value={issues} onChange={(e) => setIssues(e.target.value)} rows={4} className="block w-full rounded-md border border-slate-300 px-2.5 py-1.5 text-sm" placeholder="What went wrong after the deploy, and what was done (or: No issues)." />
            <Button type="submit" disabled={pending}>Save a new version</Button>
          </form>
        ) : (
          <p className="whitespace-pre-wrap text-sm">{panel.issues.current?.body ?? 'Nothing documented yet.'}</p>
        )}
        {panel.issues.history.length > 0 && (
          <details>
            <summary className="cursor-pointer text-xs text-slate-600">History ({panel.issues.history.length} version{panel.issues.history.length === 1 ? '' : 's'})</summary>
            <ol className="mt-1 space-y-1 text-xs">
              {panel.issues.history.map((h) => (
                <li key={h.id} className="rounded bg-slate-50 p-1.5">
                  <span className="text-slate-500">{formatTime(h.createdAt)} · {h.author}</span>
                  <p className="whitespace-pre-wrap">{h.body}</p>
                </li>
              ))}
            </ol>
          </details>
        )}
      </div>
    </section>
  );
}
