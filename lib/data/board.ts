import 'server-only';
import { getPool } from '../db/client';
import { DomainError } from '../domain/errors';
import { canViewOverview, hasRole, type Actor } from '../domain/permissions';
import { waitingOn, type WaitingOn } from '../domain/request-focus';
import { accountLabelSql } from '../domain/task-shape';
import { assertCanRead } from './access';
import { getRoleHolders } from './requests';
import { sharedRead } from './shared-read';

/**
 * The lead's board: per project environment what is deployed, in flight, failed or waiting (and
 * on whom), the open requests with their timelines and blocked reasons, the tasks agents hold,
 * what needs the viewer, and the figures the charts draw. Hand-written SQL with bounded row counts: it is polled while
 * runs progress, and it is one of the routes of `npm run bench:load`.
 */

const OPEN_REQUESTS_SHOWN = 40;
const LANE_ROWS = 8;

export interface BoardRequestRef {
  id: string;
  number: number;
  title: string;
}

export interface LaneEntry extends BoardRequestRef {
  revision: number | null;
  at: Date;
  /** deployed: app version; in flight: phase; failed: error; waiting: what it waits for. */
  detail: string | null;
  waiting?: WaitingOn;
}

export interface BoardLane {
  environmentId: string;
  project: string;
  environment: string;
  position: number;
  requiresApproval: boolean;
  target: string;
  deployed: LaneEntry[];
  inFlight: LaneEntry[];
  failed: LaneEntry[];
  waiting: LaneEntry[];
}

export interface OpenRequestRow extends BoardRequestRef {
  status: string;
  priority: string;
  createdAt: Date;
  project: string | null;
  target: string;
  environment: string;
  currentStep: number;
  currentSubject: string;
  waiting: WaitingOn;
  steps: { position: number; subject: string; status: string; startedAt: Date | null; completedAt: Date | null }[];
}

export interface NeedsMe {
  approvals: (BoardRequestRef & { environment: string; project: string; revision: number; gatePassedAt: Date | null })[];
  signatures: (BoardRequestRef & { unsigned: number; signedByMe: number })[];
  failedDeployments: (BoardRequestRef & { environment: string; error: string | null; at: Date })[];
  alerts: (BoardRequestRef & { kind: string; summary: string; at: Date })[];
  blocked: number;
}

interface TaskRow {
  requestId: string;
  key: string;
  position: number;
  subject: string;
  status: string;
  owner: string;
  eligibleRoles: string[];
  isGate: boolean;
  blockedReason: string | null;
  assignee: string | null;
  startedAt: Date | null;
  completedAt: Date | null;
}

async function tasksOf(requestIds: string[]): Promise<Map<string, TaskRow[]>> {
  const byRequest = new Map<string, TaskRow[]>();
  if (!requestIds.length) return byRequest;
  const { rows } = await getPool().query<TaskRow>(
    `SELECT t.request_id AS "requestId", t.key, t.position, t.subject, t.status::text AS status, t.owner, t.eligible_roles AS "eligibleRoles",
            t.is_gate AS "isGate", t.blocked_reason AS "blockedReason", ${accountLabelSql('u')} AS assignee, t.started_at AS "startedAt", t.completed_at AS "completedAt"
     FROM tasks t LEFT JOIN users u ON u.id = t.assignee_id
     WHERE t.request_id = ANY($1::uuid[]) ORDER BY t.request_id, t.position`,
    [requestIds],
  );
  for (const t of rows) (byRequest.get(t.requestId) ?? byRequest.set(t.requestId, []).get(t.requestId)!).push(t);
  return byRequest;
}

/** The board's words for "on whom": the current step's role and person (canWork is irrelevant here). */
function waitingOf(tasks: TaskRow[], holders: Record<string, string[]>): WaitingOn {
  return waitingOn(tasks.map((t) => ({ ...t, canWork: false })), (role) => holders[role] ?? []);
}

