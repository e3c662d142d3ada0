/** Where a target lives: what a run's error may name, and what people who do not manage targets must not see. */
export interface TargetAddress {
  name: string;
  host: string | null;
  port: number | null;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const IPV4 = /(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])/g;
// Full form, or compressed with `::` and at least one group; never a bare `::` (SQL casts) or a clock time.
const IPV6 =
  /(?<![\w:])(?:(?:[0-9a-f]{1,4}:){7}[0-9a-f]{1,4}|(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?::(?:[0-9a-f]{1,4}(?::[0-9a-f]{1,4})*)?)(?![\w:])/gi;

/**
 * Replaces the target's host name, any IP address and the target's port in a stored error or
 * log line with the target's name: "connect ECONNREFUSED 10.0.0.5:5432" becomes
 * "connect ECONNREFUSED Shop staging".
 */
export function redactTargetAddress(text: string, target: TargetAddress): string {
  const name = target.name;
  const marker = '\u0000target\u0000';
  let out = text;
  if (target.host) out = out.replace(new RegExp(`(?<![\\w.-])${escape(target.host)}(?![\\w-]|\\.\\w)`, 'gi'), marker);
  out = out.replace(IPV4, marker).replace(IPV6, (m) => (/\d/.test(m) ? marker : m)); // "::bad" is a cast, "::1" an address
  out = out.replace(/\[\u0000target\u0000\]/g, marker);
  // The port, wherever it follows the address ("host:5432", "..., port 5432").
  if (target.port !== null) {
    const port = escape(String(target.port));
    out = out.replace(new RegExp(`${marker}:${port}(?!\\d)`, 'g'), marker);
    out = out.replace(new RegExp(`,? port ${port}(?!\\d)`, 'gi'), '');
  }
  return out.split(marker).join(name);
}

/** The same for every string inside a JSON value (audit entries' before/after). */
export function redactTargetAddressDeep<T>(value: T, target: TargetAddress): T {
  if (typeof value === 'string') return redactTargetAddress(value, target) as T;
  if (Array.isArray(value)) return value.map((v) => redactTargetAddressDeep(v, target)) as T;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactTargetAddressDeep(v, target)])) as T;
  }
  return value;
}
