/** HTTP side: next-auth's credentials sign-in, and timed page loads with content checks. */

/** Cookie jar for one origin: name -> value, from Set-Cookie headers. */
export class Cookies {
  private jar = new Map<string, string>();
  take(res: Response) {
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair.indexOf('=');
      if (eq > 0) this.jar.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }
  has(name: string) { return this.jar.has(name); }
  header() { return [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '); }
}

/** GET /api/auth/csrf, then POST /api/auth/callback/credentials (form-encoded), keeping cookies. */
export async function signIn(baseUrl: string, email: string, password: string): Promise<string> {
  const cookies = new Cookies();
  const csrfRes = await fetch(`${baseUrl}/api/auth/csrf`);
  cookies.take(csrfRes);
  const { csrfToken } = (await csrfRes.json()) as { csrfToken: string };
  const res = await fetch(`${baseUrl}/api/auth/callback/credentials`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: cookies.header() },
    body: new URLSearchParams({ csrfToken, email, password, callbackUrl: `${baseUrl}/requests`, json: 'true' }).toString(),
  });
  cookies.take(res);
  await res.arrayBuffer();
  const session = ['next-auth.session-token', '__Secure-next-auth.session-token'].find((n) => cookies.has(n));
  if (!session) throw new Error(`Sign-in failed (HTTP ${res.status}, location ${res.headers.get('location')}): no session cookie.`);
  return cookies.header();
}

export interface PageResult {
  ms: number;
  status: number;
  location: string | null;
  body: string;
}

/** One timed GET: from sending the request until the whole body is read. No redirects followed. */
export async function timedGet(url: string, cookie: string): Promise<PageResult> {
  const t0 = performance.now();
  const res = await fetch(url, { headers: { cookie }, redirect: 'manual', signal: AbortSignal.timeout(30_000) });
  const body = await res.text();
  return { ms: performance.now() - t0, status: res.status, location: res.headers.get('location'), body };
}
