import { randomUUID } from 'node:crypto';
import type { Tx } from '../db/client';
import { getDb } from '../db/client';
import { DomainError, conflict, forbidden, notFound } from '../domain/errors';
import { canManageUsers } from '../domain/permissions';
import { loadActor } from '../auth/actor';
import { newTokenSecret } from '../auth/api-tokens';
import {
  CreateAgentSchema, IssueAgentTokenSchema, PauseAgentSchema, RevokeAgentTokenSchema, UpdateAgentSchema,
  parseOrRefuse, type CreateAgentInput, type IssueAgentTokenInput, type PauseAgentInput, type RevokeAgentTokenInput, type UpdateAgentInput,
} from '../validation/agent';
import { recordAudit } from './audit';
import { revokeApiToken } from './api-tokens';

/**
 * Agent accounts: an AI agent (a name such as "dba-agent") holding agent roles, with a person who
 * answers for it. It signs in with tokens only (role null: every agent role of the account), never
 * signs a gate nor approves production (kind 'agent' is not a person), and can be paused at once.
 */

const DAY_MS = 24 * 60 * 60 * 1000;
const ADMINS_ONLY = 'Agent accounts are managed by admins.';
// No bcrypt hash has this form, so no password ever matches; sign-in refuses non-person accounts anyway.
const NO_PASSWORD = '!agent-account:no-password';

async function admin(tx: Tx, actorId: string) {
  const actor = await loadActor(tx, actorId);
  if (!canManageUsers(actor)) throw forbidden(ADMINS_ONLY);
  return actor;
}

/** The person who answers for an agent: an active person account. */
async function ownerOf(tx: Tx, ownerId: string) {
  const owner = await tx.user.findUnique({ where: { id: ownerId }, select: { id: true, name: true, kind: true, active: true } });
  if (!owner || owner.kind !== 'person' || !owner.active) {
    throw new DomainError('invalid', 'The owner must be an active person account (who answers for the agent).', 'ownerId');
  }
  return owner;
}

async function agentOf(tx: Tx, agentId: string) {
  const agent = await tx.user.findUnique({ where: { id: agentId }, select: { id: true, name: true, kind: true, agentRoles: true, ownerId: true, pausedAt: true, owner: { select: { name: true, active: true } } } });
  if (!agent || agent.kind !== 'agent') throw notFound('Agent account');
  return agent;
}

/** Agent names are unique whatever their case (users_agent_name_key); said before the index says it. */
const nameTaken = (name: string) => new DomainError('conflict', `An agent named "${name}" already exists.`, 'name');
const isUniqueViolation = (err: unknown) => (err as { code?: string })?.code === 'P2002';

export async function createAgent(actorId: string, raw: CreateAgentInput) {
  const input = parseOrRefuse(CreateAgentSchema, raw);
  try {
    return await createAgentIn(actorId, input);
  } catch (err) {
    // Two admins creating the same name at once: the index decides, the loser gets the same words.
    if (isUniqueViolation(err)) throw nameTaken(input.name);
    throw err;
  }
}

async function createAgentIn(actorId: string, input: CreateAgentInput) {
  return getDb().$transaction(async (tx) => {
    const actor = await admin(tx, actorId);
    const owner = await ownerOf(tx, input.ownerId);
    // lower(name) = lower(…), exactly as the index compares names.
    const taken = await tx.$queryRaw<unknown[]>`SELECT 1 FROM users WHERE kind = 'agent' AND lower(name) = lower(${input.name})`;
    if (taken.length) throw nameTaken(input.name);
    const agent = await tx.user.create({
      data: {
        // A reserved domain (RFC 2606): nobody can receive mail there or sign in with it.
        email: `agent-${randomUUID()}@agents.cutover.invalid`,
        name: input.name,
        passwordHash: NO_PASSWORD,
        kind: 'agent',
        roles: [],
        agentRoles: input.agentRoles,
        ownerId: owner.id,
      },
      select: { id: true, name: true, agentRoles: true },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: 'agent.created', entityType: 'User', entityId: agent.id,
      after: { name: agent.name, agentRoles: agent.agentRoles, owner: owner.name },
    });
    return { id: agent.id, name: agent.name };
  });
}

