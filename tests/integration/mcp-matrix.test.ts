import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDb } from '@/lib/db/client';
import { AGENT_ROLES, type AgentRole } from '@/lib/domain/roles';
import { createAgent, issueAgentToken } from '@/lib/services/agent-accounts';
import { fileRequest } from '@/lib/services/file-request';
import { INTERNAL_ERROR } from '@/lib/mcp/result';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { MCP_ENDPOINT, callTool, connectMcp, resultText } from '../support/mcp-client';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));

const mcpRoute = await import('@/app/api/mcp/route');

/**
 * The authorization matrix and the fuzzing of the hardening issue, for MCP: every tool called by
 * an agent holding each agent role alone (the same role predicates as tests/support/entry-points.ts
 * gives their browser counterparts): allowed calls are not refused for their role, refused ones
 * say so (forbidden) and write nothing. Then every tool fuzzed with an agent holding every role:
 * never an internal error, and a refusal writes nothing. No worker runs here: queued runs stay queued.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let targetId: string;
const clients = new Map<AgentRole | 'all', Client>();

const analysisRoles = (r: AgentRole) => r === 'database-optimizer' || r === 'postgres-pro';
const dba = (r: AgentRole) => r === 'database-administrator';
const anyRole = () => true;
const appCode = (r: AgentRole) => r === 'language-specialist';

interface Fixture { requestId: string; analysisTaskId: string; itemId: string; runId: string }

async function fixture(): Promise<Fixture> {
  const { id: requestId } = await fileRequest(admin.id, { title: `Matrix ${Math.random().toString(36).slice(2, 8)}`, kind: 'schema_change', targetId, description: 'Matrix.', priority: 'LOW' });
  const task = await getDb().task.findFirstOrThrow({ where: { requestId, key: 'analysis' }, include: { checklist: { orderBy: { position: 'asc' } } } });
  const run = await getDb().run.findFirst({ select: { id: true } });
  return { requestId, analysisTaskId: task.id, itemId: task.checklist[0].id, runId: run?.id ?? '00000000-0000-4000-8000-000000000000' };
}

/** Each tool: who may call it (by agent role) and a valid input on a fresh request. */
const TOOLS: { name: string; may: (r: AgentRole) => boolean; input: (f: Fixture) => Record<string, unknown> }[] = [
  { name: 'list_my_ready_tasks', may: anyRole, input: (f) => ({ requestId: f.requestId }) },
  { name: 'get_task', may: anyRole, input: (f) => ({ taskId: f.analysisTaskId }) },
  { name: 'export_workflow', may: anyRole, input: (f) => ({ requestId: f.requestId }) },
  { name: 'get_request', may: anyRole, input: (f) => ({ requestId: f.requestId }) },
  { name: 'wait_for_run', may: anyRole, input: (f) => ({ runId: f.runId, timeoutSeconds: 1 }) },
  { name: 'claim_task', may: analysisRoles, input: (f) => ({ taskId: f.analysisTaskId }) },
  { name: 'update_task', may: analysisRoles, input: (f) => ({ taskId: f.analysisTaskId, note: 'A note from the matrix.' }) },
  { name: 'complete_task', may: analysisRoles, input: (f) => ({ taskId: f.analysisTaskId }) },
  { name: 'block_task', may: analysisRoles, input: (f) => ({ taskId: f.analysisTaskId, reason: 'Waiting for the owner.' }) },
  // On the fixture's pending task: the step's roles are told it is not blocked / held by nobody (409), the others 403.
  { name: 'resume_task', may: analysisRoles, input: (f) => ({ taskId: f.analysisTaskId }) },
  { name: 'release_task', may: analysisRoles, input: (f) => ({ taskId: f.analysisTaskId, reason: 'Handing it back.' }) },
  { name: 'take_snapshot', may: analysisRoles, input: (f) => ({ requestId: f.requestId }) },
  { name: 'save_analysis', may: analysisRoles, input: (f) => ({ requestId: f.requestId, desiredChanges: 'A column.', migrationStrategy: 'Add it.' }) },
  { name: 'analyze', may: (r) => analysisRoles(r) || dba(r), input: (f) => ({ requestId: f.requestId }) },
  { name: 'save_migration_revision', may: dba, input: (f) => ({ requestId: f.requestId, name: 'matrix', upSql: 'CREATE TABLE matrix (id int);', downSql: 'DROP TABLE matrix;' }) },
  { name: 'rehearse', may: dba, input: (f) => ({ requestId: f.requestId }) },
  { name: 'backup', may: dba, input: (f) => ({ requestId: f.requestId }) },
  { name: 'drill', may: dba, input: (f) => ({ requestId: f.requestId }) },
  { name: 'attach_test_report', may: (r) => r === 'test-automator', input: (f) => ({ requestId: f.requestId, report: '{"tests":1,"failures":0}' }) },
  { name: 'get_schema', may: anyRole, input: (f) => ({ requestId: f.requestId }) },
  { name: 'acknowledge_destructive', may: dba, input: (f) => ({ requestId: f.requestId, operationKey: 'drop_table:public.matrix', note: 'A note from the matrix.' }) },
  { name: 'link_app_branch', may: appCode, input: (f) => ({ requestId: f.requestId }) },
  { name: 'compare_app_schema', may: appCode, input: (f) => ({ requestId: f.requestId }) },
  { name: 'record_intended_difference', may: appCode, input: (f) => ({ requestId: f.requestId, evidenceId: f.runId, keys: ['column:public.matrix.id'], note: 'Intended by the matrix.' }) },
];

