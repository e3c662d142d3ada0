/**
 * Seeds the bench database with a realistic Cutover dataset through bulk SQL:
 * every table is filled with `INSERT ... SELECT FROM unnest($1::type[], ...)` batches,
 * so 10,000 requests with 90,000 tasks and ~340,000 checklist items take seconds.
 *
 * The shapes come from the app itself: tasks and checklists from planWorkflow(CURRENT_TEMPLATE),
 * the denormalised request columns from summarizeProgress() over the generated tasks (the same
 * function the services use), gate items from the template's gateItems.
 */
import { randomUUID } from 'node:crypto';
import type { Client } from 'pg';
import { CURRENT_TEMPLATE, planWorkflow } from '../../lib/domain/procedure';
import { summarizeProgress, type TaskState } from '../../lib/domain/workflow';
import { REQUEST_KINDS, PRIORITIES, type AgentRole } from '../../lib/domain/roles';
import { rng } from './stats';

export interface SeedUser {
  id: string;
  email: string;
  name: string;
  roles: string[];
  agentRoles: AgentRole[];
}

export interface SeedResult {
  admin: { id: string; email: string; password: string; name: string };
  users: SeedUser[];
  targets: { id: string; name: string; environment: string }[];
  requests: number;
  tasks: number;
  checklistItems: number;
  gateItems: number;
  auditRows: number;
  /** A deterministic sample of request ids and titles, for the detail-page load. */
  sample: { id: string; title: string }[];
}

export const ADMIN_EMAIL = 'admin@bench.cutover.local';
export const ADMIN_PASSWORD = 'bench-admin-password-1';
const DAY = 86_400_000;

// Names without characters React escapes (& < > " '), so pages can be checked with a plain includes().
const PEOPLE: { name: string; roles: string[]; agentRoles: AgentRole[] }[] = [
  { name: 'Ada Lovelace', roles: ['engineer'], agentRoles: ['database-optimizer', 'postgres-pro'] },
  { name: 'Grace Hopper', roles: ['engineer'], agentRoles: ['database-administrator'] },
  { name: 'Edgar Codd', roles: ['engineer'], agentRoles: ['database-administrator', 'postgres-pro'] },
  { name: 'Barbara Liskov', roles: ['engineer'], agentRoles: ['language-specialist'] },
  { name: 'Ken Thompson', roles: ['engineer'], agentRoles: ['language-specialist', 'test-automator'] },
  { name: 'Margaret Hamilton', roles: ['engineer'], agentRoles: ['test-automator'] },
  { name: 'Jim Gray', roles: ['engineer'], agentRoles: ['database-administrator'] },
  { name: 'Michael Stonebraker', roles: ['engineer'], agentRoles: ['database-optimizer'] },
  { name: 'Frances Allen', roles: ['reviewer', 'engineer'], agentRoles: [] },
  { name: 'Leslie Lamport', roles: ['reviewer'], agentRoles: [] },
  { name: 'Radia Perlman', roles: ['reviewer', 'lead'], agentRoles: [] },
  { name: 'Donald Knuth', roles: ['lead', 'engineer'], agentRoles: [] },
];

const TARGETS: { name: string; environment: 'local' | 'staging' | 'production'; database: string }[] = [
  { name: 'orders local', environment: 'local', database: 'orders_dev' },
  { name: 'orders staging', environment: 'staging', database: 'orders' },
  { name: 'orders production', environment: 'production', database: 'orders' },
  { name: 'billing staging', environment: 'staging', database: 'billing' },
  { name: 'billing production', environment: 'production', database: 'billing' },
  { name: 'analytics production', environment: 'production', database: 'analytics' },
];

const TABLES = ['orders', 'customers', 'invoices', 'payments', 'line_items', 'shipments', 'products', 'events', 'accounts', 'sessions'];
const COLUMNS = ['customer_id', 'created_at', 'status', 'email', 'amount_cents', 'region', 'sku', 'external_ref', 'deleted_at', 'tenant_id'];
const TITLE_BY_KIND: Record<string, ((t: string, c: string) => string)[]> = {
  schema_change: [(t, c) => `Change type of ${t}.${c}`, (t, c) => `Add check constraint on ${t}.${c}`, (t) => `Partition ${t} by month`],
  table_column_change: [(t, c) => `Add column ${c} to ${t}`, (t, c) => `Drop unused column ${t}.${c}`, (t) => `Create table ${t}_archive`],
  data_transformation: [(t, c) => `Backfill ${t}.${c}`, (t, c) => `Normalise ${t}.${c} values`, (t) => `Remove duplicate rows in ${t}`],
  index_optimization: [(t, c) => `Add index on ${t}.${c}`, (t, c) => `Replace index on ${t}.${c} with a partial index`, (t) => `Drop redundant indexes on ${t}`],
};
const BLOCK_REASONS = ['Waiting for a maintenance window', 'Staging restore failed; investigating', 'Needs sign-off from the data owner', 'Lock timeout on the target; retry off-peak'];

