import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { authorizeCredentials } from '@/lib/auth/authorize';
import { authenticateToken } from '@/lib/auth/api-tokens';
import { loadActor } from '@/lib/auth/actor';
import { listAgents } from '@/lib/data/agents';
import { createAgent, issueAgentToken, revokeAgentToken, setAgentPaused, updateAgent } from '@/lib/services/agent-accounts';
import { issueApiToken } from '@/lib/services/api-tokens';
import { hashPassword } from '@/lib/services/manage-users';
import { CreateAgentSchema } from '@/lib/validation/agent';
import { makeUser, openTestAppStore } from '../support/app-store';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let alice: Awaited<ReturnType<typeof makeUser>>;
let bob: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'], name: 'Ada Admin' });
  alice = await makeUser({ roles: ['engineer'], name: 'Alice Smith' });
  bob = await makeUser({ roles: ['lead'], name: 'Bob Jones' });
});

afterAll(async () => {
  await store?.close();
});

describe('agent accounts (Admin > Agents)', () => {
  it('are created by admins with agent roles and an owner, audited, and cannot sign in', async () => {
    const { id } = await createAgent(admin.id, { name: 'dba-agent', agentRoles: ['database-optimizer', 'database-administrator'], ownerId: alice.id });
    const row = await getDb().user.findUniqueOrThrow({ where: { id } });
    expect(row).toMatchObject({ kind: 'agent', name: 'dba-agent', roles: [], agentRoles: ['database-optimizer', 'database-administrator'], ownerId: alice.id, active: true, pausedAt: null });
    const audit = await getDb().auditLog.findMany({ where: { entityId: id } });
    expect(audit).toMatchObject([{ action: 'agent.created', actorId: admin.id, after: { name: 'dba-agent', owner: 'Alice Smith' } }]);
    // Even with a matching password (a tampered row) an agent gets no session.
    await getDb().user.update({ where: { id }, data: { passwordHash: await hashPassword('a-known-password-123') } });
    expect(await authorizeCredentials({ email: row.email, password: 'a-known-password-123' }, {})).toBeNull();

    const page = await listAgents(await loadActor(getDb(), admin.id));
    expect(page.agents.find((a) => a.id === id)).toMatchObject({ name: 'dba-agent', owner: { name: 'Alice Smith' }, tokens: [] });
    expect(page.people.map((p) => p.id)).toContain(alice.id);
    expect(page.people.map((p) => p.id)).not.toContain(id);
  });

  it('refuses non-admins, an owner that is not an active person, a taken name and roles outside AGENT_ROLES, writing nothing', async () => {
    const before = await getDb().user.count();
    await expect(createAgent(alice.id, { name: 'mine', agentRoles: ['postgres-pro'], ownerId: alice.id })).rejects.toMatchObject({ code: 'forbidden' });
    const other = await createAgent(admin.id, { name: 'pg-agent', agentRoles: ['postgres-pro'], ownerId: bob.id });
    await expect(createAgent(admin.id, { name: 'owned-by-agent', agentRoles: ['postgres-pro'], ownerId: other.id })).rejects.toMatchObject({ code: 'invalid', field: 'ownerId' });
    const gone = await makeUser({ roles: ['engineer'], active: false });
    await expect(createAgent(admin.id, { name: 'orphan', agentRoles: ['postgres-pro'], ownerId: gone.id })).rejects.toMatchObject({ code: 'invalid' });
    await expect(createAgent(admin.id, { name: 'pg-agent', agentRoles: ['postgres-pro'], ownerId: bob.id })).rejects.toMatchObject({ code: 'conflict', message: 'An agent named "pg-agent" already exists.' });
    await expect(createAgent(admin.id, { name: 'root', agentRoles: ['admin' as never], ownerId: bob.id })).rejects.toMatchObject({ code: 'invalid' });
    expect(CreateAgentSchema.safeParse({ name: 'Has Spaces', agentRoles: ['postgres-pro'], ownerId: bob.id }).success).toBe(false);
    expect(CreateAgentSchema.safeParse({ name: 'x-agent', agentRoles: [], ownerId: bob.id }).success).toBe(false);
    expect(await getDb().user.count()).toBe(before + 2); // pg-agent and the inactive person
  });

  it('one name, one agent, whatever its case: the service says so first, the index holds under a race', async () => {
    // A name written before the schema asked for lower case (straight into the store).
    await getDb().user.create({ data: { email: 'legacy@agents.cutover.invalid', name: 'Legacy-Agent', passwordHash: '!agent', kind: 'agent', agentRoles: ['postgres-pro'], ownerId: alice.id } });
    const before = await getDb().user.count();
    await expect(createAgent(admin.id, { name: 'legacy-agent', agentRoles: ['postgres-pro'], ownerId: alice.id }))
      .rejects.toMatchObject({ code: 'conflict', field: 'name', message: 'An agent named "legacy-agent" already exists.' });
    // The index itself, whatever writes: another case of the same name is refused by the database.
    await expect(getDb().user.create({ data: { email: 'legacy2@agents.cutover.invalid', name: 'LEGACY-agent', passwordHash: '!agent', kind: 'agent', agentRoles: [], ownerId: alice.id } }))
      .rejects.toThrow(/users_agent_name_key|Unique constraint/);
    // Only the same name: "_" is a character like any other, not a wildcard.
    await createAgent(admin.id, { name: 'wild-card', agentRoles: ['postgres-pro'], ownerId: alice.id });
    await createAgent(admin.id, { name: 'wild_card', agentRoles: ['postgres-pro'], ownerId: alice.id });
    // People are not agents: a person may carry an agent's name.
    await makeUser({ roles: ['engineer'], name: 'legacy-agent' });
    expect(await getDb().user.count()).toBe(before + 3);

    // Two admins at once: exactly one agent is created, the other admin is told the name is taken.
    const results = await Promise.allSettled(Array.from({ length: 4 }, () => createAgent(admin.id, { name: 'race-agent', agentRoles: ['postgres-pro'], ownerId: alice.id })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of results.filter((r) => r.status === 'rejected')) {
      expect((r as PromiseRejectedResult).reason).toMatchObject({ code: 'conflict', field: 'name', message: 'An agent named "race-agent" already exists.' });
    }
    expect(await getDb().user.count({ where: { kind: 'agent', name: 'race-agent' } })).toBe(1);
    expect(await getDb().auditLog.count({ where: { action: 'agent.created', after: { path: ['name'], equals: 'race-agent' } } })).toBe(1);
  });

  it('edits roles and owner (audited before and after)', async () => {
    const { id } = await createAgent(admin.id, { name: 'edit-agent', agentRoles: ['postgres-pro'], ownerId: alice.id });
    await expect(updateAgent(alice.id, { agentId: id, agentRoles: ['test-automator'], ownerId: alice.id })).rejects.toMatchObject({ code: 'forbidden' });
    await updateAgent(admin.id, { agentId: id, agentRoles: ['test-automator', 'language-specialist'], ownerId: bob.id });
    expect(await getDb().user.findUniqueOrThrow({ where: { id } })).toMatchObject({ agentRoles: ['test-automator', 'language-specialist'], ownerId: bob.id });
    const audit = await getDb().auditLog.findFirstOrThrow({ where: { entityId: id, action: 'agent.updated' } });
    expect(audit).toMatchObject({ before: { agentRoles: ['postgres-pro'], owner: 'Alice Smith' }, after: { agentRoles: ['test-automator', 'language-specialist'], owner: 'Bob Jones' } });
    // A person is not an agent: the agent services refuse to edit one.
    await expect(updateAgent(admin.id, { agentId: alice.id, agentRoles: ['postgres-pro'], ownerId: bob.id })).rejects.toMatchObject({ code: 'not_found' });
  });

  it('tokens: shown once, hashed, acting with every agent role of the account (as it is now), revocable without deactivating the agent', async () => {
    const { id } = await createAgent(admin.id, { name: 'tok-agent', agentRoles: ['database-optimizer', 'postgres-pro'], ownerId: alice.id });
    await expect(issueAgentToken(alice.id, { agentId: id, name: 'x' })).rejects.toMatchObject({ code: 'forbidden' });
    const one = await issueAgentToken(admin.id, { agentId: id, name: 'laptop', expiresInDays: 30 });
    const two = await issueAgentToken(admin.id, { agentId: id, name: 'ci' });
    expect(one.secret).toMatch(/^cut_[A-Za-z0-9_-]{43}$/);
    const row = await getDb().apiToken.findUniqueOrThrow({ where: { id: one.id } });
    expect(row).toMatchObject({ role: null, userId: id, issuedById: admin.id, prefix: one.prefix });
    expect(row.expiresAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    expect(JSON.stringify(row)).not.toContain(one.secret);
    const audits = await getDb().auditLog.findMany({ where: { entityId: { in: [one.id, two.id] } } });
    expect(audits.map((a) => a.action)).toEqual(['api_token.issued', 'api_token.issued']);
    expect(JSON.stringify(audits)).not.toContain(one.secret);

    const actor = await authenticateToken(one.secret);
    expect(actor).toMatchObject({ id, kind: 'agent', roles: [], agentRoles: ['database-optimizer', 'postgres-pro'] });
    expect((await getDb().apiToken.findUniqueOrThrow({ where: { id: one.id } })).lastUsedAt).not.toBeNull();
    // Roles changed by an admin apply to the next call.
    await updateAgent(admin.id, { agentId: id, agentRoles: ['postgres-pro'], ownerId: alice.id });
    expect((await authenticateToken(one.secret)).agentRoles).toEqual(['postgres-pro']);
    // Person roles on a tampered agent row are never carried by its tokens.
    await getDb().user.update({ where: { id }, data: { roles: ['admin'] } });
    expect((await authenticateToken(one.secret)).roles).toEqual([]);
    await getDb().user.update({ where: { id }, data: { roles: [] } });

    await expect(revokeAgentToken(alice.id, { tokenId: one.id })).rejects.toMatchObject({ code: 'forbidden' });
    await revokeAgentToken(admin.id, { tokenId: one.id });
    await expect(authenticateToken(one.secret)).rejects.toThrow(/revoked on/);
    expect((await getDb().user.findUniqueOrThrow({ where: { id } })).active).toBe(true);
    expect((await authenticateToken(two.secret)).id).toBe(id);
    await expect(loadActor(getDb(), id)).resolves.toMatchObject({ kind: 'agent' });

    // An automation token is revoked on its own page, not here.
    const ci = await issueApiToken(admin.id, { name: 'CI', role: 'engineer' });
    await expect(revokeAgentToken(admin.id, { tokenId: ci.id })).rejects.toMatchObject({ code: 'conflict' });
  });

  it('pause refuses every token at once and loadActor refuses the account; resume restores them; both audited', async () => {
    const { id } = await createAgent(admin.id, { name: 'pause-agent', agentRoles: ['test-automator'], ownerId: alice.id });
    const token = await issueAgentToken(admin.id, { agentId: id, name: 'main' });
    await expect(setAgentPaused(alice.id, { agentId: id, paused: true })).rejects.toMatchObject({ code: 'forbidden' });
    const pausedAt = new Date('2026-11-20T10:00:00Z');
    await setAgentPaused(admin.id, { agentId: id, paused: true }, pausedAt);
    await expect(authenticateToken(token.secret)).rejects.toMatchObject({ code: 'unauthenticated', message: 'This agent account was paused on 2026-11-20 by an admin. Ask its owner, Alice Smith, or an admin to resume it (Admin > Agents).' });
    await expect(loadActor(getDb(), id)).rejects.toMatchObject({
      code: 'unauthenticated', message: 'This agent account was paused on 2026-11-20 by an admin. Ask its owner, Alice Smith, or an admin to resume it (Admin > Agents).',
    });
    // Pausing twice changes nothing.
    await setAgentPaused(admin.id, { agentId: id, paused: true });
    await setAgentPaused(admin.id, { agentId: id, paused: false });
    expect((await authenticateToken(token.secret)).id).toBe(id);
    const actions = (await getDb().auditLog.findMany({ where: { entityId: id }, orderBy: { createdAt: 'asc' } })).map((a) => a.action);
    expect(actions).toEqual(['agent.created', 'agent.paused', 'agent.resumed']);
  });

  it('an agent whose owner is no longer active (deactivated before owners paused their agents) acts no more: its tokens and loadActor refuse it, and it answers to its owner again once the owner is back', async () => {
    const dan = await makeUser({ roles: ['engineer'], name: 'Dan Gone' });
    const { id } = await createAgent(admin.id, { name: 'orphan-agent', agentRoles: ['test-automator'], ownerId: dan.id });
    const token = await issueAgentToken(admin.id, { agentId: id, name: 'main' });
    expect(await authenticateToken(token.secret)).toMatchObject({ id, kind: 'agent', ownerId: dan.id });
    await expect(loadActor(getDb(), id)).resolves.toMatchObject({ ownerId: dan.id });
    // Deactivated straight in the store: the agent is not paused, as with owners deactivated before that rule.
    await getDb().user.update({ where: { id: dan.id }, data: { active: false } });
    const message = 'orphan-agent answers to Dan Gone, who is no longer active: an admin must give it an active owner (Admin > Agents).';
    const lastUsedBefore = (await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt;
    await expect(authenticateToken(token.secret, new Date(Date.now() + 3_600_000))).rejects.toMatchObject({ code: 'unauthenticated', message });
    // A refused token is not marked used.
    expect((await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt).toEqual(lastUsedBefore);
    await expect(loadActor(getDb(), id)).rejects.toMatchObject({ code: 'unauthenticated', message });
    await getDb().user.update({ where: { id: dan.id }, data: { active: true } });
    expect((await authenticateToken(token.secret)).id).toBe(id);
    // People answer for themselves: no owner on their actor.
    await expect(loadActor(getDb(), alice.id)).resolves.toMatchObject({ kind: 'person', ownerId: null });
  });
});
