'use client';

import { useActionState } from 'react';
import { setRequestProjectAction, type RequestProjectState } from '@/lib/actions/project-actions';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, Select, TextInput } from '@/components/ui/field';

/** The request's project and app branch, for its author, holders of Update app code and admins. */
export function AppCodeProjectForm({ requestId, projectId, appBranch, projects }: {
  requestId: string;
  projectId: string | null;
  appBranch: string | null;
  projects: { id: string; name: string }[];
}) {
  const [state, action, pending] = useActionState<RequestProjectState, FormData>(setRequestProjectAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  return (
    <form action={action} className="space-y-2" noValidate data-testid="request-project-form">
      <input type="hidden" name="requestId" value={requestId} />
      <div className="grid gap-2 sm:grid-cols-2">
        <Field name="request-projectId" label="Project" errors={errors.projectId}>
          {(p) => (
            <Select {...p} name="projectId" defaultValue={(values.projectId as string | undefined) ?? projectId ?? ''}>
              <option value="">No project</option>
              {projects.map((x) => <option key={x.id} value={x.id}>{x.name}</option>)}
            </Select>
          )}
        </Field>
        <Field name="request-appBranch" label="App branch" errors={errors.appBranch} hint="The branch of the app's repository with the code change.">
          {(p) => <TextInput {...p} name="appBranch" defaultValue={(values.appBranch as string | undefined) ?? appBranch ?? ''} placeholder="feature/orders-shipped-at" autoComplete="off" />}
        </Field>
      </div>
      <FormMessage state={state} />
      <Button type="submit" variant="secondary" disabled={pending}>{pending ? 'Saving…' : 'Save project and branch'}</Button>
    </form>
  );
}
