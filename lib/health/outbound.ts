// No 'server-only' here: the worker (tsx scripts/worker.ts, npm start) imports this outside Next, where it throws.
import { lookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP } from 'node:net';

/**
 * Where Cutover may send a request that an admin's URL points at (a health check, a webhook, a
 * repository with a credential): never to this machine (loopback) or to link-local addresses,
 * unless CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1 (for a single-machine install, and for the tests and
 * the e2e, whose application and repository live on loopback); never, whatever the flag, to a cloud
 * metadata service (it hands out the machine's cloud credentials to whoever asks). An admin's URL
 * would otherwise turn the server into a probe of its own machine (SSRF), and a credential typed
 * for a repository could be sent to a listener on the server itself. Checked when the URL is saved
 * and again when the request is made (a name may resolve elsewhere by then); the health check and
 * the webhooks also check the address they actually connect to (guardedLookup), so DNS cannot swap
 * it in between.
 */

export const ALLOW_PRIVATE_URLS_ENV = 'CUTOVER_ALLOW_PRIVATE_HEALTH_URLS';

/** Read per call, so a test (or an operator restarting with it) needs no rebuild. */
export const privateAddressesAllowed = () => process.env[ALLOW_PRIVATE_URLS_ENV] === '1';

const refused = new BlockList();
refused.addSubnet('127.0.0.0', 8, 'ipv4'); // loopback
refused.addSubnet('0.0.0.0', 8, 'ipv4'); // "this host": connecting to 0.0.0.0 reaches loopback
refused.addSubnet('169.254.0.0', 16, 'ipv4'); // link-local
refused.addAddress('::1', 'ipv6');
refused.addAddress('::', 'ipv6');
refused.addSubnet('fe80::', 10, 'ipv6'); // link-local

/** Cloud metadata services: refused even with CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1. */
const metadata = new BlockList();
metadata.addAddress('169.254.169.254', 'ipv4'); // AWS, GCP, Azure, Oracle, DigitalOcean, OpenStack
metadata.addAddress('169.254.170.2', 'ipv4'); // AWS ECS task credentials
metadata.addAddress('169.254.170.23', 'ipv4'); // AWS EKS Pod Identity
metadata.addAddress('100.100.100.200', 'ipv4'); // Alibaba Cloud
metadata.addAddress('169.254.0.23', 'ipv4'); // Tencent Cloud
metadata.addAddress('168.63.129.16', 'ipv4'); // Azure WireServer (not link-local, so the flag alone would allow it)
metadata.addAddress('fd00:ec2::254', 'ipv6'); // AWS over IPv6
metadata.addAddress('fd00:ec2::23', 'ipv6'); // AWS EKS Pod Identity over IPv6
const METADATA_NAMES = new Set(['metadata.google.internal', 'metadata.goog', 'metadata']);

type Verdict = { why: string; always: boolean };

/** An IPv6 address as its 16 bytes (with "::" and a trailing dotted quad), or null. */
function ipv6Bytes(address: string): number[] | null {
  let text = address;
  const quad = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text);
  if (quad) {
    const [a, b, c, d] = quad.slice(1).map(Number);
    text = `${text.slice(0, quad.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return null;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 0) return null;
  const words = [...head, ...Array(halves.length === 2 ? fill : 0).fill('0'), ...tail].map((g) => parseInt(g, 16));
  if (words.some((w) => !(w >= 0 && w <= 0xffff))) return null;
  return words.flatMap((w) => [w >> 8, w & 255]);
}

/**
 * The IPv4 address an IPv6 one carries and that a network may route to: IPv4-mapped (::ffff:a.b.c.d,
 * also as URL parsing writes it), IPv4-compatible (::a.b.c.d), SIIT (::ffff:0:a.b.c.d), NAT64
 * (64:ff9b::/96, 64:ff9b:1::/48) and 6to4 (2002::/16). Checked as that IPv4 address.
 */
function embeddedIPv4(address: string): string | undefined {
  const b = ipv6Bytes(address);
  if (!b) return undefined;
  const zero = (from: number, to: number) => b.slice(from, to).every((x) => x === 0);
  const last = b.slice(12, 16).join('.');
  if (zero(0, 10) && b[10] === 0xff && b[11] === 0xff) return last; // ::ffff:a.b.c.d
  if (zero(0, 8) && b[8] === 0xff && b[9] === 0xff && zero(10, 12)) return last; // ::ffff:0:a.b.c.d
  if (zero(0, 12) && !zero(12, 15)) return last; // ::a.b.c.d (not :: or ::1)
  if (b[0] === 0x00 && b[1] === 0x64 && b[2] === 0xff && b[3] === 0x9b && (zero(4, 12) || (b[4] === 0 && b[5] === 1))) return last; // NAT64
  if (b[0] === 0x20 && b[1] === 0x02) return b.slice(2, 6).join('.'); // 6to4
  return undefined;
}

function addressVerdict(address: string): Verdict | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 0) return null;
  const mapped = family === 6 ? embeddedIPv4(bare) : undefined;
  const [ip, type] = mapped ? [mapped, 'ipv4' as const] : [bare, family === 4 ? ('ipv4' as const) : ('ipv6' as const)];
  if (metadata.check(ip, type)) return { why: `${bare} is a cloud metadata address`, always: true };
  return refused.check(ip, type) ? { why: `${bare} is a loopback, link-local or metadata address`, always: false } : null;
}

/** Why an IP address is refused (loopback, link-local, metadata), or null. IPv6 addresses carrying an IPv4 one count as that IPv4. */
export function refusedAddressReason(address: string): string | null {
  return addressVerdict(address)?.why ?? null;
}

/** The verdict that applies now: metadata always, the rest unless private addresses are allowed. */
const applies = (v: Verdict | null): v is Verdict => v !== null && (v.always || !privateAddressesAllowed());

function refusal(what: string, v: Verdict): string {
  return v.always
    ? `The ${what} points at ${v.why}: Cutover never sends requests there, not even with ${ALLOW_PRIVATE_URLS_ENV}=1 (it would hand out this machine's cloud credentials).`
    : `The ${what} points at ${v.why}: Cutover does not send requests there (set ${ALLOW_PRIVATE_URLS_ENV}=1 on a single-machine install where that is intended).`;
}

function resolveAll(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => lookup(hostname, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));
}

