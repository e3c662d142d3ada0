/**
 * A process that owns a sandbox and never stops it: tests kill it with SIGKILL, as a worker dies,
 * and prove that the next start finds and removes what it left. argv[2]: the sandbox root.
 */
import { startSandbox } from '../../lib/engine/postgres/sandbox';

async function main() {
  const sandbox = await startSandbox({ root: process.argv[2] });
  console.log(JSON.stringify({ dir: sandbox.dir, port: sandbox.port }));
  setInterval(() => undefined, 1 << 30);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