/** What a refused call must leave as it was. */
async function digest() {
  const db = getDb();
  const [runs, revisions, audit, evidence, notes, started, requests] = await Promise.all([
    db.run.count(), db.migrationRevision.count(), db.auditLog.count(), db.evidence.count(), db.taskNote.count(),
    db.task.count({ where: { status: { not: 'pending' } } }),
    db.migrationRequest.findMany({ select: { id: true, desiredChanges: true, migrationStrategy: true, updatedAt: true }, orderBy: { id: 'asc' } }),
  ]);
  return JSON.stringify({ runs, revisions, audit, evidence, notes, started, requests });
}

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'] });
  const owner = await makeUser({ roles: ['engineer'] });
  targetId = (await makeTarget()).id;
  for (const role of [...AGENT_ROLES, 'all' as const]) {
    const agent = await createAgent(admin.id, { name: `matrix-${role}`, agentRoles: role === 'all' ? [...AGENT_ROLES] : [role], ownerId: owner.id });
    const { secret } = await issueAgentToken(admin.id, { agentId: agent.id, name: 'matrix' });
    clients.set(role, await connectMcp(mcpRoute.POST, secret, `matrix-${role}`));
  }
}, 60_000);

afterAll(async () => {
  for (const c of clients.values()) await c.close();
  await store?.close();
});

describe('the MCP authorization matrix (each tool x each agent role)', () => {
  it('lists every tool the server offers', async () => {
    const offered = (await clients.get('all')!.listTools()).tools.map((t) => t.name).sort();
    expect(TOOLS.map((t) => t.name).sort()).toEqual(offered);
  });

  for (const tool of TOOLS) {
    it(`${tool.name}: ${AGENT_ROLES.filter(tool.may).join(', ')}`, async () => {
      for (const role of AGENT_ROLES) {
        const f = await fixture();
        const before = await digest();
        const result = await callTool(clients.get(role)!, tool.name, tool.input(f));
        const text = resultText(result);
        const code = (result.structuredContent as { error?: { code?: string } } | undefined)?.error?.code;
        expect(text, `${tool.name} as ${role}`).not.toBe(INTERNAL_ERROR);
        if (tool.may(role)) {
          // Allowed for the role: it may still be refused for the request's state (a conflict), never for who is asking.
          expect(code, `${tool.name} as ${role} is allowed: ${text}`).not.toBe('forbidden');
        } else {
          expect(result.isError, `${tool.name} as ${role} is refused: ${text}`).toBe(true);
          expect(code, `${tool.name} as ${role}: ${text}`).toBe('forbidden');
          expect(await digest(), `${tool.name} as ${role} was refused and must change nothing`).toBe(before);
        }
      }
    });
  }
});

describe('fuzzing the MCP tools and the endpoint', () => {
  const junk = fc.oneof(
    fc.string({ maxLength: 50 }), fc.integer(), fc.double(), fc.boolean(), fc.constant(null), fc.uuid(),
    fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }), fc.dictionary(fc.string({ maxLength: 5 }), fc.string({ maxLength: 5 }), { maxKeys: 3 }),
    fc.constant('x'.repeat(200_000)), fc.constant("'; DROP TABLE users; --"), fc.constant('\u0000'),
  );

  for (const tool of TOOLS) {
    it(`fuzz ${tool.name}: never an internal error; a refusal writes nothing`, async () => {
      const f = await fixture();
      const valid = tool.input(f);
      const client = clients.get('all')!;
      await fc.assert(
        fc.asyncProperty(fc.dictionary(fc.constantFrom(...Object.keys(valid), 'extra'), junk, { maxKeys: 4 }), fc.boolean(), async (changes, keep) => {
          const args = keep ? { ...valid, ...changes } : changes;
          const before = await digest();
          const result = await callTool(client, tool.name, tool.name === 'wait_for_run' ? { ...args, timeoutSeconds: 1 } : args);
          const text = resultText(result);
          expect(text, `${tool.name} with ${JSON.stringify(args).slice(0, 200)}`).not.toBe(INTERNAL_ERROR);
          if (result.isError) expect(await digest(), `${tool.name} refused (${text.slice(0, 200)}) must write nothing`).toBe(before);
        }),
        { seed: 9, numRuns: 15, endOnFailure: true },
      );
    }, 120_000);
  }

  it('answers malformed JSON-RPC, wrong content types and other methods with 4xx, never 5xx', async () => {
    const secret = (await issueAgentToken(admin.id, { agentId: (await getDb().user.findFirstOrThrow({ where: { name: 'matrix-all' } })).id, name: 'raw' })).secret;
    const headers = { authorization: `Bearer ${secret}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const post = (body: string, extra: Record<string, string> = {}) => mcpRoute.POST(new Request(MCP_ENDPOINT, { method: 'POST', headers: { ...headers, ...extra }, body }));
    for (const body of ['not json', '{}', '[]', 'null', '{"jsonrpc":"1.0","id":1,"method":"tools/list"}', '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"nope"}}']) {
      const res = await post(body);
      expect(res.status, body).toBeLessThan(500);
      if (res.status === 200) expect(JSON.stringify(await res.json())).toMatch(/error/i);
    }
    expect((await post('{}', { 'content-type': 'text/plain' })).status).toBe(415);
    expect((await post('{}', { accept: 'text/html' })).status).toBe(406);
    const huge = await post(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(mcpRoute.MCP_MAX_BODY_BYTES) } }));
    expect(huge.status).toBe(413);
  }, 60_000);
});
