'use client';

import { useActionState } from 'react';
import { updateFenceSettingsAction, type FenceSettingsState } from '@/lib/actions/admin-actions';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, TextArea } from '@/components/ui/field';

/** The app-wide list of extensions CREATE EXTENSION may create on any target. */
export function FenceSettingsForm({ allowedExtensions, defaults }: { allowedExtensions: string[]; defaults: string[] }) {
  const [state, action, pending] = useActionState<FenceSettingsState, FormData>(updateFenceSettingsAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const current = state?.ok ? state.data.allowedExtensions : allowedExtensions;
  return (
    <form action={action} className="space-y-3" noValidate>
      <Field
        name="allowedExtensions"
        label="Extensions migrations may create"
        errors={errors.allowedExtensions}
        hint={`One per line. PostgreSQL's trusted extensions are the default: ${defaults.join(', ')}.`}
      >
        {(p) => <TextArea {...p} key={current.join(',')} name="allowedExtensions" rows={10} defaultValue={current.join('\n')} spellCheck={false} className={`${p.className} font-mono`} />}
      </Field>
      <label className="flex items-center gap-2 text-sm text-slate-800">
        <input type="checkbox" name="reset" /> Put the defaults back
      </label>
      <FormMessage state={state} />
      <Button type="submit" disabled={pending}>{pending ? 'Saving…' : 'Save the allow list'}</Button>
    </form>
  );
}
