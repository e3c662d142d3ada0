import { describe, expect, it } from 'vitest';
import { UsageError } from '../command';
import { isLoopbackHost, mcpEndpoint } from './mcp';

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
