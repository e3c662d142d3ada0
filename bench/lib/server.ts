/**
 * The real production server (scripts/web-server.mjs, as `npm start` runs it), started as a child process in its own process
 * group so that stopping it also stops anything it spawned. Output is kept (last lines only)
 * for error reports.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

export interface RunningServer {
  baseUrl: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

import { buildState } from '../../scripts/build-state';

const NEXT_BIN = path.join(process.cwd(), 'node_modules', 'next', 'dist', 'bin', 'next');
const WEB_SERVER = path.join(process.cwd(), 'scripts', 'web-server.mjs');

/** Builds when there is no production build or the sources changed since, so the figures are for this code. */
export function ensureBuild(log: (m: string) => void): { built: boolean; seconds: number } {
  const state = buildState();
  if (state === 'fresh') return { built: false, seconds: 0 };
  log(`${state === 'missing' ? 'no production build' : 'sources changed since the last build'}: running \`next build\`...`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [NEXT_BIN, 'build'], { stdio: 'inherit', env: { ...process.env, NEXT_TELEMETRY_DISABLED: '1' } });
  if (r.status !== 0) throw new Error('`next build` failed; see its output above.');
  return { built: true, seconds: (performance.now() - t0) / 1000 };
}

export function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', () => resolve(true));
  });
}

export async function startServer(opts: {
  port: number;
  env: Record<string, string>;
  /** Extra node flags, e.g. ['--cpu-prof', '--cpu-prof-dir=...'] (not allowed in NODE_OPTIONS). */
  nodeArgs?: string[];
  readyTimeoutMs?: number;
}): Promise<RunningServer> {
  if (!(await portIsFree(opts.port))) throw new Error(`Port ${opts.port} is already in use; stop whatever listens there or set BENCH_PORT.`);
  // What `npm start` serves (scripts/web-server.mjs, one worker per core); a CPU profile needs
  // a single process, so profiling runs plain `next start`.
  const args = opts.nodeArgs?.length
    ? [...opts.nodeArgs, NEXT_BIN, 'start', '-p', String(opts.port), '-H', '127.0.0.1']
    : [WEB_SERVER];
  const child: ChildProcess = spawn(process.execPath, args, {
    env: { ...process.env, ...opts.env, PORT: String(opts.port), CUTOVER_HOST: '127.0.0.1', NODE_ENV: 'production', NEXT_TELEMETRY_DISABLED: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // own process group: stop() signals the group
  });
  let out = '';
  const keep = (b: Buffer) => { out = (out + b.toString()).slice(-20_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  let exited: number | null | undefined;
  const exitPromise = new Promise<void>((resolve) => child.once('exit', (code) => { exited = code; resolve(); }));

  const baseUrl = `http://127.0.0.1:${opts.port}`;
  const stop = async () => {
    if (exited !== undefined || !child.pid) return;
    try { process.kill(-child.pid, 'SIGTERM'); } catch { /* already gone */ }
    const timer = setTimeout(() => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* gone */ } }, 5_000);
    await exitPromise;
    clearTimeout(timer);
  };
  const server: RunningServer = { baseUrl, pid: child.pid!, output: () => out, stop };

  // Ready when the sign-in page answers; bounded by the timeout.
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 60_000);
  while (Date.now() < deadline) {
    if (exited !== undefined) throw new Error(`next start exited with code ${exited}:\n${out}`);
    try {
      const res = await fetch(`${baseUrl}/api/auth/csrf`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return server;
    } catch { /* not up yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  await stop();
  throw new Error(`next start did not answer within ${opts.readyTimeoutMs ?? 60_000} ms:\n${out}`);
}
