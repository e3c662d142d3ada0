import 'server-only';
import { getDb } from '../db/client';
import { DomainError } from '../domain/errors';
import type { Actor } from '../domain/permissions';
import type { Coverage } from '../domain/step-evidence';
import { getAnalysisPanel } from '../data/analysis';
import { getAppCodePanel } from '../data/app-schema';
import { getRequestStatus } from '../data/request-status';
import { getRequestDetail } from '../data/requests';
import { getMigrationPanel } from '../data/runs';
import { getStepEvidence } from '../services/step-evidence';

/**
 * The tools that make each kind of evidence (what an agent calls to tick an item), or how it is
 * made where no MCP tool does it. The procedure resource says the same.
 */
export const EVIDENCE_TOOLS: Record<Coverage, string> = {
  snapshot: 'take_snapshot',
  desired_changes: 'save_analysis (desiredChanges)',
  migration_strategy: 'save_analysis (migrationStrategy)',
  analysis: 'analyze (needs a saved revision: save_migration_revision)',
  revision: 'save_migration_revision',
  rehearsal: 'rehearse',
  app_schema: 'link_app_branch, compare_app_schema, record_intended_difference',
  test_report: 'attach_test_report',
  drill: 'backup, then drill',
  backup: 'backup',
  lock_impact: 'rehearse (with sampleRows)',
  data_loss: 'rehearse (with sampleRows; declaredChanges on save_migration_revision)',
  drift: 'no MCP tool: the drift check on the request page',
  deploy: 'no MCP tool: the deploy run on the request page',
  verification: 'no MCP tool: the verification queries on the request page',
  health_check: 'no MCP tool: the health check on the request page',
};

/** A verdict's reason as an agent reads it: with the tool that makes the evidence. */
const withTool = (reason: string, coverage: string | null) => (coverage && coverage in EVIDENCE_TOOLS ? `${reason} Tool: ${EVIDENCE_TOOLS[coverage as Coverage]}.` : reason);

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
  const db = getDb();
  const [detail, evidence, migration, analysis, appCode, snapshot] = await Promise.all([
    getRequestDetail(actor, requestId, { audit: false }),
    getStepEvidence(db, requestId),
    getMigrationPanel(actor, requestId),
    getAnalysisPanel(actor, requestId),
    // A request planned from a template without Update app code has no such panel.
    getAppCodePanel(actor, requestId).catch((err: unknown) => {
      if (err instanceof DomainError && err.code === 'not_found') return null;
      throw err;
    }),
    // The target's latest snapshot, its tables counted in the database (a shape can be large).
    db.$queryRaw<{ hash: string; takenAt: Date; tables: number }[]>`
      SELECT s.hash, s.taken_at AS "takenAt", (SELECT count(*)::int FROM jsonb_object_keys(s.shape->'tables')) AS tables
      FROM schema_snapshots s JOIN migration_requests r ON r.target_id = s.target_id
      WHERE r.id = ${requestId}::uuid ORDER BY s.taken_at DESC LIMIT 1`.then((rows) => rows[0] ?? null),
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
      const items = evidence[s.key]?.items ?? [];
      const verdicts = new Map(items.map((i) => [i.label, i]));
      return {
        ...s,
        // What the evidence waits for, each with the tool that makes it (the page's words name its buttons).
        evidence: s.evidence && {
          ...s.evidence,
          waitingFor: [...new Set(items.filter((i) => i.coveredBy && !i.satisfied).map((i) => withTool(i.reason ?? `${i.label}: waiting for its evidence.`, i.coveredBy)))],
        },
        taskId: task?.id ?? null,
        description: task?.description ?? null,
        startedAt: task?.startedAt ?? null,
        completedAt: task?.completedAt ?? null,
        checklist: (task?.checklist ?? []).map((c) => {
          const v = verdicts.get(c.label);
          const coveredBy = v?.coveredBy ?? null;
          return {
            id: c.id, label: c.label, done: c.done, checkedBy: c.checkedBy,
            coveredBy, satisfied: v?.satisfied ?? c.done, reason: v?.reason ? withTool(v.reason, coveredBy) : null, runId: v?.runId ?? null,
            // The tool that ticks it; items no evidence covers are ticked by hand.
            tool: coveredBy ? (EVIDENCE_TOOLS[coveredBy as Coverage] ?? null) : 'update_task (by hand)',
          };
        }),
        notes: (task?.notes ?? []).map((n) => ({ author: n.author, body: n.body, createdAt: n.createdAt })),
      };
    }),
    schema: snapshot
      ? {
          hash: snapshot.hash, takenAt: snapshot.takenAt, tables: snapshot.tables,
          read: 'get_schema (or the resource cutover://requests/{id}/schema)',
        }
      : { hash: null, takenAt: null, tables: null, read: 'No snapshot of the target yet: take_snapshot, wait_for_run, then get_schema.' },
    analysis: analysis.run && {
      runId: analysis.run.id, status: analysis.run.status, revision: analysis.run.revision, outdated: analysis.run.outdated,
      risk: analysis.run.impact?.risk ?? null,
      // Each needs an acknowledgement (acknowledge_destructive with its operationKey) before the gate can pass.
      destructive: analysis.run.destructive.map((d) => ({ operationKey: d.operationKey, description: d.description, acknowledged: d.acknowledged && { by: d.acknowledged.by, note: d.acknowledged.note } })),
      unacknowledged: analysis.run.unacknowledged,
    },
    appCode: appCode && {
      project: appCode.project?.name ?? null, appBranch: appCode.appBranch, projects: appCode.projectOptions, waitingFor: appCode.waitingFor,
      comparison: appCode.comparison && {
        evidenceId: appCode.comparison.evidenceId, passed: appCode.comparison.passed, staleBecause: appCode.comparison.staleBecause,
        differences: appCode.comparison.differences.map((d) => ({ key: d.key, description: d.description, open: d.open, intended: Boolean(d.intended) })),
      },
    },
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
