import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { getDb } from '@/lib/db/client';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { createAgent, issueAgentToken } from '@/lib/services/agent-accounts';
import { requestAnalysis } from '@/lib/services/analysis';
import { fileRequest } from '@/lib/services/file-request';
import { saveMigrationRevision } from '@/lib/services/migration-revisions';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { SCHEMA_MAX_CHARS } from '@/lib/mcp/schema-view';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { createAppRepository } from '../support/git-repo';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { recordPassingRehearsal } from '../support/step-evidence';
import { callTool, connectMcp, resultText } from '../support/mcp-client';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));

const mcpRoute = await import('@/app/api/mcp/route');

/**
 * The tools an agent needs to finish every step it may work, and the protocol's edges: the
 * target's schema (get_schema, the schema resource, what a snapshot run recorded), Update app
 * code (link_app_branch, compare_app_schema, record_intended_difference), acknowledging destructive
 * operations, invalid input as structured tool errors, resource-not-found, capabilities, the
 * procedure naming tools, `next` after a revision and the prompt's role. Real store, real worker.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let owner: Awaited<ReturnType<typeof makeUser>>;
let target: Awaited<ReturnType<typeof makeLiveTarget>>;
const clients: Client[] = [];

/** Wide tables, so that the whole schema is larger than one get_schema answer. */
const WIDE_TABLES = 12;
const WIDE_COLUMNS = 150;

async function agent(name: string, agentRoles: string[]): Promise<{ id: string; client: Client }> {
  const created = await createAgent(admin.id, { name, agentRoles: agentRoles as never, ownerId: owner.id });
  const { secret } = await issueAgentToken(admin.id, { agentId: created.id, name: `${name} laptop` });
  const client = await connectMcp(mcpRoute.POST, secret, name);
  clients.push(client);
  return { id: created.id, client };
}

type Structured = Record<string, unknown> & { error?: { code: string; message: string; field?: string; issues?: { field: string | null; message: string }[] } };

async function ok<T = Structured>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = await callTool(client, name, args);
  expect(result.isError, `${name}: ${resultText(result)}`).toBeFalsy();
  return result.structuredContent as T;
}

async function refused(client: Client, name: string, args: Record<string, unknown>): Promise<NonNullable<Structured['error']>> {
  const result = await callTool(client, name, args);
  expect(result.isError, `${name} should be refused: ${resultText(result)}`).toBe(true);
  const error = (result.structuredContent as Structured | undefined)?.error;
  expect(error, `${name}: a structured error`).toBeDefined();
  expect(resultText(result)).toBe(error!.message);
  return error!;
}

const newRequest = async (title: string) =>
  (await fileRequest(admin.id, { title, kind: 'table_column_change', targetId: target.id, description: 'Tools.', priority: 'HIGH' })).id;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_mcp_tools_shop');
  const wide = Array.from({ length: WIDE_TABLES }, (_, t) =>
    `CREATE TABLE wide_${String(t).padStart(2, '0')} (${Array.from({ length: WIDE_COLUMNS }, (_, c) => `a_rather_long_column_name_${c} text NOT NULL DEFAULT 'x'`).join(', ')});`).join('\n');
  await withClient(shop.url, (c) => c.query(`
    CREATE TABLE orders (id bigint PRIMARY KEY, status text NOT NULL DEFAULT 'open', total numeric(10,2) CHECK (total >= 0));
    CREATE TABLE parcels (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, order_id bigint NOT NULL REFERENCES orders (id), code text UNIQUE);
    CREATE INDEX parcels_order_idx ON parcels (order_id);
    CREATE TABLE legacy_notes (id int);
    ${wide}`));
  admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
  owner = await makeUser({ roles: ['engineer'], name: 'Olive Owner' });
  target = await makeLiveTarget(admin.id, shop.name, 'Tools shop');
  await startWorker({ pollingIntervalSeconds: 0.5 });
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close();
  await stopBoss();
  await store?.close();
  await shop?.drop();
});

