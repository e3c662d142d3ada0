import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = path.join(process.cwd(), 'bin', 'cutover.cjs');

/** Runs the real `cutover` CLI as a user would: exit code and output, never a thrown error. */
export async function cutover(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return cutoverWithEnv({}, ...args);
}

/** The same, with extra environment variables (PGPASSWORD, a URL for --url-env, CUTOVER_DATA_DIR). */
export async function cutoverWithEnv(env: Record<string, string>, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [BIN, ...args], { timeout: 60_000, env: { ...process.env, ...env } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
