'use client';

import { useActionState, useState } from 'react';
import { compareAppSchemaAction, intendDifferencesAction, type IntendDifferencesState } from '@/lib/actions/app-schema-actions';
import type { AppCodePanelView } from '@/lib/data/app-schema';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, TextArea } from '@/components/ui/field';
import { AppCodeProjectForm } from './app-code-project-form';
import { useActionCall } from './use-action-call';

/**
 * Records why the chosen differences of the latest comparison are intended. While a new comparison is
 * on its way (`comparing`) the form is disabled: recording against the old one would be refused. A
 * refusal keeps the ticks and the text (React resets a form after its action; the defaults bring them back).
 */
function IntendForm({ requestId, evidenceId, open, comparing }: { requestId: string; evidenceId: string; open: { key: string; description: string }[]; comparing: boolean }) {
  const [state, action, pending] = useActionState<IntendDifferencesState, FormData>(intendDifferencesAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const kept = state && !state.ok ? (state.values ?? {}) : {};
  const ticked = new Set(Array.isArray(kept.keys) ? kept.keys.map(String) : []);
  const note = typeof kept.note === 'string' ? kept.note : undefined;
  return (
    <form action={action} className="mt-3 space-y-2 rounded-md border border-slate-200 p-3" noValidate data-testid="intend-form" aria-busy={comparing}>
      <input type="hidden" name="requestId" value={requestId} />
      <input type="hidden" name="evidenceId" value={evidenceId} />
      <fieldset disabled={comparing} className="space-y-2 disabled:opacity-60">
        <fieldset>
          <legend className="text-sm font-medium text-slate-800">Differences that are intended</legend>
          {open.map((d) => (
            <label key={d.key} className="mt-1 flex items-start gap-2 text-sm text-slate-800">
              <input type="checkbox" name="keys" value={d.key} defaultChecked={ticked.has(d.key)} className="mt-1" />
              <span>{d.description}</span>
            </label>
          ))}
          {errors.keys?.map((e) => <p key={e} className="mt-1 text-sm text-red-700">{e}</p>)}
        </fieldset>
        <Field name="intend-note" label="Why" errors={errors.note} hint="Recorded with your name in the evidence and the audit log.">
          {(p) => <TextArea {...p} name="note" rows={2} defaultValue={note} />}
        </Field>
        <FormMessage state={state} />
        <Button type="submit" variant="secondary" disabled={pending || comparing} data-testid="intend-submit">
          {pending ? 'Recording…' : 'Record as intended'}
        </Button>
        {comparing && <p className="text-xs text-slate-600">Waiting for the new comparison: its differences are the ones to explain.</p>}
      </fieldset>
    </form>
  );
}

/** Update app code: the request's project and branch, and the branch's schema.prisma against the rehearsed schema. */
export function AppCodePanel({ panel }: { panel: AppCodePanelView }) {
  const { pending, error, call } = useActionCall();
  const [editing, setEditing] = useState(false);
  // The comparison on screen when "Compare" succeeded: until the refreshed page brings a newer one, the
  // one shown is out of date (the action's own pending ends before the refresh arrives).
  const [replacing, setReplacing] = useState<string | null>(null);
  const c = panel.comparison;
  const open = c?.differences.filter((d) => d.open) ?? [];
  // Differences the deployed app already had with the database before the migration: shown apart, never blocking.
  const introduced = c?.differences.filter((d) => !d.preExisting) ?? [];
  const preExisting = c?.differences.filter((d) => d.preExisting) ?? [];
  const comparing = pending || (replacing !== null && (c?.evidenceId ?? '') === replacing);
  const compare = () => {
    const shown = c?.evidenceId ?? '';
    call(() => compareAppSchemaAction({ requestId: panel.requestId }), () => setReplacing(shown));
  };

  return (
    <div className="space-y-3" data-testid="app-code-panel">
      <div className="rounded-md border border-slate-200 p-3 text-sm">
        {panel.project ? (
          <p>
            Project <span className="font-medium">{panel.project.name}</span>
            <span className="break-all font-mono text-xs text-slate-600"> ({panel.project.repositoryUrl})</span>, branch{' '}
            {panel.appBranch ? <span className="font-mono" data-testid="app-branch">{panel.appBranch}</span> : <em>not named yet</em>};
            deploys to <span className="font-mono">{panel.project.deployBranch}</span> through{' '}
            {panel.project.environments.length ? panel.project.environments.map((e) => e.name).join(' → ') : 'no environment yet'}.
          </p>
        ) : (
          <p>This request has no project: Update app code and Deploy need the application&apos;s project and its branch.</p>
        )}
        {panel.canEdit && (
          <div className="mt-2">
            <Button variant="secondary" onClick={() => setEditing(!editing)}>{editing ? 'Close' : panel.project ? 'Change project or branch' : 'Choose project and branch'}</Button>
            {editing && (
              <div className="mt-2">
                <AppCodeProjectForm requestId={panel.requestId} projectId={panel.project?.id ?? null} appBranch={panel.appBranch} projects={panel.projectOptions} />
              </div>
            )}
          </div>
        )}
      </div>

      <div className="flex flex-wrap items-center gap-2">
        {panel.canIntend && (
          <Button onClick={compare} disabled={comparing || !panel.canCompare} data-testid="compare-app-schema">
            {comparing ? 'Comparing…' : c ? 'Compare again' : 'Compare schema.prisma'}
          </Button>
        )}
        {panel.waitingFor.length > 0 && <p className="text-sm text-slate-600">Waiting for {panel.waitingFor.join('; ')}.</p>}
        {!panel.canIntend && <p className="text-sm text-slate-600">Holders of {panel.stepRoles.join(' or ')} compare and explain differences.</p>}
      </div>
      <div aria-live="polite">{error && <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}</div>

      {c && (
        <div className="rounded-md border border-slate-200 p-3" data-testid="app-schema-comparison" aria-busy={comparing}>
          {comparing && (
            <p role="status" className="mb-2 rounded-md bg-slate-100 px-3 py-1.5 text-sm text-slate-700" data-testid="app-schema-comparing">
              Comparing… the comparison below is the previous one.
            </p>
          )}
          <p className={`text-sm font-medium ${comparing ? 'text-slate-500' : c.passed && !c.staleBecause ? 'text-emerald-800' : 'text-amber-900'}`} data-testid="app-schema-summary">
            {c.passed ? '✓ ' : ''}{c.summary}
          </p>
          <p className="mt-1 text-xs text-slate-600">
            {c.schemaPath} at <span className="font-mono">{c.commit.slice(0, 12)}</span> of {c.branch} · compared {new Date(c.createdAt).toLocaleString()}
          </p>
          {c.staleBecause && <p className="mt-1 text-sm text-amber-900">No longer holds: {c.staleBecause} Compare again.</p>}
          {introduced.length > 0 && (
            <ul className="mt-2 space-y-1 text-sm" aria-label="Differences">
              {introduced.map((d) => (
                <li key={d.key} className={d.open ? 'text-red-800' : 'text-slate-700'} data-testid="app-schema-difference">
                  {d.open ? '✗ ' : '✓ '}{d.description}
                  {d.intended && <span className="block pl-4 text-xs text-slate-600">Intended, says {d.intended.by}: {d.intended.note}</span>}
                </li>
              ))}
            </ul>
          )}
          {preExisting.length > 0 && (
            <details className="mt-2 text-sm" data-testid="app-schema-pre-existing" open={introduced.length === 0}>
              <summary className="cursor-pointer text-slate-700">
                Already different before this migration (not blocking): {preExisting.length}
              </summary>
              <p className="mt-1 text-xs text-slate-600">
                schema.prisma on {panel.project ? <span className="font-mono">{panel.project.deployBranch}</span> : 'the deploy branch'} (the app as deployed) and the database before the migration differ the same way: not this change&apos;s doing.
              </p>
              <ul className="mt-1 space-y-1" aria-label="Differences already there before this migration">
                {preExisting.map((d) => (
                  <li key={d.key} className="text-slate-700" data-testid="app-schema-difference-before">
                    – {d.description}
                    {d.intended && <span className="block pl-4 text-xs text-slate-600">Intended, says {d.intended.by}: {d.intended.note}</span>}
                  </li>
                ))}
              </ul>
            </details>
          )}
          {panel.canIntend && open.length > 0 && !c.staleBecause && <IntendForm requestId={panel.requestId} evidenceId={c.evidenceId} open={open} comparing={comparing} />}
        </div>
      )}
    </div>
  );
}
