// No 'server-only' here: the worker (tsx scripts/worker.ts, npm start) imports this outside Next, where it throws.
import { lookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where Cutover may send a request that an admin's URL points at (a health check, a repository
 * with a credential): never to this machine (loopback), to link-local addresses or to the cloud
 * metadata service, unless CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1 (for a single-machine install, and
 * for the tests and the e2e, whose application and repository live on loopback). An admin's URL
 * would otherwise turn the server into a probe of its own machine (SSRF), and a credential typed
 * for a repository could be sent to a listener on the server itself. Checked when the URL is saved
 * and again when the request is made (a name may resolve elsewhere by then); the health check also
 * checks the address it actually connects to (guardedLookup), so DNS cannot swap it in between.
 */

export const ALLOW_PRIVATE_URLS_ENV = 'CUTOVER_ALLOW_PRIVATE_HEALTH_URLS';

/** Read per call, so a test (or an operator restarting with it) needs no rebuild. */
export const privateAddressesAllowed = () => process.env[ALLOW_PRIVATE_URLS_ENV] === '1';

const refused = new BlockList();
refused.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
refused.addSubnet('0.0.0.0', 8, 'ipv4'); // "this host": connecting to 0.0.0.0 reaches loopback
refused.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local, the metadata service (169.254.169.254) among them
refused.addSubnet('100.100.100.200', 32, 'ipv4'); // Alibaba Cloud's metadata service
refused.addAddress('::1', 'ipv6');
refused.addAddress('::', 'ipv6');
refused.addSubnet('fe80::', 10, 'ipv6'); // link-local
refused.addAddress('fd00:ec2::254', 'ipv6'); // AWS's IPv6 metadata service

/** Why an IP address is refused (loopback, link-local, metadata), or null. IPv4-mapped IPv6 addresses count as their IPv4. */
export function refusedAddressReason(address: string): string | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare)?.[1];
  const blocked = mapped ? refused.check(mapped, 'ipv4') : refused.check(bare, family === 4 ? 'ipv4' : 'ipv6');
  return blocked ? `${bare} is a loopback, link-local or metadata address` : null;
}

function refusal(what: string, why: string): string {
  return `The ${what} points at ${why}: Cutover does not send requests there (set ${ALLOW_PRIVATE_URLS_ENV}=1 on a single-machine install where that is intended).`;
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/**
 * Whether an http(s) URL may be requested now: its host (an address, or every address its name
 * resolves to) is not refused. A name that does not resolve is not refused here: the request
 * itself then fails with "host not found", which says more. The problem in words, or null.
 */
export async function outboundUrlProblem(url: string, what: string): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `The ${what} is not a valid URL.`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `The ${what} must be an http:// or https:// URL.`;
  if (privateAddressesAllowed()) return null;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return refusal(what, `${host} (loopback)`);
  if (isIP(host)) {
    const why = refusedAddressReason(host);
    return why ? refusal(what, why) : null;
  }
  const addresses = await resolveAll(host).catch(() => [] as LookupAddress[]);
  const bad = addresses.map((a) => refusedAddressReason(a.address)).find(Boolean);
  return bad ? refusal(what, `${host}, which resolves to ${bad}`) : null;
}

/** The error a guarded connection fails with; the health check words it. */
export class RefusedAddressError extends Error {
  readonly code = 'CUTOVER_REFUSED_ADDRESS';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * dns.lookup for http.request's `lookup` option: the addresses the connection will really use are
 * checked, so a name that resolved to a public address at the check and to 127.0.0.1 a moment later
 * is refused at connect time. Off when private addresses are allowed.
 */
export function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    const bad = privateAddressesAllowed() ? null : list.map((a) => refusedAddressReason(a.address)).find(Boolean);
    if (bad) return callback(new RefusedAddressError(refusal('health-check URL', `${hostname}, which resolves to ${bad}`)), []);
    if ((options as LookupAllOptions).all) return callback(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
}

/**
 * A repository reached over http(s) with a credential follows the same rule: the credential is
 * never sent to this machine, a link-local address or the metadata service (unless
 * CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1). Without a credential, or over ssh/file/a local path, there
 * is nothing to leak this way. Checked when the project is saved and before every git call.
 */
export async function repositoryAddressProblem(url: string, hasCredential: boolean): Promise<string | null> {
  if (!hasCredential || !/^https?:\/\//i.test(url.trim())) return null;
  return outboundUrlProblem(url.trim(), 'repository URL, which carries a credential,');
}
