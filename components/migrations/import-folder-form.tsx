'use client';

import { useRouter } from 'next/navigation';
import { useState, useTransition, type FormEvent } from 'react';
import type { ImportedFolder } from '@/lib/validation/migration-import';
import { Button } from '@/components/ui/button';
import { Field, FormMessage } from '@/components/ui/field';

type ImportState = { ok: false; message: string; fieldErrors?: Record<string, string[]> } | undefined;

const CHOOSE = 'Choose an archive to upload.';

/**
 * Posts the archive's bytes to POST /api/v1/migration-folders (not a server action: the route
 * checks who is asking before it reads the upload, and reads it with a cap).
 */
export function ImportFolderForm() {
  const router = useRouter();
  const [state, setState] = useState<ImportState>(undefined);
  const [pending, startTransition] = useTransition();
  const errors = state?.fieldErrors ?? {};

  function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const file = (event.currentTarget.elements.namedItem('archive') as HTMLInputElement | null)?.files?.[0];
    if (!file || file.size === 0) {
      setState({ ok: false, message: 'Some fields need attention.', fieldErrors: { archive: [CHOOSE] } });
      return;
    }
    startTransition(async () => {
      let answer: { data?: ImportedFolder; error?: { message?: string; fieldErrors?: Record<string, string[]> } } | null = null;
      try {
        const res = await fetch(`/api/v1/migration-folders?name=${encodeURIComponent(file.name)}`, {
          method: 'POST',
          headers: { 'content-type': 'application/octet-stream', accept: 'application/json' },
          body: file,
        });
        answer = await res.json().catch(() => null);
      } catch {
        answer = null;
      }
      if (answer?.data) {
        setState(undefined);
        router.push(`/migrations?folder=${answer.data.id}`);
        return;
      }
      setState({
        ok: false,
        message: answer?.error?.message ?? 'The upload did not reach the server; try again.',
        fieldErrors: answer?.error?.fieldErrors,
      });
    });
  }

  return (
    <form onSubmit={onSubmit} className="mb-5 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="import-form">
      <div className="min-w-80">
        <Field name="archive" label="Prisma migrations folder (.tar.gz or .zip)" errors={errors.archive}>
          {(p) => <input {...p} type="file" name="archive" accept=".gz,.tgz,.tar,.zip" className="mt-1 block text-sm" />}
        </Field>
      </div>
      <Button type="submit" disabled={pending}>{pending ? 'Importing…' : 'Import'}</Button>
      <FormMessage state={state && !state.fieldErrors ? state : undefined} />
    </form>
  );
}
