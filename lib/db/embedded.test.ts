import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { describeRejection, embeddedStartFailure, portInUse } from './embedded';

describe('embedded PostgreSQL start failures', () => {
  it('describes rejections that are not Errors, including undefined', () => {
    expect(describeRejection(undefined)).toBeUndefined();
    expect(describeRejection(new Error('boom'))).toBe('boom');
    expect(describeRejection('exit code 1')).toBe('exit code 1');
    expect(describeRejection({ message: 'odd' })).toBe('odd');
    expect(describeRejection({ code: 1 })).toBe('{"code":1}');
  });

  it('names the env var to set when the port is taken, even for an undefined rejection', () => {
    const msg = embeddedStartFailure('/data/pg', 54329, undefined, true);
    expect(msg).toContain('port 54329');
    expect(msg).toContain('is in use');
    expect(msg).toContain('CUTOVER_EMBEDDED_PG_PORT');
    expect(msg).not.toContain('undefined');
    expect(embeddedStartFailure('/data/pg', 54329, new Error('initdb failed'), false)).toContain('(initdb failed)');
  });

  it('sees a port that something listens on as in use', async () => {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as { port: number };
    try {
      expect(await portInUse(port)).toBe(true);
    } finally {
      await new Promise((r) => server.close(r));
    }
    expect(await portInUse(port)).toBe(false);
  });
});
