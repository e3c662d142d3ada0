import { randomUUID } from 'node:crypto';
import { Readable } from 'node:stream';
import { defaultArtifactStore } from '../artifacts/store';
import { getDb, type Db, type Tx } from '../db/client';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canWorkTask, holdsAnyRole } from '../domain/permissions';
import {
  parseJUnitXml, reportPassed, reportSummaryLine, summariseJsonReport, type TestReportFormat, type TestReportSummary,
} from '../domain/test-report';
import { loadActor } from '../auth/actor';
import { fieldErrors } from '../validation/common';
import { TestReportJsonSchema, type TestReportTarget } from '../validation/test-report';
import { recordAudit } from './audit';
import { recordEvidence } from './evidence';
import { STEP_CLAIM_FIELDS, assertStepClaimAllows } from './step-claim';

/** The step test reports belong to ("Test app with new schema"), by key. */
export const TEST_REPORT_STEP_KEY = 'test-app';

const XML_TYPES = ['application/xml', 'text/xml'];

/** The format a body declares (Content-Type), or, for pasted text and files, what it starts with. */
export function reportFormatOf(text: string, mediaType?: string | null): TestReportFormat {
  if (mediaType && XML_TYPES.includes(mediaType)) return 'junit';
  if (mediaType === 'application/json') return 'json';
  return text.replace(/^\uFEFF/, '').trimStart().startsWith('<') ? 'junit' : 'json';
}

/** A report's text as a summary: JUnit XML, or a JSON summary checked with its schema. Refusals say what is wrong. */
export function parseTestReport(text: string, format: TestReportFormat): TestReportSummary {
  if (format === 'junit') return parseJUnitXml(text);
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new DomainError('invalid', 'The report is neither JUnit XML nor JSON: send JUnit XML, or a JSON summary {"tests": N, "failures": N, ...}.', 'report');
  }
  const parsed = TestReportJsonSchema.safeParse(body);
  if (!parsed.success) {
    const problems = Object.entries(fieldErrors(parsed.error)).map(([field, messages]) => `${field}: ${messages.join(' ')}`);
    const general = parsed.error.issues.filter((i) => i.path.length === 0).map((i) => i.message);
    throw new DomainError('invalid', `The JSON summary needs {"tests": N, "failures": N, "errors"?, "skipped"?, "cases"?}. ${[...general, ...problems].join('; ')}`.trim(), 'report');
  }
  return summariseJsonReport(parsed.data);
}

/** Loads who is asking and the request's test step, and refuses anyone who may not work that step. */
async function openTestStep(db: Db | Tx, actorId: string, requestId: string) {
  const actor = await loadActor(db, actorId);
  if (!holdsAnyRole(actor)) throw forbidden('Only holders of the "Test app with new schema" step (or admins) can attach test reports.');
  const request = await db.migrationRequest.findUnique({ where: { id: requestId }, select: { id: true, number: true, targetId: true } });
  if (!request) throw notFound('Migration request');
  const step = await db.task.findFirst({ where: { requestId, key: TEST_REPORT_STEP_KEY }, select: { eligibleRoles: true, isGate: true, ...STEP_CLAIM_FIELDS } });
  if (!step) throw conflict(`Request #${request.number} has no "Test app with new schema" step: its workflow does not take test reports.`);
  if (!canWorkTask(actor, step)) throw forbidden(`Only holders of ${step.eligibleRoles.join(' or ')} (or admins) can attach test reports to "${step.subject}".`);
  await assertStepClaimAllows(db, actor, step);
  return { actor, request };
}

/** For routes: refuses a caller who may not attach before the body is read. */
export async function assertCanAttachTestReport(actorId: string, requestId: string): Promise<void> {
  await openTestStep(getDb(), actorId, requestId);
}

export interface AttachTestReport extends TestReportTarget {
  text: string;
  format: TestReportFormat;
  mediaType: string;
  fileName?: string | null;
}

/**
 * Attaches a test report to a revision of the request (the current one unless named): the report
 * as received goes to the artifact store (an Artifact of kind `report`), its summary becomes
 * `test_report` evidence, audited in the same transaction. Step 5's holders and admins only.
 */
export async function attachTestReport(actorId: string, input: AttachTestReport) {
  await assertCanAttachTestReport(actorId, input.requestId); // before parsing or storing anything
  const summary = parseTestReport(input.text, input.format);
  const bytes = Buffer.from(input.text, 'utf8');
  const store = defaultArtifactStore();
  const storeKey = `reports/${input.requestId}/${randomUUID()}.${input.format === 'junit' ? 'xml' : 'json'}`;
  const stored = await store.put(storeKey, Readable.from([bytes]));
  try {
    return await getDb().$transaction(async (tx) => {
      const { actor, request } = await openTestStep(tx, actorId, input.requestId);
      const revisions = await tx.migrationRevision.findMany({ where: { requestId: request.id }, orderBy: { revision: 'desc' }, select: { id: true, revision: true, checksum: true } });
      if (revisions.length === 0) throw conflict(`Request #${request.number} has no migration revision yet; a test report is for a revision: save the migration first (Create migration).`);
      const revision = input.revision === undefined ? revisions[0] : revisions.find((r) => r.revision === input.revision);
      if (!revision) throw new DomainError('not_found', `Request #${request.number} has no revision ${input.revision}; its revisions are 1 to ${revisions[0].revision}.`, 'revision');
      const passed = reportPassed(summary);
      const artifact = await tx.artifact.create({
        data: {
          kind: 'report', storeKey, sha256: stored.sha256, sizeBytes: BigInt(stored.sizeBytes), mediaType: input.mediaType, targetId: request.targetId,
          metadata: { requestId: request.id, revision: revision.revision, format: summary.format, fileName: input.fileName ?? null },
        },
      });
      const line = reportSummaryLine(summary);
      const evidence = await recordEvidence(tx, {
        kind: 'test_report', targetId: request.targetId, requestId: request.id, revision: { id: revision.id, checksum: revision.checksum },
        passed, summary: `${passed ? 'passed' : summary.tests === 0 ? 'no tests ran' : 'failed'}: ${line}`,
        detail: { ...summary, revision: revision.revision, artifactId: artifact.id, fileName: input.fileName ?? null },
        hashes: { report: stored.sha256 },
      });
      await recordAudit(tx, {
        actorId: actor.id, requestId: request.id, action: 'test_report.attached', entityType: 'Evidence', entityId: evidence.id,
        after: { revision: revision.revision, format: summary.format, tests: summary.tests, failures: summary.failures, errors: summary.errors, skipped: summary.skipped, passed, artifactId: artifact.id },
      });
      return {
        evidenceId: evidence.id, artifactId: artifact.id, revision: revision.revision, current: revision.id === revisions[0].id, passed,
        summary: line, format: summary.format, tests: summary.tests, failures: summary.failures, errors: summary.errors, skipped: summary.skipped,
        failureList: summary.failureList,
      };
    });
  } catch (err) {
    await store.delete(storeKey).catch(() => undefined); // nothing recorded: nothing kept
    throw err;
  }
}
