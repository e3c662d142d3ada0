'use client';

import { useActionState, useMemo, useState } from 'react';
import type { MigrationPanelView } from '@/lib/data/runs';
import { saveRevisionAction, type SaveRevisionState } from '@/lib/actions/run-actions';
import { MAX_SQL_BYTES, encodeExactSql, exactFieldName, type SqlField as SqlFieldName } from '@/lib/validation/migration';
import { declaredChangesText } from '@/lib/validation/declared-changes';
import { Button } from '@/components/ui/button';
import { Counter } from '@/components/ui/counter';
import { Field, FormMessage, TextArea, TextInput } from '@/components/ui/field';
import { formatTime } from '@/components/ui/progress';
import { PlanSummary } from './plan-summary';

const mono = 'font-mono text-xs leading-5';

/**
 * Where a SQL field's text comes from. A loaded file and an unchanged saved revision travel as
 * their exact bytes (a textarea would submit CRLF line endings); typed text is stored with LF.
 */
type Source =
  | { kind: 'typed' }
  | { kind: 'saved'; revision: number }
  | { kind: 'file'; fileName: string; base64: string; bytes: number; lineEndings: string; finalNewline: boolean };

function describeLineEndings(text: string) {
  const crlf = (text.match(/\r\n/g) ?? []).length;
  const lf = (text.match(/\n/g) ?? []).length - crlf;
  return {
    lineEndings: crlf && lf ? 'mixed' : crlf ? 'CRLF' : lf ? 'LF' : 'no',
    finalNewline: text.endsWith('\n'),
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);

/** One SQL file of the revision: typed, or loaded from disk and kept byte for byte. */
function SqlField({ field, label, file, rows, saved, revision, errors, note }: {
  field: SqlFieldName;
  label: string;
  file: string;
  rows: number;
  saved: string;
  revision: number | null;
  errors?: string[];
  note?: string;
}) {
  const [text, setText] = useState(saved);
  const [source, setSource] = useState<Source>(saved && revision ? { kind: 'saved', revision } : { kind: 'typed' });
  const [loadError, setLoadError] = useState<string | null>(null);
  const exact = useMemo(
    () => (source.kind === 'file' ? source.base64 : source.kind === 'saved' ? encodeExactSql(utf8(text)) : ''),
    [source, text],
  );
  const bytes = source.kind === 'file' ? source.bytes : utf8(text).length;
  const infoId = `field-${field}-source`;

  async function load(f: File) {
    setLoadError(null);
    const data = new Uint8Array(await f.arrayBuffer());
    if (data.length > MAX_SQL_BYTES) return setLoadError(`${f.name} is ${data.length.toLocaleString('en')} bytes; a file can be at most 1 MB.`);
    let decoded: string;
    try {
      decoded = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(data);
    } catch {
      return setLoadError(`${f.name} is not UTF-8 text; save it as UTF-8 and load it again.`);
    }
    setText(decoded);
    setSource({ kind: 'file', fileName: f.name, base64: encodeExactSql(data), bytes: data.length, ...describeLineEndings(decoded) });
  }

  return (
    <div data-testid={`sql-field-${field}`}>
      <Field name={field} label={label} errors={loadError ? [loadError, ...(errors ?? [])] : errors}>
        {(p) => (
          <TextArea
            {...p}
            // Typed text goes by name; exact bytes go in the hidden field below instead.
            name={source.kind === 'typed' ? field : undefined}
            rows={rows}
            spellCheck={false}
            value={text}
            onChange={(e) => {
              setText(e.target.value);
              setSource({ kind: 'typed' });
            }}
            aria-describedby={[p['aria-describedby'], infoId].filter(Boolean).join(' ')}
            data-source={source.kind}
            className={`${p.className} ${mono}`}
          />
        )}
      </Field>
      {exact && <input type="hidden" name={exactFieldName(field)} value={exact} />}
      <div className="flex flex-wrap items-start gap-3">
        <label className="mt-1 cursor-pointer text-xs text-indigo-700 underline">
          Load {file} from a file
          <input
            type="file"
            accept=".sql,text/plain"
            className="sr-only"
            onChange={async (e) => {
              const f = e.target.files?.[0];
              e.target.value = '';
              if (f) await load(f);
            }}
          />
        </label>
        <p id={infoId} className="mt-1 flex-1 text-xs text-slate-600" data-testid={`source-${field}`}>
          {source.kind === 'file' && (
            <>
              From file <span className="font-mono">{source.fileName}</span>: {source.bytes.toLocaleString('en')} bytes, {source.lineEndings} line endings
              {source.finalNewline ? '' : ', no final newline'}. Saved byte for byte; an edit here makes it typed text (stored with LF line endings).
            </>
          )}
          {source.kind === 'saved' && <>As saved in revision {source.revision}, kept byte for byte unless you edit it.</>}
          {source.kind === 'typed' && note}
        </p>
        <Counter used={bytes} limit={MAX_SQL_BYTES} unit="bytes" />
      </div>
    </div>
  );
}

/** "Create migration": the up and down paths (and a data transformation), saved as revisions. */
export function MigrationEditor({ requestId, panel, canEdit }: { requestId: string; panel: MigrationPanelView; canEdit: boolean }) {
  const [state, action, pending] = useActionState<SaveRevisionState, FormData>(saveRevisionAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const latest = panel.latest;
  const downToWrite = latest !== null && !latest.downSql.trim();

  return (
    <section aria-labelledby="migration-title" data-testid="migration-editor" className="rounded-lg border border-slate-200 bg-white shadow-sm">
      <header className="flex items-center gap-2 border-b border-slate-200 px-4 py-2.5">
        <h2 id="migration-title" className="text-sm font-semibold">Migration</h2>
        <span className="text-xs text-slate-500">{latest ? `revision ${latest.revision}` : 'not written yet'}</span>
        {downToWrite && <span className="ml-auto rounded bg-amber-100 px-1.5 py-0.5 text-xs text-amber-900" data-testid="down-to-write">down.sql still to write</span>}
      </header>
      <div className="space-y-3 p-4 text-sm">
        {downToWrite && (
          <p className="rounded-md bg-amber-50 px-3 py-2 text-xs text-amber-900">
            Revision {latest.revision} has no way back yet: its folder had no <span className="font-mono">down.sql</span>. Write it here (it is still to write);
            rehearsals and Roll back need it.
          </p>
        )}
        {canEdit ? (
          // key: a new revision resets the form to what was saved.
          <form key={latest?.revision ?? 0} action={action} className="space-y-3" noValidate>
            <input type="hidden" name="requestId" value={requestId} />
            <Field name="name" label="Name (Prisma folder: <timestamp>_<name>)" errors={errors.name}>
              {(p) => <TextInput {...p} name="name" defaultValue={(values.name as string | undefined) ?? latest?.name ?? ''} maxLength={100} placeholder="add_shipped_at" className={`${p.className} ${mono}`} />}
            </Field>
            <SqlField field="upSql" label="Up: migration.sql" file="migration.sql" rows={6} saved={latest?.upSql ?? ''} revision={latest?.revision ?? null} errors={errors.upSql} />
            <SqlField field="downSql" label="Down: down.sql" file="down.sql" rows={4} saved={latest?.downSql ?? ''} revision={latest?.revision ?? null} errors={errors.downSql}
              note={downToWrite ? 'Still to write: the way back from this migration.' : undefined} />
            <SqlField field="dataSql" label="Data transformation (optional; runs after the up path)" file="the data transformation" rows={3} saved={latest?.dataSql ?? ''} revision={latest?.revision ?? null} errors={errors.dataSql} />
            <Field name="declaredChanges" label="Declared data changes (the data-loss check of a rehearsal with a sample fails on any other)" errors={errors.declaredChanges}
              hint="One a line: public.orders rows where status = 'void' · public.orders rows · public.orders alter column total · public.orders drop column note · public.orders drop table · public.orders rename column note to remark · public.orders rename to public.orders_old">
              {(p) => (
                <TextArea {...p} name="declaredChanges" rows={3} spellCheck={false} placeholder="public.orders rows where status = 'void'" className={`${p.className} ${mono}`}
                  defaultValue={(values.declaredChanges as string | undefined) ?? declaredChangesText(latest?.declaredChanges)} />
              )}
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
              return <p key={file} className="mt-0.5"><PlanSummary file={file === 'up' ? 'migration.sql' : 'down.sql'} plan={p} /></p>;
            })}
            {!panel.plan.down && <p className="mt-0.5"><span className="font-mono">down.sql</span>: still to write.</p>}
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
