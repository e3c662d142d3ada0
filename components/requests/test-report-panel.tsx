'use client';

import { useActionState } from 'react';
import { attachTestReportAction, type AttachTestReportState } from '@/lib/actions/test-report-actions';
import type { TestReportView } from '@/lib/data/test-reports';
import { Badge } from '@/components/ui/badge';
import { Button } from '@/components/ui/button';
import { Field, FormMessage, TextArea, TextInput } from '@/components/ui/field';

const when = (d: Date) => new Date(d).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';

/** Step 5: the latest test reports with their failures, and (for the step's holders) a form to attach one. */
export function TestReportPanel({ requestId, reports, canAttach, currentRevision }: {
  requestId: string;
  reports: TestReportView[];
  canAttach: boolean;
  currentRevision: number | null;
}) {
  const latest = reports[0];
  return (
    <section className="space-y-4" aria-labelledby="test-reports-title" data-testid="test-report-panel">
      <h3 id="test-reports-title" className="text-sm font-semibold text-slate-800">Test reports</h3>
      {latest ? <TestReport report={latest} /> : <p className="text-sm text-slate-600">No test report yet. CI can post one through the API with a token (see the README), or attach one here.</p>}
      {reports.length > 1 && (
        <details className="text-sm">
          <summary className="cursor-pointer text-slate-700">Earlier reports ({reports.length - 1})</summary>
          <ul className="mt-2 space-y-1">
            {reports.slice(1).map((r) => (
              <li key={r.id} className="flex flex-wrap items-center gap-2">
                <Badge tone={r.passed ? 'green' : 'red'}>{r.passed ? 'passed' : 'failed'}</Badge>
                <span>revision {r.revision ?? '?'}: {r.summary}</span>
                <span className="text-xs text-slate-500">{when(r.createdAt)}{r.attachedBy ? ` by ${r.attachedBy}` : ''}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {canAttach && <AttachForm requestId={requestId} currentRevision={currentRevision} />}
    </section>
  );
}

function TestReport({ report }: { report: TestReportView }) {
  const problems = report.failures + report.errors;
  return (
    <div className="space-y-2 text-sm" data-testid="test-report">
      <div className="flex flex-wrap items-center gap-2">
        <Badge tone={report.staleBecause ? 'amber' : report.passed ? 'green' : 'red'}>{report.staleBecause ? 'stale' : report.passed ? 'passed' : 'failed'}</Badge>
        <span className="font-medium" data-testid="test-report-summary">{report.summary}</span>
        <span className="text-xs text-slate-500">
          revision {report.revision ?? '?'} · {report.format === 'junit' ? 'JUnit XML' : 'JSON summary'}{report.fileName ? ` (${report.fileName})` : ''} · {when(report.createdAt)}{report.attachedBy ? ` by ${report.attachedBy}` : ''}
        </span>
      </div>
      {report.staleBecause && <p className="text-xs text-amber-900">{report.staleBecause} Attach a report for the current revision.</p>}
      {problems > 0 && (
        <div>
          <h4 className="text-xs font-semibold uppercase tracking-wide text-slate-500">Failures</h4>
          <ul className="mt-1 divide-y divide-slate-200 rounded-md border border-slate-200" data-testid="test-failures">
            {report.failureList.map((f, i) => (
              <li key={`${f.classname}-${f.name}-${i}`} className="px-3 py-2">
                <div className="font-mono text-xs">
                  {f.classname ? <span className="text-slate-500">{f.classname} › </span> : null}
                  <span className="font-semibold text-slate-900">{f.name}</span>
                  {f.kind === 'error' && <span className="ml-2 text-red-700">(error)</span>}
                </div>
                <pre className="mt-1 whitespace-pre-wrap break-words text-xs text-red-800">{f.message}</pre>
              </li>
            ))}
          </ul>
          {problems > report.failureList.length && <p className="mt-1 text-xs text-slate-600">{problems - report.failureList.length} more not listed.</p>}
        </div>
      )}
    </div>
  );
}

function AttachForm({ requestId, currentRevision }: { requestId: string; currentRevision: number | null }) {
  const [state, action, pending] = useActionState<AttachTestReportState, FormData>(attachTestReportAction, undefined);
  const errors = state && !state.ok ? (state.fieldErrors ?? {}) : {};
  return (
    <form action={action} className="space-y-3 rounded-md border border-slate-200 p-3" noValidate>
      <input type="hidden" name="requestId" value={requestId} />
      <p className="text-xs text-slate-600">
        For revision {currentRevision ?? '(none yet)'} unless you name another. JUnit XML or a JSON summary <code>{'{"tests": 12, "failures": 0}'}</code>.
      </p>
      <Field name="file" label="Report file" errors={errors.file}>
        {(p) => <TextInput {...p} name="file" type="file" accept=".xml,.json,application/xml,text/xml,application/json" />}
      </Field>
      <Field name="report" label="…or paste the report" errors={errors.report}>
        {(p) => <TextArea {...p} name="report" rows={5} spellCheck={false} className={`${p.className} font-mono text-xs`} />}
      </Field>
      <Field name="revision" label="Revision (optional)" errors={errors.revision}>
        {(p) => <TextInput {...p} name="revision" type="number" min={1} placeholder={currentRevision ? String(currentRevision) : ''} />}
      </Field>
      <FormMessage state={state} />
      <Button type="submit" disabled={pending}>{pending ? 'Attaching…' : 'Attach report'}</Button>
    </form>
  );
}
