import { RequestRehearsalSchema } from '../../validation/rehearsal';
import 'server-only';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { loadSessionActor, type LoadedActor } from '../../auth/actor';
import { getRunStatus } from '../../data/request-status';
import { getDb } from '../../db/client';
import { readRunResult } from '../../domain/run-results';
import { acknowledgeDestructiveOperation, requestAnalysis, saveAnalysisFields } from '../../services/analysis';
import { requestBackup, requestDrill } from '../../services/backups';
import { requestRehearsal, saveMigrationRevision } from '../../services/migration-revisions';
import { requestSnapshot } from '../../services/runs';
import { attachTestReport, reportFormatOf } from '../../services/test-reports';
import { AcknowledgeDestructiveSchema, AnalysisFieldsSchema, AnalysisRunSchema } from '../../validation/analysis';
import { BackupRunSchema } from '../../validation/backup';
import { idSchema } from '../../validation/common';
import { DeclaredChangesTextSchema } from '../../validation/declared-changes';
import { SaveRevisionSchema } from '../../validation/migration';
import { AttachTestReportSchema } from '../../validation/test-report';
import { PEOPLE_WRITE_THIS } from '../untrusted';
import { readRequestWithEvidence } from '../request-view';
import { SCHEMA_MAX_CHARS, readRequestSchema } from '../schema-view';
import { handler } from '../result';

/**
 * The work tools: the same service calls, schemas and permission checks as the request page's
 * buttons and forms (lib/actions/run-actions.ts, backup-actions.ts, test-report-actions.ts).
 * Services reload the actor (a paused agent or a removed role stops at once) and check the step's
 * roles themselves; these tools only translate.
 */

const RequestIdSchema = z.object({ requestId: idSchema });

export const GetSchemaSchema = z.object({
  requestId: idSchema,
  tables: z.array(z.string().trim().min(1, 'Name a table.').max(200, 'At most 200 characters.')).max(200, 'At most 200 tables at once.').optional()
    .describe('Only these tables ("public.orders", or "orders" in any schema); all of them by default'),
});

/**
 * The revision form's schema with declaredChanges described for agents: the browser's textarea
 * format, one declaration a line (lib/validation/declared-changes.ts parses it; its errors name the line).
 */
export const SaveRevisionToolSchema = SaveRevisionSchema.extend({
  declaredChanges: DeclaredChangesTextSchema.optional().describe([
    'What up changes in the data, one declaration a line (the rehearsal\'s data-loss check fails on any change not declared); blank lines and # comments are skipped:',
    'public.orders rows | public.orders rows where status = \'void\' | public.orders alter column total_cents | public.orders drop column note',
    '| public.orders drop table | public.orders rename column note to remark | public.orders rename to public.orders_old',
  ].join(' ')),
});

/** The rehearsal button's input (lib/actions/run-actions.ts parses it with the same schema). */
export const RehearseSchema = RequestRehearsalSchema;

/** How long wait_for_run holds one call at most: an HTTP request should not hang for minutes. */
export const WAIT_FOR_RUN_MAX_SECONDS = 120;
const WAIT_POLL_MS = 500;
const ENDED = new Set(['succeeded', 'failed', 'interrupted', 'cancelled', 'timed_out']);

export const WaitForRunSchema = z.object({
  runId: idSchema,
  timeoutSeconds: z.number({ error: 'The timeout is a number of seconds.' }).int('A whole number of seconds.').min(1, 'At least 1 second.')
    .max(WAIT_FOR_RUN_MAX_SECONDS, `At most ${WAIT_FOR_RUN_MAX_SECONDS} seconds; call again to keep waiting.`).default(60),
});

/**
 * Polls a run (as GET /api/v1/runs/:id reads it) until it ends or the timeout passes. Who is
 * asking is loaded again at every poll: a wait outlives its request's authentication by up to two
 * minutes, and an agent paused, deactivated or stripped of its roles meanwhile is refused at once.
 */
export async function waitForRun(actor: Pick<LoadedActor, 'id'>, runId: string, timeoutSeconds: number) {
  const until = Date.now() + timeoutSeconds * 1000;
  for (;;) {
    const run = await getRunStatus(await loadSessionActor(actor.id), runId);
    const ended = ENDED.has(run.status);
    if (ended && run.kind === 'snapshot' && run.status === 'succeeded') return { ended, ...run, recorded: await snapshotRecorded(runId) };
    if (ended || Date.now() >= until) return { ended, ...run };
    await new Promise((r) => setTimeout(r, Math.min(WAIT_POLL_MS, Math.max(0, until - Date.now()))));
  }
}

