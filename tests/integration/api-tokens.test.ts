import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDb } from '@/lib/db/client';
import { authorizeCredentials } from '@/lib/auth/authorize';
import { authenticateToken } from '@/lib/auth/api-tokens';
import { listApiTokens } from '@/lib/data/api-tokens';
import { loadActor } from '@/lib/auth/actor';
import { issueApiToken, revokeApiToken } from '@/lib/services/api-tokens';
import { approveDeployment } from '@/lib/services/deploy';
import { fileRequest } from '@/lib/services/file-request';
import { hashPassword, updateUserRoles } from '@/lib/services/manage-users';
import { IssueApiTokenSchema } from '@/lib/validation/api-token';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';
import { callRoute } from '../support/api-routes';

vi.mock('next/headers', async () => (await import('../support/api-routes')).nextHeadersMock());
vi.mock('next/cache', () => ({ revalidatePath: () => undefined }));
vi.mock('@/lib/auth/session', async (orig) => ({ ...(await orig<object>()), ...(await import('../support/api-routes')).sessionMock() }));

const statusRoute = await import('@/app/api/v1/requests/[id]/status/route');
const transitionsRoute = await import('@/app/api/v1/tasks/[id]/transitions/route');
const signaturesRoute = await import('@/app/api/v1/gate-items/[id]/signatures/route');
const requestsRoute = await import('@/app/api/v1/requests/route');

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let requestId: string;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'] });
  const target = await makeTarget();
  ({ id: requestId } = await fileRequest(admin.id, { title: 'Tokens', kind: 'schema_change', targetId: target.id, description: 'CI reads this.', priority: 'LOW' }));
});

afterAll(async () => {
  await store?.close();
});

const issue = (role: string, opts: { expiresInDays?: number; now?: Date } = {}) =>
  issueApiToken(admin.id, IssueApiTokenSchema.parse({ name: `CI ${role}`, role, expiresInDays: opts.expiresInDays }), opts.now);
const status = (call: Parameters<typeof callRoute>[4]) => callRoute(statusRoute.GET, 'GET', `/api/v1/requests/${requestId}/status`, { id: requestId }, call);

