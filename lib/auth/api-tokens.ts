import { createHash, randomBytes } from 'node:crypto';
import { getPool } from '../db/client';
import { DomainError } from '../domain/errors';
import type { Role } from '../domain/roles';
import { ownerlessAgentMessage, pausedMessage, type LoadedActor } from './actor';

/**
 * API tokens: `cut_` and 43 characters of base64url (32 random bytes). Only the sha256 of the
 * whole secret is stored (a lookup by hash: no comparison to time), with its first characters
 * to tell tokens apart in lists.
 */
export const TOKEN_SCHEME = 'cut_';
const TOKEN_PATTERN = /^cut_[A-Za-z0-9_-]{43}$/;
const PREFIX_LENGTH = TOKEN_SCHEME.length + 8;

/** How often a token's last-used time is written: every call would turn each API read into a write. */
export const LAST_USED_RESOLUTION_SECONDS = 60;

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function newTokenSecret(): { secret: string; prefix: string; tokenHash: string } {
  const secret = `${TOKEN_SCHEME}${randomBytes(32).toString('base64url')}`;
  return { secret, prefix: secret.slice(0, PREFIX_LENGTH), tokenHash: hashTokenSecret(secret) };
}

/**
 * The token in an Authorization header: undefined when there is no header (a cookie call),
 * a DomainError when there is one that is not `Bearer <token>` (never a silent fall back to the cookie).
 */
export function bearerSecret(authorization: string | null | undefined): string | undefined {
  if (authorization === null || authorization === undefined || authorization.trim() === '') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  if (!match) throw new DomainError('unauthenticated', 'The Authorization header must be "Bearer <token>", with a token an admin issued on Admin > API tokens.');
  return match[1];
}

interface TokenRow {
  tokenId: string;
  /** Null for an agent account's tokens: they act with every agent role the account holds. */
  role: string | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
  userId: string;
  name: string;
  email: string;
  kind: string;
  active: boolean;
  roles: string[];
  agentRoles: string[];
  pausedAt: Date | null;
  ownerId: string | null;
  ownerName: string | null;
  ownerActive: boolean | null;
}

const day = (d: Date) => d.toISOString().slice(0, 10);

/**
 * Who a bearer token acts as: its automation account, holding only the token's role (the account
 * holds exactly that role anyway; services reload it inside their transactions), or its agent
 * account with the account's agent roles (refused while the account is paused). Revoked, expired
 * and unknown tokens are refused with what to do about it.
 */
export async function authenticateToken(secret: string, now = new Date()): Promise<LoadedActor> {
  const refuse = (why: string) => new DomainError('unauthenticated', `${why} Ask an admin for a new token (Admin > API tokens, or Admin > Agents for an agent's token).`);
  if (!TOKEN_PATTERN.test(secret)) throw refuse('This API token is not valid.');
  // One round trip: the last-used write (at most once a resolution, and only for a token the
  // checks below accept) rides along; the SELECT reads the rows as they were before it.
  const { rows } = await getPool().query<TokenRow>(
    `WITH found AS (
       SELECT t.id AS "tokenId", t.role, t.expires_at AS "expiresAt", t.revoked_at AS "revokedAt", t.last_used_at AS "lastUsedAt",
              u.id AS "userId", u.name, u.email, u.kind::text AS kind, u.active, u.roles::text[] AS roles, u.agent_roles AS "agentRoles",
              u.paused_at AS "pausedAt", u.owner_id AS "ownerId", o.name AS "ownerName", o.active AS "ownerActive"
       FROM api_tokens t JOIN users u ON u.id = t.user_id LEFT JOIN users o ON o.id = u.owner_id
       WHERE t.token_hash = $1
     ), touched AS (
       UPDATE api_tokens SET last_used_at = $2 FROM found f
       WHERE api_tokens.id = f."tokenId" AND f."revokedAt" IS NULL AND (f."expiresAt" IS NULL OR f."expiresAt" > $2::timestamptz)
         AND f.active AND f."pausedAt" IS NULL AND ((f.role IS NULL) = (f.kind = 'agent')) AND (f.kind <> 'agent' OR f."ownerActive")
         AND (f."lastUsedAt" IS NULL OR f."lastUsedAt" < $2::timestamptz - make_interval(secs => $3))
       RETURNING api_tokens.id
     )
     SELECT * FROM found`,
    [hashTokenSecret(secret), now, LAST_USED_RESOLUTION_SECONDS],
  );
  const row = rows[0];
  if (!row) throw refuse('This API token is not valid.');
  if (row.revokedAt) throw refuse(`This API token was revoked on ${day(row.revokedAt)}.`);
  if (row.expiresAt && row.expiresAt <= now) throw refuse(`This API token expired on ${day(row.expiresAt)}.`);
  if (!row.active) throw refuse("This API token's account is not active.");
  // Pausing an agent refuses all its tokens at once, without revoking them (resuming restores them).
  if (row.pausedAt) throw new DomainError('unauthenticated', pausedMessage(row.pausedAt, row.ownerName));
  const ownerless = ownerlessAgentMessage(row);
  if (ownerless) throw new DomainError('unauthenticated', ownerless);
  // "Every agent role of the account" is for agent accounts only: any other account's token names its one role.
  if ((row.role === null) !== (row.kind === 'agent')) throw refuse('This API token is not valid.');
  return {
    id: row.userId, name: row.name, email: row.email,
    // An agent account's token (role null) acts with the account's agent roles and no person role.
    roles: row.role === null ? [] : (row.roles.filter((r) => r === row.role) as Role[]),
    agentRoles: row.role === null ? row.agentRoles : row.agentRoles.filter((r) => r === row.role),
    kind: row.kind === 'person' ? 'person' : row.kind === 'agent' ? 'agent' : 'automation',
    ownerId: row.kind === 'agent' ? row.ownerId : null,
  };
}
