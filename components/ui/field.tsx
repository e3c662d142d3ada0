import { useId, type InputHTMLAttributes, type SelectHTMLAttributes, type TextareaHTMLAttributes } from 'react';

const control =
  'mt-1 block w-full rounded-md border border-slate-300 bg-white px-2.5 py-1.5 text-sm shadow-sm focus:border-indigo-600 aria-[invalid=true]:border-red-500';

interface FieldProps {
  name: string;
  label: string;
  errors?: string[];
  hint?: string;
  children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean; className: string }) => React.ReactNode;
}

/**
 * A labelled control with its errors announced and linked by aria-describedby. The id is unique per
 * rendered field (useId), so two forms with the same field names on one page (Admin > Agents: each
 * agent's card and "Add an agent") do not point their labels at each other's controls.
 */
export function Field({ name, label, errors, hint, children }: FieldProps) {
  const id = `field-${name}-${useId().replace(/[^\w-]/g, '')}`;
  const errorId = `${id}-error`;
  return (
    <div>
      <label htmlFor={id} className="block text-sm font-medium text-slate-800">
        {label}
      </label>
      {children({ id, 'aria-describedby': errors?.length ? errorId : undefined, 'aria-invalid': errors?.length ? true : undefined, className: control })}
      {hint && !errors?.length && <p className="mt-1 text-xs text-slate-500">{hint}</p>}
      <div id={errorId} aria-live="polite" aria-atomic="true">
        {errors?.map((e) => (
          <p key={e} className="mt-1 whitespace-pre-line text-sm text-red-700" data-testid={`error-${name}`}>
            {e}
          </p>
        ))}
      </div>
    </div>
  );
}

export const TextInput = (p: InputHTMLAttributes<HTMLInputElement>) => <input {...p} />;
export const TextArea = (p: TextareaHTMLAttributes<HTMLTextAreaElement>) => <textarea {...p} />;
export const Select = (p: SelectHTMLAttributes<HTMLSelectElement>) => <select {...p} />;

export function FormMessage({ state }: { state?: { ok: boolean; message?: string } }) {
  return (
    <div aria-live="polite" role="status">
      {state?.message && (
        <p className={`rounded-md px-3 py-2 text-sm ${state.ok ? 'bg-emerald-50 text-emerald-800' : 'bg-red-50 text-red-800'}`}>{state.message}</p>
      )}
    </div>
  );
}
