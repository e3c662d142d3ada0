import { z } from 'zod';

/** A step's key in a deep link (/requests/ID/steps/KEY): the template's keys are kebab-case words. */
export const StepKeySchema = z.string().regex(/^[a-z][a-z0-9-]{0,49}$/, 'Not a step of this procedure.');

/** The request page's query: which view, and the audit log's filter and page. */
export const RequestPageQuerySchema = z.object({
  /** `all` stacks every step open (the old long page); the default opens one step. */
  view: z.enum(['focus', 'all']).default('focus'),
  /** Audit entries whose action starts with this (e.g. `run.` or `task.complete`). */
  audit: z.string().trim().max(60).regex(/^[a-z0-9_.-]*$/, 'Filter by an action such as run. or task.complete').optional().catch(undefined),
  auditPage: z.coerce.number().int().min(1).max(10_000).default(1).catch(1),
});
export type RequestPageQuery = z.infer<typeof RequestPageQuerySchema>;

export const AUDIT_PAGE_SIZE = 20;