describe('reading the target\'s schema', () => {
  it('get_schema answers the latest snapshot (tables, columns, constraints, indexes), bounded; wait_for_run says what the snapshot recorded', async () => {
    const { client } = await agent('schema-agent', ['database-optimizer']);
    const requestId = await newRequest('Read the schema');

    const before = await ok<{ snapshot: unknown; next: string }>(client, 'get_schema', { requestId });
    expect(before.snapshot).toBeNull();
    expect(before.next).toMatch(/take_snapshot/);

    const { runId } = await ok<{ runId: string }>(client, 'take_snapshot', { requestId });
    const run = await ok<{ ended: boolean; status: string; recorded: { snapshotId: string; hash: string; tables: number; next: string } }>(client, 'wait_for_run', { runId, timeoutSeconds: 60 });
    expect(run).toMatchObject({ ended: true, status: 'succeeded' });
    expect(run.recorded).toMatchObject({ hash: expect.stringMatching(/^[0-9a-f]{64}$/), tables: 3 + WIDE_TABLES, next: expect.stringMatching(/get_schema/) });

    type Table = { name: string; columns: string[]; primaryKey: string | null; uniques: string[]; checks: string[]; foreignKeys: string[]; indexes: string[] };
    type Schema = { snapshot: { hash: string; tables: number }; tables: Table[]; truncated: { tablesShown: number; tablesLeft: number; left: string[]; say: string } | null; notFound?: string[] };
    const all = await ok<Schema>(client, 'get_schema', { requestId });
    expect(all.snapshot).toMatchObject({ hash: run.recorded.hash, tables: 3 + WIDE_TABLES });
    const byName = new Map(all.tables.map((t) => [t.name, t]));
    expect(byName.get('public.orders')).toMatchObject({
      columns: ['id bigint NOT NULL', "status text NOT NULL DEFAULT 'open'::text", 'total numeric(10,2)'],
      primaryKey: expect.stringMatching(/^orders_pkey PRIMARY KEY \(id\)$/),
      checks: ['orders_total_check CHECK (total >= 0::numeric)'],
    });
    const parcels = byName.get('public.parcels')!;
    expect(parcels.columns[0]).toBe('id bigint NOT NULL GENERATED ALWAYS AS IDENTITY');
    expect(parcels.foreignKeys).toEqual([expect.stringMatching(/FOREIGN KEY \(order_id\) REFERENCES (public\.)?orders\(id\)/)]);
    expect(parcels.uniques).toEqual([expect.stringMatching(/UNIQUE \(code\)/)]);
    expect(parcels.indexes).toEqual(expect.arrayContaining([expect.stringMatching(/^CREATE INDEX parcels_order_idx ON public\.parcels USING btree \(order_id\)$/)]));

    // The whole schema is larger than one answer: it stops, says so, and names what is left.
    expect(all.truncated).not.toBeNull();
    expect(all.truncated!.tablesShown + all.truncated!.tablesLeft).toBe(3 + WIDE_TABLES);
    expect(JSON.stringify(all.tables).length).toBeLessThanOrEqual(SCHEMA_MAX_CHARS);
    const last = all.truncated!.left.at(-1)!;
    const asked = await ok<Schema>(client, 'get_schema', { requestId, tables: [last, 'orders', 'no_such_table'] });
    expect(asked.tables.map((t) => t.name)).toEqual(['public.orders', last]);
    expect(asked.truncated).toBeNull();
    expect(asked.notFound).toEqual(['no_such_table']);

    // Never the target's address: the schema, the request and the resource name the target only.
    const text = JSON.stringify(all);
    const address = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: target.id }, select: { host: true } });
    expect(text).not.toContain(address.host);
    expect(text).not.toContain(shop.name);
    const resource = await client.readResource({ uri: `cutover://requests/${requestId}/schema` });
    expect(JSON.parse((resource.contents[0] as { text: string }).text)).toMatchObject({ snapshot: { hash: run.recorded.hash } });
    const request = await ok<{ schema: { hash: string; tables: number; read: string } }>(client, 'get_request', { requestId });
    expect(request.schema).toMatchObject({ hash: run.recorded.hash, tables: 3 + WIDE_TABLES, read: expect.stringMatching(/get_schema/) });

    expect(await refused(client, 'get_schema', { requestId: '00000000-0000-4000-8000-000000000000' })).toMatchObject({ code: 'not_found' });
  }, 120_000);
});