/** Requests that wait for a lead's approval of their current revision to deploy to an environment that needs one (never the lead's own). */
async function approvalsWaiting(viewerId: string, limit = 50): Promise<NeedsMe['approvals']> {
  const { rows } = await getPool().query(
    `SELECT r.id, r.number, r.title, e.name AS environment, p.name AS project, cur.revision, g.completed_at AS "gatePassedAt"
     FROM migration_requests r
     JOIN projects p ON p.id = r.project_id
     JOIN project_environments e ON e.project_id = p.id AND e.requires_approval
     JOIN LATERAL (SELECT id, revision FROM migration_revisions WHERE request_id = r.id ORDER BY revision DESC LIMIT 1) cur ON true
     JOIN tasks g ON g.request_id = r.id AND g.is_gate AND g.status = 'completed'
     WHERE r.status <> 'completed' AND r.author_id <> $1::uuid
       AND NOT EXISTS (SELECT 1 FROM deployment_approvals a WHERE a.request_id = r.id AND a.environment_id = e.id AND a.revision_id = cur.id AND a.voided_at IS NULL)
       AND NOT EXISTS (SELECT 1 FROM deployments d WHERE d.request_id = r.id AND d.environment_id = e.id AND d.revision_id = cur.id AND d.status = 'succeeded')
     ORDER BY g.completed_at NULLS LAST, r.number
     LIMIT $2`,
    [viewerId, limit],
  );
  return rows;
}

/** Open gates (the gate step in progress) with unsigned items, on requests the reviewer did not file. */
async function signaturesWaiting(viewerId: string, limit = 50): Promise<NeedsMe['signatures']> {
  const { rows } = await getPool().query(
    `SELECT r.id, r.number, r.title,
            count(*) FILTER (WHERE gi.signed_by_id IS NULL)::int AS unsigned,
            count(*) FILTER (WHERE gi.signed_by_id = $1::uuid)::int AS "signedByMe"
     FROM migration_requests r
     JOIN tasks g ON g.request_id = r.id AND g.is_gate AND g.status = 'in_progress'
     JOIN gate_items gi ON gi.request_id = r.id
     WHERE r.author_id <> $1::uuid
     GROUP BY r.id
     HAVING count(*) FILTER (WHERE gi.signed_by_id IS NULL) > 0
     ORDER BY r.number
     LIMIT $2`,
    [viewerId, limit],
  );
  return rows;
}

/** What a person is waiting to do outside the agent roles' steps: approvals (leads) and gate signatures (reviewers). */
export async function listWaitingForMe(actor: Actor): Promise<Pick<NeedsMe, 'approvals' | 'signatures'>> {
  assertCanRead(actor);
  const [approvals, signatures] = await Promise.all([
    hasRole(actor, 'lead') ? approvalsWaiting(actor.id) : Promise.resolve([]),
    hasRole(actor, 'reviewer') ? signaturesWaiting(actor.id) : Promise.resolve([]),
  ]);
  return { approvals, signatures };
}

interface DeploymentRow {
  requestId: string;
  number: number;
  title: string;
  environmentId: string;
  status: string;
  phase: string | null;
  error: string | null;
  appVersion: string | null;
  recovery: string | null;
  revision: number;
  at: Date;
}

/** Each request's latest deployment per environment (recovered and cancelled ones included, to tell them apart). */
async function latestDeployments(): Promise<DeploymentRow[]> {
  const { rows } = await getPool().query<DeploymentRow>(
    `SELECT DISTINCT ON (d.request_id, d.environment_id)
            d.request_id AS "requestId", r.number, r.title, d.environment_id AS "environmentId", d.status::text AS status, d.phase, d.error,
            d.app_version AS "appVersion", d.recovery, v.revision, coalesce(d.finished_at, d.created_at) AS at
     FROM deployments d
     JOIN migration_requests r ON r.id = d.request_id
     JOIN migration_revisions v ON v.id = d.revision_id
     ORDER BY d.request_id, d.environment_id, d.created_at DESC`,
  );
  return rows;
}

