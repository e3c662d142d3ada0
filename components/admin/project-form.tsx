'use client';

import { useActionState } from 'react';
import { createProjectAction, updateProjectAction, type ProjectFormState } from '@/lib/actions/project-actions';
import type { ProjectView } from '@/lib/data/projects';
import { DEPLOY_BRANCHES } from '@/lib/validation/project';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, Select, TextInput } from '@/components/ui/field';

/** Registers a project, or edits one when `project` is given (an empty credential keeps the stored one). */
export function ProjectForm({ project }: { project?: ProjectView }) {
  const [state, action, pending] = useActionState<ProjectFormState, FormData>(project ? updateProjectAction : createProjectAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const v = (k: keyof ProjectView) => (values[k] as string | undefined) ?? (project?.[k] != null ? String(project[k]) : undefined);
  const key = project ? `project-${project.id}` : 'project-new';

  return (
    <form action={action} className="space-y-3" noValidate data-testid={project ? 'project-edit-form' : 'project-form'}>
      {project && <input type="hidden" name="id" value={project.id} />}
      <Field name={`${key}-name`} label="Name" errors={errors.name}>{(p) => <TextInput {...p} name="name" defaultValue={v('name')} />}</Field>
      <Field name={`${key}-repositoryUrl`} label="Repository" errors={errors.repositoryUrl} hint="An https:// or ssh:// URL, or an absolute path to a repository on this server.">
        {(p) => <TextInput {...p} name="repositoryUrl" defaultValue={v('repositoryUrl')} placeholder="https://git.example.com/acme/shop.git" autoComplete="off" />}
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-deployBranch`} label="Deploy branch" errors={errors.deployBranch} hint="The Deploy step pushes the migration here.">
          {(p) => (
            <Select {...p} name="deployBranch" defaultValue={v('deployBranch') ?? 'main'}>
              {DEPLOY_BRANCHES.map((b) => <option key={b} value={b}>{b}</option>)}
            </Select>
          )}
        </Field>
        <Field name={`${key}-schemaPath`} label="Prisma schema path" errors={errors.schemaPath}>
          {(p) => <TextInput {...p} name="schemaPath" defaultValue={v('schemaPath') ?? 'prisma/schema.prisma'} />}
        </Field>
      </div>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-repositoryUsername`} label="Repository user (HTTPS)" errors={errors.repositoryUsername}>
          {(p) => <TextInput {...p} name="repositoryUsername" defaultValue={v('repositoryUsername')} autoComplete="off" />}
        </Field>
        <Field
          name={`${key}-repositoryCredential`}
          label="Password or token"
          errors={errors.repositoryCredential}
          hint={project?.hasCredential ? 'A credential is set. Leave empty to keep it.' : 'Stored encrypted; never shown again.'}
        >
          {(p) => <TextInput {...p} name="repositoryCredential" type="password" autoComplete="new-password" />}
        </Field>
      </div>
      {project?.hasCredential && (
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" name="clearRepositoryCredential" defaultChecked={values.clearRepositoryCredential === 'on'} />
          Forget the stored credential
        </label>
      )}
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-minGateReviewers`} label="Distinct gate reviewers" errors={errors.minGateReviewers}>
          {(p) => <TextInput {...p} name="minGateReviewers" inputMode="numeric" defaultValue={v('minGateReviewers') ?? '2'} />}
        </Field>
        <Field name={`${key}-backupMaxAgeHours`} label="Backup max age (hours)" errors={errors.backupMaxAgeHours}>
          {(p) => <TextInput {...p} name="backupMaxAgeHours" inputMode="numeric" defaultValue={v('backupMaxAgeHours') ?? '24'} />}
        </Field>
      </div>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-verificationIntervalSeconds`} label="Verify every (seconds)" errors={errors.verificationIntervalSeconds}>
          {(p) => <TextInput {...p} name="verificationIntervalSeconds" inputMode="numeric" defaultValue={v('verificationIntervalSeconds') ?? '300'} />}
        </Field>
        <Field name={`${key}-verificationWindowMinutes`} label="for (minutes after a deploy)" errors={errors.verificationWindowMinutes}>
          {(p) => <TextInput {...p} name="verificationWindowMinutes" inputMode="numeric" defaultValue={v('verificationWindowMinutes') ?? '60'} />}
        </Field>
      </div>
      <FormMessage state={state} />
      <Button type="submit" disabled={pending}>{pending ? 'Saving…' : project ? 'Save project' : 'Register project'}</Button>
    </form>
  );
}