describe('invalid input, resources, capabilities, the procedure and the prompt', () => {
  it('answers invalid input of every tool as a structured tool error naming the field', async () => {
    const { client } = await agent('input-agent', ['database-administrator', 'database-optimizer']);
    const requestId = await newRequest('Invalid input');

    expect(await refused(client, 'get_task', { taskId: 'nope' })).toMatchObject({ code: 'invalid', field: 'taskId', message: 'Invalid input: taskId: Not a valid id.' });
    // A misspelt argument is refused by name; zod's wording is not doubled.
    expect(await refused(client, 'release_task', { taskId: '00000000-0000-4000-8000-000000000000', reasn: 'typo' })).toMatchObject({ code: 'invalid', field: 'reasn', message: 'Invalid input: reasn: Unknown argument.' });
    expect((await refused(client, 'get_schema', { requestId, tables: 'orders' })).message).toBe('Invalid input: tables: expected array, received string');
    expect(await refused(client, 'get_request', {})).toMatchObject({ code: 'invalid', field: 'requestId' });
    const declared = await refused(client, 'save_migration_revision', {
      requestId, name: 'add_note', upSql: 'ALTER TABLE orders ADD COLUMN note text;', downSql: 'ALTER TABLE orders DROP COLUMN note;', declaredChanges: 'orders\npublic.orders explode',
    });
    expect(declared).toMatchObject({ code: 'invalid', field: 'declaredChanges' });
    expect(declared.message).toMatch(/declaredChanges: Line 1: start with the table .*; declaredChanges: Line 2: after the table write rows/);
    expect(await getDb().migrationRevision.count({ where: { requestId } })).toBe(0);

    // Every tool (each takes one of these ids): the same structured refusal, never the SDK's bare text.
    for (const tool of (await client.listTools()).tools) {
      const error = await refused(client, tool.name, { requestId: 'nope', taskId: 'nope', runId: 'nope' });
      expect(error, tool.name).toMatchObject({ code: 'invalid', field: expect.stringMatching(/^(requestId|taskId|runId)$/), message: expect.stringMatching(/^Invalid input: \w+: Not a valid id\./) });
    }

    // The format is described where the tool is listed.
    const save = (await client.listTools()).tools.find((t) => t.name === 'save_migration_revision')!;
    expect(JSON.stringify(save.inputSchema)).toMatch(/one declaration a line.*public\.orders rows where status/);
  });

  it('answers an unknown resource with MCP\'s -32002 once, advertises no list changes, and names a tool for every item', async () => {
    const { client } = await agent('protocol-agent', ['database-optimizer']);
    const missing = 'cutover://requests/00000000-0000-4000-8000-000000000000';
    const error = await client.readResource({ uri: missing }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: -32002, message: 'MCP error -32002: Migration request was not found.', data: { uri: missing } });
    await expect(client.readResource({ uri: `${missing}/schema` })).rejects.toMatchObject({ code: -32002 });

    expect(client.getServerCapabilities()).toMatchObject({ tools: { listChanged: false }, resources: { listChanged: false }, prompts: { listChanged: false } });

    const tools = new Set((await client.listTools()).tools.map((t) => t.name));
    const procedure = (await client.readResource({ uri: 'cutover://procedure' })).contents[0] as { text: string };
    const items = procedure.text.split('\n').filter((l) => /^ {2}- .*: ticked by /.test(l));
    expect(items.length).toBeGreaterThan(20);
    for (const line of items) {
      const named = [...line.matchAll(/[a-z]+_[a-z_]+|\b(?:rehearse|analyze|backup|drill)\b/g)].map((m) => m[0]).filter((w) => tools.has(w));
      expect(named.length > 0 || /no MCP tool/.test(line), line).toBe(true);
    }
    expect(procedure.text).toMatch(/Document desired changes: ticked by .*save_analysis/);
    expect(procedure.text).toMatch(/Identify data impact: ticked by .*analyze/);
    expect(procedure.text).toMatch(/Update Prisma schema: ticked by .*compare_app_schema/);

    const requestId = await newRequest('Items name tools');
    type Step = { key: string; evidence: { waitingFor: string[] } | null; checklist: { label: string; coveredBy: string | null; tool: string | null; reason: string | null }[] };
    const request = await ok<{ steps: Step[] }>(client, 'get_request', { requestId });
    const analysis = request.steps.find((s) => s.key === 'analysis')!;
    // What the evidence waits for names the tool, not the page's step or button.
    expect(analysis.checklist.find((c) => c.label === 'Document desired changes')!.reason).toMatch(/Tool: save_analysis \(desiredChanges\)\.$/);
    expect(analysis.evidence!.waitingFor).toEqual(expect.arrayContaining([expect.stringMatching(/Tool: save_analysis \(migrationStrategy\)\.$/), expect.stringMatching(/Tool: analyze/)]));
    expect(Object.fromEntries(analysis.checklist.map((c) => [c.label, c.tool]))).toEqual({
      'Understand current schema': 'take_snapshot', 'Document desired changes': 'save_analysis (desiredChanges)',
      'Identify data impact': expect.stringMatching(/^analyze/), 'Plan migration strategy': 'save_analysis (migrationStrategy)',
    });
    for (const step of request.steps) for (const item of step.checklist) expect(item.tool, `${step.key}: ${item.label}`).toEqual(expect.any(String));
  });

  it('answers save_migration_revision with the next tool of the step the request is at', async () => {
    const { client } = await agent('next-agent', ['database-administrator']);
    const requestId = await newRequest('Next after a revision');
    const saved = await ok<{ next: string }>(client, 'save_migration_revision', { requestId, name: 'add_note', upSql: 'ALTER TABLE orders ADD COLUMN note text;\n', downSql: 'ALTER TABLE orders DROP COLUMN note;\n' });
    // The request is at Analyze database change: the impact analysis comes next, not a rehearsal.
    expect(saved.next).toMatch(/^Analyse its impact \(analyze\)/);
  });

  it('the work-next-task prompt takes only an agent role the caller holds', async () => {
    const { client } = await agent('prompt-agent', ['postgres-pro']);
    const mine = await client.getPrompt({ name: 'work-next-task', arguments: { role: 'postgres-pro' } });
    expect((mine.messages[0].content as { text: string }).text).toMatch(/list_my_ready_tasks with role "postgres-pro"/);
    for (const role of ['admin', 'database-administrator']) {
      await expect(client.getPrompt({ name: 'work-next-task', arguments: { role } })).rejects.toMatchObject({
        code: -32602, message: `MCP error -32602: "${role}" is not one of your agent roles. Your agent roles are postgres-pro.`,
      });
    }
  });
});

