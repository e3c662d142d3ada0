/**
 * Where to go after signing in: a path on this site, or the fallback. Browsers read `/\host`
 * and `//host` as another host, so anything that could leave the origin is refused rather
 * than repaired: backslashes (also percent-encoded), a second leading slash, schemes, control
 * characters.
 */
export function safeCallbackPath(raw: unknown, fallback = '/requests'): string {
  if (typeof raw !== 'string' || raw.length === 0 || raw.length > 2000) return fallback;
  if (!raw.startsWith('/') || raw.startsWith('//')) return fallback;
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return fallback;
  }
  if (/[\\\u0000-\u001f\u007f]/.test(raw) || /[\\\u0000-\u001f\u007f]/.test(decoded) || decoded.startsWith('//')) return fallback;
  const base = 'http://cutover.invalid';
  const url = new URL(raw, base);
  if (url.origin !== base) return fallback;
  return `${url.pathname}${url.search}${url.hash}`;
}

/** next-auth's redirect callback: same-origin URLs only, anything else goes home. */
export function sameOriginRedirect(url: string, baseUrl: string): string {
  if (url.startsWith('/')) {
    const path = safeCallbackPath(url, '');
    return path ? `${baseUrl}${path}` : baseUrl;
  }
  try {
    const parsed = new URL(url);
    if (parsed.origin === new URL(baseUrl).origin) return `${baseUrl}${safeCallbackPath(`${parsed.pathname}${parsed.search}${parsed.hash}`, '/')}`;
  } catch {
    // not a URL at all
  }
  return baseUrl;
}

const WRONG_CREDENTIALS = 'Email or password is wrong, or the account is inactive.';

/** next-auth reports a wrong password as CredentialsSignin; the sign-in limit's own messages are shown as they are. */
export function signInErrorMessage(error: string | null | undefined): string {
  if (error && /^Too many attempts; try again in \d+ minutes?\.$/.test(error)) return error;
  if (error === 'Sign-in is not available right now; try again in a minute.') return error;
  return WRONG_CREDENTIALS;
}
