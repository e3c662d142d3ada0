import type { RunningServer } from './server';

/**
 * Runs a served benchmark's `main` to its end: exit 0 when measured (1 with --strict when a goal
 * was missed), 2 when it failed, with the server's last output. Exits explicitly: a library's
 * timer must not keep the bench (and the e2e lock it may run under) alive.
 */
export function runServedBench(
  name: string,
  main: () => Promise<boolean>,
  options: { strict: boolean; cleanup: () => Promise<void>; server: () => RunningServer | null },
): void {
  main()
    .then(async (pass) => {
      await options.cleanup();
      process.exit(pass || !options.strict ? 0 : 1);
    })
    .catch(async (err) => {
      console.error(`[${name}] failed:`, err instanceof Error ? err.stack ?? err.message : err);
      const server = options.server();
      if (server) console.error(`[${name}] last server output:\n${server.output().slice(-4000)}`);
      await options.cleanup();
      process.exit(2);
    });
}
