/**
 * `npm run bench:agents`: AI agents working their roles' tasks over MCP. 500 requests in a scratch
 * store, 50 agent accounts (ten per role: database-optimizer, postgres-pro, database-administrator,
 * language-specialist, test-automator), each with its own token and its own MCP session (the SDK's
 * Client over StreamableHTTPClientTransport, bearer token) to the production server's /api/mcp on
 * loopback. For 60 s each session loops: list its ready tasks, get one, claim it (a lost race is a
 * normal outcome, counted), then tick the items it may tick by hand and complete the task when the
 * rules allow (its evidence holds), else leave a note (evidence pending: the task stays in progress).
 * Afterwards the store is read to count tasks claimed by two agents (audit rows and assignees),
 * independently of what the sessions say they won. Writes bench/results/agents.json: p50/p95/p99 per
 * tool, errors (with the first one), the work mix, and summary.{errors, doubleClaims, p95Ms (the
 * worst read or claim tool's p95), goalP95Ms, pass}.
 *
 * The work: each request has one ready step (the steps before it completed), spread so each role
 * has work: analysis 100, create-migration 60, test-locally 40, update-app-code 100, test-app 100,
 * create-backup 30, deploy 30, post-deployment 40. Every request at create-migration or
 * test-locally has a saved revision with a down path and a passing rehearsal (recorded as its
 * handler records it), so those two steps can be completed (and completing one makes the next
 * ready); the other steps wait for evidence only real runs make, so agents claim them and add a note.
 *
 * Sessions are agents, not a closed loop: between two tool calls an agent thinks (its model
 * answering), drawn from an exponential distribution (mean BENCH_THINK_MS, capped at 10x), and
 * starts after one such pause. At zero think time 50 sessions measure the queue on 2 cores
 * (Little's law), not a tool call.
 *
 * Knobs (env): BENCH_REQUESTS (500), BENCH_SESSIONS (50), BENCH_SECONDS (60), BENCH_THINK_MS (1000),
 * BENCH_WARMUP_SECONDS (5: the whole loop from ten sessions, figures dropped), BENCH_PORT (3311), BENCH_DB (cutover_bench_agents), BENCH_KEEP_DB=1.
 * Flags: --strict (exit 1 when a goal is missed), --cpu-prof (one `next start` process under
 * `node --cpu-prof`; prints where its CPU went, the profile is kept in the temp dir printed).
 * Exit codes: 0 measured, 1 a goal missed with --strict, 2 failed.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client as McpClient } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CURRENT_TEMPLATE, planWorkflow } from '../lib/domain/procedure';
import type { AgentRole } from '../lib/domain/roles';
import { connect, databaseUrl, dropDatabase } from './lib/database';
import { analyzeProfile } from './lib/profile';
import { ADMIN_PASSWORD, seed } from './lib/seed';
import { prepareBenchStore } from './lib/app-store';
import { runServedBench } from './lib/run';
import { ensureBuild, startServer, type RunningServer } from './lib/server';
import { percentile, rng } from './lib/stats';

const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
const CFG = {
  requests: env('BENCH_REQUESTS', 500),
  sessions: env('BENCH_SESSIONS', 50),
  seconds: env('BENCH_SECONDS', 60),
  thinkMs: env('BENCH_THINK_MS', 1000),
  warmupSeconds: env('BENCH_WARMUP_SECONDS', 5),
  port: env('BENCH_PORT', 3311),
  database: process.env.BENCH_DB ?? 'cutover_bench_agents',
  keepDb: process.env.BENCH_KEEP_DB === '1',
  strict: process.argv.includes('--strict'),
  cpuProf: process.argv.includes('--cpu-prof'),
};
const GOAL_P95_MS = 100;
const THINK_CAP = 10;
const TIMELINE_WINDOW_MS = 5000;
/** The tools the goal is about: reads and the claim. */
const GOAL_TOOLS = ['list_my_ready_tasks', 'get_task', 'claim_task'] as const;
const TOOLS = [...GOAL_TOOLS, 'update_task', 'complete_task'] as const;
type Tool = (typeof TOOLS)[number];
const ROLES: AgentRole[] = ['database-optimizer', 'postgres-pro', 'database-administrator', 'language-specialist', 'test-automator'];
/** How many of each 100 requests are ready at each step (the gate is people's, never ready here). */
const READY_MIX: Record<string, number> = {
  analysis: 20, 'create-migration': 12, 'test-locally': 8, 'update-app-code': 20, 'test-app': 20, 'create-backup': 6, deploy: 6, 'post-deployment': 8,
};
const COMPLETABLE = new Set(['create-migration', 'test-locally']);
const RESULTS = path.join(process.cwd(), 'bench', 'results', 'agents.json');
if (!/^[a-z_][a-z0-9_]*$/.test(CFG.database)) throw new Error(`BENCH_DB must be a plain identifier, got ${CFG.database}`);