describe('API tokens: issued by admins, shown once, stored hashed, last used, revocable', () => {
  it('stores only the hash, binds the token to a new automation account holding exactly its role, and works as a bearer', async () => {
    const token = await issue('test-automator');
    expect(token.secret).toMatch(/^cut_[A-Za-z0-9_-]{43}$/);
    expect(token.secret.startsWith(token.prefix)).toBe(true);

    const row = await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id }, include: { user: true } });
    expect(row.tokenHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(token.secret);
    expect(row.user).toMatchObject({ kind: 'automation', roles: [], agentRoles: ['test-automator'], active: true });
    const audits = await getDb().auditLog.findMany({ where: { entityId: token.id } });
    expect(audits.map((a) => a.action)).toEqual(['api_token.issued']);
    expect(JSON.stringify(audits)).not.toContain(token.secret);
    expect(JSON.stringify(audits)).not.toContain(row.tokenHash);

    // The list shows the prefix, never the hash.
    const listed = (await listApiTokens(await loadActor(getDb(), admin.id))).find((t) => t.id === token.id)!;
    expect(listed).toMatchObject({ name: 'CI test-automator', role: 'test-automator', prefix: token.prefix, state: 'active', lastUsedAt: null });
    expect(JSON.stringify(listed)).not.toContain(row.tokenHash);

    const res = await status({ token: token.secret });
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ id: requestId, steps: expect.any(Array), gate: expect.any(Object) });
    const used = await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id } });
    expect(used.lastUsedAt).not.toBeNull();
    // Within a minute, reads do not write the time again.
    expect((await status({ token: token.secret })).status).toBe(200);
    expect((await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id } })).lastUsedAt).toEqual(used.lastUsedAt);
  });

  it('refuses a revoked token at once (401, saying so), deactivates its account, and revoking twice changes nothing', async () => {
    const token = await issue('engineer');
    expect((await status({ token: token.secret })).status).toBe(200);
    await revokeApiToken(admin.id, { tokenId: token.id });
    const refused = await status({ token: token.secret });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: 'unauthenticated', message: expect.stringMatching(/revoked on \d{4}-\d\d-\d\d\. Ask an admin for a new token/) });
    const row = await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id }, include: { user: true } });
    expect(row.revokedAt).not.toBeNull();
    expect(row.user.active).toBe(false);
    // Work the account started is refused where a service reloads who is asking.
    await expect(loadActor(getDb(), row.userId)).rejects.toThrow(/not active/);
    await revokeApiToken(admin.id, { tokenId: token.id });
    expect(await getDb().auditLog.count({ where: { entityId: token.id, action: 'api_token.revoked' } })).toBe(1);
  });

  it('refuses an expired token, an unknown one and a malformed header, never falling back to the cookie', async () => {
    const now = new Date();
    const token = await issue('engineer', { expiresInDays: 1, now });
    await expect(authenticateToken(token.secret, new Date(now.getTime() + 2 * 86_400_000))).rejects.toThrow(/expired on/);
    await getDb().apiToken.update({ where: { id: token.id }, data: { expiresAt: new Date(Date.now() - 1000) } });
    const expired = await status({ token: token.secret });
    expect(expired.status).toBe(401);
    expect(expired.body.error?.message).toMatch(/expired/);

    const unknown = await status({ token: `cut_${'A'.repeat(43)}` });
    expect(unknown).toMatchObject({ status: 401, body: { error: { code: 'unauthenticated', message: expect.stringMatching(/not valid/) } } });
    expect((await status({ token: 'not-a-token' })).status).toBe(401);
    const basic = await status({ authorization: 'Basic YWRtaW46YWRtaW4=' });
    expect(basic.status).toBe(401);
    expect(basic.body.error?.message).toMatch(/Bearer <token>/);
    // A bad token with a good session cookie: still refused, as the token.
    expect((await status({ token: `cut_${'B'.repeat(43)}`, sessionUserId: admin.id })).status).toBe(401);
    // The cookie alone works as before.
    expect((await status({ sessionUserId: admin.id })).status).toBe(200);
    expect((await status({})).status).toBe(401);
  });

  it('are issued and revoked by admins only, and never carry the admin role', async () => {
    const engineer = await makeUser({ roles: ['engineer'] });
    await expect(issueApiToken(engineer.id, { name: 'mine', role: 'engineer' })).rejects.toMatchObject({ code: 'forbidden' });
    const token = await issue('database-administrator');
    await expect(revokeApiToken(engineer.id, { tokenId: token.id })).rejects.toMatchObject({ code: 'forbidden' });
    expect(IssueApiTokenSchema.safeParse({ name: 'root', role: 'admin' }).success).toBe(false);
    // Nor reviewer nor lead: a token is no second pair of eyes.
    expect(IssueApiTokenSchema.safeParse({ name: 'signer', role: 'reviewer' }).success).toBe(false);
    expect(IssueApiTokenSchema.safeParse({ name: 'approver', role: 'lead' }).success).toBe(false);
    expect(await getDb().apiToken.count({ where: { issuedById: engineer.id } })).toBe(0);
  });

  it("keep their account to their role: it cannot sign in, and its roles cannot be changed", async () => {
    const token = await issue('engineer');
    const account = (await getDb().apiToken.findUniqueOrThrow({ where: { id: token.id }, include: { user: true } })).user;
    // Even with a password that matches (a tampered row), an automation account gets no session.
    await getDb().user.update({ where: { id: account.id }, data: { passwordHash: await hashPassword('a-known-password-123') } });
    expect(await authorizeCredentials({ email: account.email, password: 'a-known-password-123' }, {})).toBeNull();
    await expect(updateUserRoles(admin.id, { userId: account.id, roles: ['admin'], agentRoles: [], active: true })).rejects.toMatchObject({ code: 'conflict' });
    expect((await getDb().user.findUniqueOrThrow({ where: { id: account.id } })).roles).toEqual(['engineer']);
  });

  it('a reviewer or lead token issued before those roles were withdrawn signs no gate item and approves no deploy', async () => {
    // Such tokens were issued as an automation account holding that one role: made the same way here.
    const legacy = async (role: 'reviewer' | 'lead') => {
      const token = await issue('engineer');
      const row = await getDb().apiToken.update({ where: { id: token.id }, data: { role } });
      await getDb().user.update({ where: { id: row.userId }, data: { roles: [role] } });
      return { ...token, accountId: row.userId };
    };
    const reviewerToken = await legacy('reviewer');
    const gateItem = await getDb().gateItem.findFirstOrThrow({ where: { requestId } });
    const before = await getDb().gateSignature.count();
    const sign = await callRoute(signaturesRoute.POST, 'POST', `/api/v1/gate-items/${gateItem.id}/signatures`, { id: gateItem.id }, {
      token: reviewerToken.secret, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 'LGTM' }),
    });
    expect(sign).toMatchObject({ status: 403, body: { error: { message: 'Quality-gate signatures and production approvals are for people, not tokens.' } } });
    expect(await getDb().gateSignature.count()).toBe(before);

    const leadToken = await legacy('lead');
    await expect(approveDeployment(leadToken.accountId, { requestId, environmentId: randomUUID() }))
      .rejects.toMatchObject({ code: 'forbidden', message: 'Quality-gate signatures and production approvals are for people, not tokens.' });
  });
});

