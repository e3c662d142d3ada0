/**
 * Reads a request body into memory, at most `max` bytes: a declared Content-Length over the cap
 * is refused before anything is read, and the stream is cancelled as soon as it passes the cap
 * (a chunked body declares nothing). Null when the body is too large.
 */
export async function readBodyCapped(req: Request, max: number): Promise<Buffer | null> {
  const declared = Number(req.headers.get('content-length') ?? NaN);
  if (declared > max) return null;
  if (!req.body) return Buffer.alloc(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}
