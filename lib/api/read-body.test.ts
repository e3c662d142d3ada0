import { describe, expect, it } from 'vitest';
import { readBodyCapped } from './read-body';

/** A request whose body counts how many chunks were pulled from it (1 KiB each, `chunks` of them). */
function countingRequest(chunks: number, headers: Record<string, string> = {}) {
  const seen = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (seen.pulled === chunks) return controller.close();
      seen.pulled += 1;
      controller.enqueue(new Uint8Array(1024).fill(seen.pulled % 256));
    },
    cancel() {
      seen.cancelled = true;
    },
  }, { highWaterMark: 0 });
  const req = new Request('http://x/upload', { method: 'POST', body, headers, duplex: 'half' } as RequestInit);
  return { req, seen };
}

describe('readBodyCapped', () => {
  it('reads a body within the cap whole', async () => {
    const { req, seen } = countingRequest(5);
    const bytes = await readBodyCapped(req, 10 * 1024);
    expect(bytes?.length).toBe(5 * 1024);
    expect(seen.pulled).toBe(5);
  });

  it('refuses a declared length over the cap without pulling a byte', async () => {
    const { req, seen } = countingRequest(100, { 'content-length': String(100 * 1024) });
    expect(await readBodyCapped(req, 10 * 1024)).toBeNull();
    expect(seen.pulled).toBe(0);
  });

  it('stops pulling an undeclared body once it passes the cap, and cancels the rest', async () => {
    const { req, seen } = countingRequest(1000);
    expect(await readBodyCapped(req, 10 * 1024)).toBeNull();
    expect(seen.pulled).toBeLessThanOrEqual(12);
    expect(seen.cancelled).toBe(true);
  });
});