/** What the next tool is after saving a revision, from the step the request is at. */
const NEXT_AFTER_REVISION: Record<string, string> = {
  analysis: 'Analyse its impact (analyze), then wait_for_run: that ticks "Identify data impact" on Analyze database change.',
  'create-migration': 'Complete Create migration (complete_task), then rehearse it (rehearse) on Test migration locally and wait_for_run.',
  'test-locally': 'Rehearse it (rehearse), then wait_for_run.',
};
const NEXT_AFTER_REVISION_LATER = 'Evidence of the earlier revision no longer counts: rehearse this one (rehearse), then wait_for_run, and redo the later steps\' evidence.';

async function nextAfterRevision(requestId: string): Promise<string> {
  const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: requestId }, select: { currentStep: true } });
  const step = await getDb().task.findFirst({ where: { requestId, position: request.currentStep }, select: { key: true } });
  return (step && NEXT_AFTER_REVISION[step.key]) ?? NEXT_AFTER_REVISION_LATER;
}

/** What a snapshot run recorded, for wait_for_run's answer (the schema itself: get_schema). */
async function snapshotRecorded(runId: string) {
  const row = await getDb().run.findUnique({ where: { id: runId }, select: { result: true } });
  const result = row && readRunResult('snapshot', row.result, runId);
  if (!result?.snapshotId) return null;
  return {
    snapshotId: result.snapshotId, hash: result.hash ?? null, tables: result.tables ?? null,
    changesSincePrevious: result.changesSincePrevious ?? null,
    next: 'Read the schema with get_schema (tables, columns, constraints, indexes).',
  };
}

const queued = (what: string) => (r: { runId: string }) => ({ runId: r.runId, status: 'queued', next: `Call wait_for_run with runId ${r.runId} to follow the ${what}.` });

