import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import { createTarget, testTargetConnection, updateTarget } from '@/lib/services/manage-targets';
import { createUser, updateUserRoles } from '@/lib/services/manage-users';
import { createAgent, issueAgentToken, setAgentPaused } from '@/lib/services/agent-accounts';
import { authenticateToken } from '@/lib/auth/api-tokens';
import { makeUser, openTestAppStore } from '../support/app-store';
import { TEST_SERVER_URL } from '../support/scratch-db';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'] });
});
afterAll(() => store.close());

const db = () => getDb();
const server = new URL(TEST_SERVER_URL);
const pgServer = {
  engine: 'postgresql' as const,
  host: server.hostname,
  port: Number(server.port || 5432),
  database: 'postgres',
  username: decodeURIComponent(server.username),
  password: decodeURIComponent(server.password) || undefined,
  sslMode: 'disable' as const,
  connectTimeoutMs: 3000,
  lockTimeoutMs: 5000,
  statementTimeoutMs: 600_000,
};

async function refusal(call: Promise<unknown>) {
  const err = await call.then(() => null, (e) => e);
  expect(err).toBeInstanceOf(DomainError);
  return err as DomainError;
}

describe('target databases', () => {
  it('stores the password encrypted, and audit rows never contain it', async () => {
    const { id } = await createTarget(admin.id, { ...pgServer, name: 'Machine PG', environment: 'staging', password: 'hunter2-very-secret' });
    const row = await db().targetDatabase.findUniqueOrThrow({ where: { id } });
    expect(row.passwordEncrypted).toBeTruthy();
    expect(row.passwordEncrypted).not.toContain('hunter2');
    const audit = await db().auditLog.findFirstOrThrow({ where: { entityId: id } });
    expect(JSON.stringify(audit)).not.toContain('hunter2');
    expect(JSON.stringify(audit)).not.toContain(row.passwordEncrypted!);
    expect(audit.after).toMatchObject({ name: 'Machine PG', hasPassword: true });
  });

  it('keeps the stored password when an edit leaves it empty, and replaces it when given', async () => {
    const { id } = await createTarget(admin.id, { ...pgServer, name: 'Edit me', environment: 'local', password: 'first' });
    const first = (await db().targetDatabase.findUniqueOrThrow({ where: { id } })).passwordEncrypted;
    await updateTarget(admin.id, { ...pgServer, id, name: 'Edited', environment: 'local', password: '', lockTimeoutMs: 1500, statementTimeoutMs: 0 });
    const kept = await db().targetDatabase.findUniqueOrThrow({ where: { id } });
    expect(kept).toMatchObject({ name: 'Edited', passwordEncrypted: first, lockTimeoutMs: 1500, statementTimeoutMs: 0 });
    await updateTarget(admin.id, { ...pgServer, id, name: 'Edited', environment: 'local', password: 'second' });
    expect((await db().targetDatabase.findUniqueOrThrow({ where: { id } })).passwordEncrypted).not.toBe(first);
  });

  it('refuses duplicate names on the name field, and non-admins entirely', async () => {
    await createTarget(admin.id, { ...pgServer, name: 'Unique', environment: 'production' });
    const dup = await refusal(createTarget(admin.id, { ...pgServer, name: 'Unique', environment: 'production' }));
    expect(dup).toMatchObject({ code: 'invalid', field: 'name' });
    const engineer = await makeUser({ roles: ['engineer', 'lead'] });
    const before = await db().targetDatabase.count();
    expect(await refusal(createTarget(engineer.id, { ...pgServer, name: 'Nope', environment: 'local' }))).toMatchObject({ code: 'forbidden' });
    expect(await db().targetDatabase.count()).toBe(before);
  });

  it('connects for real and reports the server version', async () => {
    const { id } = await createTarget(admin.id, { ...pgServer, name: 'Live', environment: 'local' });
    const result = await testTargetConnection(admin.id, id);
    expect(result).toMatchObject({ ok: true, serverVersion: expect.stringMatching(/^PostgreSQL 15\./) });
  });

  it('reports a refused port and a missing database clearly, within the timeout', async () => {
    const closed = await createTarget(admin.id, { ...pgServer, name: 'Closed port', environment: 'local', port: 1 });
    const started = Date.now();
    expect(await testTargetConnection(admin.id, closed.id)).toEqual({ ok: false, error: 'Connection refused by 127.0.0.1:1: no server is listening there.' });
    expect(Date.now() - started).toBeLessThan(3000);

    const missing = await createTarget(admin.id, { ...pgServer, name: 'No such db', environment: 'local', database: 'no_such_database_here' });
    expect(await testTargetConnection(admin.id, missing.id)).toEqual({
      ok: false,
      error: `Database no_such_database_here does not exist on ${pgServer.host}:${pgServer.port}.`,
    });
  });

  it('gives up on a host that never answers after the connect timeout', async () => {
    // A listening socket that never speaks: the TCP connect succeeds, the PostgreSQL handshake never comes.
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const port = (silent.address() as { port: number }).port;
    try {
      const t = await createTarget(admin.id, { ...pgServer, name: 'Silent', environment: 'local', port, connectTimeoutMs: 800 });
      const started = Date.now();
      const result = await testTargetConnection(admin.id, t.id);
      expect(result.ok).toBe(false);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(result).toMatchObject({ error: expect.stringMatching(/No answer from 127\.0\.0\.1:\d+ within 800 ms|timeout/i) });
    } finally {
      silent.close();
    }
  });
});

