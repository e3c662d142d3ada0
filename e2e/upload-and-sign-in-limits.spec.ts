import http from 'node:http';
import { expect, test, type BrowserContext } from '@playwright/test';
import { admin, signIn } from './support/auth';
import { E2E_PORT } from './support/env';
import { factory } from './support/factories';

// Over raw HTTP: the upload route answers who may not import before it reads their upload, and
// stops reading an allowed upload at the cap; sign-in limits count the socket's address, which a
// client cannot forge with a header.

const UPLOAD_PATH = '/api/v1/migration-folders?name=big.tar.gz';
const CHUNK = 64 * 1024;

interface Streamed {
  status: number;
  body: string;
  /** Bytes handed to the socket when the answer arrived. */
  sentWhenAnswered: number;
  finishedSending: boolean;
}

/** Streams `total` bytes (a chunk every few ms) and stops as soon as the answer arrives. */
function streamUpload(opts: { cookie?: string; total: number; declareLength?: boolean }): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    let sent = 0;
    let answered = false;
    const headers: Record<string, string | number> = { 'content-type': 'application/octet-stream' };
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.declareLength) headers['content-length'] = opts.total;
    const req = http.request({ host: '127.0.0.1', port: E2E_PORT, method: 'POST', path: UPLOAD_PATH, headers }, (res) => {
      answered = true;
      const sentWhenAnswered = sent;
      const finishedSending = sent >= opts.total;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), sentWhenAnswered, finishedSending });
      });
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const chunk = Buffer.alloc(CHUNK, 0x61);
    const pump = () => {
      if (answered || req.destroyed) return;
      if (sent >= opts.total) return void req.end();
      const n = Math.min(CHUNK, opts.total - sent);
      req.write(n === CHUNK ? chunk : chunk.subarray(0, n));
      sent += n;
      setTimeout(pump, 5);
    };
    pump();
  });
}

async function cookieOf(context: BrowserContext): Promise<string> {
  return (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
}

const MB = 1024 * 1024;

test('the upload route refuses anonymous and no-role callers before reading the upload, and stops an allowed one at the cap', async ({ browser }) => {
  test.setTimeout(120_000);
  const total = 40 * MB; // about 3 s to send at this pace

  const anonymous = await streamUpload({ total });
  expect(anonymous.status, anonymous.body).toBe(401);
  expect(anonymous.finishedSending).toBe(false);
  expect(anonymous.sentWhenAnswered).toBeLessThan(total / 4);

  const noRole = await factory.createUser({ name: 'Upload no-role', roles: [] });
  const noRoleContext = await browser.newContext();
  await signIn(noRoleContext, noRole);
  const refused = await streamUpload({ cookie: await cookieOf(noRoleContext), total });
  expect(refused.status, refused.body).toBe(403);
  expect(refused.finishedSending).toBe(false);
  expect(refused.sentWhenAnswered).toBeLessThan(total / 4);
  // A role that may do other things but not import: refused the same way.
  const engineer = await factory.createUser({ name: 'Upload engineer', roles: ['engineer'] });
  const engineerContext = await browser.newContext();
  await signIn(engineerContext, engineer);
  const engineerRefused = await streamUpload({ cookie: await cookieOf(engineerContext), total, declareLength: true });
  expect(engineerRefused.status, engineerRefused.body).toBe(403);
  expect(engineerRefused.finishedSending).toBe(false);

  const adminContext = await browser.newContext();
  await signIn(adminContext, admin);
  const cookie = await cookieOf(adminContext);
  // A declared length over the cap: refused at once.
  const declared = await streamUpload({ cookie, total, declareLength: true });
  expect(declared.status, declared.body).toBe(413);
  expect(declared.sentWhenAnswered).toBeLessThan(total / 4);
  // Chunked (no length): read up to the cap, then refused, long before the end.
  const chunked = await streamUpload({ cookie, total });
  expect(chunked.status, chunked.body).toBe(413);
  expect(JSON.parse(chunked.body)).toMatchObject({ error: { code: 'payload_too_large', message: 'Archives can be at most 10 MB.' } });
  expect(chunked.finishedSending).toBe(false);
  expect(chunked.sentWhenAnswered).toBeLessThan(total / 2);
  for (const c of [noRoleContext, engineerContext, adminContext]) await c.close();
});

test('the import form shows the size refusal under the field', async ({ page, context }) => {
  await signIn(context, admin);
  await page.goto('/migrations');
  await page.getByLabel('Prisma migrations folder (.tar.gz or .zip)').setInputFiles({ name: 'huge.tar.gz', mimeType: 'application/gzip', buffer: Buffer.alloc(11 * MB, 1) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('error-archive')).toHaveText('Archives can be at most 10 MB.');
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/migrations$/);
});

/** One sign-in over raw HTTP from a chosen loopback address, with optional extra headers. */
async function signInFrom(localAddress: string, email: string, password: string, extra: Record<string, string> = {}): Promise<string> {
  const send = (method: string, path: string, headers: Record<string, string>, body?: string) =>
    new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: E2E_PORT, method, path, localAddress, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const csrf = await send('GET', '/api/auth/csrf', extra);
  const cookie = (csrf.headers['set-cookie'] ?? []).map((c) => c.split(';')[0]).join('; ');
  const { csrfToken } = JSON.parse(csrf.body) as { csrfToken: string };
  const form = new URLSearchParams({ csrfToken, email, password, json: 'true' }).toString();
  const res = await send('POST', '/api/auth/callback/credentials', { ...extra, cookie, 'content-type': 'application/x-www-form-urlencoded' }, form);
  const signedIn = (res.headers['set-cookie'] ?? []).some((c) => /next-auth\.session-token=[^;]+/.test(c));
  if (signedIn) return 'signed in';
  const url = (JSON.parse(res.body) as { url?: string }).url ?? '';
  return decodeURIComponent(new URL(url, 'http://x').searchParams.get('error') ?? `status ${res.status}`).replace(/\+/g, ' ');
}

test('sign-in limits count the socket address: a forged header does not reset them, and the owner signs in from elsewhere', async () => {
  const victim = await factory.createUser({ name: 'Limits victim' });
  // Ten failures from 127.0.0.3, each claiming another address in the header the web server sets itself.
  for (let i = 0; i < 10; i++) {
    expect(await signInFrom('127.0.0.3', victim.email, `wrong-${i}`, { 'x-cutover-client-address': `10.0.0.${i + 1}`, 'x-forwarded-for': `10.1.0.${i + 1}` })).toBe('CredentialsSignin');
  }
  expect(await signInFrom('127.0.0.3', victim.email, victim.password, { 'x-cutover-client-address': '10.0.0.99' })).toBe('Too many attempts; try again in 15 minutes.');
  // The owner, from an address that has not been failing, is not locked out.
  expect(await signInFrom('127.0.0.4', victim.email, victim.password)).toBe('signed in');
});
