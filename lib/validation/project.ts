import { z } from 'zod';
import { idSchema, LIMITS } from './common';

/**
 * A repository location Cutover accepts: https/http/ssh/git/file URLs, scp-like `user@host:path`, or
 * an absolute local path. No `ext::` or other transports, nothing starting with `-` (git would read it
 * as an option), no password inside the URL (it belongs in the encrypted credential). The problem in
 * words, or null. The form's schema uses it, and lib/git checks again before every git call.
 */
export function repositoryUrlProblem(url: string): string | null {
  const value = url.trim();
  if (!value) return 'Give the repository URL or an absolute local path.';
  if (value.startsWith('-') || /[\0\r\n]/.test(value)) return 'That is not a repository URL or path.';
  if (value.startsWith('/')) return value.split('/').includes('..') ? 'Give the path without "..".' : null;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
  if (scheme) {
    if (!['https', 'http', 'ssh', 'git', 'file'].includes(scheme)) return `Repositories over ${scheme}:// are not supported; use https://, ssh://, file:// or a local path.`;
    let parsed: URL;
    try {
      parsed = new URL(value);
    } catch {
      return 'That is not a valid URL.';
    }
    if (parsed.password) return 'Do not put a password in the URL: enter it as the credential, which is stored encrypted.';
    return null;
  }
  // scp-like syntax for ssh: [user@]host:path.
  if (/^([A-Za-z0-9._-]+@)?[A-Za-z0-9.-]+:[^\s:]/.test(value) && !value.includes('::')) return null;
  return 'Use an https://, ssh://, file:// URL, user@host:path, or an absolute local path.';
}

/**
 * A credential is never sent where anyone on the way can read it: plain http:// and git:// carry
 * no encryption (loopback excepted: it never leaves this machine). The problem in words, or null
 * (the service checks it when a project is saved, lib/git again before every git call, since an
 * edit may keep the stored credential).
 */
export function credentialTransportProblem(url: string, hasCredential: boolean): string | null {
  if (!hasCredential) return null;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url.trim())?.[1]?.toLowerCase();
  if (scheme !== 'http' && scheme !== 'git') return null;
  let host = '';
  try {
    host = new URL(url.trim()).hostname;
  } catch {
    // Not a URL at all: repositoryUrlProblem says so.
  }
  const loopback = host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
  return !loopback
    ? `A credential is never sent over ${scheme}:// (it would travel unencrypted): use https:// or ssh://, or clear the credential.`
    : null;
}

