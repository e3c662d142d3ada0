'use client';

import { useActionState } from 'react';
import { createUserAction, updateUserRolesAction, type FormState } from '@/lib/actions/admin-actions';
import { AGENT_ROLES, ROLES } from '@/lib/domain/roles';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, TextInput } from '@/components/ui/field';

function RoleBoxes({ name, options, checked, legend }: { name: string; options: readonly string[]; checked: readonly string[]; legend: string }) {
  return (
    <fieldset>
      <legend className="text-xs font-semibold uppercase tracking-wide text-slate-500">{legend}</legend>
      <div className="mt-1 flex flex-wrap gap-x-4 gap-y-1">
        {options.map((o) => (
          <label key={o} className="flex items-center gap-1.5 text-sm">
            <input type="checkbox" name={name} value={o} defaultChecked={checked.includes(o)} /> {o}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

export function UserForm() {
  const [state, action, pending] = useActionState<FormState, FormData>(createUserAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  return (
    <form action={action} className="space-y-3" noValidate>
      <Field name="email" label="Email" errors={errors.email}>{(p) => <TextInput {...p} name="email" type="email" defaultValue={values.email as string} />}</Field>
      <Field name="name" label="Name" errors={errors.name}>{(p) => <TextInput {...p} name="name" defaultValue={values.name as string} />}</Field>
      <Field name="password" label="Initial password" errors={errors.password} hint="At least 12 characters.">
        {(p) => <TextInput {...p} name="password" type="password" autoComplete="new-password" />}
      </Field>
      <RoleBoxes name="roles" legend="Roles" options={ROLES} checked={(values.roles as string[]) ?? ['engineer']} />
      <RoleBoxes name="agentRoles" legend="Agent roles" options={AGENT_ROLES} checked={(values.agentRoles as string[]) ?? []} />
      <FormMessage state={state} />
      <Button type="submit" disabled={pending}>{pending ? 'Adding…' : 'Add person'}</Button>
    </form>
  );
}

export function UserRolesForm({ user }: { user: { id: string; roles: string[]; agentRoles: string[]; active: boolean } }) {
  const [state, action, pending] = useActionState<FormState, FormData>(updateUserRolesAction, undefined);
  return (
    <form action={action} className="space-y-2">
      <input type="hidden" name="userId" value={user.id} />
      <RoleBoxes name="roles" legend="Roles" options={ROLES} checked={user.roles} />
      <RoleBoxes name="agentRoles" legend="Agent roles" options={AGENT_ROLES} checked={user.agentRoles} />
      <div className="flex items-center gap-3">
        <label className="flex items-center gap-1.5 text-sm"><input type="checkbox" name="active" defaultChecked={user.active} /> active</label>
        <Button type="submit" variant="secondary" disabled={pending}>Save roles</Button>
        <FormMessage state={state} />
      </div>
    </form>
  );
}
