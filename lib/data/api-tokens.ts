import 'server-only';
import { getDb } from '../db/client';
import { forbidden } from '../domain/errors';
import { canManageUsers, type Actor } from '../domain/permissions';

export interface ApiTokenView {
  id: string;
  name: string;
  role: string;
  /** The secret's first characters, to tell tokens apart; the secret itself is never stored. */
  prefix: string;
  issuedBy: string | null;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  state: 'active' | 'expired' | 'revoked';
}

/** Every CI token (one role each), newest first, for admins (no hash, no secret); agents' tokens are on Admin > Agents. */
export async function listApiTokens(actor: Actor, now = new Date()): Promise<ApiTokenView[]> {
  if (!canManageUsers(actor)) throw forbidden('API tokens are managed by admins.');
  const rows = await getDb().apiToken.findMany({
    where: { user: { kind: 'automation' } },
    orderBy: { createdAt: 'desc' },
    take: 500,
    select: {
      id: true, name: true, role: true, prefix: true, createdAt: true, expiresAt: true, lastUsedAt: true, revokedAt: true,
      issuedBy: { select: { name: true } },
    },
  });
  return rows.map((t) => ({
    // Automation accounts' tokens always name their one role.
    id: t.id, name: t.name, role: t.role ?? '', prefix: t.prefix, issuedBy: t.issuedBy?.name ?? null,
    createdAt: t.createdAt, expiresAt: t.expiresAt, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt,
    state: t.revokedAt ? 'revoked' : t.expiresAt && t.expiresAt <= now ? 'expired' : 'active',
  }));
}
