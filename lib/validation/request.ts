import { z } from 'zod';
import { PRIORITIES, REQUEST_KINDS } from '../domain/roles';
import { idSchema, LIMITS } from './common';
import { RequestProjectFields } from './project';

export const FileRequestSchema = z.object({
  title: z
    .string({ error: 'Give the request a title.' })
    .trim()
    .min(3, 'The title needs at least 3 characters.')
    .max(LIMITS.title, `The title can have at most ${LIMITS.title} characters.`),
  kind: z.enum(REQUEST_KINDS, { error: 'Choose what kind of change this is.' }),
  targetId: z.uuid({ error: 'Choose a target database.' }),
  description: z
    .string({ error: 'Describe the desired change.' })
    .trim()
    .min(10, 'Describe the desired change in at least 10 characters.')
    .max(LIMITS.description, `The description can have at most ${LIMITS.description} characters.`),
  priority: z.enum(PRIORITIES, { error: 'Choose a priority.' }).default('HIGH'),
  // The application the request changes and the branch carrying its code change (issue 8; both optional).
  ...RequestProjectFields,
}).refine((v) => !v.appBranch || v.projectId, { path: ['appBranch'], message: 'Choose the project the branch belongs to.' });
export type FileRequestInput = z.infer<typeof FileRequestSchema>;

export const ListRequestsSchema = z.object({
  status: z.enum(['open', 'in_progress', 'blocked', 'completed']).optional(),
  kind: z.enum(REQUEST_KINDS).optional(),
  targetId: idSchema.optional(),
  agentRole: z.string().max(50).optional(),
  mine: z.coerce.boolean().optional(),
  page: z.coerce.number().int().min(1).max(100_000).default(1),
  pageSize: z.coerce.number().int().min(1).max(100).default(25),
});
export type ListRequestsInput = z.infer<typeof ListRequestsSchema>;
