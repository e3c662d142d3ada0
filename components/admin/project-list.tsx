'use client';

import { useState, useTransition } from 'react';
import { deleteProjectAction } from '@/lib/actions/project-actions';
import type { ProjectView } from '@/lib/data/projects';
import { Button } from '@/components/ui/button';
import { ConfirmDialog } from '@/components/ui/confirm-dialog';
import { ProjectEnvironments } from './project-environments';
import { ProjectForm } from './project-form';

export function ProjectList({ projects, targets }: { projects: ProjectView[]; targets: { id: string; name: string; environment: string }[] }) {
  const [editing, setEditing] = useState<string | null>(null);
  const [deleting, setDeleting] = useState<ProjectView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, startTransition] = useTransition();

  if (projects.length === 0) return <p className="text-sm text-slate-600">No projects yet. A project names the application&apos;s repository and its environments in promotion order.</p>;
  return (
    <>
      <div aria-live="polite">{error && <p role="alert" className="mb-3 rounded-md bg-red-50 px-3 py-2 text-sm text-red-800">{error}</p>}</div>
      <ul className="space-y-3">
        {projects.map((p) => (
          <li key={p.id} className="rounded-lg border border-slate-200 bg-white p-4 shadow-sm" data-testid="project">
            <div className="flex flex-wrap items-center gap-2">
              <span className="font-semibold">{p.name}</span>
              <span className="text-xs text-slate-500">{p.requestCount} request{p.requestCount === 1 ? '' : 's'}</span>
              <span className="ml-auto flex gap-2">
                <Button variant="secondary" onClick={() => setEditing(editing === p.id ? null : p.id)}>{editing === p.id ? 'Close' : 'Edit'}</Button>
                <Button variant="danger" disabled={pending || p.requestCount > 0} title={p.requestCount > 0 ? 'Requests name this project' : undefined} onClick={() => setDeleting(p)}>Delete</Button>
              </span>
            </div>
            <p className="mt-1 break-all font-mono text-xs text-slate-600">
              {p.repositoryUrl} · deploys to {p.deployBranch} · {p.schemaPath} · credential {p.hasCredential ? 'set' : 'none'}
            </p>
            <p className="mt-1 text-xs text-slate-600">
              Gate needs {p.minGateReviewers} distinct reviewer{p.minGateReviewers === 1 ? '' : 's'} · backups up to {p.backupMaxAgeHours} h old ·
              checks every {p.verificationIntervalSeconds} s for {p.verificationWindowMinutes} min after a deploy
            </p>
            {editing === p.id && <div className="mt-3 border-t border-slate-200 pt-3"><ProjectForm project={p} /></div>}
            <div className="mt-3 border-t border-slate-200 pt-3">
              <h3 className="mb-2 text-sm font-semibold text-slate-800">Environments, in promotion order</h3>
              <ProjectEnvironments projectId={p.id} environments={p.environments} targets={targets} />
            </div>
          </li>
        ))}
      </ul>
      <ConfirmDialog
        open={deleting !== null}
        title={`Delete project ${deleting?.name ?? ''}?`}
        confirmLabel="Delete"
        danger
        onClose={() => setDeleting(null)}
        onConfirm={() => {
          const id = deleting!.id;
          setDeleting(null);
          startTransition(async () => {
            const res = await deleteProjectAction({ id });
            setError(res.ok ? null : res.message);
          });
        }}
      >
        Its environments go with it. Only a project no request names can be deleted.
      </ConfirmDialog>
    </>
  );
}
