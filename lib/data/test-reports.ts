import 'server-only';
import { getDb } from '../db/client';
import type { Actor } from '../domain/permissions';
import type { TestReportEvidenceDetail } from '../domain/test-report';
import { evidenceFor } from '../services/evidence';
import { assertCanRead } from './access';

export interface TestReportView {
  id: string;
  createdAt: Date;
  passed: boolean;
  summary: string;
  revision: number | null;
  format: TestReportEvidenceDetail['format'] | null;
  tests: number;
  failures: number;
  errors: number;
  skipped: number;
  failureList: TestReportEvidenceDetail['failureList'];
  fileName: string | null;
  attachedBy: string | null;
  /** Why it no longer counts (a newer revision, changed target settings), or null while it holds. */
  staleBecause: string | null;
}

/** The request's test reports, newest first (at most `take`); anyone who holds a role may read them. */
export async function listTestReports(actor: Actor, requestId: string, take = 20): Promise<TestReportView[]> {
  assertCanRead(actor);
  const reports = (await evidenceFor(requestId)).filter((e) => e.kind === 'test_report').slice(0, take);
  if (reports.length === 0) return [];
  // Who attached each one: its audit row (evidence itself does not name a person).
  const audits = await getDb().auditLog.findMany({
    where: { action: 'test_report.attached', entityId: { in: reports.map((r) => r.id) } },
    select: { entityId: true, actor: { select: { name: true } } },
  });
  const by = new Map(audits.map((a) => [a.entityId, a.actor?.name ?? null]));
  return reports.map((r) => {
    const d = r.detail as TestReportEvidenceDetail | null;
    return {
      id: r.id, createdAt: r.createdAt, passed: r.passed, summary: r.summary, revision: d?.revision ?? null, format: d?.format ?? null,
      tests: d?.tests ?? 0, failures: d?.failures ?? 0, errors: d?.errors ?? 0, skipped: d?.skipped ?? 0, failureList: d?.failureList ?? [],
      fileName: d?.fileName ?? null, attachedBy: by.get(r.id) ?? null, staleBecause: r.staleBecause,
    };
  });
}

/** Step 5's panel: the reports and the revision a new one is for by default. */
export async function getTestReportPanel(actor: Actor, requestId: string) {
  const [reports, latest] = await Promise.all([
    listTestReports(actor, requestId),
    getDb().migrationRevision.findFirst({ where: { requestId }, orderBy: { revision: 'desc' }, select: { revision: true } }),
  ]);
  return { reports, currentRevision: latest?.revision ?? null };
}
