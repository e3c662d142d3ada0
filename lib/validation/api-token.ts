import { z } from 'zod';
import { AGENT_ROLES } from '../domain/roles';
import { idSchema, LIMITS } from './common';

/**
 * The one role a token acts with: engineer, or an agent role. Admin, reviewer and lead are left
 * out on purpose: a leaked CI secret must never manage targets or people, and a token is no second
 * pair of eyes (gate signatures and production approvals are for people).
 */
export const TOKEN_ROLES = ['engineer', ...AGENT_ROLES] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/** How long a token may live at most, in days (about ten years). */
export const MAX_TOKEN_DAYS = 3650;

/** A form's empty field (or null) as absent. */
export const blank = (v: unknown) => (v === null || (typeof v === 'string' && v.trim() === '') ? undefined : v);

/** A token's lifetime in days; empty: the token does not expire (it can still be revoked). */
export const tokenExpirySchema = z.preprocess(
  blank,
  z.coerce.number({ error: 'Give a number of days, or leave it empty.' }).int('Give a whole number of days.').min(1, 'At least 1 day.').max(MAX_TOKEN_DAYS, `At most ${MAX_TOKEN_DAYS} days.`).optional(),
);

export const IssueApiTokenSchema = z.object({
  name: z.string({ error: 'Give the token a name (what uses it, e.g. "CI main").' }).trim().min(1, 'Give the token a name (what uses it, e.g. "CI main").').max(LIMITS.name, `At most ${LIMITS.name} characters.`),
  role: z.enum(TOKEN_ROLES, { error: 'Choose the one role the token acts with.' }),
  expiresInDays: tokenExpirySchema,
});
export type IssueApiTokenInput = z.output<typeof IssueApiTokenSchema>;

export const RevokeApiTokenSchema = z.object({ tokenId: idSchema });
export type RevokeApiTokenInput = z.output<typeof RevokeApiTokenSchema>;
