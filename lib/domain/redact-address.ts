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

/** What stands for the address of another server (a rehearsal server, the sandbox) in redacted text. */
export const HIDDEN_ADDRESS = '(address hidden)';

// A host (IPv4, [IPv6], localhost or a dotted DNS name) and a port: "10.0.0.9:5433", "rehearsal.internal:6543".
const HOST_PORT =
  /(?<![\w.\/@-])(\[[0-9a-f:.]+\]|(?:\d{1,3}\.){3}\d{1,3}|localhost|[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+):(\d{1,5})(?![\w.:])/gi;
const IS_IP = /^(?:\[[0-9a-f:.]+\]|(?:\d{1,3}\.){3}\d{1,3})$/i;

/**
 * Hides the addresses of servers other than the target (a rehearsal server, the sandbox, a host
 * that did not resolve) in the forms libpq and Node print them. An address with a port is the
 * target's when the port is the target's and the host is the target's or an IP address (its host
 * name resolved); those are left to redactTargetAddress. The same host with another port is
 * another server (a sandbox on the target's machine).
 */
function redactOtherServers(text: string, target: TargetAddress): string {
  const isTargetHost = (host: string) => Boolean(target.host) && host.replace(/^\[|\]$/g, '').toLowerCase() === target.host!.replace(/^\[|\]$/g, '').toLowerCase();
  const isTargetPort = (port: string) => target.port !== null && Number(port) === target.port;
  const isTarget = (host: string, port: string) => isTargetPort(port) && (isTargetHost(host) || IS_IP.test(host));
  return text
    // libpq: connection to server at "host" (10.0.0.9), port 5433 failed
    .replace(/connection to server at "([^"]*)"(?: \(([^)]*)\))?, port (\d+)/g, (m, host: string, _ip, port: string) =>
      isTarget(host, port) ? m : `connection to server at ${HIDDEN_ADDRESS}`)
    // libpq: on socket "/tmp/cutover-sandbox-x/.s.PGSQL.5433" (a directory of this machine); could not translate host name "x"
    .replace(/on socket "([^"]*)"/g, (m, path: string) => (target.host && path.startsWith(`${target.host}/`) ? m : `on socket ${HIDDEN_ADDRESS}`))
    .replace(/(could not translate host name|on host) "([^"]*)"(?: \([^)]*\))?/g, (m, what: string, host: string) => (isTargetHost(host) ? m : `${what} ${HIDDEN_ADDRESS}`))
    .replace(/(accepting\s+TCP\/IP connections on port) (\d+)/g, (m, what: string, port: string) => (isTargetPort(port) ? m : `${what} ${HIDDEN_ADDRESS}`))
    // Node: getaddrinfo ENOTFOUND host, getaddrinfo EAI_AGAIN host
    .replace(/\b(ENOTFOUND|EAI_AGAIN) ([^\s,;:)]+)/g, (m, code: string, host: string) => (isTargetHost(host) ? m : `${code} ${HIDDEN_ADDRESS}`))
    // Any host:port left (ECONNREFUSED 10.0.0.9:5433, "the rehearsal server rehearsal.internal:6543").
    .replace(HOST_PORT, (m, host: string, port: string) => (isTarget(host, port) ? m : HIDDEN_ADDRESS));
}

/**
 * Replaces the target's host name, any IP address and the target's port in a stored error or
 * log line with the target's name: "connect ECONNREFUSED 10.0.0.5:5432" becomes
 * "connect ECONNREFUSED Shop staging". The address of any other server (a rehearsal server,
 * the sandbox) becomes HIDDEN_ADDRESS.
 */
export function redactTargetAddress(text: string, target: TargetAddress): string {
  const name = target.name;
  const marker = '\u0000target\u0000';
  let out = redactOtherServers(text, target);
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
