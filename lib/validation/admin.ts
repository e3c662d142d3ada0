import { z } from 'zod';
import { AGENT_ROLES, DB_ENGINES, ENVIRONMENTS, ROLES } from '../domain/roles';
import { FENCE_KIND_IDS } from '../domain/fence';
import { idSchema, LIMITS } from './common';

/** A postgres:// or postgresql:// URL naming a host; what `pg` would connect to. */
function isPostgresUrl(v: string): boolean {
  try {
    const u = new URL(v);
    return (u.protocol === 'postgres:' || u.protocol === 'postgresql:') && u.hostname !== '';
  } catch {
    return false;
  }
}

/** Empty form fields are absent: host, port and user are for server engines, the file path for file-based ones. */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const FILE_ENGINES: readonly string[] = ['sqlite'];

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
    // Server engines (PostgreSQL, MySQL): host, port and user, required below by engine.
    host: z.preprocess(blank, z.string().trim().max(255, 'At most 255 characters.').optional()),
    port: z.preprocess(blank, z.coerce.number({ error: 'The port is a number.' }).int('The port is a whole number.').min(1, 'Ports run from 1 to 65535.').max(65535, 'Ports run from 1 to 65535.').optional()),
    database: z.string().trim().min(1, 'Give the database name.').max(63, 'PostgreSQL names have at most 63 characters.'),
    username: z.preprocess(blank, z.string().trim().max(63, 'PostgreSQL names have at most 63 characters.').optional()),
    // File-based engines (SQLite, later): the database file's absolute path on the Cutover server.
    filePath: z.preprocess(blank, z.string().trim().max(4096, 'At most 4096 characters.').refine((v) => v.startsWith('/'), 'Give an absolute path (starting with /).').optional()),
    // Empty on edit means "keep the stored password".
    password: z.string().max(LIMITS.password, `At most ${LIMITS.password} characters.`).optional(),
    sslMode: z.enum(['disable', 'require', 'verify-full'], { error: 'Choose an SSL mode.' }).default('disable'),
    connectTimeoutMs: z.coerce.number().int().min(500, 'At least 500 ms.').max(60_000, 'At most 60 000 ms.').default(5000),
    // Runs on this target wait at most this long for a lock, and stop a statement after this long.
    lockTimeoutMs: z.coerce.number().int().min(100, 'At least 100 ms.').max(600_000, 'At most 600 000 ms.').default(5000),
    statementTimeoutMs: z.coerce.number().int().min(0, 'Zero means no limit.').max(86_400_000, 'At most a day.').default(600_000),
    // Every run on this target ends by then (cancelled and recorded timed_out).
    runDeadlineMs: z.coerce
      .number({ error: 'The run deadline is a number of milliseconds.' })
      .int('A whole number of milliseconds.')
      .min(10_000, 'At least 10 000 ms (10 seconds).')
      .max(86_400_000, 'At most 86 400 000 ms (24 hours).')
      .default(1_800_000),
    // A rehearsal with a data sample names any statement that kept its probe workload waiting longer than this.
    lockImpactThresholdMs: z.coerce
      .number({ error: 'The lock-impact threshold is a number of milliseconds.' })
      .int('A whole number of milliseconds.')
      .min(1, 'At least 1 ms.')
      .max(3_600_000, 'At most 3 600 000 ms (an hour).')
      .default(1000),
    // Kinds of statement the SQL fence refuses that this target lets through (checkboxes).
    allowedStatementKinds: z
      .array(z.enum(FENCE_KIND_IDS, { error: 'Unknown kind of statement.' }))
      .max(FENCE_KIND_IDS.length)
      .default([])
      .transform((kinds) => [...new Set(kinds)].sort()),
    // A PostgreSQL URL with a role that may create databases and roles there; empty on edit keeps the stored one.
    rehearsalServer: z
      .string()
      .trim()
      .max(2000, 'At most 2000 characters.')
      .refine((v) => v === '' || isPostgresUrl(v), 'Give a postgresql://user:password@host:port/database URL, or leave it empty.')
      .optional(),
    // Ticked on edit: forget the stored rehearsal server (rehearsals use Cutover's own sandbox again).
    clearRehearsalServer: z.preprocess((v) => v === true || v === 'on' || v === 'true', z.boolean()).default(false),
  })
  // Checked even when other fields are wrong, so the form shows every missing field at once.
  .superRefine((t, ctx) => {
    if (FILE_ENGINES.includes(t.engine ?? 'postgresql')) {
      if (!t.filePath) ctx.addIssue({ code: 'custom', path: ['filePath'], message: 'Give the path of the database file.' });
      return;
    }
    if (!t.host) ctx.addIssue({ code: 'custom', path: ['host'], message: 'Give the host name or address.' });
    if (t.port === undefined) ctx.addIssue({ code: 'custom', path: ['port'], message: 'Give the port.' });
    if (!t.username) ctx.addIssue({ code: 'custom', path: ['username'], message: 'Give the user name.' });
  }, { when: () => true })
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

/** Extension names as PostgreSQL writes them (uuid-ossp has a dash). */
const extensionName = z
  .string()
  .regex(/^[a-z0-9_][a-z0-9_-]{0,62}$/, 'Extension names are lower case letters, digits, _ and -, at most 63 characters.');

/**
 * The app-wide extension allow list of the SQL fence: one name per line (or separated by commas
 * or spaces); `reset` puts PostgreSQL's trusted extensions back.
 */
export const FenceSettingsSchema = z.object({
  allowedExtensions: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(/[\s,]+/).map((x) => x.trim().toLowerCase()).filter(Boolean) : v),
    z.array(extensionName).max(200, 'At most 200 extensions.').transform((names) => [...new Set(names)].sort()),
  ),
  reset: z.preprocess((v) => v === true || v === 'on' || v === 'true', z.boolean()).default(false),
});
export type FenceSettingsInput = z.infer<typeof FenceSettingsSchema>;
