'use client';

import { useActionState } from 'react';
import { importMigrationFolderAction, type ImportState } from '@/lib/actions/migration-status-actions';
import { Button } from '@/components/ui/button';
import { Field, FormMessage } from '@/components/ui/field';

export function ImportFolderForm() {
  const [state, action, pending] = useActionState<ImportState, FormData>(importMigrationFolderAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  return (
    <form action={action} className="mb-5 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="import-form">
      <div className="min-w-80">
        <Field name="archive" label="Prisma migrations folder (.tar.gz or .zip)" errors={errors.archive}>
          {(p) => <input {...p} type="file" name="archive" accept=".gz,.tgz,.tar,.zip" className="mt-1 block text-sm" />}
        </Field>
      </div>
      <Button type="submit" disabled={pending}>{pending ? 'Importing…' : 'Import'}</Button>
      <FormMessage state={state && !state.ok && !state.fieldErrors ? state : undefined} />
    </form>
  );
}
