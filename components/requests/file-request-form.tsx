'use client';

import { useActionState, useState } from 'react';
import { fileRequestAction, type FileRequestState } from '@/lib/actions/request-actions';
import { PRIORITIES, REQUEST_KINDS, REQUEST_KIND_LABELS } from '@/lib/domain/roles';
import { LIMITS, fieldErrors } from '@/lib/validation/common';
import { FileRequestSchema } from '@/lib/validation/request';
import { Button } from '@/components/ui/button';
import { Counter } from '@/components/ui/counter';
import { Field, FormMessage, Select, TextArea, TextInput } from '@/components/ui/field';

export function FileRequestForm({ targets, projects = [] }: { targets: { id: string; name: string; environment: string }[]; projects?: { id: string; name: string }[] }) {
  const [state, formAction, pending] = useActionState<FileRequestState | undefined, FormData>(fileRequestAction, undefined);
  const [clientErrors, setClientErrors] = useState<Record<string, string[]> | null>(null);
  const errors = clientErrors ?? (state && !state.ok ? state.fieldErrors : undefined) ?? {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const v = (k: string) => (typeof values[k] === 'string' ? (values[k] as string) : undefined);
  // Counted as typed; after a refused submit the form shows what was sent back, so count that.
  const [typed, setTyped] = useState<{ after: typeof state; length: number } | null>(null);
  const descriptionLength = typed && typed.after === state ? typed.length : (v('description')?.length ?? 0);

  // The same schema as the server, for instant feedback; the server checks again regardless.
  function validate(e: React.FormEvent<HTMLFormElement>) {
    const parsed = FileRequestSchema.safeParse(Object.fromEntries(new FormData(e.currentTarget)));
    if (!parsed.success) {
      e.preventDefault();
      setClientErrors(fieldErrors(parsed.error));
    } else setClientErrors(null);
  }

  return (
    <form action={formAction} onSubmit={validate} noValidate className="space-y-4 rounded-lg border border-slate-200 bg-white p-5 shadow-sm">
      <Field name="title" label="Title" errors={errors.title}>
        {(p) => <TextInput {...p} name="title" defaultValue={v('title')} maxLength={LIMITS.title} />}
      </Field>
      <div className="grid gap-4 sm:grid-cols-2">
        <Field name="kind" label="Kind of change" errors={errors.kind}>
          {(p) => (
            <Select {...p} name="kind" defaultValue={v('kind') ?? ''}>
              <option value="">Choose…</option>
              {REQUEST_KINDS.map((k) => <option key={k} value={k}>{REQUEST_KIND_LABELS[k]}</option>)}
            </Select>
          )}
        </Field>
        <Field name="priority" label="Priority" errors={errors.priority} hint="HIGH by default: it impacts production data.">
          {(p) => (
            <Select {...p} name="priority" defaultValue={v('priority') ?? 'HIGH'}>
              {PRIORITIES.map((k) => <option key={k} value={k}>{k}</option>)}
            </Select>
          )}
        </Field>
      </div>
      <Field name="targetId" label="Target database" errors={errors.targetId}>
        {(p) => (
          <Select {...p} name="targetId" defaultValue={v('targetId') ?? ''}>
            <option value="">Choose…</option>
            {targets.map((t) => <option key={t.id} value={t.id}>{t.name} ({t.environment})</option>)}
          </Select>
        )}
      </Field>
      {projects.length > 0 && (
        <div className="grid gap-4 sm:grid-cols-2">
          <Field name="projectId" label="Application (project)" errors={errors.projectId} hint="Needed for Update app code and Deploy; can be set later.">
            {(p) => (
              <Select {...p} name="projectId" defaultValue={v('projectId') ?? ''}>
                <option value="">None yet</option>
                {projects.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
              </Select>
            )}
          </Field>
          <Field name="appBranch" label="App branch" errors={errors.appBranch} hint="The branch with the code change (schema.prisma).">
            {(p) => <TextInput {...p} name="appBranch" defaultValue={v('appBranch')} placeholder="feature/orders-shipped-at" autoComplete="off" />}
          </Field>
        </div>
      )}
      <Field name="description" label="Desired change" errors={errors.description} hint="What should change, and why.">
        {(p) => (
          <TextArea {...p} name="description" rows={6} defaultValue={v('description')} maxLength={LIMITS.description}
            onInput={(e) => setTyped({ after: state, length: e.currentTarget.value.length })}
            aria-describedby={[p['aria-describedby'], 'description-count'].filter(Boolean).join(' ')} />
        )}
      </Field>
      <Counter id="description-count" used={descriptionLength} limit={LIMITS.description} unit="characters" />
      <FormMessage state={state && !state.ok ? state : clientErrors ? { ok: false, message: 'Some fields need attention.' } : undefined} />
      <Button type="submit" disabled={pending}>{pending ? 'Filing…' : 'File request'}</Button>
    </form>
  );
}
