/**
 * The address a sign-in comes from, as a rate-limit key.
 *
 * Next fills `x-forwarded-for` from the socket only when the client did not send one, so the
 * header is the client's own word unless a proxy in front of Cutover sets it: it is trusted
 * only when CUTOVER_TRUST_PROXY says a proxy does (then the right-most entry, the one the
 * nearest proxy appended). Otherwise the socket address cannot be told apart from a forged
 * header, and every sign-in shares one key (UNKNOWN_ADDRESS, with a larger allowance).
 */
export const UNKNOWN_ADDRESS = 'unknown';

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

export function clientAddress(headers: HeaderBag, env: Env = process.env): string {
  if (!trustsProxy(env)) return UNKNOWN_ADDRESS;
  const hops = (header(headers, 'x-forwarded-for') ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const nearest = hops.at(-1);
  // An address, not free text: it becomes a key in the store.
  return nearest && /^[0-9a-fA-F.:]{2,45}$/.test(nearest) ? nearest.toLowerCase() : UNKNOWN_ADDRESS;
}
