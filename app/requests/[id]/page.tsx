import type { Metadata } from 'next';
import Link from 'next/link';
import { Fragment, cache } from 'react';
import { notFound } from 'next/navigation';
import { EnvironmentBadge, StatusBadge } from '@/components/ui/badge';
import { Card } from '@/components/ui/card';
import { StepProgress, formatTime } from '@/components/ui/progress';
import { AuditLog } from '@/components/requests/audit-log';
import { GatePanel } from '@/components/requests/gate-panel';
import { TaskCard } from '@/components/requests/task-card';
import { ApplyPanel } from '@/components/requests/apply-panel';
import { MigrationEditor } from '@/components/requests/migration-editor';
import { RehearsalPanel } from '@/components/requests/rehearsal-panel';
import { SnapshotPanel } from '@/components/requests/snapshot-panel';
import { StepTimeline } from '@/components/requests/step-timeline';
import { getRequestDetail } from '@/lib/data/requests';
import { getMigrationPanel, getSnapshotPanel } from '@/lib/data/runs';
import { getViewer } from '@/lib/data/viewer';
import { DomainError } from '@/lib/domain/errors';
import { REQUEST_KIND_LABELS, type RequestKind } from '@/lib/domain/roles';
import { idSchema } from '@/lib/validation/common';
import { BackupSection } from './backup-section';
import { AnalysisSection } from './analysis-section';
import { DriftSection } from './drift-section';

// One read per page view, shared by the page and its title (React's cache lasts one request).
const loadRequest = cache(async (id: string) => {
  const viewer = await getViewer();
  if (!idSchema.safeParse(id).success) notFound();
  const request = await getRequestDetail(viewer, id).catch((err) => {
    if (err instanceof DomainError && err.code === 'not_found') notFound();
    throw err;
  });
  return { viewer, request };
});

/** The tab names the request: "#12 Add loyalty points · Cutover". */
export async function generateMetadata({ params }: { params: Promise<{ id: string }> }): Promise<Metadata> {
  const { request } = await loadRequest((await params).id);
  return { title: `#${request.number} ${request.title}` };
}

export default async function RequestPage({ params }: { params: Promise<{ id: string }> }) {
  const { viewer, request } = await loadRequest((await params).id);
  const gateTask = request.tasks.find((t) => t.isGate);
  const [snapshotRun, migration] = await Promise.all([getSnapshotPanel(viewer, request.id), getMigrationPanel(viewer, request.id)]);

  return (
    <div className="space-y-5">
      <div>
        <Link href="/requests" className="text-sm text-indigo-700 hover:underline">← Requests</Link>
        <div className="mt-2 flex flex-wrap items-center gap-3">
          <h1 className="text-xl font-semibold">
            <span className="text-slate-400">#{request.number}</span> {request.title}
          </h1>
          <StatusBadge status={request.status} />
        </div>
        <dl className="mt-2 flex flex-wrap gap-x-6 gap-y-1 text-sm text-slate-600">
          <div><dt className="inline">Kind: </dt><dd className="inline">{REQUEST_KIND_LABELS[request.kind as RequestKind]}</dd></div>
          <div><dt className="inline">Priority: </dt><dd className="inline">{request.priority}</dd></div>
          <div><dt className="inline">Target: </dt><dd className="inline">{request.target.name} <EnvironmentBadge environment={request.target.environment} /></dd></div>
          <div><dt className="inline">Filed by: </dt><dd className="inline">{request.author.name}, {formatTime(request.createdAt)}</dd></div>
          <div><dt className="inline">Template: </dt><dd className="inline">{request.template.key} v{request.template.version}</dd></div>
          <div className="flex items-center gap-2"><dt>Progress:</dt><dd><StepProgress done={request.completedSteps} total={request.totalSteps} /></dd></div>
        </dl>
        <p className="mt-3 whitespace-pre-wrap rounded-md bg-white p-3 text-sm ring-1 ring-slate-200">{request.description}</p>
      </div>

      <StepTimeline tasks={request.tasks} />

      <div className="grid gap-5 lg:grid-cols-3">
        <div className="space-y-4 lg:col-span-2">
          {request.tasks.map((task) =>
            task.isGate ? (
              <GatePanel key={task.id} task={task} gate={request.gate} />
            ) : (
              <Fragment key={task.id}>
                <TaskCard task={task} />
                {task.key === 'analysis' && <SnapshotPanel requestId={request.id} run={snapshotRun} canTake={task.canWork} takers={task.eligibleRoles} />}
                {task.key === 'analysis' && <DriftSection viewer={viewer} requestId={request.id} />}
                {task.key === 'analysis' && <AnalysisSection viewer={viewer} requestId={request.id} />}
                {task.key === 'create-migration' && <MigrationEditor requestId={request.id} panel={migration} canEdit={task.canWork} />}
                {task.key === 'test-locally' && <RehearsalPanel requestId={request.id} panel={migration} canRun={task.canWork} />}
                {task.key === 'create-backup' && <BackupSection viewer={viewer} requestId={request.id} canRun={task.canWork} runners={task.eligibleRoles} />}
                {task.key === 'deploy' && (
                  <ApplyPanel requestId={request.id} panel={migration} target={request.target} canApply={task.canWork} />
                )}
              </Fragment>
            ),
          )}
        </div>
        <div className="space-y-4">
          {gateTask && (
            <Card title="Quality gate">
              <p className="text-sm text-slate-700">
                {request.gate.items.filter((g) => g.signedBy).length} of {request.gate.items.length} items signed.
              </p>
            </Card>
          )}
          <AuditLog entries={request.audit} />
        </div>
      </div>
    </div>
  );
}