const t0 = performance.now();
const log = (m: string) => console.log(`[bench:agents ${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${m}`);
const round = (x: number) => Math.round(x * 10) / 10;

let server: RunningServer | null = null;
let workDir: string | null = null;
let dbCreated = false;
const clients: McpClient[] = [];
let cleaning: Promise<void> | null = null;

function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await server?.stop().catch((e) => console.error('[bench:agents] stopping the server failed:', e));
    server = null;
    const { disconnectDb } = await import('../lib/db/client');
    await disconnectDb().catch(() => undefined);
    if (dbCreated && !CFG.keepDb) await dropDatabase(CFG.database).catch((e) => console.error(`[bench:agents] dropping ${CFG.database} failed:`, e));
    if (workDir && !CFG.cpuProf) rmSync(workDir, { recursive: true, force: true });
  })();
  return cleaning;
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    console.error(`\n[bench:agents] ${sig}: stopping and dropping the scratch database...`);
    void cleanup().finally(() => process.exit(130));
  });
}

/** Request i's ready step: READY_MIX spread evenly over the requests (deterministic). */
function readyStepOf(): (i: number) => number {
  const plan = planWorkflow(CURRENT_TEMPLATE);
  const slots: number[] = [];
  for (const [key, n] of Object.entries(READY_MIX)) {
    const position = plan.findIndex((s) => s.key === key) + 1;
    if (position < 1) throw new Error(`No step ${key} in the procedure.`);
    for (let k = 0; k < n; k++) slots.push(position);
  }
  const shuffled = [...slots];
  const r = rng(9);
  for (let k = shuffled.length - 1; k > 0; k--) {
    const j = Math.floor(r() * (k + 1));
    [shuffled[k], shuffled[j]] = [shuffled[j], shuffled[k]];
  }
  return (i) => shuffled[i % shuffled.length];
}

/** The evidence create-migration and test-locally rest on: a saved revision with a down path, and a passing rehearsal of it. */
async function prepareCompletable(adminId: string, requestIds: string[]) {
  const { getDb } = await import('../lib/db/client');
  const { saveMigrationRevision } = await import('../lib/services/migration-revisions');
  const { recordEvidence } = await import('../lib/services/evidence');
  const { SaveRevisionSchema } = await import('../lib/validation/migration');
  const { REHEARSAL_REQUIRED_PHASES } = await import('../lib/domain/step-evidence');
  for (const [k, id] of requestIds.entries()) {
    await saveMigrationRevision(adminId, SaveRevisionSchema.parse({
      requestId: id, name: `add_note_${k}`,
      upSql: `ALTER TABLE orders ADD COLUMN note_${k} text;\n`,
      downSql: `ALTER TABLE orders DROP COLUMN note_${k};\n`,
    }));
    const request = await getDb().migrationRequest.findUniqueOrThrow({ where: { id }, select: { targetId: true } });
    const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId: id }, orderBy: { revision: 'desc' } });
    // The rehearsal is benchmarked elsewhere (bench:runner): recorded as its handler records a pass.
    await getDb().$transaction((tx) => recordEvidence(tx, {
      kind: 'rehearsal', targetId: request.targetId, requestId: id, revision: { id: revision.id, checksum: revision.checksum }, passed: true,
      summary: 'rehearsal passed (bench fixture)',
      detail: {
        revision: revision.revision, ok: true, phases: REHEARSAL_REQUIRED_PHASES.map((phase) => ({ phase, label: phase, status: 'ok' as const, durationMs: 1 })),
        hashes: {}, sampleRows: 0, dataLoss: null, afterUpShape: null,
      },
    }));
  }
}

