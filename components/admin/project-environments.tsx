'use client';

import { useActionState, useState, useTransition } from 'react';
import {
  addEnvironmentAction, moveEnvironmentAction, removeEnvironmentAction, updateEnvironmentAction, type ProjectFormState,
} from '@/lib/actions/project-actions';
import type { EnvironmentView } from '@/lib/data/projects';
import { EnvironmentBadge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { Field, FormMessage, Select, TextInput } from '@/components/ui/field';

type TargetOption = { id: string; name: string; environment: string };

/** Adds an environment after the last one, or edits `environment`. */
function EnvironmentForm({ projectId, environment, targets }: { projectId: string; environment?: EnvironmentView; targets: TargetOption[] }) {
  const [state, action, pending] = useActionState<ProjectFormState, FormData>(environment ? updateEnvironmentAction : addEnvironmentAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const key = environment ? `env-${environment.id}` : `env-new-${projectId}`;
  const v = (k: string, stored?: string | null) => (values[k] as string | undefined) ?? stored ?? undefined;
  return (
    <form action={action} className="space-y-2" noValidate data-testid={environment ? 'environment-edit-form' : 'environment-form'}>
      {environment ? <input type="hidden" name="id" value={environment.id} /> : <input type="hidden" name="projectId" value={projectId} />}
      <div className="grid grid-cols-2 gap-2">
        <Field name={`${key}-name`} label="Environment" errors={errors.name}>{(p) => <TextInput {...p} name="name" defaultValue={v('name', environment?.name)} placeholder="staging" />}</Field>
        <Field name={`${key}-targetId`} label="Target database" errors={errors.targetId}>
          {(p) => (
            <Select {...p} name="targetId" defaultValue={v('targetId', environment?.target.id) ?? ''}>
              <option value="">Choose…</option>
              {targets.map((t) => <option key={t.id} value={t.id}>{t.name} ({t.environment})</option>)}
            </Select>
          )}
        </Field>
      </div>
      <Field name={`${key}-healthCheckUrl`} label="Health-check URL (optional)" errors={errors.healthCheckUrl} hint="Polled after a deploy and during post-deployment checks.">
        {(p) => <TextInput {...p} name="healthCheckUrl" defaultValue={v('healthCheckUrl', environment?.healthCheckUrl)} placeholder="https://staging.example.com/health" />}
      </Field>
      <label className="flex items-center gap-2 text-sm text-slate-800">
        <input type="checkbox" name="requiresApproval" defaultChecked={values.requiresApproval ? values.requiresApproval === 'on' : environment?.requiresApproval} />
        Deploys need the quality gate passed and a lead&apos;s approval (production)
      </label>
      <FormMessage state={state} />
      <Button type="submit" variant={environment ? 'primary' : 'secondary'} disabled={pending}>{pending ? 'Saving…' : environment ? 'Save environment' : 'Add environment'}</Button>
    </form>
  );
}

/** A project's environments in promotion order: reorder, edit, remove, add after the last. */
export function ProjectEnvironments({ projectId, environments, targets }: { projectId: string; environments: EnvironmentView[]; targets: TargetOption[] }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [removing, setRemoving] = useState<EnvironmentView | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; message: string } | null>(null);
  const [pending, startTransition] = useTransition();

  function run(call: () => Promise<{ ok: boolean; message?: string }>) {
    startTransition(async () => {
      const res = await call();
      setMessage(res.ok ? null : { ok: false, message: res.message ?? 'Refused.' });
    });
  }

  return (
    <div className="space-y-2">
      {environments.length === 0 ? (
        <p className="text-sm text-slate-600">No environments yet: add staging first, then production.</p>
      ) : (
        <ol className="space-y-2" aria-label="Environments in promotion order">
          {environments.map((e, i) => (
            <li key={e.id} className="rounded-md border border-slate-200 p-2" data-testid="environment">
              <div className="flex flex-wrap items-center gap-2 text-sm">
                <span className="font-mono text-xs text-slate-500">{i + 1}.</span>
                <span className="font-medium" data-testid="environment-name">{e.name}</span>
                <span className="text-slate-600">→ {e.target.name}</span>
                <EnvironmentBadge environment={e.target.environment} />
                {e.requiresApproval && <span className="rounded bg-amber-100 px-1.5 text-xs text-amber-900">gate + lead approval</span>}
                {e.healthCheckUrl && <span className="truncate font-mono text-xs text-slate-500">{e.healthCheckUrl}</span>}
                <span className="ml-auto flex gap-1">
                  <Button variant="secondary" aria-label={`Move ${e.name} earlier`} disabled={pending || i === 0} onClick={() => run(() => moveEnvironmentAction({ id: e.id, direction: 'up' }))}>↑</Button>
                  <Button variant="secondary" aria-label={`Move ${e.name} later`} disabled={pending || i === environments.length - 1} onClick={() => run(() => moveEnvironmentAction({ id: e.id, direction: 'down' }))}>↓</Button>
                  <Button variant="secondary" onClick={() => setEditing(editing === e.id ? null : e.id)}>{editing === e.id ? 'Close' : 'Edit'}</Button>
                  <Button variant="danger" disabled={pending} onClick={() => setRemoving(e)}>Remove</Button>
                </span>
              </div>
              {editing === e.id && <div className="mt-2"><EnvironmentForm projectId={projectId} environment={e} targets={targets} /></div>}
            </li>
          ))}
        </ol>
      )}
      <div aria-live="polite">{message && <p role="alert" className="rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{message.message}</p>}</div>
      <details className="rounded-md border border-dashed border-slate-300 p-2">
        <summary className="cursor-pointer text-sm font-medium text-slate-800">Add an environment (after the last)</summary>
        <div className="mt-2"><EnvironmentForm projectId={projectId} targets={targets} /></div>
      </details>
      <ConfirmDialog
        open={removing !== null}
        title={`Remove environment ${removing?.name ?? ''}?`}
        confirmLabel="Remove"
        danger
        onClose={() => setRemoving(null)}
        onConfirm={() => {
          const id = removing!.id;
          setRemoving(null);
          run(() => removeEnvironmentAction({ id }));
        }}
      >
        Requests of this project will no longer be promoted through it. An environment with deployments on record cannot be removed.
      </ConfirmDialog>
    </div>
  );
}
