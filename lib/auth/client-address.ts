/**
 * The address a sign-in comes from, as a rate-limit key.
 *
 * - Behind a reverse proxy (CUTOVER_TRUST_PROXY): the right-most `x-forwarded-for` entry, the
 *   one the nearest proxy appended. Without that setting the header is the client's own word.
 * - Otherwise Cutover's own web server (scripts/web-server.mjs, what `npm start` runs) puts the
 *   socket's address in `x-cutover-client-address`, replacing any the client sent, and says so
 *   in CLIENT_ADDRESS_HEADER_ENV. Next's route handlers do not see the socket themselves.
 * - Anything else (`next dev`, a bare `next start`): UNKNOWN_ADDRESS, and the limits count per
 *   account only (lib/auth/sign-in-limits.ts); never one key shared by every sign-in.
 */
export const UNKNOWN_ADDRESS = 'unknown';

/** The header scripts/web-server.mjs sets from the socket. */
export const CLIENT_ADDRESS_HEADER = 'x-cutover-client-address';
/** Set by scripts/web-server.mjs in its own process: the header above is its word, not the client's. */
export const CLIENT_ADDRESS_HEADER_ENV = 'CUTOVER_SOCKET_ADDRESS_HEADER';

type HeaderBag = Headers | Record<string, string | string[] | undefined> | undefined;

function header(headers: HeaderBag, name: string): string | undefined {
  if (!headers) return undefined;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  const value = (headers as Record<string, string | string[] | undefined>)[name];
  return Array.isArray(value) ? value.join(',') : value;
}

type Env = Record<string, string | undefined>;

export function trustsProxy(env: Env = process.env): boolean {
  return ['1', 'true', 'yes'].includes((env.CUTOVER_TRUST_PROXY ?? '').trim().toLowerCase());
}

// An address, not free text: it becomes a key in the store.
const asAddress = (value: string | undefined) =>
  value && /^[0-9a-fA-F.:]{2,45}$/.test(value) ? ipv6Network(value.toLowerCase()) : UNKNOWN_ADDRESS;

/**
 * One IPv6 host usually holds a whole /64, so an address there counts by its /64 (otherwise each
 * guess could come from a "fresh" address). IPv4, and IPv4 mapped into IPv6, stay whole.
 */
export function ipv6Network(address: string): string {
  if (!address.includes(':') || /^::ffff:\d+\.\d+\.\d+\.\d+$/.test(address)) return address;
  const [head, tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = address.includes('::') ? [...left, ...Array(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right] : left;
  if (groups.length !== 8) return address;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

export function clientAddress(headers: HeaderBag, env: Env = process.env): string {
  if (trustsProxy(env)) {
    const hops = (header(headers, 'x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
    return asAddress(hops.at(-1));
  }
  if (env[CLIENT_ADDRESS_HEADER_ENV] === '1') return asAddress(header(headers, CLIENT_ADDRESS_HEADER)?.trim());
  return UNKNOWN_ADDRESS;
}
