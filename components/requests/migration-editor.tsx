'use client';

import { useActionState } from 'react';
import type { MigrationPanelView } from '@/lib/data/runs';
import { saveRevisionAction, type SaveRevisionState } from '@/lib/actions/run-actions';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, TextArea, TextInput } from '@/components/ui/field';
import { formatTime } from '@/components/ui/progress';

const mono = 'font-mono text-xs leading-5';

/** "Upload" a .sql file into a field: read locally and put in the textarea, to be checked and saved like typed SQL. */
function LoadFile({ target, label }: { target: string; label: string }) {
  return (
    <label className="cursor-pointer text-xs text-indigo-700 underline">
      {label}
      <input
        type="file"
        accept=".sql,text/plain"
        className="sr-only"
        onChange={async (e) => {
          const file = e.target.files?.[0];
          const field = document.getElementById(target) as HTMLTextAreaElement | null;
          if (file && field) field.value = await file.text();
          e.target.value = '';
        }}
      />
    </label>
  );
}

/** "Create migration": the up and down paths (and a data transformation), saved as revisions. */
export function MigrationEditor({ requestId, panel, canEdit }: { requestId: string; panel: MigrationPanelView; canEdit: boolean }) {
  const [state, action, pending] = useActionState<SaveRevisionState, FormData>(saveRevisionAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const v = (k: 'name' | 'upSql' | 'downSql' | 'dataSql') => (values[k] as string | undefined) ?? panel.latest?.[k] ?? '';

  return (
    <section aria-labelledby="migration-title" data-testid="migration-editor" className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="migration-title" className="text-sm font-semibold">Migration</h2>
        <span className="text-xs text-slate-500">{panel.latest ? `revision ${panel.latest.revision}` : 'not written yet'}</span>
      </header>
      <div className="space-y-3 p-4 text-sm">
        {canEdit ? (
          // key: a new revision resets the form to what was saved.
          <form key={panel.latest?.revision ?? 0} action={action} className="space-y-3" noValidate>
            <input type="hidden" name="requestId" value={requestId} />
            <Field name="name" label="Name (Prisma folder: <timestamp>_<name>)" errors={errors.name}>
              {(p) => <TextInput {...p} name="name" defaultValue={v('name')} placeholder="add_shipped_at" className={`${p.className} ${mono}`} />}
            </Field>
            <div className="flex gap-3">
              <LoadFile target="field-upSql" label="Load migration.sql from a file" />
              <LoadFile target="field-downSql" label="Load down.sql from a file" />
            </div>
            <Field name="upSql" label="Up: migration.sql" errors={errors.upSql}>
              {(p) => <TextArea {...p} name="upSql" rows={6} spellCheck={false} defaultValue={v('upSql')} className={`${p.className} ${mono}`} />}
            </Field>
            <Field name="downSql" label="Down: down.sql" errors={errors.downSql}>
              {(p) => <TextArea {...p} name="downSql" rows={4} spellCheck={false} defaultValue={v('downSql')} className={`${p.className} ${mono}`} />}
            </Field>
            <Field name="dataSql" label="Data transformation (optional; runs after the up path)" errors={errors.dataSql}>
              {(p) => <TextArea {...p} name="dataSql" rows={3} spellCheck={false} defaultValue={v('dataSql')} className={`${p.className} ${mono}`} />}
            </Field>
            <FormMessage state={state} />
            <Button type="submit" disabled={pending}>{pending ? 'Checking and saving…' : 'Save revision'}</Button>
          </form>
        ) : (
          <p className="text-xs text-slate-500">Holders of database-administrator (or admins) write the migration.</p>
        )}
        {panel.revisions.length > 0 && (
          <div>
            <h3 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Revisions</h3>
            <ol className="mt-1 space-y-0.5 text-xs" data-testid="revisions">
              {panel.revisions.map((r) => (
                <li key={r.id}>
                  <span className="font-medium">#{r.revision}</span> <span className="font-mono">{r.name}</span> · sha256{' '}
                  <span className="font-mono" title={r.checksum}>{r.checksum.slice(0, 12)}</span> · {r.author}, {formatTime(r.createdAt)} ·{' '}
                  <a className="text-indigo-700 underline" href={`/api/v1/requests/${requestId}/migration?revision=${r.revision}`} download>
                    Prisma folder (.tar.gz)
                  </a>
                </li>
              ))}
            </ol>
          </div>
        )}
        {panel.plan && (
          <div data-testid="migration-plan" className="rounded-md bg-slate-50 px-3 py-2 text-xs">
            <h3 className="font-semibold uppercase tracking-wide text-slate-500">How it will run</h3>
            {(['up', 'down'] as const).map((file) => {
              const p = panel.plan![file];
              if (!p) return null;
              return (
                <p key={file} className="mt-0.5">
                  <span className="font-mono">{file === 'up' ? 'migration.sql' : 'down.sql'}</span>: {p.statements} statement{p.statements === 1 ? '' : 's'},{' '}
                  {p.ownsTransactions
                    ? 'manages its own transactions (runs as written)'
                    : p.atomic
                      ? 'all in one transaction (a failure changes nothing)'
                      : <span className="text-amber-800">not atomic: {p.outside.map((o) => `line ${o.line} (${o.reason})`).join('; ')} runs outside a transaction</span>}
                </p>
              );
            })}
          </div>
        )}
        {panel.changesFromPrevious && (
          <details data-testid="revision-diff">
            <summary className="cursor-pointer text-xs font-semibold uppercase tracking-wide text-slate-500">
              Changes from revision {panel.changesFromPrevious.from} to {panel.changesFromPrevious.to}
            </summary>
            {panel.changesFromPrevious.files.length === 0 && <p className="mt-1 text-xs text-slate-600">Only the name changed.</p>}
            {panel.changesFromPrevious.files.map((f) => (
              <div key={f.file} className="mt-2">
                <p className="text-xs font-medium">{f.file}</p>
                {f.lines === null ? (
                  <p className="text-xs text-slate-600">Too long to compare here.</p>
                ) : (
                  <pre className="overflow-x-auto rounded bg-slate-50 p-2 text-xs leading-5">
                    {f.lines.map((l, i) => (
                      <div key={i} className={l.op === '+' ? 'bg-emerald-50 text-emerald-800' : l.op === '-' ? 'bg-red-50 text-red-800' : 'text-slate-500'}>
                        {l.op} {l.text}
                      </div>
                    ))}
                  </pre>
                )}
              </div>
            ))}
          </details>
        )}
      </div>
    </section>
  );
}
