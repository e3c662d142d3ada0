import { z } from 'zod';
import { AGENT_ROLES, DB_ENGINES, ENVIRONMENTS, ROLES } from '../domain/roles';
import { idSchema, LIMITS } from './common';

const name = z
  .string({ error: 'Give it a name.' })
  .trim()
  .min(1, 'Give it a name.')
  .max(LIMITS.name, `At most ${LIMITS.name} characters.`);

export const TargetSchema = z
  .object({
    name,
    engine: z.enum(DB_ENGINES, { error: 'Choose an engine.' }).default('postgresql'),
    environment: z.enum(ENVIRONMENTS, { error: 'Choose an environment.' }),
    host: z.string().trim().min(1, 'Give the host name or address.').max(255, 'At most 255 characters.'),
    port: z.coerce.number({ error: 'The port is a number.' }).int('The port is a whole number.').min(1, 'Ports run from 1 to 65535.').max(65535, 'Ports run from 1 to 65535.'),
    database: z.string().trim().min(1, 'Give the database name.').max(63, 'PostgreSQL names have at most 63 characters.'),
    username: z.string().trim().min(1, 'Give the user name.').max(63, 'PostgreSQL names have at most 63 characters.'),
    // Empty on edit means "keep the stored password".
    password: z.string().max(LIMITS.password, `At most ${LIMITS.password} characters.`).optional(),
    sslMode: z.enum(['disable', 'require', 'verify-full'], { error: 'Choose an SSL mode.' }).default('disable'),
    connectTimeoutMs: z.coerce.number().int().min(500, 'At least 500 ms.').max(60_000, 'At most 60 000 ms.').default(5000),
    // Runs on this target wait at most this long for a lock, and stop a statement after this long.
    lockTimeoutMs: z.coerce.number().int().min(100, 'At least 100 ms.').max(600_000, 'At most 600 000 ms.').default(5000),
    statementTimeoutMs: z.coerce.number().int().min(0, 'Zero means no limit.').max(86_400_000, 'At most a day.').default(600_000),
  })
  .refine((t) => t.engine === 'postgresql', {
    path: ['engine'],
    message: 'Only PostgreSQL targets can be connected to in this version.',
  });
export type TargetInput = z.infer<typeof TargetSchema>;

export const UpdateTargetSchema = z.intersection(TargetSchema, z.object({ id: idSchema }));
export type UpdateTargetInput = z.infer<typeof UpdateTargetSchema>;

export const CreateUserSchema = z.object({
  email: z.email({ error: 'Give a valid email address.' }).max(LIMITS.email).transform((e) => e.toLowerCase()),
  name,
  password: z
    .string({ error: 'Set a password.' })
    .min(12, 'Passwords need at least 12 characters.')
    .max(LIMITS.password, `At most ${LIMITS.password} characters.`),
  roles: z.array(z.enum(ROLES, { error: 'Unknown role.' })).max(ROLES.length).default([]),
  agentRoles: z.array(z.enum(AGENT_ROLES, { error: 'Unknown agent role.' })).max(AGENT_ROLES.length).default([]),
});
export type CreateUserInput = z.infer<typeof CreateUserSchema>;

export const UpdateUserRolesSchema = z.object({
  userId: idSchema,
  roles: z.array(z.enum(ROLES, { error: 'Unknown role.' })).max(ROLES.length),
  agentRoles: z.array(z.enum(AGENT_ROLES, { error: 'Unknown agent role.' })).max(AGENT_ROLES.length),
  active: z.boolean().default(true),
});
export type UpdateUserRolesInput = z.infer<typeof UpdateUserRolesSchema>;

export const SignInSchema = z.object({
  email: z.email({ error: 'Give a valid email address.' }).max(LIMITS.email),
  password: z.string().min(1, 'Give your password.').max(LIMITS.password),
});
