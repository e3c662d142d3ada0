import { z } from 'zod';
import { DomainError } from '../domain/errors';
import { AGENT_ROLES, TASK_STATUSES } from '../domain/roles';
import { idSchema, LIMITS } from './common';
import { AddTaskNoteSchema, BlockTaskSchema } from './task';
import { blank, tokenExpirySchema } from './api-token';

/** Query strings carry booleans as text; only "true"/"false" (or real booleans) are accepted. */
const flag = z.preprocess(
  (v) => (v === 'true' ? true : v === 'false' ? false : blank(v)),
  z.boolean({ error: 'Use true or false.' }).optional(),
);

/** PostgreSQL text cannot hold a NUL byte: refused here as invalid input, not as a server error. */
const NO_NUL: [(s: string) => boolean, string] = [(s) => !s.includes('\u0000'), 'The text contains a NUL byte.'];

export const TASK_LIST_MAX = 200;
export const TASK_LIST_DEFAULT = 50;

// ---- Agent accounts (Admin > Agents) ----

/** Lower-case words joined by hyphens, like the procedure's role names: "dba-agent". */
const agentName = z
  .string({ error: 'Give the agent a name, such as "dba-agent".' })
  .trim()
  .min(2, 'Give the agent a name, such as "dba-agent".')
  .max(LIMITS.name, `At most ${LIMITS.name} characters.`)
  .regex(/^[a-z0-9][a-z0-9._-]*$/, 'Use lower-case letters, digits, dots, hyphens and underscores, such as "dba-agent".');

const agentRoles = z.preprocess(
  (v) => (typeof v === 'string' ? [v] : v),
  z.array(z.enum(AGENT_ROLES, { error: 'Choose agent roles from the list.' })).min(1, 'Give the agent at least one role.'),
);

export const CreateAgentSchema = z.object({
  name: agentName,
  agentRoles,
  ownerId: idSchema.describe('The person who answers for the agent'),
});
export type CreateAgentInput = z.output<typeof CreateAgentSchema>;

export const UpdateAgentSchema = z.object({ agentId: idSchema, agentRoles, ownerId: idSchema });
export type UpdateAgentInput = z.output<typeof UpdateAgentSchema>;

export const PauseAgentSchema = z.object({ agentId: idSchema, paused: z.boolean({ error: 'Say whether to pause or resume.' }) });
export type PauseAgentInput = z.output<typeof PauseAgentSchema>;

export const IssueAgentTokenSchema = z.object({
  agentId: idSchema,
  name: z.string({ error: 'Give the token a name (where it is used).' }).trim().min(1, 'Give the token a name (where it is used).').max(LIMITS.name, `At most ${LIMITS.name} characters.`).refine(...NO_NUL),
  expiresInDays: tokenExpirySchema,
});
export type IssueAgentTokenInput = z.output<typeof IssueAgentTokenSchema>;

export const RevokeAgentTokenSchema = z.object({ tokenId: idSchema });
export type RevokeAgentTokenInput = z.output<typeof RevokeAgentTokenSchema>;

// ---- Task API (REST and MCP) ----

export const TaskFilterSchema = z.object({
  /** An agent role, or reviewer (the quality gate's tasks). */
  role: z.enum([...AGENT_ROLES, 'reviewer'], { error: `Role is one of ${[...AGENT_ROLES, 'reviewer'].join(', ')}.` }).optional(),
  status: z.enum(TASK_STATUSES, { error: `Status is one of ${TASK_STATUSES.join(', ')}.` }).optional(),
  ready: flag,
  requestId: idSchema.optional(),
  mine: flag,
  limit: z.preprocess(blank, z.coerce.number({ error: 'Give a number.' }).int('Give a whole number.').min(1, 'At least 1.').max(TASK_LIST_MAX, `At most ${TASK_LIST_MAX}.`).optional()),
  cursor: z.string().trim().min(1).max(200).optional(),
});
/** What callers pass (REST query strings or MCP arguments); listTasks parses it with TaskFilterSchema. */
export interface TaskFilter {
  role?: string;
  status?: string;
  ready?: boolean | string;
  requestId?: string;
  mine?: boolean | string;
  limit?: number | string;
  cursor?: string;
}
export type ParsedTaskFilter = z.output<typeof TaskFilterSchema>;

export const TaskIdSchema = z.object({ taskId: idSchema });
export type TaskIdInput = z.output<typeof TaskIdSchema>;

/** TaskUpdate's status, as the task API takes it: the other statuses have routes of their own (a reason, a verdict). */
export const TASK_UPDATE_STATUSES = ['in_progress', 'pending'] as const;

// Strict: a misspelt field is refused by name (fieldErrors), never dropped while the rest is saved.
export const UpdateTaskSchema = z
  .strictObject({
    taskId: idSchema,
    checklist: z
      .array(z.object({ itemId: idSchema, done: z.boolean({ error: 'Say whether the item is done.' }) }))
      .max(50, 'At most 50 checklist items at once.')
      .optional(),
    note: AddTaskNoteSchema.shape.body.refine(...NO_NUL).optional(),
    status: z
      .enum(TASK_UPDATE_STATUSES, { error: 'Use "in_progress" (claim a ready task, or resume a blocked one) or "pending" (hand it back); complete or block a task with POST .../complete or .../block.' })
      .optional(),
  })
  .refine((v) => (v.checklist?.length ?? 0) > 0 || v.note !== undefined || v.status !== undefined, {
    error: 'Send checklist changes, a note, a status, or several.',
    path: ['checklist'],
  });
export type UpdateTaskInput = z.output<typeof UpdateTaskSchema>;

export const BlockTaskWithReasonSchema = BlockTaskSchema.extend({ reason: BlockTaskSchema.shape.reason.refine(...NO_NUL) });
export type BlockTaskWithReasonInput = z.output<typeof BlockTaskWithReasonSchema>;

export const ExportWorkflowSchema = z.object({ requestId: idSchema });

/**
 * Input parsed with a shared schema inside a service (MCP tools call services directly); the first
 * problem is the message, as a DomainError the API and MCP both map.
 */
export function parseOrRefuse<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  if (issue.code === 'unrecognized_keys') throw new DomainError('invalid', `Unknown field "${[...issue.path, issue.keys[0]].join('.')}".`, [...issue.path, issue.keys[0]].join('.'));
  const field = issue.path.length ? issue.path.join('.') : undefined;
  throw new DomainError('invalid', field ? `${field}: ${issue.message}` : issue.message, field);
}