interface Agent { id: string; name: string; roles: AgentRole[]; secret: string }

/** Ten agents per role, each with its own token, created and issued through the services as an admin does. */
async function createAgents(adminId: string): Promise<Agent[]> {
  const { createAgent, issueAgentToken } = await import('../lib/services/agent-accounts');
  const agents: Agent[] = [];
  for (let k = 0; k < CFG.sessions; k++) {
    const role = ROLES[k % ROLES.length];
    const name = `${role}-agent-${Math.floor(k / ROLES.length) + 1}`;
    const { id } = await createAgent(adminId, { name, agentRoles: [role], ownerId: adminId });
    const { secret } = await issueAgentToken(adminId, { agentId: id, name: 'bench:agents' });
    agents.push({ id, name, roles: [role], secret });
  }
  return agents;
}

async function openSession(baseUrl: string, agent: Agent): Promise<McpClient> {
  const client = new McpClient({ name: `bench-${agent.name}`, version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL('/api/mcp', baseUrl), { requestInit: { headers: { Authorization: `Bearer ${agent.secret}` } } }));
  clients.push(client);
  return client;
}

interface TaskAnswer {
  id: string;
  status: string;
  metadata: { step: string; waitingFor: string[]; assignee: { id: string } | null; checklist: { id: string; done: boolean; coveredBy: string | null }[] };
}

class ToolError extends Error {}

interface Tally {
  samples: Map<Tool, number[]>;
  /** Every read or claim call: when it started (ms into the run) and how long it took, for the timeline. */
  goalCalls: { at: number; ms: number }[];
  runStarted: number;
  errors: Map<Tool, { n: number; first: string | null }>;
  won: Map<string, string[]>;
  mix: { cycles: number; emptyLists: number; lostRaces: number; claimed: number; completed: number; notedEvidencePending: number };
}