export async function updateAgent(actorId: string, raw: UpdateAgentInput) {
  const input = parseOrRefuse(UpdateAgentSchema, raw);
  return getDb().$transaction(async (tx) => {
    const actor = await admin(tx, actorId);
    const before = await agentOf(tx, input.agentId);
    const owner = await ownerOf(tx, input.ownerId);
    await tx.user.update({ where: { id: before.id }, data: { agentRoles: input.agentRoles, ownerId: owner.id } });
    await recordAudit(tx, {
      actorId: actor.id, action: 'agent.updated', entityType: 'User', entityId: before.id,
      before: { name: before.name, agentRoles: before.agentRoles, owner: before.owner?.name ?? null },
      after: { name: before.name, agentRoles: input.agentRoles, owner: owner.name },
    });
    return { id: before.id };
  });
}

/**
 * Pausing refuses every token of the account from the next call, and work in flight when a
 * service reloads who is asking (loadActor); resuming restores the same tokens.
 */
export async function setAgentPaused(actorId: string, raw: PauseAgentInput, now = new Date()) {
  const input = parseOrRefuse(PauseAgentSchema, raw);
  return getDb().$transaction(async (tx) => {
    const actor = await admin(tx, actorId);
    const agent = await agentOf(tx, input.agentId);
    if (!!agent.pausedAt === input.paused) return { id: agent.id, pausedAt: agent.pausedAt };
    if (!input.paused && !agent.owner?.active) {
      throw new DomainError('conflict', `${agent.name} answers to ${agent.owner?.name ?? 'nobody'}, who is no longer active: give it an active owner (Edit) before resuming it.`);
    }
    const pausedAt = input.paused ? now : null;
    await tx.user.update({ where: { id: agent.id }, data: { pausedAt } });
    await recordAudit(tx, {
      actorId: actor.id, action: input.paused ? 'agent.paused' : 'agent.resumed', entityType: 'User', entityId: agent.id,
      before: { name: agent.name, pausedAt: agent.pausedAt?.toISOString() ?? null },
      after: { name: agent.name, pausedAt: pausedAt?.toISOString() ?? null },
    });
    return { id: agent.id, pausedAt };
  });
}

/**
 * A token for an agent account (role null: it acts with every agent role the account holds, as
 * they are when it calls). The secret is returned here once: only its sha256 is stored.
 */
export async function issueAgentToken(actorId: string, raw: IssueAgentTokenInput, now = new Date()) {
  const input = parseOrRefuse(IssueAgentTokenSchema, raw);
  const { secret, prefix, tokenHash } = newTokenSecret();
  const expiresAt = input.expiresInDays ? new Date(now.getTime() + input.expiresInDays * DAY_MS) : null;
  const token = await getDb().$transaction(async (tx) => {
    const actor = await admin(tx, actorId);
    const agent = await agentOf(tx, input.agentId);
    const row = await tx.apiToken.create({
      data: { name: input.name, userId: agent.id, role: null, tokenHash, prefix, issuedById: actor.id, expiresAt, createdAt: now },
    });
    await recordAudit(tx, {
      actorId: actor.id, action: 'api_token.issued', entityType: 'ApiToken', entityId: row.id,
      after: { name: row.name, agent: agent.name, prefix: row.prefix, accountId: agent.id, expiresAt: row.expiresAt?.toISOString() ?? null },
    });
    return row;
  });
  return { id: token.id, name: token.name, prefix: token.prefix, expiresAt: token.expiresAt, secret };
}

/** Revokes one token of an agent; the account and its other tokens stay (pause the agent to stop it all). */
export async function revokeAgentToken(actorId: string, raw: RevokeAgentTokenInput, now = new Date()) {
  const input = parseOrRefuse(RevokeAgentTokenSchema, raw);
  if (!canManageUsers(await loadActor(getDb(), actorId))) throw forbidden(ADMINS_ONLY);
  const token = await getDb().apiToken.findUnique({ where: { id: input.tokenId }, select: { user: { select: { kind: true } } } });
  if (token && token.user.kind !== 'agent') throw conflict('This token is not an agent\'s: revoke it on Admin > API tokens.');
  return revokeApiToken(actorId, input, now);
}
