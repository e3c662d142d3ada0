import { spawn, type ChildProcess } from 'node:child_process';

/**
 * `npm run worker` as its own process against `storeUrl` (node --import tsx, so SIGKILL hits the
 * worker itself), resolved once it says it started. `detached` puts it in a process group of its
 * own, for tests that kill the group (the worker and the git or pg_dump children it waits for).
 */
export function startWorkerProcess(storeUrl: string, options: { detached?: boolean; timeoutMs?: number } = {}): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/worker.ts'], {
    env: { ...process.env, DATABASE_URL: storeUrl },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.detached ?? false,
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), options.timeoutMs ?? 30_000);
    child.stdout!.on('data', (b) => {
      out += b;
      if (out.includes('worker started')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (b) => (out += b));
    child.on('exit', () => reject(new Error(`worker exited: ${out}`)));
  });
}
