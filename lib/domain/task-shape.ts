import type { AccountKind } from '../auth/actor';
import { isAdmin, type Actor } from './permissions';
import type { TaskStatus } from './roles';

/**
 * A task in the fields of the procedure's TaskCreate and TaskUpdate (id, subject, description,
 * activeForm, status, owner, blockedBy, blocks, metadata), so that an agent reads Cutover's
 * tasks the way it reads its own task list. Pure: built from rows the services load.
 */
export interface TaskShape {
  id: string;
  subject: string;
  description: string;
  activeForm: string;
  status: TaskStatus;
  /** The assignee's name (agent or person), null when unclaimed. */
  owner: string | null;
  /** Task ids. */
  blockedBy: string[];
  blocks: string[];
  metadata: TaskMetadata;
}

export interface TaskAssignee {
  id: string;
  name: string;
  kind: AccountKind;
  /** For an agent account: the name of the person who answers for it. */
  owner: string | null;
}

export interface TaskMetadata {
  requestId: string;
  requestTitle: string;
  /** The step's key (analysis, create-migration, ...). */
  step: string;
  position: number;
  /** The agent role the procedure names as the step's owner. */
  role: string;
  eligibleRoles: string[];
  /** Pending, and every task it is blocked by is completed: it can be claimed. */
  ready: boolean;
  isGate: boolean;
  blockedReason: string | null;
  assignee: TaskAssignee | null;
  checklist: { id: string; label: string; done: boolean; coveredBy: string | null }[];
  /**
   * What the step's evidence still waits for, in words ([] when nothing). null in lists, where the
   * verdict is not computed: get_task (GET /api/v1/tasks/:id) says.
   */
  waitingFor: string[] | null;
  /** Page paths (relative to Cutover's address). */
  links: { request: string; step: string };
}

/** The rows a shape is built from (one task, its checklist, its assignee and what it blocks). */
export interface TaskRow {
  id: string;
  requestId: string;
  requestTitle: string;
  key: string;
  position: number;
  subject: string;
  description: string;
  activeForm: string;
  status: TaskStatus;
  owner: string;
  eligibleRoles: string[];
  isGate: boolean;
  blockedReason: string | null;
  blockedById: string | null;
  /** The blocker's status (null when the task has no blocker). */
  blockerStatus: TaskStatus | null;
  blocks: string[];
  assignee: TaskAssignee | null;
  checklist: { id: string; label: string; done: boolean; coveredBy: string | null }[];
  waitingFor: string[] | null;
}

/** Ready to claim: pending, and its blocker (if any) completed. */
export function isReady(task: { status: TaskStatus; blockerStatus: TaskStatus | null }): boolean {
  return task.status === 'pending' && (task.blockerStatus === null || task.blockerStatus === 'completed');
}

/**
 * How an account is named wherever work is shown (audit, task cards, API): an agent together
 * with the person who answers for it, "dba-agent (agent of Alice Smith)".
 */
export function accountLabel(account: { name: string; kind?: string | null; owner?: string | null }): string {
  if (account.kind !== 'agent') return account.name;
  return account.owner ? `${account.name} (agent of ${account.owner})` : `${account.name} (agent)`;
}

/**
 * Who may hand a held task back (release): its holder, an admin, or the person who answers for the
 * agent holding it, even without the task's role (an agent that crashed or was paused keeps no claim).
 */
export function mayReleaseTask(actor: Actor, holder: { id: string; kind: string | null; ownerId: string | null }): boolean {
  return holder.id === actor.id || isAdmin(actor) || (holder.kind === 'agent' && holder.ownerId === actor.id);
}

/**
 * accountLabel in SQL, for readers that name accounts in hand-written queries (the request page's
 * audit log and task cards): `alias` is the users row; the owner is read only for agents.
 */
export const accountLabelSql = (alias: string) =>
  `CASE WHEN ${alias}.kind = 'agent' THEN ${alias}.name || COALESCE(' (agent of ' || (SELECT o.name FROM users o WHERE o.id = ${alias}.owner_id) || ')', ' (agent)') ELSE ${alias}.name END`;

export function toTaskShape(row: TaskRow): TaskShape {
  return {
    id: row.id,
    subject: row.subject,
    description: row.description,
    activeForm: row.activeForm,
    status: row.status,
    owner: row.assignee?.name ?? null,
    blockedBy: row.blockedById ? [row.blockedById] : [],
    blocks: row.blocks,
    metadata: {
      requestId: row.requestId,
      requestTitle: row.requestTitle,
      step: row.key,
      position: row.position,
      role: row.owner,
      eligibleRoles: row.eligibleRoles,
      ready: isReady(row),
      isGate: row.isGate,
      blockedReason: row.blockedReason,
      assignee: row.assignee,
      checklist: row.checklist,
      waitingFor: row.waitingFor,
      links: { request: `/requests/${row.requestId}`, step: `/requests/${row.requestId}/steps/${row.key}` },
    },
  };
}