/** Per project environment, in promotion order. */
async function lanes(holders: Record<string, string[]>): Promise<BoardLane[]> {
  const pool = getPool();
  const [envs, deployments, waitingRequests] = await Promise.all([
    pool.query<{ id: string; project: string; projectId: string; name: string; position: number; requiresApproval: boolean; target: string }>(
      `SELECT e.id, p.name AS project, p.id AS "projectId", e.name, e.position, e.requires_approval AS "requiresApproval", t.name AS target
       FROM project_environments e JOIN projects p ON p.id = e.project_id JOIN target_databases t ON t.id = e.target_id
       ORDER BY p.name, e.position`,
    ),
    latestDeployments(),
    // Requests of a project that reached the Deploy step (the gate is behind them) and are not done.
    pool.query<{ id: string; number: number; title: string; projectId: string; revision: number | null; updatedAt: Date }>(
      `SELECT r.id, r.number, r.title, r.project_id AS "projectId",
              (SELECT max(revision) FROM migration_revisions WHERE request_id = r.id) AS revision, r.updated_at AS "updatedAt"
       FROM migration_requests r
       JOIN tasks dt ON dt.request_id = r.id AND dt.key = 'deploy'
       WHERE r.project_id IS NOT NULL AND r.status <> 'completed' AND r.current_step >= dt.position
       ORDER BY r.updated_at DESC LIMIT 200`,
    ),
  ]);
  const tasks = await tasksOf(waitingRequests.rows.map((r) => r.id));
  return envs.rows.map((e) => {
    const here = deployments.filter((d) => d.environmentId === e.id).sort((a, b) => b.at.getTime() - a.at.getTime());
    const entry = (d: DeploymentRow, detail: string | null): LaneEntry => ({ id: d.requestId, number: d.number, title: d.title, revision: d.revision, at: d.at, detail });
    const deployedHere = new Set(here.filter((d) => d.status === 'succeeded' || d.status === 'queued' || d.status === 'running').map((d) => d.requestId));
    const failedHere = new Set(here.filter((d) => d.status === 'failed').map((d) => d.requestId));
    const waiting = waitingRequests.rows
      .filter((r) => r.projectId === e.projectId && !deployedHere.has(r.id) && !failedHere.has(r.id))
      .slice(0, LANE_ROWS)
      .map((r): LaneEntry => {
        const w = waitingOf(tasks.get(r.id) ?? [], holders);
        // Before an environment that needs approval, a lead acts; the deploy itself is the step holder's.
        const on = e.requiresApproval ? `needs a lead’s approval, then ${w.role ?? 'the deploy step'}` : `deploy by ${w.role ?? 'the deploy step'}`;
        return { id: r.id, number: r.number, title: r.title, revision: r.revision, at: r.updatedAt, detail: on, waiting: w };
      });
    return {
      environmentId: e.id, project: e.project, environment: e.name, position: e.position, requiresApproval: e.requiresApproval, target: e.target,
      deployed: here.filter((d) => d.status === 'succeeded').slice(0, LANE_ROWS).map((d) => entry(d, d.appVersion ? `version ${d.appVersion}` : null)),
      inFlight: here.filter((d) => d.status === 'queued' || d.status === 'running').slice(0, LANE_ROWS).map((d) => entry(d, d.phase ?? d.status)),
      failed: here.filter((d) => d.status === 'failed' || d.status === 'recovered').slice(0, LANE_ROWS)
        .map((d) => entry(d, d.status === 'recovered' ? `failed, recovered by ${d.recovery ?? 'recovery'}` : d.error)),
      waiting,
    };
  });
}

