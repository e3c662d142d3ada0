/**
 * Where the server's main thread spends a page's CPU: reads a V8 .cpuprofile written by
 * `node --cpu-prof`, maps frames of the Turbopack bundles back to their sources through
 * the .map files next to them, and buckets every sample by the first rule that matches
 * any frame of its stack. Heuristic but stable enough to compare runs; the profiler itself
 * adds roughly 20-30 % to the CPU per page.
 */
import { existsSync, readFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { fileURLToPath } from 'node:url';

interface CallFrame { functionName: string; url: string; lineNumber: number; columnNumber: number }
interface ProfileNode { id: number; callFrame: CallFrame; children?: number[] }
interface CpuProfile { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] }

const RULES: [string, RegExp][] = [
  ['garbage collector', /^ \(garbage collector\)$/],
  ['module loading (startup)', /wrapSafe|compileSourceTextModule|instantiateModule|Module\._load|loadESM|internalModuleStat|compileFunction/],
  ['sign-in (bcryptjs)', /bcryptjs/],
  ['session: next-auth + jose (JWT decode/encode, hkdf)', /next-auth|jose|openid|\bhkdf\b|oauth4webapi/],
  ['data: Prisma client, query compiler, pg', /@prisma|prisma|\/pg\/|pg-protocol|pg-pool|pg-types|postgres-|wasm:/],
  ['gzip compression (zlib)', /zlib|compression/],
  ['socket writes', /writev|writeGeneric|writeUtf8String|writeLatin1String/],
  ['app code (app/, components/, lib/)', /^((\.\.\/)+|\/work\/main\/|file:\/\/\/.*?\/)(app|components|lib)\/(?!.*node_modules)/],
  ['React render (react-dom/server, RSC)', /react-dom|react-server|app-page-turbo\.runtime|react\.production|react-jsx/],
  ['idle', /^ \(idle\)$/],
];
const EXCLUDED = new Set(['module loading (startup)', 'sign-in (bcryptjs)', 'idle']);

export interface ProfileBreakdown {
  requests: number;
  /** CPU ms per request on the main thread, without startup, the sign-in and idle time. */
  msPerRequest: number;
  buckets: { bucket: string; msPerRequest: number; share: number }[];
}

export function analyzeProfile(file: string, requests: number): ProfileBreakdown {
  const p = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const maps = new Map<string, SourceMap | null>();
  const mapFor = (url: string): SourceMap | null => {
    if (!maps.has(url)) {
      let m: SourceMap | null = null;
      try {
        const f = url.startsWith('file://') ? fileURLToPath(url) : url;
        if (f.includes('/.next/') && existsSync(`${f}.map`)) m = new SourceMap(JSON.parse(readFileSync(`${f}.map`, 'utf8')));
      } catch { /* no usable map */ }
      maps.set(url, m);
    }
    return maps.get(url)!;
  };
  const sources = new Map<string, string>();
  const source = (cf: CallFrame) => {
    const key = `${cf.url}:${cf.lineNumber}:${cf.columnNumber}:${cf.functionName}`;
    let s = sources.get(key);
    if (s === undefined) {
      s = cf.url;
      const m = cf.url ? mapFor(cf.url) : null;
      if (m) {
        try {
          const e = m.findEntry(cf.lineNumber, cf.columnNumber) as { originalSource?: string };
          if (e?.originalSource) s = e.originalSource;
        } catch { /* keep the bundle url */ }
      }
      s = `${s} ${cf.functionName}`;
      sources.set(key, s);
    }
    return s;
  };
  const self = new Map<number, number>();
  p.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + p.timeDeltas[i]));
  const buckets = new Map<string, number>();
  for (const [id, us] of self) {
    const stack: string[] = [];
    for (let x: number | undefined = id; x !== undefined; x = parent.get(x)) stack.push(source(nodes.get(x)!.callFrame));
    const bucket = RULES.find(([, re]) => stack.some((s) => re.test(s)))?.[0] ?? 'Next.js server and other';
    buckets.set(bucket, (buckets.get(bucket) ?? 0) + us);
  }
  const steadyUs = [...buckets].filter(([k]) => !EXCLUDED.has(k)).reduce((a, [, v]) => a + v, 0);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  return {
    requests,
    msPerRequest: r2(steadyUs / 1000 / requests),
    buckets: [...buckets]
      .filter(([k]) => !EXCLUDED.has(k))
      .sort((a, b) => b[1] - a[1])
      .map(([bucket, us]) => ({ bucket, msPerRequest: r2(us / 1000 / requests), share: r2(us / steadyUs) })),
  };
}
