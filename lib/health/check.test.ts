import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth, MAX_HEALTH_BODY_BYTES } from './check';
import { guardedLookup, outboundUrlProblem, refusedAddressReason } from './outbound';

// A real HTTP server on loopback: each path answers differently.
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/ok') return res.writeHead(200).end('{"status":"ok"}');
    if (req.url === '/down') return res.writeHead(503).end('maintenance');
    if (req.url === '/redirect') return res.writeHead(302, { location: '/login' }).end();
    if (req.url === '/big') return res.writeHead(200).end('x'.repeat(MAX_HEALTH_BODY_BYTES * 20));
    if (req.url === '/slow') return void setTimeout(() => res.writeHead(200).end('late'), 2_000);
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe('checkHealth', () => {
  it('is ok on a 2xx answer and measures latency', async () => {
    const result = await checkHealth(`${base}/ok`);
    expect(result).toMatchObject({ ok: true, status: 200, error: null });
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
  });

  it('fails on a 5xx answer with the status in words', async () => {
    const result = await checkHealth(`${base}/down`);
    expect(result).toMatchObject({ ok: false, status: 503 });
    expect(result.error).toContain('HTTP 503');
  });

  it('does not follow a redirect', async () => {
    const result = await checkHealth(`${base}/redirect`);
    expect(result).toMatchObject({ ok: false, status: 302 });
    expect(result.error).toContain('/login');
  });

  it('times out', async () => {
    const result = await checkHealth(`${base}/slow`, { timeoutMs: 100 });
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.error).toContain('100 ms');
  });

  it('reports a refused connection', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const result = await checkHealth(`http://127.0.0.1:${port}/health`);
    expect(result).toMatchObject({ ok: false, status: null });
    expect(result.error).toContain('connection refused');
  });

  it('refuses schemes other than http and https, and junk', async () => {
    expect((await checkHealth('file:///etc/passwd')).error).toContain('http or https only');
    expect((await checkHealth('ftp://example.com/')).ok).toBe(false);
    expect((await checkHealth('not a url')).error).toContain('not a valid URL');
  });

  it('stops when the caller aborts', async () => {
    const controller = new AbortController();
    const pending = checkHealth(`${base}/slow`, { signal: controller.signal, timeoutMs: 5_000 });
    controller.abort();
    expect((await pending).error).toContain('cancelled');
  });

  it('reads a big answer only up to its bound', async () => {
    expect(await checkHealth(`${base}/big`)).toMatchObject({ ok: true, status: 200 });
  });
});

describe('private addresses (CUTOVER_ALLOW_PRIVATE_HEALTH_URLS unset)', () => {
  const allowed = process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
  beforeAll(() => {
    delete process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
  });
  afterAll(() => {
    if (allowed !== undefined) process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS = allowed;
  });

  it('refuses loopback, link-local and the metadata service, however they are written', () => {
    for (const a of ['127.0.0.1', '127.5.6.7', '0.0.0.0', '::1', '[::1]', '169.254.169.254', '169.254.1.1', 'fe80::1', 'fe80::1%eth0', '::ffff:127.0.0.1', 'fd00:ec2::254']) {
      expect(refusedAddressReason(a), a).not.toBeNull();
    }
    for (const a of ['10.0.0.5', '192.168.1.10', '93.184.216.34', '2001:db8::1', 'example.com']) expect(refusedAddressReason(a), a).toBeNull();
  });

  it('a health check never reaches loopback: neither an address, "localhost", nor a name that resolves there', async () => {
    for (const url of [`${base}/ok`, base.replace('127.0.0.1', 'localhost') + '/ok', 'http://[::1]:1/', 'http://169.254.169.254/latest/meta-data/']) {
      const result = await checkHealth(url);
      expect(result, url).toMatchObject({ ok: false, status: null });
      expect(result.error, url).toMatch(/loopback|link-local|metadata/);
      expect(result.error, url).toContain('CUTOVER_ALLOW_PRIVATE_HEALTH_URLS');
    }
    // At connect time the address the name resolves to is checked again (DNS may have changed since).
    const err = await new Promise<Error | null>((resolve) => guardedLookup('localhost', { all: true }, (e) => resolve(e)));
    expect(err?.message).toMatch(/localhost, which resolves to .* loopback/);
    expect(await outboundUrlProblem('ftp://example.com/', 'health-check URL')).toMatch(/http/);
  });

  it('with CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1 loopback is allowed again', async () => {
    process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS = '1';
    try {
      expect(await checkHealth(`${base}/ok`)).toMatchObject({ ok: true });
    } finally {
      delete process.env.CUTOVER_ALLOW_PRIVATE_HEALTH_URLS;
    }
  });
});