describe('a token of one role cannot act as another', () => {
  it('a test-automator token cannot work the Analysis step, sign the gate or file a request; an engineer token files one', async () => {
    const automator = await issue('test-automator');
    const analysis = await getDb().task.findFirstOrThrow({ where: { requestId, key: 'analysis' } });
    const before = await getDb().auditLog.count();
    const start = await callRoute(transitionsRoute.POST, 'POST', `/api/v1/tasks/${analysis.id}/transitions`, { id: analysis.id }, {
      token: automator.secret, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ transition: 'start' }),
    });
    expect(start.status).toBe(403);
    const gateItem = await getDb().gateItem.findFirstOrThrow({ where: { requestId } });
    const sign = await callRoute(signaturesRoute.POST, 'POST', `/api/v1/gate-items/${gateItem.id}/signatures`, { id: gateItem.id }, {
      token: automator.secret, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ note: 'LGTM' }),
    });
    expect(sign.status).toBe(403);
    const target = await getDb().targetDatabase.findFirstOrThrow();
    const filing = { title: 'From CI', kind: 'schema_change', targetId: target.id, description: 'Filed with a token.' };
    const asAutomator = await callRoute(requestsRoute.POST, 'POST', '/api/v1/requests', {}, { token: automator.secret, headers: { 'content-type': 'application/json' }, body: JSON.stringify(filing) });
    expect(asAutomator.status).toBe(403);
    expect(await getDb().auditLog.count()).toBe(before);
    expect((await getDb().task.findUniqueOrThrow({ where: { id: analysis.id } })).status).toBe('pending');

    const engineer = await issue('engineer');
    const filed = await callRoute(requestsRoute.POST, 'POST', '/api/v1/requests', {}, { token: engineer.secret, headers: { 'content-type': 'application/json' }, body: JSON.stringify(filing) });
    expect(filed.status).toBe(201);
    const made = await getDb().migrationRequest.findUniqueOrThrow({ where: { id: filed.body.data.id }, include: { author: true } });
    // The audit trail names the token's account, not the admin who issued it.
    expect(made.author).toMatchObject({ kind: 'automation', name: 'CI engineer (API token)' });
  });

  it('a cross-site call is refused with the cookie but not with a token (browsers never send one on their own)', async () => {
    const engineer = await issue('engineer');
    const target = await getDb().targetDatabase.findFirstOrThrow();
    const body = JSON.stringify({ title: 'Cross-site', kind: 'schema_change', targetId: target.id, description: 'From elsewhere.' });
    const evil = { 'content-type': 'application/json', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' };
    const cookieEngineer = await makeUser({ roles: ['engineer'] });
    const viaCookie = await callRoute(requestsRoute.POST, 'POST', '/api/v1/requests', {}, { sessionUserId: cookieEngineer.id, headers: evil, body });
    expect(viaCookie).toMatchObject({ status: 403, body: { error: { code: 'cross_site' } } });
    const viaToken = await callRoute(requestsRoute.POST, 'POST', '/api/v1/requests', {}, { token: engineer.secret, headers: evil, body });
    expect(viaToken.status).toBe(201);
  });
});
