// No 'server-only' here: the worker (tsx scripts/worker.ts, npm start) imports this outside Next, where it throws.

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

/**
 * GET the URL once. Healthy means a 2xx answer within the timeout. Only http and https are
 * accepted, so a health-check URL typed by an admin can never read local files or other schemes.
 * Redirects are not followed: a health endpoint that redirects (often to a login page) is not
 * saying the application works.
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

  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await fetch(parsed, {
      method: 'GET',
      redirect: 'manual',
      cache: 'no-store',
      headers: { accept: 'application/json, text/plain, */*', 'user-agent': 'Cutover health check' },
      signal,
    });
    // Drain the body so the connection is released; its content does not decide health.
    await response.arrayBuffer().catch(() => undefined);
    const latencyMs = elapsed();
    if (response.status >= 200 && response.status < 300) {
      return { ok: true, status: response.status, latencyMs, error: null };
    }
    const where = response.status >= 300 && response.status < 400 ? ` (redirects to ${response.headers.get('location') ?? 'elsewhere'})` : '';
    return {
      ok: false,
      status: response.status,
      latencyMs,
      error: `The health check answered HTTP ${response.status}${where}; a healthy application answers 2xx.`,
    };
  } catch (error) {
    const latencyMs = elapsed();
    if (timeout.aborted) {
      return { ok: false, status: null, latencyMs, error: `No answer within ${timeoutMs} ms.` };
    }
    if (options.signal?.aborted) {
      return { ok: false, status: null, latencyMs, error: 'The health check was cancelled.' };
    }
    return { ok: false, status: null, latencyMs, error: `Could not reach ${parsed.origin}: ${describeFetchError(error)}.` };
  }
}

function describeFetchError(error: unknown): string {
  // undici wraps the socket error (ECONNREFUSED, ENOTFOUND, ...) in `cause`.
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  if (cause?.code === 'ECONNREFUSED') return 'connection refused (is the application running?)';
  if (cause?.code === 'ENOTFOUND') return 'host not found';
  if (cause?.code) return `${cause.code}${cause.message ? ` (${cause.message})` : ''}`;
  return error instanceof Error ? error.message : String(error);
}