/** The host of a parsed http(s) URL against the rules above; the problem in words, or null. */
async function addressProblem(parsed: URL, what: string): Promise<string | null> {
  const host = parsed.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase();
  if (METADATA_NAMES.has(host)) return refusal(what, { why: `${host} (the cloud metadata service)`, always: true });
  if (host === 'localhost' || host.endsWith('.localhost')) {
    return privateAddressesAllowed() ? null : refusal(what, { why: `${host} (loopback)`, always: false });
  }
  if (isIP(host)) {
    const v = addressVerdict(host);
    return applies(v) ? refusal(what, v) : null;
  }
  const addresses = await resolveAll(host).catch(() => [] as LookupAddress[]);
  const bad = addresses.map((a) => addressVerdict(a.address)).find(applies);
  return bad ? refusal(what, { ...bad, why: `${host}, which resolves to ${bad.why}` }) : null;
}

/**
 * Whether an http(s) URL (a health check, a webhook) may be requested now: no user name or password
 * in it (it would be stored and logged in clear, and sent to whoever the host is), and its host (an
 * address, or every address its name resolves to) is not refused. A name that does not resolve is
 * not refused here: the request itself then fails with "host not found", which says more. The
 * problem in words, or null.
 */
export async function outboundUrlProblem(url: string, what: string): Promise<string | null> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `The ${what} is not a valid URL.`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `The ${what} must be an http:// or https:// URL.`;
  if (parsed.username || parsed.password) {
    return `The ${what} has a user name or password in it (user:password@host): Cutover does not send credentials in a URL. Remove them.`;
  }
  return addressProblem(parsed, what);
}

/** The error a guarded connection fails with; the health check words it. */
export class RefusedAddressError extends Error {
  readonly code = 'CUTOVER_REFUSED_ADDRESS';
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * dns.lookup for http.request's `lookup` option: the addresses the connection will really use are
 * checked, so a name that resolved to a public address at the check and to 127.0.0.1 a moment later
 * is refused at connect time. Only metadata addresses when private addresses are allowed.
 */
export function guardedLookup(hostname: string, options: LookupOneOptions | LookupAllOptions, callback: LookupCallback): void {
  lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, []);
    const list = addresses as LookupAddress[];
    const bad = list.map((a) => addressVerdict(a.address)).find(applies);
    if (bad) return callback(new RefusedAddressError(refusal('health-check URL', { ...bad, why: `${hostname}, which resolves to ${bad.why}` })), []);
    if ((options as LookupAllOptions).all) return callback(null, list);
    return callback(null, list[0]!.address, list[0]!.family);
  });
}

/**
 * A repository reached over http(s) with a credential follows the same address rule: the
 * credential is never sent to this machine or a link-local address (unless
 * CUTOVER_ALLOW_PRIVATE_HEALTH_URLS=1), nor to the metadata service. Its URL may name the user
 * (https://user@host: the password is the stored credential; repositoryUrlProblem refuses one in
 * the URL). Without a credential, or over ssh/file/a local path, there is nothing to leak this way.
 * Checked when the project is saved and before every git call.
 */
export async function repositoryAddressProblem(url: string, hasCredential: boolean): Promise<string | null> {
  if (!hasCredential || !/^https?:\/\//i.test(url.trim())) return null;
  let parsed: URL;
  try {
    parsed = new URL(url.trim());
  } catch {
    return 'The repository URL is not a valid URL.';
  }
  return addressProblem(parsed, 'repository URL, which carries a credential,');
}
