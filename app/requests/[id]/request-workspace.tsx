import Link from 'next/link';
import { cache } from 'react';
import { notFound } from 'next/navigation';
import { EnvironmentBadge, StatusBadge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { StepProgress, formatTime } from '@/components/ui/progress';
import { AuditLog } from '@/components/requests/audit-log';
import { TaskCard } from '@/components/requests/task-card';
import { ApplyPanel } from '@/components/requests/apply-panel';
import { MigrationEditor } from '@/components/requests/migration-editor';
import { RehearsalPanel } from '@/components/requests/rehearsal-panel';
import { SnapshotPanel } from '@/components/requests/snapshot-panel';
import { Stepper } from '@/components/requests/stepper';
import { RequestSummary } from '@/components/requests/request-summary';
import { StepTimeline } from '@/components/requests/step-timeline';
import { getRequestDetail, getRoleHolders, listRequestAudit, type RequestDetail, type TaskView } from '@/lib/data/requests';
import { getStepEvidenceView } from '@/lib/data/gate';
import { requestStepEvidence } from '@/lib/data/request-facts';
import { getMigrationPanel, getSnapshotPanel } from '@/lib/data/runs';
import { getViewer } from '@/lib/data/viewer';
import { DomainError } from '@/lib/domain/errors';
import type { Actor } from '@/lib/domain/permissions';
import { currentTask, focusStep, waitingOn } from '@/lib/domain/request-focus';
import { REQUEST_KIND_LABELS, type RequestKind } from '@/lib/domain/roles';
import { idSchema } from '@/lib/validation/common';
import { AUDIT_PAGE_SIZE, RequestPageQuerySchema } from '@/lib/validation/request-page';
import { AnalysisSection } from './analysis-section';
import { AppCodeSection } from './app-code-section';
import { BackupSection } from './backup-section';
import { DeploySection } from './deploy-section';
import { DriftSection } from './drift-section';
import { GateSection } from './gate-section';
import { PostDeploySection } from './post-deploy-section';
import { StepEvidenceSection } from './step-evidence-section';
import { SuccessCriteriaSection } from './success-criteria-section';
import { TestReportSection } from './test-report-section';

/** Unknown request ids answer 404, whichever of the page's parallel reads notices first. */
function orNotFound<T>(read: Promise<T>): Promise<T> {
  return read.catch((err) => {
    if (err instanceof DomainError && err.code === 'not_found') notFound();
    throw err;
  });
}

// One read per page view, shared by the page and its title (React's cache lasts one request).
export const loadRequest = cache(async (id: string) => {
  const viewer = await getViewer();
  if (!idSchema.safeParse(id).success) notFound();
  const request = await orNotFound(getRequestDetail(viewer, id, { audit: false }));
  return { viewer, request };
});

type Search = Record<string, string | string[] | undefined>;

/** Who holds a step, in a few words: the person working it, else the roles that may. */
function holderOf(t: TaskView): string {
  if (t.assignee) return t.assignee;
  return t.isGate ? 'reviewers' : t.eligibleRoles.join(' or ');
}

/** A step's own panels; sections of other areas render nothing until they have something to show. */
async function StepSections({ viewer, request, task }: { viewer: Actor; request: RequestDetail; task: TaskView }) {
  const props = { viewer, requestId: request.id, task };
  switch (task.key) {
    case 'analysis':
      return (
        <>
          <SnapshotPanel requestId={request.id} run={await getSnapshotPanel(viewer, request.id)} canTake={task.canWork} takers={task.eligibleRoles} />
          <DriftSection viewer={viewer} requestId={request.id} />
          <AnalysisSection viewer={viewer} requestId={request.id} />
        </>
      );
    case 'create-migration':
      return <MigrationEditor requestId={request.id} panel={await getMigrationPanel(viewer, request.id)} canEdit={task.canWork} />;
    case 'test-locally':
      return <RehearsalPanel requestId={request.id} panel={await getMigrationPanel(viewer, request.id)} canRun={task.canWork} />;
    case 'update-app-code':
      return <AppCodeSection {...props} />;
    case 'test-app':
      return <TestReportSection {...props} />;
    case 'create-backup':
      return <BackupSection viewer={viewer} requestId={request.id} canRun={task.canWork} runners={task.eligibleRoles} />;
    case 'quality-gate':
      return <GateSection {...props} />;
    case 'deploy':
      return (
        <>
          <DeploySection {...props} />
          <ApplyPanel requestId={request.id} panel={await getMigrationPanel(viewer, request.id)} target={request.target} canApply={task.canWork} />
        </>
      );
    case 'post-deployment':
      return (
        <>
          <PostDeploySection {...props} />
          <SuccessCriteriaSection {...props} />
        </>
      );
    default:
      return null;
  }
}

/** The step itself: its card (the gate's section is its card), its evidence when it is not shown beside, and its panels. */
async function StepBlock({ viewer, request, task, withEvidence }: { viewer: Actor; request: RequestDetail; task: TaskView; withEvidence: boolean }) {
  // The card shows the items evidence covers as such (not as boxes to tick).
  const evidence = task.isGate ? null : await getStepEvidenceView(viewer, request.id, task.key);
  return (
    <div className="space-y-4" data-testid="step-block" data-step={task.key}>
      {!task.isGate && <TaskCard task={task} evidence={evidence} />}
      {withEvidence && <StepEvidenceSection viewer={viewer} requestId={request.id} task={task} />}
      <StepSections viewer={viewer} request={request} task={task} />
    </div>
  );
}

/**
 * The request page, built around one step: summary (what it waits for, on whom), the stepper as
 * navigation, the open step with its panels and its evidence beside it, the audit log paged.
 * `stepKey` comes from a deep link (/requests/ID/steps/KEY); without it the page opens the
 * current step, or the first open step the viewer holds. `?view=all` stacks every step.
 */
export async function RequestWorkspace({ id, stepKey, searchParams }: { id: string; stepKey?: string; searchParams: Search }) {
  const flat = Object.fromEntries(Object.entries(searchParams).map(([k, v]) => [k, Array.isArray(v) ? v[0] : v]));
  const query = RequestPageQuerySchema.parse(flat);
  // Who is asking first (it redirects); then every read the page needs at once, not one after another:
  // under load each await waits behind every other page's work. The step verdicts are read once
  // (lib/data/request-facts.ts) for the summary, the open step's card and the evidence beside it.
  const viewer = await getViewer();
  if (!idSchema.safeParse(id).success) notFound();
  const [{ request }, holders, audit] = await Promise.all([
    loadRequest(id),
    getRoleHolders(),
    orNotFound(listRequestAudit(viewer, id, { action: query.audit, page: query.auditPage, pageSize: AUDIT_PAGE_SIZE })),
    // Started now, read below from the render's cache.
    orNotFound(requestStepEvidence(id)),
  ]);
  const tasks = request.tasks;
  const open = stepKey ? tasks.find((t) => t.key === stepKey) : focusStep(tasks);
  if (stepKey && !open) notFound();
  const current = currentTask(tasks);
  const basePath = stepKey ? `/requests/${request.id}/steps/${stepKey}` : `/requests/${request.id}`;
  // What the current step's evidence still waits for, in words, for the summary.
  const currentEvidence = current?.status === 'in_progress' && !current.isGate ? await getStepEvidenceView(viewer, request.id, current.key) : null;
  const waiting = waitingOn(tasks, (role) => holders[role] ?? [], { waitingFor: currentEvidence?.waitingFor });
  const now = new Date();

  return (
    <div className="space-y-4">
      <div>
        <Link href="/requests" className="text-sm text-indigo-700 hover:underline">← Requests</Link>
        <div className="mt-2 flex flex-wrap items-center gap-3">
          <h1 className="text-xl font-semibold">
            <span className="text-slate-400">#{request.number}</span> {request.title}
          </h1>
          <StatusBadge status={request.status} />
          <span className="ml-auto text-sm">
            {query.view === 'all'
              ? <Link href={basePath} className="text-indigo-700 hover:underline">Show one step</Link>
              : <Link href={`${basePath}?view=all`} className="text-indigo-700 hover:underline">Show all steps</Link>}
          </span>
        </div>
        <dl className="mt-2 flex flex-wrap gap-x-6 gap-y-1 text-sm text-slate-600">
          <div><dt className="inline">Kind: </dt><dd className="inline">{REQUEST_KIND_LABELS[request.kind as RequestKind]}</dd></div>
          <div><dt className="inline">Priority: </dt><dd className="inline">{request.priority}</dd></div>
          <div><dt className="inline">Target: </dt><dd className="inline">{request.target.name} <EnvironmentBadge environment={request.target.environment} /></dd></div>
          {request.project && <div><dt className="inline">Project: </dt><dd className="inline">{request.project.name}{request.appBranch && <> · branch <span className="font-mono">{request.appBranch}</span></>}</dd></div>}
          <div><dt className="inline">Filed by: </dt><dd className="inline">{request.author.name}, {formatTime(request.createdAt)}</dd></div>
          <div><dt className="inline">Template: </dt><dd className="inline">{request.template.key} v{request.template.version}</dd></div>
          <div className="flex items-center gap-2"><dt>Progress:</dt><dd><StepProgress done={request.completedSteps} total={request.totalSteps} /></dd></div>
        </dl>
        <div className="mt-3">
          <RequestSummary waiting={waiting} currentHref={current && current.key !== open?.key ? `/requests/${request.id}/steps/${current.key}` : null} />
        </div>
        <details className="mt-2 text-sm">
          <summary className="cursor-pointer text-slate-600">Description and timeline</summary>
          <p className="mt-2 whitespace-pre-wrap rounded-md bg-white p-3 ring-1 ring-slate-200">{request.description}</p>
          <div className="mt-2"><StepTimeline steps={tasks} now={now} label={`Time per step of #${request.number}`} /></div>
        </details>
      </div>

      <Stepper requestId={request.id} openKey={query.view === 'all' ? null : open?.key ?? null}
        steps={tasks.map((t) => ({ key: t.key, position: t.position, subject: t.subject, activeForm: t.activeForm, status: t.status, holder: holderOf(t) }))} />

      <div className="grid gap-5 lg:grid-cols-3">
        <div className="min-w-0 space-y-4 lg:col-span-2">
          {query.view === 'all'
            ? tasks.map((t) => <StepBlock key={t.id} viewer={viewer} request={request} task={t} withEvidence />)
            : open && <StepBlock viewer={viewer} request={request} task={open} withEvidence={false} />}
        </div>
        <div className="min-w-0 space-y-4">
          {open && query.view !== 'all' && !open.isGate && <StepEvidenceSection viewer={viewer} requestId={request.id} task={open} />}
          {(query.view === 'all' || open?.isGate) && (
            <Card title="Quality gate">
              <p className="text-sm text-slate-700">{request.gate.items.filter((g) => g.signedBy).length} of {request.gate.items.length} items signed.</p>
            </Card>
          )}
          <AuditLog entries={audit.entries}
            paging={{ basePath, keep: query.view === 'all' ? { view: 'all' } : {}, filter: query.audit, page: audit.page, pages: audit.pages, total: audit.total, actions: audit.actions }} />
        </div>
      </div>
    </div>
  );
}
