'use client';

import { useActionState } from 'react';
import { createTargetAction, updateTargetAction, type FormState } from '@/lib/actions/admin-actions';
import type { TargetView } from '@/lib/data/admin';
import { DB_ENGINES, ENVIRONMENTS, SUPPORTED_ENGINES } from '@/lib/domain/roles';
import { FENCE_KIND_LABELS } from '@/lib/domain/fence';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, Select, TextInput } from '@/components/ui/field';

/** Registers a target, or edits one when `target` is given (an empty password keeps the stored one). */
export function TargetForm({ target }: { target?: TargetView }) {
  const [state, action, pending] = useActionState<FormState, FormData>(target ? updateTargetAction : createTargetAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  const values = (state && !state.ok ? state.values : undefined) ?? {};
  const v = (k: keyof TargetView) => (values[k] as string | undefined) ?? (target?.[k] != null ? String(target[k]) : undefined);
  const key = target?.id ?? 'new';
  // After a refused save the boxes show what was sent; otherwise what is stored.
  const allowed = new Set<string>((values.allowedStatementKinds as string[] | undefined) ?? target?.allowedStatementKinds ?? []);

  return (
    <form action={action} className="space-y-3" noValidate>
      {target && <input type="hidden" name="id" value={target.id} />}
      <Field name={`${key}-name`} label="Name" errors={errors.name}>{(p) => <TextInput {...p} name="name" defaultValue={v('name')} />}</Field>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-engine`} label="Engine" errors={errors.engine}>
          {(p) => (
            <Select {...p} name="engine" defaultValue={v('engine') ?? 'postgresql'}>
              {DB_ENGINES.map((e) => <option key={e} value={e} disabled={!SUPPORTED_ENGINES.includes(e)}>{e}{SUPPORTED_ENGINES.includes(e) ? '' : ' (later)'}</option>)}
            </Select>
          )}
        </Field>
        <Field name={`${key}-environment`} label="Environment" errors={errors.environment}>
          {(p) => (
            <Select {...p} name="environment" defaultValue={v('environment') ?? ''}>
              <option value="">Choose…</option>
              {ENVIRONMENTS.map((e) => <option key={e} value={e}>{e}</option>)}
            </Select>
          )}
        </Field>
      </div>
      <div className="grid grid-cols-3 gap-3">
        <div className="col-span-2"><Field name={`${key}-host`} label="Host" errors={errors.host}>{(p) => <TextInput {...p} name="host" defaultValue={v('host')} />}</Field></div>
        <Field name={`${key}-port`} label="Port" errors={errors.port}>{(p) => <TextInput {...p} name="port" inputMode="numeric" defaultValue={v('port') ?? '5432'} />}</Field>
      </div>
      <Field name={`${key}-filePath`} label="File path (file-based engines)" errors={errors.filePath} hint="SQLite (later): the database file's absolute path, instead of host, port and user.">
        {(p) => <TextInput {...p} name="filePath" defaultValue={v('filePath')} placeholder="/var/lib/app/app.db" />}
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-database`} label="Database" errors={errors.database}>{(p) => <TextInput {...p} name="database" defaultValue={v('database')} />}</Field>
        <Field name={`${key}-username`} label="User" errors={errors.username}>{(p) => <TextInput {...p} name="username" defaultValue={v('username')} autoComplete="off" />}</Field>
      </div>
      <Field name={`${key}-password`} label="Password" errors={errors.password} hint={target?.hasPassword ? 'Leave empty to keep the stored password.' : undefined}>
        {(p) => <TextInput {...p} name="password" type="password" autoComplete="new-password" />}
      </Field>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-sslMode`} label="SSL" errors={errors.sslMode}>
          {(p) => (
            <Select {...p} name="sslMode" defaultValue={v('sslMode') ?? 'disable'}>
              <option value="disable">disable</option><option value="require">require</option><option value="verify-full">verify-full</option>
            </Select>
          )}
        </Field>
        <Field name={`${key}-connectTimeoutMs`} label="Connect timeout (ms)" errors={errors.connectTimeoutMs}>
          {(p) => <TextInput {...p} name="connectTimeoutMs" inputMode="numeric" defaultValue={v('connectTimeoutMs') ?? '5000'} />}
        </Field>
      </div>
      <div className="grid grid-cols-2 gap-3">
        <Field name={`${key}-lockTimeoutMs`} label="Lock timeout for runs (ms)" errors={errors.lockTimeoutMs}>
          {(p) => <TextInput {...p} name="lockTimeoutMs" inputMode="numeric" defaultValue={v('lockTimeoutMs') ?? '5000'} />}
        </Field>
        <Field name={`${key}-statementTimeoutMs`} label="Statement timeout (ms, 0 = none)" errors={errors.statementTimeoutMs}>
          {(p) => <TextInput {...p} name="statementTimeoutMs" inputMode="numeric" defaultValue={v('statementTimeoutMs') ?? '600000'} />}
        </Field>
      </div>
      <Field name={`${key}-runDeadlineMs`} label="Run deadline (ms)" errors={errors.runDeadlineMs} hint="Every run on this target is stopped after this long. 30 minutes = 1 800 000; from 10 000 (10 s) to 86 400 000 (24 h).">
        {(p) => <TextInput {...p} name="runDeadlineMs" inputMode="numeric" defaultValue={v('runDeadlineMs') ?? '1800000'} />}
      </Field>
      <Field name={`${key}-lockImpactThresholdMs`} label="Lock-impact threshold (ms)" errors={errors.lockImpactThresholdMs} hint="A rehearsal with a data sample names every statement that kept its probe readers or writers waiting longer than this, and raises the risk.">
        {(p) => <TextInput {...p} name="lockImpactThresholdMs" inputMode="numeric" defaultValue={v('lockImpactThresholdMs') ?? '1000'} />}
      </Field>
      <Field
        name={`${key}-rehearsalServer`}
        label="Rehearsal server (optional)"
        errors={errors.rehearsalServer}
        hint={target?.hasRehearsalServer
          ? 'A rehearsal server is set. Leave empty to keep it.'
          : 'A postgresql:// URL with a role that may create databases and roles, for targets whose PostgreSQL version Cutover\'s own sandbox cannot restore. Empty: rehearse in Cutover\'s sandbox.'}
      >
        {(p) => <TextInput {...p} name="rehearsalServer" type="password" autoComplete="off" placeholder="postgresql://user:password@host:5432/postgres" />}
      </Field>
      {target?.hasRehearsalServer && (
        <label className="flex items-center gap-2 text-sm text-slate-800">
          <input type="checkbox" name="clearRehearsalServer" defaultChecked={values.clearRehearsalServer === 'on'} />
          Forget the stored rehearsal server (rehearse in Cutover&apos;s own sandbox again)
        </label>
      )}
      {/* Allowances are a decision about a target that exists: set them when editing it. */}
      {target && <fieldset className="rounded-md border border-amber-300 bg-amber-50 p-3" aria-describedby={`${key}-fence-warning`}>
        <legend className="px-1 text-sm font-medium text-slate-800">Let past the SQL fence on this target</legend>
        <p id={`${key}-fence-warning`} className="mb-2 text-xs text-amber-900">
          Cutover refuses statements that reach beyond one database. Each box lets migrations on this target do that kind of
          thing (manage roles, read server files, ...): tick one only for a team whose migrations must, and only on this target.
          Every change is recorded in the audit log.
        </p>
        <div className="space-y-1">
          {Object.entries(FENCE_KIND_LABELS).map(([id, label]) => (
            <label key={id} className="flex items-start gap-2 text-sm text-slate-800">
              <input type="checkbox" name="allowedStatementKinds" value={id} defaultChecked={allowed.has(id)} className="mt-1" data-testid={`fence-kind-${id}`} />
              <span>{label}</span>
            </label>
          ))}
        </div>
        {errors.allowedStatementKinds?.map((e) => <p key={e} className="mt-1 text-sm text-red-700">{e}</p>)}
      </fieldset>}
      <FormMessage state={state} />
      <Button type="submit" disabled={pending}>{pending ? 'Saving…' : target ? 'Save' : 'Register target'}</Button>
    </form>
  );
}