/** One INSERT ... SELECT FROM unnest(...) per batch; `cols` are [column, pg array type, values]. */
async function bulkInsert(
  db: Client,
  table: string,
  cols: [string, string, unknown[]][],
  opts: { batch?: number; select?: (params: string[]) => string; extraColumns?: string[] } = {},
): Promise<number> {
  const n = cols[0][2].length;
  const batch = opts.batch ?? 20_000;
  for (let start = 0; start < n; start += batch) {
    const end = Math.min(n, start + batch);
    const params = cols.map(([, type], i) => `$${i + 1}::${type}`);
    const select = opts.select ? opts.select(params) : `SELECT * FROM unnest(${params.join(', ')})`;
    await db.query(
      `INSERT INTO ${table} (${[...cols.map(([c]) => c), ...(opts.extraColumns ?? [])].map((c) => `"${c}"`).join(', ')}) ${select}`,
      cols.map(([, , values]) => values.slice(start, end)),
    );
  }
  return n;
}

export async function seed(db: Client, opts: {
  requests: number;
  passwordHash: string;
  /** Request i's ready step (1-based position): the steps before it completed, it and the rest pending. Default: random progress. */
  readyStep?: (i: number) => number;
}): Promise<SeedResult> {
  const rand = rng(20261125);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
  const plan = planWorkflow(CURRENT_TEMPLATE);
  const gateDefs = CURRENT_TEMPLATE.gateItems;
  const now = Date.now();

  const { rows: tpl } = await db.query<{ id: string }>(
    'SELECT id FROM workflow_templates WHERE key = $1 AND version = $2',
    [CURRENT_TEMPLATE.key, CURRENT_TEMPLATE.version],
  );
  if (tpl.length !== 1) throw new Error('The workflow template is missing: ensureTemplate() did not run.');
  const templateId = tpl[0].id;

  // People: the admin the bench signs in as, engineers holding agent roles, reviewers and a lead.
  const admin: SeedUser = { id: randomUUID(), email: ADMIN_EMAIL, name: 'Bench Admin', roles: ['admin', 'engineer', 'lead'], agentRoles: [] };
  const users: SeedUser[] = [
    admin,
    ...PEOPLE.map((p) => ({ ...p, id: randomUUID(), email: `${p.name.toLowerCase().replace(/ /g, '.')}@bench.cutover.local` })),
  ];
  const created = new Date(now - 400 * DAY);
  await bulkInsert(db, 'users', [
    ['id', 'uuid[]', users.map((u) => u.id)],
    ['email', 'text[]', users.map((u) => u.email)],
    ['name', 'text[]', users.map((u) => u.name)],
    // One bcrypt hash for everyone (hashing costs ~0.25 s each); only the admin signs in.
    ['password_hash', 'text[]', users.map(() => opts.passwordHash)],
    ['roles', 'text[]', users.map((u) => u.roles.join(','))],
    ['agent_roles', 'text[]', users.map((u) => u.agentRoles.join(','))],
    ['created_at', 'timestamptz[]', users.map(() => created)],
    ['updated_at', 'timestamptz[]', users.map(() => created)],
  ], {
    select: ([id, email, name, hash, roles, agent, c, u]) =>
      `SELECT id, email, name, hash, string_to_array(NULLIF(roles, ''), ',')::"Role"[], COALESCE(string_to_array(NULLIF(agent, ''), ','), '{}'), c, u
       FROM unnest(${id}, ${email}, ${name}, ${hash}, ${roles}, ${agent}, ${c}, ${u}) AS x(id, email, name, hash, roles, agent, c, u)`,
  });

  const targets = TARGETS.map((t) => ({ ...t, id: randomUUID() }));
  await bulkInsert(db, 'target_databases', [
    ['id', 'uuid[]', targets.map((t) => t.id)],
    ['name', 'text[]', targets.map((t) => t.name)],
    ['environment', '"Environment"[]', targets.map((t) => t.environment)],
    ['host', 'text[]', targets.map(() => '127.0.0.1')],
    ['port', 'int[]', targets.map(() => 5432)],
    ['database', 'text[]', targets.map((t) => t.database)],
    ['username', 'text[]', targets.map(() => 'postgres')],
    ['created_by_id', 'uuid[]', targets.map(() => admin.id)],
    ['created_at', 'timestamptz[]', targets.map(() => created)],
    ['updated_at', 'timestamptz[]', targets.map(() => created)],
  ]);

  const authors = users.filter((u) => u.roles.includes('engineer') || u.roles.includes('lead'));
  const reviewers = users.filter((u) => u.roles.includes('reviewer'));
  const holders = (eligible: string[], isGate: boolean) =>
    isGate ? reviewers : users.filter((u) => u.agentRoles.some((r) => eligible.includes(r)));

  // Column buffers, one array per column, filled request by request.
  const R = {
    id: [] as string[], number: [] as number[], title: [] as string[], kind: [] as string[], description: [] as string[],
    priority: [] as string[], status: [] as string[], target: [] as string[], author: [] as string[],
    step: [] as number[], subject: [] as string[], owner: [] as string[], done: [] as number[], total: [] as number[],
    createdAt: [] as Date[], updatedAt: [] as Date[],
  };
  const T = {
    id: [] as string[], request: [] as string[], position: [] as number[], status: [] as string[], blockedReason: [] as (string | null)[],
    blockedBy: [] as (string | null)[], assignee: [] as (string | null)[], startedAt: [] as (Date | null)[], completedAt: [] as (Date | null)[],
    createdAt: [] as Date[], updatedAt: [] as Date[],
  };
  const C = { id: [] as string[], task: [] as string[], position: [] as number[], label: [] as string[], done: [] as boolean[], by: [] as (string | null)[], at: [] as (Date | null)[] };
  const G = { id: [] as string[], request: [] as string[], position: [] as number[], key: [] as string[], label: [] as string[], by: [] as (string | null)[], at: [] as (Date | null)[], note: [] as (string | null)[] };
  const A = { id: [] as string[], request: [] as string[], actor: [] as string[], entity: [] as string[], after: [] as string[], at: [] as Date[] };

  const spanMs = 270 * DAY; // createdAt spread over nine months, oldest first so `number` follows time
  for (let i = 0; i < opts.requests; i++) {
    const id = randomUUID();
    const age = 1 - i / opts.requests; // 1 = oldest, 0 = newest
    const createdAt = new Date(now - spanMs * age - Math.floor(rand() * 3_600_000) - 60_000);
    const kind = pick(REQUEST_KINDS);
    const table = pick(TABLES);
    const column = pick(COLUMNS);
    const number = i + 1;
    const title = `${pick(TITLE_BY_KIND[kind])(table, column)} (bench ${number})`;
    const author = pick(authors);
    const target = pick(targets);

    // Progress: older requests are more often finished; the rest sit at any step, some blocked.
    const drawnFinished = rand() < 0.05 + 0.6 * age;
    const drawnSteps = drawnFinished ? plan.length : Math.floor(rand() * plan.length);
    const drawnBlocked = !drawnFinished && rand() < 0.12;
    const drawnNotStarted = !drawnFinished && !drawnBlocked && rand() < 0.3;
    // The same draws either way, so the default dataset does not change with the option.
    const ready = opts.readyStep?.(i);
    const completedSteps = ready === undefined ? drawnSteps : ready - 1;
    const blocked = ready === undefined ? drawnBlocked : false;
    const notStarted = ready === undefined ? drawnNotStarted : true;
    const elapsed = now - createdAt.getTime();
    const stepMs = (elapsed / (plan.length + 3)) * (0.4 + 0.6 * rand());

    const taskIds = plan.map(() => randomUUID());
    const states: TaskState[] = [];
    let lastActivity = createdAt;
    plan.forEach((step, j) => {
      const pos = j + 1;
      let status: TaskState['status'] = 'pending';
      if (pos <= completedSteps) status = 'completed';
      else if (pos === completedSteps + 1) status = blocked ? 'blocked' : notStarted ? 'pending' : 'in_progress';
      states.push({ position: pos, subject: step.subject, status, isGate: step.isGate, owner: step.owner });
      const worked = status !== 'pending';
      const startedAt = worked ? new Date(createdAt.getTime() + stepMs * j + 60_000) : null;
      const completedAt = status === 'completed' ? new Date(startedAt!.getTime() + stepMs * 0.9) : null;
      const assignee = worked ? pick(holders(step.eligibleRoles, step.isGate)).id : null;
      if (completedAt && completedAt > lastActivity) lastActivity = completedAt;
      else if (startedAt && startedAt > lastActivity) lastActivity = startedAt;
      T.id.push(taskIds[j]); T.request.push(id); T.position.push(pos); T.status.push(status);
      T.blockedReason.push(status === 'blocked' ? pick(BLOCK_REASONS) : null);
      T.blockedBy.push(j === 0 ? null : taskIds[j - 1]); T.assignee.push(assignee);
      T.startedAt.push(startedAt); T.completedAt.push(completedAt);
      T.createdAt.push(createdAt); T.updatedAt.push(completedAt ?? startedAt ?? createdAt);

      // Checklist: all ticked on completed steps, a prefix on the step being worked.
      const ticked = status === 'completed' ? step.checklist.length : worked ? Math.floor(rand() * step.checklist.length) : 0;
      step.checklist.forEach((label, k) => {
        const done = k < ticked;
        C.id.push(randomUUID()); C.task.push(taskIds[j]); C.position.push(k + 1); C.label.push(label); C.done.push(done);
        C.by.push(done ? assignee : null);
        C.at.push(done ? new Date(startedAt!.getTime() + ((k + 1) * stepMs * 0.8) / (step.checklist.length + 1)) : null);
      });

      if (step.isGate) {
        // Gate items: all signed once the gate passed, some while it is open.
        const signed = status === 'completed' ? gateDefs.length : worked ? Math.floor(rand() * gateDefs.length) : 0;
        gateDefs.forEach((g, k) => {
          const isSigned = k < signed;
          const signer = reviewers.filter((r) => r.id !== author.id);
          G.id.push(randomUUID()); G.request.push(id); G.position.push(k + 1); G.key.push(g.key); G.label.push(g.label);
          G.by.push(isSigned ? pick(signer).id : null);
          G.at.push(isSigned ? new Date(startedAt!.getTime() + ((k + 1) * stepMs * 0.8) / (gateDefs.length + 1)) : null);
          G.note.push(isSigned && rand() < 0.3 ? 'Checked against the staging rehearsal.' : null);
        });
      }
    });

    const progress = summarizeProgress(states);
    R.id.push(id); R.number.push(number); R.title.push(title); R.kind.push(kind);
    R.description.push(`Bench request ${number}: ${title.toLowerCase()} on ${target.name}. Expected impact: ${Math.floor(rand() * 5_000_000)} rows; lock budget ${1 + Math.floor(rand() * 9)} s.`);
    R.priority.push(pick(PRIORITIES)); R.status.push(progress.status); R.target.push(target.id); R.author.push(author.id);
    R.step.push(progress.currentStep); R.subject.push(progress.currentSubject); R.owner.push(progress.currentOwner);
    R.done.push(progress.completedSteps); R.total.push(progress.totalSteps);
    R.createdAt.push(createdAt); R.updatedAt.push(lastActivity);

    A.id.push(randomUUID()); A.request.push(id); A.actor.push(author.id); A.entity.push(id); A.at.push(createdAt);
    A.after.push(JSON.stringify({ number, title, kind, priority: R.priority[i], target: target.name, template: `${CURRENT_TEMPLATE.key} v${CURRENT_TEMPLATE.version}` }));
  }

  await bulkInsert(db, 'migration_requests', [
    ['id', 'uuid[]', R.id], ['number', 'int[]', R.number], ['title', 'text[]', R.title], ['kind', '"RequestKind"[]', R.kind],
    ['description', 'text[]', R.description], ['priority', '"Priority"[]', R.priority], ['status', '"RequestStatus"[]', R.status],
    ['target_id', 'uuid[]', R.target], ['author_id', 'uuid[]', R.author], ['template_id', 'uuid[]', R.id.map(() => templateId)],
    ['current_step', 'int[]', R.step], ['current_subject', 'text[]', R.subject], ['current_owner', 'text[]', R.owner],
    ['completed_steps', 'int[]', R.done], ['total_steps', 'int[]', R.total], ['created_at', 'timestamptz[]', R.createdAt],
    ['updated_at', 'timestamptz[]', R.updatedAt],
  ], { batch: 5_000 });
  // `number` was given explicitly; move the sequence past it so filing through the app still works.
  await db.query(`SELECT setval(pg_get_serial_sequence('migration_requests', 'number'), $1)`, [opts.requests]);

  // Static task fields come from the plan by position (arrays cannot travel inside unnest()).
  const planJson = JSON.stringify(plan.map((p) => ({ ...p, checklist: undefined })));
  await bulkInsert(db, 'tasks', [
    ['id', 'uuid[]', T.id], ['request_id', 'uuid[]', T.request], ['position', 'int[]', T.position], ['status', '"TaskStatus"[]', T.status],
    ['blocked_reason', 'text[]', T.blockedReason], ['blocked_by_id', 'uuid[]', T.blockedBy], ['assignee_id', 'uuid[]', T.assignee],
    ['started_at', 'timestamptz[]', T.startedAt], ['completed_at', 'timestamptz[]', T.completedAt], ['created_at', 'timestamptz[]', T.createdAt],
    ['updated_at', 'timestamptz[]', T.updatedAt],
  ], {
    extraColumns: ['key', 'subject', 'description', 'active_form', 'owner', 'eligible_roles', 'is_gate'],
    batch: 18_000, // whole requests per batch (multiple of 9), so blocked_by_id always points at an inserted row
    select: (p) => `SELECT x.id, x.request_id, x.position, x.status, x.blocked_reason, x.blocked_by_id, x.assignee_id, x.started_at, x.completed_at, x.created_at, x.updated_at,
        s.key, s.subject, s.description, s."activeForm", s.owner, ARRAY(SELECT jsonb_array_elements_text(s."eligibleRoles")), s."isGate"
      FROM unnest(${p.join(', ')}) AS x(id, request_id, position, status, blocked_reason, blocked_by_id, assignee_id, started_at, completed_at, created_at, updated_at)
      JOIN jsonb_to_recordset('${planJson.replace(/'/g, "''")}'::jsonb) AS s(position int, key text, subject text, description text, "activeForm" text, owner text, "eligibleRoles" jsonb, "isGate" boolean)
        ON s.position = x.position`,
  });

  await bulkInsert(db, 'checklist_items', [
    ['id', 'uuid[]', C.id], ['task_id', 'uuid[]', C.task], ['position', 'int[]', C.position], ['label', 'text[]', C.label],
    ['done', 'bool[]', C.done], ['checked_by_id', 'uuid[]', C.by], ['checked_at', 'timestamptz[]', C.at],
  ], { batch: 40_000 });
  await bulkInsert(db, 'gate_items', [
    ['id', 'uuid[]', G.id], ['request_id', 'uuid[]', G.request], ['position', 'int[]', G.position], ['key', 'text[]', G.key],
    ['label', 'text[]', G.label], ['signed_by_id', 'uuid[]', G.by], ['signed_at', 'timestamptz[]', G.at], ['note', 'text[]', G.note],
  ], { batch: 30_000 });
  await bulkInsert(db, 'audit_log', [
    ['id', 'uuid[]', A.id], ['request_id', 'uuid[]', A.request], ['actor_id', 'uuid[]', A.actor], ['entity_id', 'text[]', A.entity],
    ['after', 'jsonb[]', A.after], ['created_at', 'timestamptz[]', A.at],
  ], {
    batch: 10_000,
    extraColumns: ['action', 'entity_type'],
    select: ([id, req, actor, entity, after, at]) =>
      `SELECT id, req, actor, entity, after, at, 'request.filed', 'MigrationRequest' FROM unnest(${id}, ${req}, ${actor}, ${entity}, ${after}, ${at}) AS x(id, req, actor, entity, after, at)`,
  });

  // A deterministic sample spread over the whole range, for the detail page.
  const sample: { id: string; title: string }[] = [];
  const step = Math.max(1, Math.floor(opts.requests / 500));
  for (let i = 0; i < opts.requests && sample.length < 500; i += step) sample.push({ id: R.id[i], title: R.title[i] });

  return {
    admin: { id: admin.id, email: admin.email, name: admin.name, password: ADMIN_PASSWORD },
    users,
    targets: targets.map((t) => ({ id: t.id, name: t.name, environment: t.environment })),
    requests: R.id.length,
    tasks: T.id.length,
    checklistItems: C.id.length,
    gateItems: G.id.length,
    auditRows: A.id.length,
    sample,
  };
}

/**
 * Checks that the denormalised columns agree with the tasks, as the services keep them.
 * Returns the number of requests that disagree (0 expected).
 */
export async function checkConsistency(db: Client): Promise<number> {
  const { rows } = await db.query<{ bad: string }>(`
    WITH t AS (
      SELECT request_id,
             count(*) FILTER (WHERE status = 'completed') AS done,
             count(*) AS total,
             min(position) FILTER (WHERE status <> 'completed') AS current,
             bool_or(status = 'blocked') AS any_blocked,
             bool_or(status <> 'pending') AS any_started
      FROM tasks GROUP BY request_id
    )
    SELECT count(*) AS bad FROM migration_requests r JOIN t ON t.request_id = r.id
    WHERE r.completed_steps <> t.done OR r.total_steps <> t.total
       OR r.current_step <> COALESCE(t.current, t.total)
       OR r.status::text <> CASE WHEN t.done = t.total THEN 'completed' WHEN t.any_blocked THEN 'blocked'
                                 WHEN t.any_started THEN 'in_progress' ELSE 'open' END`);
  return Number(rows[0].bad);
}