describe('acknowledging destructive operations', () => {
  it('a database-administrator agent acknowledges what the analysis found; others are refused; the gate stops waiting for it', async () => {
    const { client: dba } = await agent('ack-dba', ['database-administrator']);
    const { client: optimizer } = await agent('ack-optimizer', ['database-optimizer']);
    const requestId = await newRequest('Drop the legacy notes');
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'drop_legacy_notes', upSql: 'DROP TABLE legacy_notes;\n', downSql: 'CREATE TABLE legacy_notes (id int);\n' }));
    const { runId } = await requestAnalysis(admin.id, { requestId });
    expect((await waitForRun(runId, 60_000)).status).toBe('succeeded');

    type Request = { analysis: { destructive: { operationKey: string; description: string; acknowledged: { by: string; note: string } | null }[]; unacknowledged: number }; gate: { waitingFor: string[] } };
    const before = await ok<Request>(dba, 'get_request', { requestId });
    expect(before.analysis.unacknowledged).toBe(1);
    const [operation] = before.analysis.destructive;
    expect(operation).toMatchObject({ operationKey: expect.any(String), description: expect.stringMatching(/legacy_notes/), acknowledged: null });
    expect(before.gate.waitingFor.join(' ')).toMatch(/destructive operation/);

    expect(await refused(optimizer, 'acknowledge_destructive', { requestId, operationKey: operation.operationKey, note: 'Nobody reads it.' })).toMatchObject({ code: 'forbidden' });
    expect(await refused(dba, 'acknowledge_destructive', { requestId, operationKey: operation.operationKey, note: '' })).toMatchObject({ code: 'invalid', field: 'note' });
    expect(await refused(dba, 'acknowledge_destructive', { requestId, operationKey: 'drop_table:public.orders', note: 'Nobody reads it.' })).toMatchObject({ code: 'invalid', field: 'operationKey' });
    expect(await getDb().destructiveAcknowledgement.count({ where: { requestId } })).toBe(0);

    expect(await ok(dba, 'acknowledge_destructive', { requestId, operationKey: operation.operationKey, note: 'The notes moved to the wiki in 2024.' })).toMatchObject({ acknowledgementId: expect.any(String) });
    expect(await refused(dba, 'acknowledge_destructive', { requestId, operationKey: operation.operationKey, note: 'Again.' })).toMatchObject({ code: 'conflict' });
    const after = await ok<Request>(dba, 'get_request', { requestId });
    expect(after.analysis).toMatchObject({ unacknowledged: 0, destructive: [{ acknowledged: { by: 'ack-dba', note: 'The notes moved to the wiki in 2024.' } }] });
    expect(after.gate.waitingFor.join(' ')).not.toMatch(/destructive operation/);
  }, 120_000);

  it('an agent that wrote the revision may not acknowledge what it destroys', async () => {
    const { client: author } = await agent('ack-author', ['database-administrator']);
    const requestId = await newRequest('My own drop');
    await ok(author, 'save_migration_revision', { requestId, name: 'drop_legacy_notes', upSql: 'DROP TABLE legacy_notes;\n', downSql: 'CREATE TABLE legacy_notes (id int);\n' });
    const { runId } = await ok<{ runId: string }>(author, 'analyze', { requestId });
    await ok(author, 'wait_for_run', { runId, timeoutSeconds: 60 });
    const [operation] = (await ok<{ analysis: { destructive: { operationKey: string }[] } }>(author, 'get_request', { requestId })).analysis.destructive;
    const refusal = await refused(author, 'acknowledge_destructive', { requestId, operationKey: operation.operationKey, note: 'Trust me.' });
    expect(refusal).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/You wrote this revision/) });
  }, 120_000);
});

