import { expect, test } from '@playwright/test';
import { admin, signIn } from './support/auth';
import { factory } from './support/factories';

// The JSON API shares the actions' session check, zod schemas and services; these specs
// check the HTTP side: status codes, error bodies, nothing written on refusal.

test('answers 401 without a session, for reads and writes', async ({ playwright }) => {
  const anon = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  const list = await anon.get('/api/v1/requests');
  expect(list.status()).toBe(401);
  expect((await list.json()).error).toMatchObject({ code: 'unauthenticated' });
  const post = await anon.post('/api/v1/requests', { data: { title: 'x' } });
  expect(post.status()).toBe(401);
  await anon.dispose();
});

test('files, reads and works a request; refuses bad input and outsiders with 4xx and writes nothing', async ({ context }) => {
  const engineer = await factory.createUser({ name: 'API Engineer', roles: ['engineer'] });
  const optimizer = await factory.createUser({ name: 'API Optimizer', roles: ['engineer'], agentRoles: ['postgres-pro'] });
  await signIn(context, admin);
  const targets = await context.request.get('/api/v1/requests?pageSize=1');
  expect(targets.status()).toBe(200);
  const totalBefore = (await targets.json()).data.total as number;

  await context.clearCookies();
  await signIn(context, engineer);
  const api = context.request;

  const bad = await api.post('/api/v1/requests', { data: { title: 'ab', kind: 'nonsense', targetId: 'not-a-uuid', description: 42 } });
  expect(bad.status()).toBe(422); // well-formed JSON, invalid input: 422, as the domain says
  const badBody = await bad.json();
  expect(badBody.error.code).toBe('invalid');
  expect(Object.keys(badBody.error.fieldErrors).sort()).toEqual(['description', 'kind', 'targetId', 'title']);

  const notJson = await api.post('/api/v1/requests', { headers: { 'content-type': 'application/json' }, data: Buffer.from('{"title": ') });
  expect(notJson.status()).toBe(400);
  expect((await notJson.json()).error).toMatchObject({ code: 'invalid_json', message: 'The request body is not valid JSON.' });

  const unknownTarget = await api.post('/api/v1/requests', {
    data: { title: 'Index orders', kind: 'index_optimization', targetId: '0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4', description: 'Add an index on orders.placed_at' },
  });
  expect(unknownTarget.status()).toBe(422);
  expect((await unknownTarget.json()).error.fieldErrors.targetId).toEqual(['That target database does not exist.']);
  expect((await (await api.get('/api/v1/requests?pageSize=1')).json()).data.total).toBe(totalBefore);

  const demo = (await factory.fileRequest(engineer)).id; // any request, to find the demo target's id
  const demoTargetId = (await (await api.get(`/api/v1/requests/${demo}`)).json()).data.target.id as string;
  const created = await api.post('/api/v1/requests', {
    data: { title: 'Index orders by placed_at', kind: 'index_optimization', targetId: demoTargetId, description: 'Add an index on orders.placed_at' },
  });
  expect(created.status()).toBe(201);
  const { id } = (await created.json()).data;

  const detail = await api.get(`/api/v1/requests/${id}`);
  expect(detail.status()).toBe(200);
  const request = (await detail.json()).data;
  expect(request.priority).toBe('HIGH');
  expect(request.tasks).toHaveLength(9);
  expect(JSON.stringify(request)).not.toMatch(/password/i);

  expect((await api.get('/api/v1/requests/0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4')).status()).toBe(404);
  expect((await api.get('/api/v1/requests/nope')).status()).toBe(422);

  const analysis = request.tasks[0].id as string;
  const refused = await api.post(`/api/v1/tasks/${analysis}/transitions`, { data: { transition: 'start' } });
  expect(refused.status()).toBe(403);
  expect((await refused.json()).error.message).toMatch(/^Only holders of database-optimizer or postgres-pro/);

  await context.clearCookies();
  await signIn(context, optimizer);
  const early = await context.request.post(`/api/v1/tasks/${request.tasks[1].id}/transitions`, { data: { transition: 'start' } });
  expect(early.status()).toBe(403); // not their role either
  const started = await context.request.post(`/api/v1/tasks/${analysis}/transitions`, { data: { transition: 'start' } });
  expect(started.status()).toBe(200);
  expect((await started.json()).data).toMatchObject({ status: 'in_progress' });
  const complete = await context.request.post(`/api/v1/tasks/${analysis}/transitions`, { data: { transition: 'complete' } });
  expect(complete.status()).toBe(409);
  // Analysis waits for its evidence (issue 8): a snapshot, the analysis and the written fields.
  expect((await complete.json()).error.message).toMatch(/^"Analyze database change" waits for its evidence: Waiting for a schema snapshot of the target/);
  const blockWithoutReason = await context.request.post(`/api/v1/tasks/${analysis}/transitions`, { data: { transition: 'block' } });
  expect(blockWithoutReason.status()).toBe(422);

  const after = await factory.snapshot({ id });
  expect(after.tasks[0].status).toBe('in_progress');
  expect(after.tasks.slice(1).every((t) => t.status === 'pending')).toBe(true);
});

test('checks who, where from, content type and size before reading a body; writes nothing on refusal', async ({ context, playwright }) => {
  const engineer = await factory.createUser({ name: 'API Rules Engineer', roles: ['engineer'] });
  const body = { title: 'Rules of the API', kind: 'index_optimization', targetId: '0b8c1d2e-3f4a-4b5c-8d6e-7f8091a2b3c4', description: 'Never written.' };

  // Without a session, nothing else is looked at: not the content type, not the size.
  const anon = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL });
  const anonHuge = await anon.post('/api/v1/requests', { headers: { 'content-type': 'text/plain' }, data: 'x'.repeat(2 * 1024 * 1024) });
  expect(anonHuge.status()).toBe(401);
  await anon.dispose();

  await signIn(context, engineer);
  const api = context.request;
  const total = async () => (await (await api.get('/api/v1/requests?pageSize=1')).json()).data.total as number;
  const before = await total();

  const plain = await api.post('/api/v1/requests', { headers: { 'content-type': 'text/plain' }, data: JSON.stringify(body) });
  expect(plain.status()).toBe(415);
  expect((await plain.json()).error).toMatchObject({ code: 'unsupported_media_type', message: 'Send the body as JSON, with Content-Type: application/json.' });
  const form = await api.post('/api/v1/requests', { form: { title: body.title } });
  expect(form.status()).toBe(415);

  const huge = await api.post('/api/v1/requests', { data: { ...body, description: 'x'.repeat(1024 * 1024) } });
  expect(huge.status()).toBe(413);
  expect((await huge.json()).error.code).toBe('payload_too_large');

  const crossOrigin = await api.post('/api/v1/requests', { headers: { origin: 'https://evil.example' }, data: body });
  expect(crossOrigin.status()).toBe(403);
  expect((await crossOrigin.json()).error.code).toBe('cross_site');
  const crossSite = await api.post('/api/v1/requests', { headers: { 'sec-fetch-site': 'cross-site' }, data: body });
  expect(crossSite.status()).toBe(403);
  const sameOrigin = await api.post('/api/v1/requests', { headers: { origin: new URL(test.info().project.use.baseURL!).origin, 'sec-fetch-site': 'same-origin' }, data: body });
  expect(sameOrigin.status()).toBe(422); // past the checks: the unknown target is refused by the service

  expect(await total()).toBe(before);
});
