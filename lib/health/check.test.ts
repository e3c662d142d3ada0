import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkHealth } from './check';

// A real HTTP server on loopback: each path answers differently.
let server: http.Server;
let base: string;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/ok') return res.writeHead(200).end('{"status":"ok"}');
    if (req.url === '/down') return res.writeHead(503).end('maintenance');
    if (req.url === '/redirect') return res.writeHead(302, { location: '/login' }).end();
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
});