/** One agent until the time is up: list, get, claim, then tick and complete (or note). */
async function runSession(client: McpClient, agent: Agent, tally: Tally, until: number, seed: number) {
  const rand = rng(seed);
  const think = () => CFG.thinkMs > 0
    ? new Promise((r) => setTimeout(r, Math.max(0, Math.min(-CFG.thinkMs * Math.log(1 - rand()), CFG.thinkMs * THINK_CAP, until - performance.now()))))
    : null;
  /** A tool call, timed; a refusal comes back as { refused } (the caller decides whether it is expected). */
  const call = async (tool: Tool, args: Record<string, unknown>): Promise<{ data: unknown } | { refused: { code: string; message: string } }> => {
    const started = performance.now();
    let result: CallToolResult;
    try {
      result = (await client.callTool({ name: tool, arguments: args })) as CallToolResult;
    } catch (err) {
      throw new ToolError(`${tool}: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      const ms = performance.now() - started;
      tally.samples.get(tool)!.push(ms);
      if ((GOAL_TOOLS as readonly string[]).includes(tool)) tally.goalCalls.push({ at: started - tally.runStarted, ms });
    }
    const structured = result.structuredContent as Record<string, unknown> | undefined;
    if (result.isError) {
      const e = (structured?.error ?? {}) as { code?: string; message?: string };
      return { refused: { code: e.code ?? 'unknown', message: e.message ?? JSON.stringify(result.content) } };
    }
    if (!structured) throw new ToolError(`${tool}: no structured answer`);
    return { data: structured };
  };
  const fail = (tool: Tool, message: string) => {
    const e = tally.errors.get(tool)!;
    e.n++;
    e.first ??= `${agent.name}: ${message}`;
  };
  /** The call's data, or an error counted (unexpected refusals are errors). */
  const must = async (tool: Tool, args: Record<string, unknown>) => {
    const r = await call(tool, args);
    if ('refused' in r) {
      fail(tool, `${tool} refused (${r.refused.code}): ${r.refused.message}`);
      return null;
    }
    return r.data;
  };

  await think();
  while (performance.now() < until) {
    try {
      tally.mix.cycles++;
      const list = (await must('list_my_ready_tasks', { limit: 10 })) as { tasks: TaskAnswer[] } | null;
      await think();
      if (!list) continue;
      if (list.tasks.length === 0) {
        tally.mix.emptyLists++;
        continue;
      }
      // A random one of the first ten: agents of a role race for the same tasks often enough.
      const pick = list.tasks[Math.floor(rand() * list.tasks.length)];
      const got = (await must('get_task', { taskId: pick.id })) as TaskAnswer | null;
      await think();
      if (!got || performance.now() >= until) continue;
      const claim = await call('claim_task', { taskId: pick.id });
      await think();
      if ('refused' in claim) {
        // Another agent of the role got there first: the claim names the holder.
        if (claim.refused.code === 'conflict' && /already claimed/.test(claim.refused.message)) tally.mix.lostRaces++;
        else fail('claim_task', `claim_task refused (${claim.refused.code}): ${claim.refused.message}`);
        continue;
      }
      const task = claim.data as TaskAnswer;
      if (task.status !== 'in_progress' || task.metadata.assignee?.id !== agent.id) {
        fail('claim_task', `claim_task answered status ${task.status}, assignee ${task.metadata.assignee?.id ?? 'none'}`);
        continue;
      }
      tally.mix.claimed++;
      tally.won.get(agent.id)!.push(task.id);
      const manual = task.metadata.checklist.filter((c) => !c.coveredBy && !c.done);
      const completable = task.metadata.waitingFor.length === 0;
      const updated = await must('update_task', {
        taskId: task.id,
        checklist: completable ? manual.map((c) => ({ itemId: c.id, done: true })) : [],
        note: completable ? 'Done by the bench agent.' : `Waiting for evidence: ${task.metadata.waitingFor[0]}`.slice(0, 500),
      });
      await think();
      if (!updated) continue;
      if (!completable) {
        tally.mix.notedEvidencePending++;
        continue;
      }
      const done = (await must('complete_task', { taskId: task.id })) as TaskAnswer | null;
      if (done && done.status !== 'completed') fail('complete_task', `complete_task answered status ${done.status}`);
      else if (done) tally.mix.completed++;
      await think();
    } catch (err) {
      const tool = (TOOLS.find((t) => err instanceof ToolError && err.message.startsWith(`${t}:`)) ?? 'list_my_ready_tasks') as Tool;
      fail(tool, err instanceof Error ? err.message : String(err));
      await think();
    }
  }
}

/** Tasks two agents claimed, from the store: the claims' audit rows and the tasks' assignees. */
async function doubleClaimsInStore(url: string, agentIds: string[], won: Map<string, string[]>) {
  const db = await connect(url);
  try {
    const { rows: audit } = await db.query<{ taskId: string; agents: string }>(
      `SELECT entity_id AS "taskId", count(DISTINCT actor_id)::text AS agents FROM audit_log
       WHERE action = 'task.start' AND entity_type = 'Task' AND actor_id = ANY($1::uuid[])
       GROUP BY entity_id HAVING count(DISTINCT actor_id) > 1`,
      [agentIds],
    );
    const { rows: starts } = await db.query<{ n: string }>(
      `SELECT count(*)::text AS n FROM audit_log WHERE action = 'task.start' AND entity_type = 'Task' AND actor_id = ANY($1::uuid[])`,
      [agentIds],
    );
    // What the sessions say they won, against who holds each task now.
    const claimedBy = new Map<string, string[]>();
    for (const [agent, tasks] of won) for (const t of tasks) claimedBy.set(t, [...(claimedBy.get(t) ?? []), agent]);
    const wonTwice = [...claimedBy.values()].filter((a) => a.length > 1).length;
    const ids = [...claimedBy.keys()];
    const { rows: holders } = await db.query<{ id: string; assigneeId: string | null }>(
      `SELECT id, assignee_id AS "assigneeId" FROM tasks WHERE id = ANY($1::uuid[])`, [ids],
    );
    const heldByOther = holders.filter((h) => !(claimedBy.get(h.id) ?? []).includes(h.assigneeId ?? '')).length;
    return { inAuditLog: audit.length, wonBySessionsTwice: wonTwice, wonButHeldByAnother: heldByOther, claimsInAuditLog: Number(starts[0].n) };
  } finally {
    await db.end();
  }
}

async function main() {
  const startedAt = new Date();
  const url = databaseUrl(CFG.database);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-bench-agents-'));
  const build = ensureBuild(log);

  log(`recreating ${CFG.database}, applying the app's migrations, seeding ${CFG.requests} requests`);
  // This process creates agents and evidence through the services: same store, same key.
  const { serverEnv } = await prepareBenchStore({ database: CFG.database, port: CFG.port, workDir, onCreated: () => { dbCreated = true; } });
  const { hashPassword } = await import('../lib/services/manage-users');
  const readyStep = readyStepOf();
  const plan = planWorkflow(CURRENT_TEMPLATE);
  const db = await connect(url);
  let seeded: Awaited<ReturnType<typeof seed>>;
  let completableIds: string[];
  try {
    seeded = await seed(db, { requests: CFG.requests, passwordHash: await hashPassword(ADMIN_PASSWORD), readyStep });
    const { rows } = await db.query<{ id: string; number: number }>('SELECT id, number FROM migration_requests ORDER BY number');
    completableIds = rows.filter((r) => COMPLETABLE.has(plan[readyStep(r.number - 1) - 1].key)).map((r) => r.id);
  } finally {
    await db.end();
  }
  log(`seeded ${seeded.requests} requests (${seeded.tasks} tasks); saving revisions and rehearsals for ${completableIds.length} of them`);
  await prepareCompletable(seeded.admin.id, completableIds);
  const agents = await createAgents(seeded.admin.id);
  const vacuum = await connect(url);
  await vacuum.query('VACUUM ANALYZE').finally(() => vacuum.end());
  log(`${agents.length} agent accounts with a token each`);

  const profDir = path.join(workDir, 'cpu-prof');
  server = await startServer({
    port: CFG.port, env: serverEnv,
    nodeArgs: CFG.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`, '--cpu-prof-interval=250'] : undefined,
  });
  const sessions = await Promise.all(agents.map(async (agent) => ({ agent, client: await openSession(server!.baseUrl, agent) })));
  const newTally = (): Tally => ({
    samples: new Map(TOOLS.map((t) => [t, []])),
    goalCalls: [],
    runStarted: performance.now(),
    errors: new Map(TOOLS.map((t) => [t, { n: 0, first: null }])),
    won: new Map(agents.map((a) => [a.id, []])),
    mix: { cycles: 0, emptyLists: 0, lostRaces: 0, claimed: 0, completed: 0, notedEvidencePending: 0 },
  });
  // Warm-up: the whole loop (claims and completions too, whose code paths are cold in each server
  // process otherwise) from ten sessions; its figures are dropped, the tasks it won are kept for the checks.
  log(`${sessions.length} MCP sessions open; warm-up: 10 sessions for ${CFG.warmupSeconds} s`);
  const warm = newTally();
  const warmUntil = performance.now() + CFG.warmupSeconds * 1000;
  await Promise.all(sessions.slice(0, 10).map(({ agent, client }, k) => runSession(client, agent, warm, warmUntil, 7 + k)));
  const warmErrors = TOOLS.reduce((n, t) => n + warm.errors.get(t)!.n, 0);
  if (warmErrors) log(`warm-up: ${warmErrors} errors, the first: ${TOOLS.map((t) => warm.errors.get(t)!.first).find((e) => e)}`);

  const tally = newTally();
  for (const [agent, won] of warm.won) tally.won.get(agent)!.push(...won);
  log(`run: ${sessions.length} sessions for ${CFG.seconds} s, thinking ${CFG.thinkMs ? `${CFG.thinkMs} ms on average` : 'not at all'} between calls`);
  const runStarted = performance.now();
  tally.runStarted = runStarted;
  const until = runStarted + CFG.seconds * 1000;
  await Promise.all(sessions.map(({ agent, client }, k) => runSession(client, agent, tally, until, 20261126 + k)));
  const wallMs = performance.now() - runStarted;

  const store = await doubleClaimsInStore(url, agents.map((a) => a.id), tally.won);
  const doubleClaims = Math.max(store.inAuditLog, store.wonBySessionsTwice, store.wonButHeldByAnother);
  const readyLeft = await (async () => {
    const c = await connect(url);
    try {
      const { rows } = await c.query<{ n: string }>(`SELECT count(*)::text AS n FROM tasks t LEFT JOIN tasks b ON b.id = t.blocked_by_id
        WHERE t.status = 'pending' AND NOT t.is_gate AND (t.blocked_by_id IS NULL OR b.status = 'completed')`);
      return Number(rows[0].n);
    } finally {
      await c.end();
    }
  })();

  const tools: Record<string, unknown> = {};
  for (const t of TOOLS) {
    const s = tally.samples.get(t)!.sort((a, b) => a - b);
    const e = tally.errors.get(t)!;
    tools[t] = {
      calls: s.length, errors: e.n, firstError: e.first,
      p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(s[s.length - 1] ?? NaN),
      mean: round(s.reduce((a, b) => a + b, 0) / (s.length || 1)), callsPerSecond: round((s.length / wallMs) * 1000),
    };
  }
  // Reads and claims per 5 s window: a tail from another process on the machine shows as a burst in one window.
  const timeline = Array.from({ length: Math.ceil(wallMs / TIMELINE_WINDOW_MS) }, (_, i) => {
    const ms = tally.goalCalls.filter((c) => c.at >= i * TIMELINE_WINDOW_MS && c.at < (i + 1) * TIMELINE_WINDOW_MS).map((c) => c.ms).sort((a, b) => a - b);
    return { fromS: (i * TIMELINE_WINDOW_MS) / 1000, calls: ms.length, p50: round(percentile(ms, 50)), p95: round(percentile(ms, 95)), max: round(ms[ms.length - 1] ?? NaN) };
  });
  const byTool = tools as Record<Tool, { calls: number; errors: number; firstError: string | null; p95: number }>;
  const errors = TOOLS.reduce((n, t) => n + byTool[t].errors, 0);
  const worst = [...GOAL_TOOLS].sort((a, b) => byTool[b].p95 - byTool[a].p95)[0];
  const p95Ms = byTool[worst].p95;
  const firstError = TOOLS.map((t) => byTool[t].firstError).find((e) => e) ?? null;
  const summary = {
    errors, firstError, doubleClaims, p95Ms, worstTool: worst, goalP95Ms: GOAL_P95_MS,
    calls: TOOLS.reduce((n, t) => n + byTool[t].calls, 0),
    pass: errors === 0 && doubleClaims === 0 && p95Ms < GOAL_P95_MS,
  };

  let cpuProfile: ReturnType<typeof analyzeProfile> | null = null;
  if (CFG.cpuProf) {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
    await server.stop();
    server = null;
    const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
    if (file) {
      cpuProfile = analyzeProfile(path.join(profDir, file), summary.calls);
      log(`CPU profile: ${path.join(profDir, file)}`);
    }
  }

  const cpus = os.cpus();
  const result = {
    benchmark: 'agents',
    startedAt: startedAt.toISOString(),
    finishedAt: new Date().toISOString(),
    machine: { cpus: cpus.length, cpuModel: cpus[0]?.model ?? null, node: process.version, loadAverage: os.loadavg().map((x) => Math.round(x * 100) / 100) },
    config: {
      requests: CFG.requests, sessions: CFG.sessions, seconds: CFG.seconds, warmupSeconds: CFG.warmupSeconds, port: CFG.port, build,
      agents: Object.fromEntries(ROLES.map((r) => [r, agents.filter((a) => a.roles.includes(r)).length])),
      transport: 'MCP Streamable HTTP (SDK Client + StreamableHTTPClientTransport), bearer token per agent, loopback',
      clientModel: CFG.thinkMs > 0
        ? { kind: 'agents', thinkTime: { distribution: 'exponential', meanMs: CFG.thinkMs, maxMs: CFG.thinkMs * THINK_CAP }, firstCallAfterOneThinkTime: true }
        : { kind: 'closed loop', thinkTime: null },
      readyStepsPer100Requests: READY_MIX,
      completableSteps: [...COMPLETABLE],
      workMix: 'list ready (limit 10) -> get a random one -> claim; won: tick the manual items and complete when its evidence holds (create-migration, test-locally: a saved revision and a passing rehearsal were recorded), else add a note (the task stays in progress)',
      cpuProf: CFG.cpuProf,
    },
    summary,
    tools,
    mix: { ...tally.mix, warmUpClaimed: warm.mix.claimed, warmUpCompleted: warm.mix.completed, readyTasksLeft: readyLeft },
    // Reads and claims (list, get, claim) per 5 s window of the run.
    timeline,
    doubleClaimChecks: store,
    cpuProfile,
  };
  mkdirSync(path.dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(result, null, 2) + '\n');

  console.log(`\n${'tool'.padEnd(22)}${'calls'.padStart(7)}${'p50'.padStart(8)}${'p95'.padStart(8)}${'p99'.padStart(8)}${'max'.padStart(8)}${'err'.padStart(5)}`);
  for (const t of TOOLS) {
    const r = tools[t] as { calls: number; p50: number; p95: number; p99: number; max: number; errors: number; firstError: string | null };
    console.log(`${t.padEnd(22)}${String(r.calls).padStart(7)}${r.p50.toFixed(1).padStart(8)}${r.p95.toFixed(1).padStart(8)}${r.p99.toFixed(1).padStart(8)}${r.max.toFixed(1).padStart(8)}${String(r.errors).padStart(5)}`);
    if (r.firstError) console.log(`  first error: ${r.firstError}`);
  }
  console.log(`\nmix: ${JSON.stringify(result.mix)}`);
  console.log(`read/claim p95 per ${TIMELINE_WINDOW_MS / 1000} s window (ms): ${timeline.map((w) => Math.round(w.p95)).join(' ')}`);
  console.log(`double claims: ${doubleClaims} (${JSON.stringify(store)})`);
  console.log(`${summary.calls} calls, ${errors} errors, worst read/claim p95 ${p95Ms} ms (${worst}); goal p95 < ${GOAL_P95_MS} ms: ${summary.pass ? 'PASS' : 'FAIL'}`);
  if (cpuProfile) {
    console.log(`\nServer main-thread CPU per tool call under --cpu-prof: ${cpuProfile.msPerRequest} ms`);
    for (const b of cpuProfile.buckets) console.log(`  ${b.bucket.padEnd(55)}${b.msPerRequest.toFixed(2).padStart(8)} ms ${(b.share * 100).toFixed(0).padStart(4)}%`);
  }
  log(`wrote ${path.relative(process.cwd(), RESULTS)}`);
  return summary.pass;
}

runServedBench('bench:agents', main, { strict: CFG.strict, cleanup, server: () => server });