/** Requests not completed (open ones included), blocked first, then the oldest: each with on whom it waits and its timeline. */
async function openRequests(holders: Record<string, string[]>): Promise<{ rows: OpenRequestRow[]; total: number }> {
  const pool = getPool();
  const [rows, count] = await Promise.all([
    pool.query<Omit<OpenRequestRow, 'waiting' | 'steps'>>(
      `SELECT r.id, r.number, r.title, r.status::text AS status, r.priority::text AS priority, r.created_at AS "createdAt",
              p.name AS project, t.name AS target, t.environment::text AS environment, r.current_step AS "currentStep", r.current_subject AS "currentSubject"
       FROM migration_requests r
       JOIN target_databases t ON t.id = r.target_id
       LEFT JOIN projects p ON p.id = r.project_id
       WHERE r.status <> 'completed'
       ORDER BY (r.status = 'blocked') DESC, r.created_at ASC
       LIMIT ${OPEN_REQUESTS_SHOWN}`,
    ),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM migration_requests WHERE status <> 'completed'`),
  ]);
  const tasks = await tasksOf(rows.rows.map((r) => r.id));
  return {
    total: count.rows[0].n,
    rows: rows.rows.map((r) => {
      const ts = tasks.get(r.id) ?? [];
      return {
        ...r,
        waiting: waitingOf(ts, holders),
        steps: ts.map((t) => ({ position: t.position, subject: t.subject, status: t.status, startedAt: t.startedAt, completedAt: t.completedAt })),
      };
    }),
  };
}

export interface BoardCharts {
  /** Median and mean hours per step over the steps completed in the last 90 days. */
  timePerStep: { position: number; subject: string; medianHours: number; meanHours: number; n: number }[];
  /** Per day over the last 30 days: deploys that succeeded, failed, and failures rolled back (down or restore). */
  deploysOverTime: { day: string; succeeded: number; failed: number; rolledBack: number }[];
  /** Open requests (not completed) by age. */
  ageOfOpen: { bucket: string; open: number; blocked: number }[];
}

const AGE_BUCKETS = [
  { bucket: '< 1 day', maxDays: 1 },
  { bucket: '1-3 days', maxDays: 3 },
  { bucket: '3-7 days', maxDays: 7 },
  { bucket: '1-2 weeks', maxDays: 14 },
  { bucket: '2-4 weeks', maxDays: 28 },
  { bucket: '> 4 weeks', maxDays: Infinity },
];

async function charts(now: Date): Promise<BoardCharts> {
  const pool = getPool();
  const [steps, deploys, ages] = await Promise.all([
    pool.query<{ position: number; subject: string; medianHours: number; meanHours: number; n: number }>(
      `SELECT position, min(subject) AS subject,
              round((percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM completed_at - started_at)) / 3600)::numeric, 2)::float8 AS "medianHours",
              round((avg(extract(epoch FROM completed_at - started_at)) / 3600)::numeric, 2)::float8 AS "meanHours",
              count(*)::int AS n
       FROM tasks
       WHERE completed_at IS NOT NULL AND started_at IS NOT NULL AND completed_at > $1::timestamptz - interval '90 days'
       GROUP BY position ORDER BY position`,
      [now],
    ),
    pool.query<{ day: string; succeeded: number; failed: number; rolledBack: number }>(
      `SELECT to_char(date_trunc('day', coalesce(finished_at, created_at) AT TIME ZONE 'UTC'), 'YYYY-MM-DD') AS day,
              count(*) FILTER (WHERE status = 'succeeded')::int AS succeeded,
              count(*) FILTER (WHERE status IN ('failed', 'recovered'))::int AS failed,
              count(*) FILTER (WHERE status = 'recovered')::int AS "rolledBack"
       FROM deployments
       WHERE coalesce(finished_at, created_at) > $1::timestamptz - interval '30 days'
       GROUP BY 1 ORDER BY 1`,
      [now],
    ),
    pool.query<{ days: number; blocked: boolean; n: number }>(
      `SELECT floor(extract(epoch FROM $1::timestamptz - created_at) / 86400)::int AS days, status = 'blocked' AS blocked, count(*)::int AS n
       FROM migration_requests WHERE status <> 'completed' GROUP BY 1, 2`,
      [now],
    ),
  ]);
  // Every day of the window, so quiet days show as zero rather than disappearing from the axis.
  const byDay = new Map(deploys.rows.map((d) => [d.day, d]));
  const deploysOverTime = Array.from({ length: 30 }, (_, i) => {
    const day = new Date(now.getTime() - (29 - i) * 86_400_000).toISOString().slice(0, 10);
    return byDay.get(day) ?? { day, succeeded: 0, failed: 0, rolledBack: 0 };
  });
  const ageOfOpen = AGE_BUCKETS.map((b) => ({ bucket: b.bucket, open: 0, blocked: 0 }));
  for (const a of ages.rows) {
    const i = AGE_BUCKETS.findIndex((b) => a.days < b.maxDays);
    ageOfOpen[i][a.blocked ? 'blocked' : 'open'] += a.n;
  }
  return { timePerStep: steps.rows, deploysOverTime, ageOfOpen };
}

/** Failed deployments not recovered yet, and the latest post-deployment check of a request when it failed. */
async function troubles(): Promise<Pick<NeedsMe, 'failedDeployments' | 'alerts' | 'blocked'>> {
  const pool = getPool();
  const [failed, alerts, blocked] = await Promise.all([
    pool.query(
      `SELECT r.id, r.number, r.title, e.name AS environment, d.error, coalesce(d.finished_at, d.created_at) AS at
       FROM (SELECT DISTINCT ON (request_id, environment_id) * FROM deployments ORDER BY request_id, environment_id, created_at DESC) d
       JOIN migration_requests r ON r.id = d.request_id JOIN project_environments e ON e.id = d.environment_id
       WHERE d.status = 'failed' ORDER BY at DESC LIMIT 20`,
    ),
    pool.query(
      `SELECT r.id, r.number, r.title, ev.kind::text AS kind, ev.summary, ev.created_at AS at
       FROM (SELECT DISTINCT ON (request_id, kind) request_id, kind, passed, summary, created_at FROM evidence
             WHERE kind IN ('verification', 'health_check') AND request_id IS NOT NULL ORDER BY request_id, kind, created_at DESC) ev
       JOIN migration_requests r ON r.id = ev.request_id
       WHERE NOT ev.passed ORDER BY ev.created_at DESC LIMIT 20`,
    ),
    pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM migration_requests WHERE status = 'blocked'`),
  ]);
  return { failedDeployments: failed.rows, alerts: alerts.rows, blocked: blocked.rows[0].n };
}

