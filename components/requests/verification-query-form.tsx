'use client';

import { useState, useTransition } from 'react';
import { useRouter } from 'next/navigation';
import { addVerificationQueryAction } from '@/lib/actions/post-deploy-actions';
import { Button } from '@/components/ui/button';
import { Field, Select, TextArea, TextInput } from '@/components/ui/field';

type Kind = 'count' | 'value' | 'column_exists' | 'no_rows';
const KIND_LABELS: Record<Kind, string> = {
  count: 'returns a number (a count)',
  value: 'returns a value',
  column_exists: 'a column exists',
  no_rows: 'returns no rows',
};

/**
 * Adds a verification query: a read-only SELECT and what it must return. Checked on the server as
 * one SELECT the SQL fence lets through; errors appear next to their fields.
 */
export function VerificationQueryForm({ requestId }: { requestId: string }) {
  const router = useRouter();
  const [kind, setKind] = useState<Kind>('count');
  const [errors, setErrors] = useState<Record<string, string[]>>({});
  const [message, setMessage] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  function submit(form: HTMLFormElement) {
    const data = Object.fromEntries(new FormData(form).entries());
    startTransition(async () => {
      const result = await addVerificationQueryAction({ ...data, requestId });
      if (result.ok) {
        form.reset();
        setErrors({});
        setMessage('Added.');
        router.refresh();
      } else {
        setErrors(result.fieldErrors ?? {});
        setMessage(result.fieldErrors ? null : result.message);
      }
    });
  }

  return (
    <form
      aria-label="Add a verification query"
      data-testid="verification-query-form"
      className="space-y-3 rounded-md border border-slate-200 p-3"
      onSubmit={(e) => {
        e.preventDefault();
        submit(e.currentTarget);
      }}
    >
      <div className="grid gap-3 sm:grid-cols-2">
        <Field name="name" label="Name" errors={errors.name}>{(p) => <TextInput {...p} name="name" placeholder="Every order has a status" required />}</Field>
        <Field name="kind" label="Passes when the query" errors={errors.kind}>
          {(p) => (
            <Select {...p} name="kind" value={kind} onChange={(e) => setKind(e.target.value as Kind)}>
              {(Object.keys(KIND_LABELS) as Kind[]).map((k) => <option key={k} value={k}>{KIND_LABELS[k]}</option>)}
            </Select>
          )}
        </Field>
      </div>
      {kind === 'column_exists' ? (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field name="table" label="Table" hint="schema.table, or table for public" errors={errors.table}>{(p) => <TextInput {...p} name="table" placeholder="public.orders" />}</Field>
          <Field name="column" label="Column" errors={errors.column}>{(p) => <TextInput {...p} name="column" placeholder="status" />}</Field>
        </div>
      ) : (
        <Field name="sql" label="SELECT query" hint="Read-only: one SELECT, run in a READ ONLY transaction with a 15 s timeout. Unqualified names resolve in public." errors={errors.sql}>
          {(p) => <TextArea {...p} name="sql" rows={3} className={`${p.className} font-mono`} placeholder={kind === 'no_rows' ? 'SELECT id FROM orders WHERE status IS NULL' : 'SELECT count(*) FROM orders'} />}
        </Field>
      )}
      {kind === 'count' && (
        <div className="grid gap-3 sm:grid-cols-2">
          <Field name="op" label="Comparison" errors={errors.op}>
            {(p) => (
              <Select {...p} name="op" defaultValue="=">
                {['=', '!=', '<', '<=', '>', '>='].map((op) => <option key={op} value={op}>{op}</option>)}
              </Select>
            )}
          </Field>
          <Field name="value" label="Expected number" errors={errors.value}>{(p) => <TextInput {...p} name="value" inputMode="numeric" placeholder="0" />}</Field>
        </div>
      )}
      {kind === 'value' && (
        <Field name="value" label="Expected value" hint="Compared as text; numbers and booleans as such (1.50 = 1.5, t = true)." errors={errors.value}>
          {(p) => <TextInput {...p} name="value" />}
        </Field>
      )}
      <div className="flex items-center gap-3">
        <Button type="submit" disabled={pending}>Add check</Button>
        <p aria-live="polite" className="text-sm text-slate-700">{message}</p>
      </div>
    </form>
  );
}
