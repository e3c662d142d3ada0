import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UsageError } from '../command';
import { bridgeStdio, isLoopbackHost, mcpEndpoint } from './mcp';

describe('cutover mcp: where the bridge sends the token', () => {
  it('accepts https:// anywhere and http:// to this machine, adding /api/mcp', () => {
    expect(mcpEndpoint('https://cutover.example.com', false).href).toBe('https://cutover.example.com/api/mcp');
    expect(mcpEndpoint('https://cutover.example.com/base/', false).href).toBe('https://cutover.example.com/base/api/mcp');
    expect(mcpEndpoint('http://localhost:3000', false).href).toBe('http://localhost:3000/api/mcp');
    expect(mcpEndpoint('http://127.0.0.1:3000/api/mcp', false).href).toBe('http://127.0.0.1:3000/api/mcp');
    expect(mcpEndpoint('http://[::1]:3000', false).href).toBe('http://[::1]:3000/api/mcp');
  });

  it('refuses http:// to another host, saying why and how to allow it, unless allowed', () => {
    for (const url of ['http://cutover.example.com', 'http://10.0.0.5:3000', 'http://127.0.0.1.nip.io', 'http://localhost.example.com', 'http://[::ffff:a00:5]']) {
      expect(() => mcpEndpoint(url, false), url).toThrow(UsageError);
    }
    expect(() => mcpEndpoint('http://cutover.example.com:3000', false)).toThrow(
      "CUTOVER_URL is http:// to cutover.example.com, another machine: the agent's token would cross the network in clear. Use https://, or set CUTOVER_ALLOW_INSECURE_URL=1 if the network between is trusted.",
    );
    expect(mcpEndpoint('http://cutover.example.com:3000', true).href).toBe('http://cutover.example.com:3000/api/mcp');
  });

  it('reads the allowance from CUTOVER_ALLOW_INSECURE_URL=1 only', () => {
    const before = process.env.CUTOVER_ALLOW_INSECURE_URL;
    try {
      process.env.CUTOVER_ALLOW_INSECURE_URL = 'yes';
      expect(() => mcpEndpoint('http://cutover.example.com')).toThrow(/in clear/);
      process.env.CUTOVER_ALLOW_INSECURE_URL = '1';
      expect(mcpEndpoint('http://cutover.example.com').protocol).toBe('http:');
    } finally {
      if (before === undefined) delete process.env.CUTOVER_ALLOW_INSECURE_URL;
      else process.env.CUTOVER_ALLOW_INSECURE_URL = before;
    }
  });

  it('knows loopback names and addresses', () => {
    expect(['localhost', 'LOCALHOST', '127.0.0.1', '127.1.2.3', '[::1]', '::1'].every(isLoopbackHost)).toBe(true);
    expect(['example.com', '10.0.0.1', '128.0.0.1', '127.0.0.1.example.com', '0.0.0.0', '[::]'].some(isLoopbackHost)).toBe(false);
  });
});

/**
 * A stand-in for Cutover's /api/mcp on loopback: answers each JSON-RPC request with JSON after
 * `delayMs`, echoing the method and the bearer token it was sent.
 */
let server: http.Server;
let endpoint: URL;
const DELAY_MS = 300;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      if (req.method !== 'POST') return void res.writeHead(405).end(); // as Cutover: no SSE stream to open
      const message = JSON.parse(body) as { id?: number; method: string };
      if (message.id === undefined) return void res.writeHead(202).end();
      setTimeout(() => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { method: message.method, auth: req.headers.authorization } }));
      }, DELAY_MS);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/mcp`);
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

/** Pipes `lines` into the bridge, closes its stdin at once (as `echo ... | cutover mcp` does) and returns what it wrote. */
async function runBridge(to: URL, lines: object[], drainMs?: number) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const errors: string[] = [];
  let out = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  const done = bridgeStdio({ endpoint: to, token: 'cut_test', io: { out: () => undefined, err: (l) => errors.push(l) }, stdin, stdout, drainMs });
  stdin.end(lines.map((l) => JSON.stringify(l) + '\n').join(''));
  await done;
  return { answers: out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { id: number; result?: Record<string, unknown>; error?: { message: string } }), errors };
}

describe('cutover mcp: the stdio bridge', () => {
  it('answers every call sent before stdin closed, instead of aborting them', async () => {
    const { answers, errors } = await runBridge(endpoint, [
      { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'resources/list' },
    ]);
    expect(errors).toEqual([]);
    expect(answers.sort((a, b) => a.id - b.id)).toEqual([
      { jsonrpc: '2.0', id: 1, result: { method: 'tools/list', auth: 'Bearer cut_test' } },
      { jsonrpc: '2.0', id: 2, result: { method: 'resources/list', auth: 'Bearer cut_test' } },
    ]);
  });

  it('waits for calls in flight only so long, then says what it abandoned', async () => {
    const { answers, errors } = await runBridge(endpoint, [{ jsonrpc: '2.0', id: 7, method: 'tools/list' }], 20);
    expect(errors).toEqual(['cutover mcp: stdin closed; 1 call(s) still unanswered after 0.02 s are abandoned.']);
    expect(answers.filter((a) => a.result)).toEqual([]);
  });

  it('with Cutover down, names the URL and the cause', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const down = new URL(`http://127.0.0.1:${(closed.address() as AddressInfo).port}/api/mcp`);
    await new Promise((resolve) => closed.close(resolve));

    const { answers } = await runBridge(down, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
    expect(answers).toHaveLength(1);
    expect(answers[0]!.error?.message).toBe(
      `Cutover's MCP endpoint ${down.href} could not be reached: fetch failed (connect ECONNREFUSED ${down.host}). Is Cutover running there, and is CUTOVER_URL right?`,
    );
  });
});