/** A branch name git accepts that cannot be read as an option or a revision expression; the problem in words, or null. */
export function branchNameProblem(branch: string): string | null {
  const b = branch.trim();
  if (!b) return 'Give a branch name.';
  if (b.length > 200) return 'That branch name is too long.';
  if (
    b.startsWith('-') || b.startsWith('/') || b.endsWith('/') || b.endsWith('.') || b.endsWith('.lock') ||
    b.includes('..') || b.includes('//') || b.includes('@{') || b === '@' || b.split('/').some((s) => s.startsWith('.')) ||
    /[\s~^:?*[\\\0-\x1f\x7f]/.test(b)
  ) {
    return `"${b}" is not a valid branch name.`;
  }
  // git check-ref-format --branch refuses it: HEAD names the checked-out commit, not a branch.
  if (b === 'HEAD') return '"HEAD" is not a branch name: name the branch itself, like main.';
  return null;
}

/** A repository-relative file path: no leading `/`, no `..`, no empty segment. */
export function repositoryPathProblem(filePath: string): string | null {
  const p = filePath.trim();
  if (!p || p.startsWith('/') || p.split('/').some((s) => s === '..' || s === '' || s === '.') || /[\0\r\n\\]/.test(p)) {
    return 'Give a path inside the repository, like prisma/schema.prisma.';
  }
  return null;
}

const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const checkbox = (v: unknown) => v === true || v === 'on' || v === 'true';
const whole = (label: string, min: number, max: number, unit: string) =>
  z.coerce
    .number({ error: `${label} is a number.` })
    .int(`${label} is a whole number.`)
    .min(min, `${label}: at least ${min} ${unit}.`)
    .max(max, `${label}: at most ${max} ${unit}.`);

export const DEPLOY_BRANCHES = ['main', 'master'] as const;

export const ProjectSchema = z.object({
  name: z.string({ error: 'Give the project a name.' }).trim().min(1, 'Give the project a name.').max(LIMITS.name, `At most ${LIMITS.name} characters.`),
  repositoryUrl: z
    .string({ error: 'Give the repository URL or an absolute local path.' })
    .trim()
    .max(2000, 'At most 2000 characters.')
    .superRefine((v, ctx) => {
      const problem = repositoryUrlProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  deployBranch: z.enum(DEPLOY_BRANCHES, { error: 'The Deploy step pushes to main or master.' }).default('main'),
  schemaPath: z
    .string()
    .trim()
    .max(500, 'At most 500 characters.')
    .default('prisma/schema.prisma')
    .transform((v) => v || 'prisma/schema.prisma')
    .superRefine((v, ctx) => {
      const problem = repositoryPathProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    }),
  repositoryUsername: z.preprocess(blank, z.string().trim().max(200, 'At most 200 characters.').optional()),
  // Empty on edit keeps the stored credential; the clear box forgets it.
  repositoryCredential: z.string().max(LIMITS.password * 10, 'At most 2000 characters.').optional(),
  clearRepositoryCredential: z.preprocess(checkbox, z.boolean()).default(false),
  minGateReviewers: whole('Minimum reviewers', 1, 6, 'reviewers').default(2),
  backupMaxAgeHours: whole('Backup age', 1, 24 * 90, 'hours').default(24),
  verificationIntervalSeconds: whole('Verification interval', 10, 86_400, 'seconds').default(300),
  verificationWindowMinutes: whole('Verification window', 1, 60 * 24 * 14, 'minutes').default(60),
});
export type ProjectInput = z.infer<typeof ProjectSchema>;

export const UpdateProjectSchema = z.intersection(ProjectSchema, z.object({ id: idSchema }));
export type UpdateProjectInput = z.infer<typeof UpdateProjectSchema>;

const healthCheckUrl = z.preprocess(
  blank,
  z
    .string()
    .trim()
    .max(2000, 'At most 2000 characters.')
    .refine((v) => {
      try {
        const u = new URL(v);
        return (u.protocol === 'http:' || u.protocol === 'https:') && !u.password;
      } catch {
        return false;
      }
    }, 'Give an http:// or https:// URL (no password in it), or leave it empty.')
    .optional(),
);

const environmentFields = {
  name: z.string({ error: 'Name the environment.' }).trim().min(1, 'Name the environment.').max(50, 'At most 50 characters.'),
  targetId: z.uuid({ error: 'Choose the target database of this environment.' }),
  healthCheckUrl,
  requiresApproval: z.preprocess(checkbox, z.boolean()).default(false),
};

/** A new environment goes after the project's last one (promotion order). */
export const AddEnvironmentSchema = z.object({ projectId: idSchema, ...environmentFields });
export type AddEnvironmentInput = z.infer<typeof AddEnvironmentSchema>;

export const UpdateEnvironmentSchema = z.object({ id: idSchema, ...environmentFields });
export type UpdateEnvironmentInput = z.infer<typeof UpdateEnvironmentSchema>;

export const MoveEnvironmentSchema = z.object({ id: idSchema, direction: z.enum(['up', 'down'], { error: 'Move up or down.' }) });
export type MoveEnvironmentInput = z.infer<typeof MoveEnvironmentSchema>;

export const RemoveEnvironmentSchema = z.object({ id: idSchema });

export const DeleteProjectSchema = z.object({ id: idSchema });

const appBranch = z.preprocess(
  blank,
  z
    .string()
    .trim()
    .max(200, 'At most 200 characters.')
    .superRefine((v, ctx) => {
      const problem = branchNameProblem(v);
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    })
    .optional(),
);

/** The project and app branch chosen when filing (both optional: older flows file without a project). */
export const RequestProjectFields = {
  projectId: z.preprocess(blank, z.uuid({ error: 'Choose a project.' }).optional()),
  appBranch,
};

/** Changing a request's project and app branch later (author, holders of Update app code, admins). */
export const SetRequestProjectSchema = z
  .object({ requestId: idSchema, ...RequestProjectFields })
  .refine((v) => !v.appBranch || v.projectId, { path: ['appBranch'], message: 'Choose the project the branch belongs to.' });
export type SetRequestProjectInput = z.infer<typeof SetRequestProjectSchema>;

/** Compare the app branch's schema.prisma with the rehearsed schema. */
export const CompareAppSchemaSchema = z.object({ requestId: idSchema });

/** Differences of the latest comparison a step-4 holder records as intended, with why. */
export const IntendDifferencesSchema = z.object({
  requestId: idSchema,
  evidenceId: idSchema,
  keys: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(z.string().min(1).max(500)).min(1, 'Choose at least one difference.').max(500)),
  note: z.string({ error: 'Say why the difference is intended.' }).trim().min(5, 'Say why the difference is intended (at least 5 characters).').max(LIMITS.note, `At most ${LIMITS.note} characters.`),
});
export type IntendDifferencesInput = z.infer<typeof IntendDifferencesSchema>;
