import 'server-only';
import { getDb } from '../db/client';
import type { Actor } from '../domain/permissions';
import { getRequestStatus } from '../data/request-status';
import { getRequestDetail } from '../data/requests';
import { getMigrationPanel } from '../data/runs';
import { getStepEvidence } from '../services/step-evidence';

/**
 * A request as an agent reads it (the get_request tool and the cutover://requests/{id} resource):
 * the state, steps and gate of GET /api/v1/requests/:id/status, each step with its checklist,
 * notes and the evidence verdict on every item, and the migration's latest revision, plan and
 * rehearsal. The same readers and access checks as the request page (anyone who holds a role;
 * addresses redacted for those who may not manage targets).
 */
export async function readRequestWithEvidence(actor: Actor, requestId: string) {
  // The status read checks access and existence first: nothing else is read for a refused caller.
  const status = await getRequestStatus(actor, requestId);
  const [detail, evidence, migration] = await Promise.all([
    getRequestDetail(actor, requestId, { audit: false }),
    getStepEvidence(getDb(), requestId),
    getMigrationPanel(actor, requestId),
  ]);
  const tasks = new Map(detail.tasks.map((t) => [t.key, t]));
  return {
    ...status,
    description: detail.description,
    kind: detail.kind,
    priority: detail.priority,
    author: detail.author.name,
    project: detail.project?.name ?? null,
    appBranch: detail.appBranch,
    links: { page: `/requests/${requestId}` },
    steps: status.steps.map((s) => {
      const task = tasks.get(s.key);
      const verdicts = new Map((evidence[s.key]?.items ?? []).map((i) => [i.label, i]));
      return {
        ...s,
        taskId: task?.id ?? null,
        description: task?.description ?? null,
        startedAt: task?.startedAt ?? null,
        completedAt: task?.completedAt ?? null,
        checklist: (task?.checklist ?? []).map((c) => {
          const v = verdicts.get(c.label);
          return {
            id: c.id, label: c.label, done: c.done, checkedBy: c.checkedBy,
            coveredBy: v?.coveredBy ?? null, satisfied: v?.satisfied ?? c.done, reason: v?.reason ?? null, runId: v?.runId ?? null,
          };
        }),
        notes: (task?.notes ?? []).map((n) => ({ author: n.author, body: n.body, createdAt: n.createdAt })),
      };
    }),
    migration: {
      latest: migration.latest && { revision: migration.latest.revision, name: migration.latest.name },
      revisions: migration.revisions.slice(0, 10).map((r) => ({ revision: r.revision, name: r.name, checksum: r.checksum, author: r.author, createdAt: r.createdAt })),
      plan: migration.plan,
      rehearsal: migration.rehearsal && {
        runId: migration.rehearsal.id, status: migration.rehearsal.status, revision: migration.rehearsal.revision, error: migration.rehearsal.error,
        phases: migration.rehearsal.phases.map((p) => ({ phase: p.phase, label: p.label, status: p.status, detail: p.detail ?? null })),
        dataLoss: migration.rehearsal.dataLoss,
      },
    },
  };
}
