'use client';

import { useActionState } from 'react';
import { issueApiTokenAction, type IssueTokenState } from '@/lib/actions/token-actions';
import { MAX_TOKEN_DAYS, TOKEN_ROLES } from '@/lib/validation/api-token';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, Select, TextInput } from '@/components/ui/field';

/** Issues a token; the secret is shown once, in this form's answer, with a copy button. */
export function TokenForm() {
  const [state, action, pending] = useActionState<IssueTokenState, FormData>(issueApiTokenAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const issued = state?.ok ? state.data : null;
  return (
    <div className="space-y-4">
      <form action={action} className="space-y-3" noValidate>
        <Field name="name" label="Name" errors={errors.name} hint='What uses it, e.g. "CI main".'>
          {(p) => <TextInput {...p} name="name" defaultValue={values.name as string} />}
        </Field>
        <Field name="role" label="Role" errors={errors.role} hint="The token acts with this one role only (never admin).">
          {(p) => (
            <Select {...p} name="role" defaultValue={(values.role as string) ?? 'test-automator'}>
              {TOKEN_ROLES.map((r) => <option key={r} value={r}>{r}</option>)}
            </Select>
          )}
        </Field>
        <Field name="expiresInDays" label="Expires after (days)" errors={errors.expiresInDays} hint={`Empty: never (it can still be revoked). At most ${MAX_TOKEN_DAYS}.`}>
          {(p) => <TextInput {...p} name="expiresInDays" type="number" min={1} max={MAX_TOKEN_DAYS} defaultValue={values.expiresInDays as string} />}
        </Field>
        <FormMessage state={state} />
        <Button type="submit" disabled={pending}>{pending ? 'Issuing…' : 'Issue token'}</Button>
      </form>
      {issued && (
        <div className="space-y-2 rounded-md border border-amber-300 bg-amber-50 p-3 text-sm" data-testid="issued-token">
          <p className="font-medium text-amber-900">
            {issued.name} ({issued.role}): this is the only time the token is shown.
          </p>
          <code className="block break-all rounded bg-white px-2 py-1.5 font-mono text-xs ring-1 ring-amber-200" data-testid="token-secret">{issued.secret}</code>
          <Button type="button" variant="secondary" onClick={() => void navigator.clipboard?.writeText(issued.secret)}>Copy</Button>
          <p className="text-xs text-amber-900">Use it as <code>Authorization: Bearer &lt;token&gt;</code> on <code>/api/v1</code>.</p>
        </div>
      )}
    </div>
  );
}