describe('Update app code over MCP', () => {
  it('a language-specialist agent links the project and branch, compares the app schema and records a difference as intended', async () => {
    const repo = createAppRepository({ 'prisma/schema.prisma': 'datasource db {\n  provider = "postgresql"\n}\n\nmodel Order {\n  id Int @id\n\n  @@map("orders")\n}\n' });
    repo.commit('feature/notes', { 'README.md': 'notes\n' });
    const project = await getDb().project.create({ data: { name: 'Shop app', repositoryUrl: repo.origin } });
    const { client: specialist } = await agent('app-agent', ['language-specialist']);
    const { client: tester } = await agent('app-tester', ['test-automator']);
    const requestId = await newRequest('Orders get notes');

    expect(await refused(specialist, 'link_app_branch', { requestId, projectId: project.id, appBranch: 'feature/notes..' })).toMatchObject({ code: 'invalid', field: 'appBranch' });
    expect(await refused(tester, 'link_app_branch', { requestId, projectId: project.id, appBranch: 'feature/notes' })).toMatchObject({ code: 'forbidden' });
    const linked = await ok<{ changed: boolean; project: { name: string }; appBranch: string; waitingFor: string[] }>(specialist, 'link_app_branch', { requestId, projectId: project.id, appBranch: 'feature/notes' });
    expect(linked).toMatchObject({ changed: true, project: { name: 'Shop app' }, appBranch: 'feature/notes' });
    expect(linked.waitingFor.join(' ')).toMatch(/saved migration/);

    expect(await refused(specialist, 'compare_app_schema', { requestId })).toMatchObject({ code: 'conflict', message: expect.stringMatching(/Save a migration/) });
    await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'add_note', upSql: 'ALTER TABLE orders ADD COLUMN note text;\n', downSql: 'ALTER TABLE orders DROP COLUMN note;\n' }));
    await recordPassingRehearsal(requestId);
    expect(await refused(tester, 'compare_app_schema', { requestId })).toMatchObject({ code: 'forbidden' });

    type Compared = { evidenceId: string; passed: boolean; open: number; differences: { key: string; description: string; open: boolean }[]; next: string };
    const compared = await ok<Compared>(specialist, 'compare_app_schema', { requestId });
    expect(compared).toMatchObject({ passed: false, next: expect.stringMatching(/record_intended_difference/) });
    expect(compared.open).toBeGreaterThan(0);
    expect(compared.differences.map((d) => d.description).join(' ')).toMatch(/note/);

    const open = compared.differences.filter((d) => d.open).map((d) => d.key);
    expect(await refused(specialist, 'record_intended_difference', { requestId, evidenceId: compared.evidenceId, keys: open, note: 'ok' })).toMatchObject({ code: 'invalid', field: 'note' });
    const intended = await ok<{ evidenceId: string; passed: boolean }>(specialist, 'record_intended_difference', { requestId, evidenceId: compared.evidenceId, keys: open, note: 'The app reads notes from the next release on.' });
    expect(intended.passed).toBe(true);
    const request = await ok<{ steps: { key: string; evidence: { satisfied: boolean } | null }[]; appCode: { comparison: { passed: boolean } } }>(specialist, 'get_request', { requestId });
    expect(request.appCode.comparison.passed).toBe(true);
    expect(request.steps.find((s) => s.key === 'update-app-code')!.evidence).toMatchObject({ satisfied: true });
  }, 120_000);
});
