import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { getDb } from '@/lib/db/client';
import { createAgent, issueAgentToken } from '@/lib/services/agent-accounts';
import { fileRequest } from '@/lib/services/file-request';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { cutoverWithEnv } from '../support/cli';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));

const mcpRoute = await import('@/app/api/mcp/route');

/**
 * `npx cutover mcp`: the real CLI on stdio, driven by the SDK's stdio client, bridging to the
 * route handler served over loopback HTTP (as Next serves /api/mcp: POST only, the rest 405).
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let server: http.Server;
let baseUrl: string;

function serveRoute(): Promise<http.Server> {
  const s = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      if (req.method !== 'POST' || req.url !== '/api/mcp') {
        res.writeHead(req.url === '/api/mcp' ? 405 : 404).end();
        return;
      }
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers.set(k, v);
      const answer = await mcpRoute.POST(new Request(`${baseUrl}${req.url}`, { method: 'POST', headers, body: Buffer.concat(chunks) }));
      res.writeHead(answer.status, Object.fromEntries(answer.headers.entries()));
      res.end(Buffer.from(await answer.arrayBuffer()));
    });
  });
  return new Promise((resolve) => s.listen(0, '127.0.0.1', () => resolve(s)));
}

beforeAll(async () => {
  store = await openTestAppStore();
  server = await serveRoute();
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  await new Promise((r) => server?.close(r));
  await store?.close();
});

const stdioClient = (env: Record<string, string>) => new StdioClientTransport({
  command: process.execPath,
  args: [path.join(process.cwd(), 'bin', 'cutover.cjs'), 'mcp'],
  env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
  stderr: 'pipe',
});

describe('cutover mcp (stdio)', () => {
  it('lists ready tasks and claims one through the HTTP endpoint, with the token from CUTOVER_TOKEN', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const owner = await makeUser({ roles: ['engineer'], name: 'Stdio Owner' });
    const agent = await createAgent(admin.id, { name: 'stdio-agent', agentRoles: ['database-optimizer'], ownerId: owner.id });
    const { secret } = await issueAgentToken(admin.id, { agentId: agent.id, name: 'stdio' });
    const target = await makeTarget();
    const { id: requestId } = await fileRequest(admin.id, { title: 'Over stdio', kind: 'schema_change', targetId: target.id, description: 'Bridged.', priority: 'LOW' });

    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await client.connect(stdioClient({ CUTOVER_URL: baseUrl, CUTOVER_TOKEN: secret }));
    expect(client.getServerVersion()?.name).toBe('cutover');
    const listed = (await client.callTool({ name: 'list_my_ready_tasks', arguments: { requestId } })) as CallToolResult;
    expect(listed.isError).toBeFalsy();
    const tasks = (listed.structuredContent as { tasks: { id: string; subject: string }[] }).tasks;
    expect(tasks.map((t) => t.subject)).toEqual(['Analyze database change']);
    const claimed = (await client.callTool({ name: 'claim_task', arguments: { taskId: tasks[0].id } })) as CallToolResult;
    expect(claimed.structuredContent).toMatchObject({ status: 'in_progress', owner: 'stdio-agent' });
    const row = await getDb().task.findUniqueOrThrow({ where: { id: tasks[0].id } });
    expect(row).toMatchObject({ status: 'in_progress', assigneeId: agent.id });
    await client.close();
  }, 60_000);

  it('answers a refused token as an error of the request, and refuses to start without its environment (exit 2)', async () => {
    const client = new Client({ name: 'stdio-test', version: '1.0.0' });
    await expect(client.connect(stdioClient({ CUTOVER_URL: baseUrl, CUTOVER_TOKEN: `cut_${'A'.repeat(43)}` }))).rejects.toThrow(/This API token is not valid/);
    await client.close();

    const missing = await cutoverWithEnv({ CUTOVER_URL: '', CUTOVER_TOKEN: '' }, 'mcp');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cutover mcp needs CUTOVER_URL .* and CUTOVER_TOKEN/);
    expect(missing.stdout).toBe('');
  }, 60_000);
});