/** An agent holding a task this long is flagged as possibly stuck (claimed, then silent). */
export const AGENT_STUCK_AFTER_MS = 30 * 60_000;
const AGENT_TASKS_SHOWN = 50;

export interface AgentHeldTask extends BoardRequestRef {
  taskId: string;
  step: string;
  position: number;
  subject: string;
  agentId: string;
  agent: string;
  owner: string | null;
  paused: boolean;
  since: Date;
  elapsedMs: number;
  possiblyStuck: boolean;
}

export interface AgentAtWork {
  id: string;
  name: string;
  owner: string | null;
  paused: boolean;
  held: number;
  /** The longest any of its tasks has been in progress. */
  longestMs: number;
}

export interface AgentsAtWork {
  /** Longest in progress first, at most AGENT_TASKS_SHOWN. */
  tasks: AgentHeldTask[];
  total: number;
  agents: AgentAtWork[];
  stuck: number;
}

/**
 * Tasks in progress held by agent accounts, longest first, in one query. Window functions give the
 * per-agent counts and the totals, and every agent's longest task is kept even past the cut, so the
 * counts per agent stay whole when the list is not.
 */
async function agentsAtWork(at: Date): Promise<AgentsAtWork> {
  const { rows } = await getPool().query<{
    taskId: string; step: string; position: number; subject: string; since: Date; id: string; number: number; title: string;
    agentId: string; agent: string; owner: string | null; paused: boolean; held: number; total: number; stuck: number; n: number; agentN: number;
  }>(
    `SELECT * FROM (
       SELECT h.*,
              count(*) OVER (PARTITION BY h."agentId")::int AS held,
              count(*) OVER ()::int AS total,
              count(*) FILTER (WHERE h.since <= $1::timestamptz - make_interval(secs => $2::float8 / 1000)) OVER ()::int AS stuck,
              row_number() OVER (ORDER BY h.since, h.number, h.position)::int AS n,
              row_number() OVER (PARTITION BY h."agentId" ORDER BY h.since, h.number, h.position)::int AS "agentN"
       FROM (
         SELECT t.id AS "taskId", t.key AS step, t.position, t.subject, coalesce(t.started_at, t.updated_at) AS since,
                r.id, r.number, r.title, a.id AS "agentId", a.name AS agent, o.name AS owner, a.paused_at IS NOT NULL AS paused
         FROM tasks t
         JOIN users a ON a.id = t.assignee_id AND a.kind = 'agent'
         JOIN migration_requests r ON r.id = t.request_id
         LEFT JOIN users o ON o.id = a.owner_id
         WHERE t.status = 'in_progress'
       ) h
     ) held
     WHERE n <= $3 OR "agentN" = 1
     ORDER BY n`,
    [at, AGENT_STUCK_AFTER_MS, AGENT_TASKS_SHOWN],
  );
  const elapsed = (since: Date) => Math.max(0, at.getTime() - since.getTime());
  const tasks = rows.filter((r) => r.n <= AGENT_TASKS_SHOWN).map((r): AgentHeldTask => ({
    taskId: r.taskId, step: r.step, position: r.position, subject: r.subject, id: r.id, number: r.number, title: r.title,
    agentId: r.agentId, agent: r.agent, owner: r.owner, paused: r.paused, since: r.since,
    elapsedMs: elapsed(r.since), possiblyStuck: elapsed(r.since) >= AGENT_STUCK_AFTER_MS,
  }));
  // Each agent's first row is its longest-held task, so the agents come longest first too.
  const agents = rows.filter((r) => r.agentN === 1)
    .map((r): AgentAtWork => ({ id: r.agentId, name: r.agent, owner: r.owner, paused: r.paused, held: r.held, longestMs: elapsed(r.since) }));
  return { tasks, total: rows[0]?.total ?? 0, agents, stuck: rows[0]?.stuck ?? 0 };
}

