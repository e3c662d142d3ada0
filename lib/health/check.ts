// No 'server-only' here: the worker (tsx scripts/worker.ts, npm start) imports this outside Next, where it throws.
import http from 'node:http';
import https from 'node:https';
import { guardedLookup, outboundUrlProblem, RefusedAddressError } from './outbound';

/** What one poll of an application's health-check URL found. */
export interface HealthCheckResult {
  ok: boolean;
  /** HTTP status code; null when no response arrived (refused, timed out, bad URL). */
  status: number | null;
  latencyMs: number;
  /** Why it is not ok, in words a person can act on; null when ok. */
  error: string | null;
}

export interface HealthCheckOptions {
  /** Give up after this long (default 5 s). */
  timeoutMs?: number;
  /** Abort early, e.g. when the worker shuts down. */
  signal?: AbortSignal;
}

export const DEFAULT_HEALTH_TIMEOUT_MS = 5_000;

/**
 * A failed check as every reader may see it: the status only. The full error (socket codes,
 * redirect Locations, the application's address) stays in the evidence for admins and the
 * Post-deployment step's holders.
 */
export function publicHealthError(result: { status: number | null }): string {
  return result.status === null ? 'unreachable' : `unhealthy (HTTP ${result.status})`;
}

/** The most of a health endpoint's answer that is read: its status decides, the body is only drained. */
export const MAX_HEALTH_BODY_BYTES = 64 * 1024;

/**
 * GET the URL once. Healthy means a 2xx answer within the timeout. Only http and https are
 * accepted, so a health-check URL typed by an admin can never read local files or other schemes;
 * and the address it connects to may not be loopback, link-local or the metadata service unless
 * CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1 (lib/health/outbound.ts), checked on the address the socket
 * really uses. Redirects are not followed: a health endpoint that redirects (often to a login page)
 * is not saying the application works, and a redirect could point anywhere. At most
 * MAX_HEALTH_BODY_BYTES of the answer are read.
 */
export async function checkHealth(url: string, options: HealthCheckOptions = {}): Promise<HealthCheckResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_HEALTH_TIMEOUT_MS;
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);

  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, status: null, latencyMs: 0, error: `"${url}" is not a valid URL.` };
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return {
      ok: false,
      status: null,
      latencyMs: 0,
      error: `Health checks use http or https only, not ${parsed.protocol.replace(/:$/, '')}.`,
    };
  }
  // An address in the URL itself never goes through the lookup below: checked here (with "localhost").
  const problem = await outboundUrlProblem(parsed.href, 'health-check URL');
  if (problem) return { ok: false, status: null, latencyMs: elapsed(), error: problem };

  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const status = await getStatus(parsed, signal);
    const latencyMs = elapsed();
    if (status.code >= 200 && status.code < 300) {
      return { ok: true, status: status.code, latencyMs, error: null };
    }
    const where = status.code >= 300 && status.code < 400 ? ` (redirects to ${status.location ?? 'elsewhere'})` : '';
    return {
      ok: false,
      status: status.code,
      latencyMs,
      error: `The health check answered HTTP ${status.code}${where}; a healthy application answers 2xx.`,
    };
  } catch (error) {
    const latencyMs = elapsed();
    if (timeout.aborted) {
      return { ok: false, status: null, latencyMs, error: `No answer within ${timeoutMs} ms.` };
    }
    if (options.signal?.aborted) {
      return { ok: false, status: null, latencyMs, error: 'The health check was cancelled.' };
    }
    if (error instanceof RefusedAddressError) return { ok: false, status: null, latencyMs, error: error.message };
    return { ok: false, status: null, latencyMs, error: `Could not reach ${parsed.origin}: ${describeFetchError(error)}.` };
  }
}

/** One GET through node:http(s) with the guarded lookup; resolves with the status once the (bounded) body is drained. */
function getStatus(url: URL, signal: AbortSignal): Promise<{ code: number; location: string | null }> {
  return new Promise((resolve, reject) => {
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'GET',
      headers: { accept: 'application/json, text/plain, */*', 'user-agent': 'Cutover health check', 'cache-control': 'no-store' },
      lookup: guardedLookup,
      signal,
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const answer = { code: response.statusCode ?? 0, location: response.headers.location ?? null };
      let read = 0;
      // Drain so the connection is released; past the bound, stop reading: the status is already known.
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read > MAX_HEALTH_BODY_BYTES) {
          response.destroy();
          resolve(answer);
        }
      });
      response.on('end', () => resolve(answer));
      response.on('error', () => resolve(answer));
      response.on('close', () => resolve(answer));
    });
    request.end();
  });
}

function describeFetchError(error: unknown): string {
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err?.code ?? err?.cause?.code;
  if (code === 'ECONNREFUSED') return 'connection refused (is the application running?)';
  if (code === 'ENOTFOUND') return 'host not found';
  if (code) return `${code}${err.message ? ` (${err.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
