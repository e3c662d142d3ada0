import { randomUUID } from 'node:crypto';
import { getDb } from '../db/client';
import { forbidden, notFound } from '../domain/errors';
import { canManageUsers } from '../domain/permissions';
import { ROLES, type Role } from '../domain/roles';
import { loadActor } from '../auth/actor';
import { newTokenSecret } from '../auth/api-tokens';
import type { IssueApiTokenInput, RevokeApiTokenInput } from '../validation/api-token';
import { recordAudit } from './audit';

const DAY_MS = 24 * 60 * 60 * 1000;
const ADMINS_ONLY = 'API tokens are issued and revoked by admins.';

// No bcrypt hash has this form, so no password ever matches; sign-in refuses automation accounts anyway.
const NO_PASSWORD = '!automation-account:no-password';

/**
 * Issues a token: a new automation account holding exactly the token's role, and the token row
 * (its sha256 only). The secret is returned here once and never again: not stored, not logged,
 * not in the audit row.
 */
export async function issueApiToken(actorId: string, input: IssueApiTokenInput, now = new Date()) {
  const { secret, prefix, tokenHash } = newTokenSecret();
  const isPersonRole = (ROLES as readonly string[]).includes(input.role);
  const expiresAt = input.expiresInDays ? new Date(now.getTime() + input.expiresInDays * DAY_MS) : null;
  const token = await getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canManageUsers(actor)) throw forbidden(ADMINS_ONLY);
    const account = await tx.user.create({
      data: {
        // A reserved domain (RFC 2606): nobody can receive mail there or sign in with it.
        email: `token-${randomUUID()}@tokens.cutover.invalid`,
        name: `${input.name} (API token)`,
        passwordHash: NO_PASSWORD,
        kind: 'automation',
        roles: isPersonRole ? [input.role as Role] : [],
        agentRoles: isPersonRole ? [] : [input.role],
      },
    });
    const row = await tx.apiToken.create({
      data: { name: input.name, userId: account.id, role: input.role, tokenHash, prefix, issuedById: actor.id, expiresAt, createdAt: now },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: 'api_token.issued', entityType: 'ApiToken', entityId: row.id,
      after: { name: row.name, role: row.role, prefix: row.prefix, accountId: account.id, expiresAt: row.expiresAt?.toISOString() ?? null },
    });
    return row;
  });
  return { id: token.id, name: token.name, role: token.role, prefix: token.prefix, expiresAt: token.expiresAt, secret };
}

/**
 * Revokes a token at once: the token is refused from the next call, and its automation account is
 * deactivated, so that work it started is refused too when a service reloads who is asking (an
 * agent account is paused for that instead, lib/services/agent-accounts.ts).
 */
export async function revokeApiToken(actorId: string, input: RevokeApiTokenInput, now = new Date()) {
  return getDb().$transaction(async (tx) => {
    const actor = await loadActor(tx, actorId);
    if (!canManageUsers(actor)) throw forbidden(ADMINS_ONLY);
    const token = await tx.apiToken.findUnique({ where: { id: input.tokenId } });
    if (!token) throw notFound('API token');
    if (token.revokedAt) return { id: token.id, revokedAt: token.revokedAt };
    const revoked = await tx.apiToken.update({ where: { id: token.id }, data: { revokedAt: now } });
    // An automation account has this one token: it goes with it. An agent account keeps its other tokens.
    await tx.user.updateMany({ where: { id: token.userId, kind: 'automation' }, data: { active: false } });
    await recordAudit(tx, {
      actorId: actor.id, action: 'api_token.revoked', entityType: 'ApiToken', entityId: token.id,
      before: { name: token.name, role: token.role, prefix: token.prefix, revokedAt: null },
      after: { name: token.name, role: token.role, prefix: token.prefix, revokedAt: now.toISOString() },
    });
    return { id: revoked.id, revokedAt: revoked.revokedAt };
  });
}