/** Whether anything is running now: the board refreshes itself while it is. */
async function activeWork(): Promise<{ runs: number; deployments: number }> {
  const { rows } = await getPool().query<{ runs: number; deployments: number }>(
    // Post-deployment checks are queued ahead for their time (queued_at in the future): not work in progress yet.
    `SELECT (SELECT count(*)::int FROM runs WHERE status = 'running' OR (status = 'queued' AND queued_at <= now())) AS runs,
            (SELECT count(*)::int FROM deployments WHERE status IN ('queued', 'running')) AS deployments`,
  );
  return rows[0];
}

/**
 * Everything the lead's board shows. Leads and admins only. What does not depend on the viewer
 * (lanes, open requests, charts, troubles, what runs, agents at work) may be shared for `sharedMaxAgeMs` between
 * page views (lib/data/shared-read.ts); what needs the viewer is always read for them. `now`
 * (tests) reads everything afresh at that time; `generatedAt` is when the shared part was read.
 */
export async function getBoard(actor: Actor, now?: Date, opts: { sharedMaxAgeMs?: number } = {}) {
  if (!canViewOverview(actor)) throw new DomainError('forbidden', 'The board is for leads and admins.');
  const shared = async () => {
    const at = now ?? new Date();
    const holders = await getRoleHolders();
    const [laneList, open, chartData, trouble, active, agents] = await Promise.all([
      lanes(holders), openRequests(holders), charts(at), troubles(), activeWork(), agentsAtWork(at),
    ]);
    return { laneList, open, chartData, trouble, active, agents, at };
  };
  const [{ laneList, open, chartData, trouble, active, agents, at }, waitingForMe] = await Promise.all([
    now ? shared() : sharedRead('board', opts.sharedMaxAgeMs ?? 0, shared),
    listWaitingForMe(actor),
  ]);
  const needsMe: NeedsMe = { ...waitingForMe, ...trouble };
  return { lanes: laneList, openRequests: open, charts: chartData, needsMe, active, agentsAtWork: agents, generatedAt: at };
}
export type Board = Awaited<ReturnType<typeof getBoard>>;