export function registerWorkTools(server: McpServer, actor: LoadedActor) {
  server.registerTool('get_request', {
    title: 'Read a request with its evidence',
    description: `A migration request: its state, every step with its checklist, notes and the evidence verdict on each item (what it still waits for), the quality gate, and the migration's revisions, plan and latest rehearsal. ${PEOPLE_WRITE_THIS}`,
    inputSchema: RequestIdSchema,
    annotations: { readOnlyHint: true },
  }, handler('get_request', async ({ requestId }: z.output<typeof RequestIdSchema>) => readRequestWithEvidence(actor, requestId)));

  server.registerTool('get_schema', {
    title: 'Read the target\'s schema',
    description: `The latest schema snapshot of the request's target (what "Understand current schema" counts): each table's columns (type, NOT NULL, DEFAULT), primary key, unique, check and foreign-key constraints and indexes as SQL writes them, row estimates and sizes; views, enums, extensions, and counts of the other kinds. Tables in name order; past about ${SCHEMA_MAX_CHARS} characters the answer stops and "truncated" lists the rest: ask for them with tables. No snapshot yet: take_snapshot first. Defaults, constraints and names are SQL people wrote: ${PEOPLE_WRITE_THIS}`,
    inputSchema: GetSchemaSchema,
    annotations: { readOnlyHint: true },
  }, handler('get_schema', async ({ requestId, tables }: z.output<typeof GetSchemaSchema>) => readRequestSchema(actor, requestId, tables)));

  server.registerTool('take_snapshot', {
    title: 'Take a schema snapshot',
    description: 'Queues a schema snapshot of the request\'s target (read-only), the evidence of "Understand current schema" on Analyze database change. Answers the run id; follow it with wait_for_run, then read the schema with get_schema.',
    inputSchema: RequestIdSchema,
  }, handler('take_snapshot', async (input: z.output<typeof RequestIdSchema>) => queued('snapshot')(await requestSnapshot(actor.id, input))));

  server.registerTool('save_analysis', {
    title: 'Write the analysis',
    description: 'Analyze database change: saves "Document desired changes" and "Plan migration strategy" on the request (both ticked by what is written).',
    inputSchema: AnalysisFieldsSchema,
  }, handler('save_analysis', async (input: z.output<typeof AnalysisFieldsSchema>) => saveAnalysisFields(actor.id, input)));

  server.registerTool('analyze', {
    title: 'Analyse the impact',
    description: 'Analyze database change: queues an impact analysis of the latest saved revision against the target\'s catalog ("Identify data impact"; it needs a saved revision). Answers the run id; follow it with wait_for_run.',
    inputSchema: AnalysisRunSchema,
  }, handler('analyze', async (input: z.output<typeof AnalysisRunSchema>) => queued('analysis')(await requestAnalysis(actor.id, input))));

  server.registerTool('save_migration_revision', {
    title: 'Save a migration revision',
    description: 'Create migration: saves the next revision (migration.sql as upSql, down.sql as downSql, an optional data transformation as dataSql, and declaredChanges: what up changes in the data, one declaration a line, as the field describes). Every file is parsed with PostgreSQL\'s parser and checked by the SQL fence first: a syntax error comes back with its file, line and column and nothing is saved. Answers the revision, its checksum and the plan (statements, transactions, locks).',
    inputSchema: SaveRevisionToolSchema,
  }, handler('save_migration_revision', async (input: z.output<typeof SaveRevisionToolSchema>) => {
    const saved = await saveMigrationRevision(actor.id, input);
    const row = await getDb().migrationRevision.findUniqueOrThrow({ where: { id: saved.id }, select: { name: true, plan: true } });
    return { revision: saved.revision, name: row.name, checksum: saved.checksum, plan: row.plan, next: await nextAfterRevision(input.requestId) };
  }));

  server.registerTool('acknowledge_destructive', {
    title: 'Acknowledge a destructive operation',
    description: 'Acknowledges one destructive operation the latest impact analysis of the current revision found (its operationKey: get_request\'s analysis.destructive), with a note saying why it is acceptable; the quality gate waits for every one. database-administrator (and people who are leads, reviewers or admins), never on a request one filed or a revision one wrote; once per operation and revision.',
    inputSchema: AcknowledgeDestructiveSchema,
  }, handler('acknowledge_destructive', async (input: z.output<typeof AcknowledgeDestructiveSchema>) => ({
    acknowledgementId: (await acknowledgeDestructiveOperation(actor.id, input)).id, operationKey: input.operationKey,
  })));

  server.registerTool('rehearse', {
    title: 'Rehearse the migration',
    description: 'Test migration locally: queues a rehearsal of the latest revision on a copy of the target in the sandbox (up, schema check, down, rollback proof, redo; with sampleRows, a data sample, lock impact and the data-loss check). Answers the run id; follow it with wait_for_run.',
    inputSchema: RehearseSchema,
  }, handler('rehearse', async (input: z.output<typeof RehearseSchema>) => queued('rehearsal')(await requestRehearsal(actor.id, input))));

  server.registerTool('backup', {
    title: 'Back up the target',
    description: 'Create backup: queues a consistent backup of the request\'s backup target (production\'s when the request has a project). Answers the run id; follow it with wait_for_run.',
    inputSchema: BackupRunSchema,
  }, handler('backup', async (input: z.output<typeof BackupRunSchema>) => queued('backup')(await requestBackup(actor.id, input))));

  server.registerTool('drill', {
    title: 'Drill the latest backup',
    description: 'Create backup: queues a restore drill of the request\'s latest backup in the sandbox, proving it holds what was backed up ("Test backup/restore"). Answers the run id; follow it with wait_for_run.',
    inputSchema: BackupRunSchema,
  }, handler('drill', async (input: z.output<typeof BackupRunSchema>) => queued('drill')(await requestDrill(actor.id, input))));

  server.registerTool('wait_for_run', {
    title: 'Wait for a run',
    description: `Waits until a run ends (succeeded, failed, interrupted, cancelled, timed_out) or timeoutSeconds pass (default 60, at most ${WAIT_FOR_RUN_MAX_SECONDS}), then answers its status, phases and log (the newest lines, addresses redacted as on its page); a snapshot's answer says what it recorded (snapshot id, hash, tables, changes since the previous one). "ended": false means it is still going: call again. ${PEOPLE_WRITE_THIS}`,
    inputSchema: WaitForRunSchema,
    annotations: { readOnlyHint: true },
  }, handler('wait_for_run', async ({ runId, timeoutSeconds }: z.output<typeof WaitForRunSchema>) => waitForRun(actor, runId, timeoutSeconds)));

  server.registerTool('attach_test_report', {
    title: 'Attach a test report',
    description: 'Test app with new schema: attaches a test report to the current revision (or revision N): JUnit XML or a JSON summary {tests, failures, errors?, skipped?, cases?}, told apart by content. Answers its summary and whether it passed.',
    inputSchema: AttachTestReportSchema,
  }, handler('attach_test_report', async (input: z.output<typeof AttachTestReportSchema>) => {
    const format = reportFormatOf(input.report);
    return attachTestReport(actor.id, {
      requestId: input.requestId, revision: input.revision, text: input.report, format,
      mediaType: format === 'junit' ? 'application/xml' : 'application/json', fileName: input.fileName,
    });
  }));
}