describe('people and roles', () => {
  it('creates a person with a hashed password and the roles given', async () => {
    const { id } = await createUser(admin.id, {
      email: 'dana@example.com', name: 'Dana', password: 'correct horse battery', roles: ['engineer'], agentRoles: ['database-administrator'],
    });
    const user = await db().user.findUniqueOrThrow({ where: { id } });
    expect(user).toMatchObject({ roles: ['engineer'], agentRoles: ['database-administrator'], active: true });
    expect(user.passwordHash).toMatch(/^\$2[aby]\$12\$/);
    const audit = await db().auditLog.findFirstOrThrow({ where: { entityId: id } });
    expect(JSON.stringify(audit)).not.toContain('correct horse');
    const dup = await refusal(createUser(admin.id, { email: 'dana@example.com', name: 'D2', password: 'another long one', roles: [], agentRoles: [] }));
    expect(dup).toMatchObject({ code: 'invalid', field: 'email' });
  });

  it('changes roles with an audit row, and refuses to remove the last admin', async () => {
    const person = await makeUser({ roles: ['engineer'] });
    await updateUserRoles(admin.id, { userId: person.id, roles: ['engineer', 'reviewer'], agentRoles: ['postgres-pro'], active: true });
    expect(await db().user.findUniqueOrThrow({ where: { id: person.id } })).toMatchObject({ roles: ['engineer', 'reviewer'], agentRoles: ['postgres-pro'] });
    const audit = await db().auditLog.findFirstOrThrow({ where: { entityId: person.id, action: 'user.roles_changed' } });
    expect(audit.before).toMatchObject({ roles: ['engineer'] });

    await db().user.updateMany({ where: { id: { not: admin.id }, roles: { has: 'admin' } }, data: { active: false } });
    const last = await refusal(updateUserRoles(admin.id, { userId: admin.id, roles: ['engineer'], agentRoles: [], active: true }));
    expect(last.message).toMatch(/at least one active admin/);
  });

  it("deactivating a person pauses the running agents they own, with the reason, and their tokens stop", async () => {
    const owner = await makeUser({ roles: ['engineer'] });
    const running = await createAgent(admin.id, { name: `own-${owner.id.slice(0, 8)}`, agentRoles: ['postgres-pro'], ownerId: owner.id });
    const { secret } = await issueAgentToken(admin.id, { agentId: running.id, name: 'laptop' });
    expect((await authenticateToken(secret)).id).toBe(running.id);

    const saved = await updateUserRoles(admin.id, { userId: owner.id, roles: ['engineer'], agentRoles: [], active: false });
    expect(saved.pausedAgents).toEqual([`own-${owner.id.slice(0, 8)}`]);
    expect((await db().user.findUniqueOrThrow({ where: { id: running.id } })).pausedAt).toBeInstanceOf(Date);
    await expect(authenticateToken(secret)).rejects.toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(/paused/) });
    const audit = await db().auditLog.findFirstOrThrow({ where: { entityId: running.id, action: 'agent.paused' } });
    expect(audit).toMatchObject({ actorId: admin.id, after: { reason: expect.stringContaining('was deactivated') } });
    // Nobody answers for it: it cannot be resumed until it has an active owner.
    await expect(setAgentPaused(admin.id, { agentId: running.id, paused: false })).rejects.toMatchObject({ code: 'conflict', message: expect.stringMatching(/no longer active: give it an active owner/) });
    expect((await db().user.findUniqueOrThrow({ where: { id: running.id } })).pausedAt).toBeInstanceOf(Date);
    // Saving the inactive person again pauses nothing more.
    expect((await updateUserRoles(admin.id, { userId: owner.id, roles: ['engineer'], agentRoles: [], active: false })).pausedAgents).toEqual([]);
  });

  it('refuses non-admins', async () => {
    const lead = await makeUser({ roles: ['lead'] });
    expect(await refusal(createUser(lead.id, { email: 'x@example.com', name: 'X', password: 'long enough pass', roles: ['admin'], agentRoles: [] }))).toMatchObject({ code: 'forbidden' });
    expect(await refusal(updateUserRoles(lead.id, { userId: lead.id, roles: ['admin'], agentRoles: [], active: true }))).toMatchObject({ code: 'forbidden' });
    expect(await db().user.findUniqueOrThrow({ where: { id: lead.id } })).toMatchObject({ roles: ['lead'] });
  });

  it('the database itself refuses unknown agent roles', async () => {
    const err = await db().user.create({ data: { email: 'bad@example.com', name: 'B', passwordHash: 'x', roles: [], agentRoles: ['wizard'] } }).catch((e) => e);
    expect(String(err.message)).toMatch(/users_agent_roles_check/);
  });
});
