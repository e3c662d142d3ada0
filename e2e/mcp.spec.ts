import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { admin, signIn } from './support/auth';
import { ADMIN_EMAIL, BASE_URL, serverEnv } from './support/env';
import { factory } from './support/factories';

// Issue 9 end to end, against the production build: a scripted agent holding database-optimizer
// and database-administrator works three steps over MCP Streamable HTTP with the SDK's client
// (the worker takes its snapshot, analysis and rehearsal), then over stdio (`cutover mcp`); the
// request page in Chromium shows the agent holding the steps and the audit log names it.

const root = path.resolve(__dirname, '..');
const run = promisify(execFile);

/** An agent account (owned by `ownerId`) and a token for it, issued by the admin through the services. */
async function agentAccount(name: string, ownerId: string): Promise<{ id: string; secret: string }> {
  const script = `
    const { getDb } = require('./lib/db/client');
    const { createAgent, issueAgentToken } = require('./lib/services/agent-accounts');
    (async () => {
    const admin = await getDb().user.findFirstOrThrow({ where: { email: ${JSON.stringify(ADMIN_EMAIL)} } });
    const agent = await createAgent(admin.id, { name: ${JSON.stringify(name)}, agentRoles: ['database-optimizer', 'database-administrator'], ownerId: ${JSON.stringify(ownerId)} });
    const token = await issueAgentToken(admin.id, { agentId: agent.id, name: 'e2e' });
    console.log('AGENT ' + JSON.stringify({ id: agent.id, secret: token.secret }));
    process.exit(0);
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const { stdout } = await run(path.join(root, 'node_modules/.bin/tsx'), ['-e', script], { cwd: root, env: { ...process.env, ...serverEnv }, timeout: 60_000 });
  return JSON.parse(stdout.split('\n').find((l) => l.startsWith('AGENT '))!.slice('AGENT '.length));
}

async function call<T = Record<string, unknown>>(client: Client, name: string, args: Record<string, unknown>): Promise<T> {
  const result = (await client.callTool({ name, arguments: args })) as CallToolResult;
  const text = result.content.map((c) => (c.type === 'text' ? c.text : '')).join('');
  expect(result.isError, `${name}: ${text}`).toBeFalsy();
  return result.structuredContent as T;
}

type Task = { id: string; subject: string; status: string; owner: string | null; metadata: { checklist: { id: string; coveredBy: string | null }[] } };

test('a scripted agent works its steps over MCP (HTTP and stdio); the request page and audit show it', async ({ page, context }) => {
  test.setTimeout(300_000);
  const owner = await factory.createUser({ name: 'Olive Owner' });
  const agentName = `dba-agent-${Date.now().toString(36)}`;
  const agent = await agentAccount(agentName, owner.id);
  const author = await factory.createUser({ name: 'MCP Author' });
  const request = await factory.fileRequest(author, { title: 'Add a shipped_at column', kind: 'table_column_change' });

  const client = new Client({ name: 'scripted-agent', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/api/mcp', BASE_URL), { requestInit: { headers: { Authorization: `Bearer ${agent.secret}` } } }));
  const ready = async () => (await call<{ tasks: Task[] }>(client, 'list_my_ready_tasks', { requestId: request.id })).tasks;
  const waitFor = async (runId: string) => expect(await call(client, 'wait_for_run', { runId, timeoutSeconds: 120 })).toMatchObject({ ended: true, status: 'succeeded' });
  const tickByHand = async (task: Task) => {
    const manual = (await call<Task>(client, 'get_task', { taskId: task.id })).metadata.checklist.filter((c) => !c.coveredBy);
    if (manual.length) await call(client, 'update_task', { taskId: task.id, checklist: manual.map((c) => ({ itemId: c.id, done: true })), note: `Done by ${agentName}.` });
  };

  // Analyze database change: snapshot, the written analysis, a revision (after reading its syntax error back) and the impact analysis.
  const [analysis] = await ready();
  expect(analysis.subject).toBe('Analyze database change');
  expect(await call<Task>(client, 'claim_task', { taskId: analysis.id })).toMatchObject({ status: 'in_progress', owner: agentName });
  await waitFor((await call<{ runId: string }>(client, 'take_snapshot', { requestId: request.id })).runId);
  // The schema it is told to understand, as the snapshot recorded it.
  const schema = await call<{ snapshot: { tables: number }; tables: { name: string; columns: string[] }[] }>(client, 'get_schema', { requestId: request.id, tables: ['orders'] });
  expect(schema.snapshot.tables).toBeGreaterThan(0);
  expect(schema.tables).toEqual([expect.objectContaining({ name: 'public.orders', columns: expect.arrayContaining([expect.stringMatching(/^id /)]) })]);
  // Input the schema refuses comes back as a refusal naming the field.
  const invalid = (await client.callTool({ name: 'get_request', arguments: { requestId: 'nope' } })) as CallToolResult;
  expect(invalid).toMatchObject({ isError: true, structuredContent: { error: { code: 'invalid', field: 'requestId' } } });
  await call(client, 'save_analysis', { requestId: request.id, desiredChanges: 'orders.shipped_at, nullable.', migrationStrategy: 'Add the column; no backfill.' });
  const broken = (await client.callTool({ name: 'save_migration_revision', arguments: {
    requestId: request.id, name: 'add_shipped_at', upSql: 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz,;\n', downSql: 'ALTER TABLE orders DROP COLUMN shipped_at;\n',
  } })) as CallToolResult;
  expect(broken.isError).toBe(true);
  expect((broken.content[0] as { text: string }).text).toMatch(/^migration\.sql: .*syntax error/);
  await call(client, 'save_migration_revision', {
    requestId: request.id, name: 'add_shipped_at', upSql: 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\n', downSql: 'ALTER TABLE orders DROP COLUMN shipped_at;\n',
  });
  await waitFor((await call<{ runId: string }>(client, 'analyze', { requestId: request.id })).runId);
  await tickByHand(analysis);
  expect(await call<Task>(client, 'complete_task', { taskId: analysis.id })).toMatchObject({ status: 'completed' });

  // Create migration: its revision is there; the items evidence does not cover, by hand.
  const [create] = await ready();
  expect(create.subject).toBe('Create migration');
  await call(client, 'claim_task', { taskId: create.id });
  await tickByHand(create);
  expect(await call<Task>(client, 'complete_task', { taskId: create.id })).toMatchObject({ status: 'completed' });

  // Test migration locally: a rehearsal by the server's worker, waited for.
  const [local] = await ready();
  expect(local.subject).toBe('Test migration locally');
  await call(client, 'claim_task', { taskId: local.id });
  await waitFor((await call<{ runId: string }>(client, 'rehearse', { requestId: request.id })).runId);
  await tickByHand(local);
  expect(await call<Task>(client, 'complete_task', { taskId: local.id })).toMatchObject({ status: 'completed' });
  await client.close();

  // Over stdio: `cutover mcp` bridges to the same endpoint with the token from the environment.
  const second = await factory.fileRequest(author, { title: 'Index orders.shipped_at' });
  const stdio = new Client({ name: 'stdio-agent', version: '1.0.0' });
  await stdio.connect(new StdioClientTransport({
    command: process.execPath, args: [path.join(root, 'bin/cutover.cjs'), 'mcp'], cwd: root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CUTOVER_URL: BASE_URL, CUTOVER_TOKEN: agent.secret },
  }));
  const [first] = (await call<{ tasks: Task[] }>(stdio, 'list_my_ready_tasks', { requestId: second.id })).tasks;
  expect(first.subject).toBe('Analyze database change');
  expect(await call<Task>(stdio, 'claim_task', { taskId: first.id })).toMatchObject({ status: 'in_progress', owner: agentName });
  await stdio.close();

  // The request page, in Chromium: the agent holds the three completed steps; the audit log names it.
  await signIn(context, admin);
  await page.goto(`/requests/${request.id}`);
  await expect(page.getByText(agentName).first()).toBeVisible();
  const audit = page.getByTestId('audit-log');
  await expect(audit).toContainText(agentName);
  // The agent's owner answers for it, next to its name.
  await expect(audit).toContainText('Olive Owner');
});
