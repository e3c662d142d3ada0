// The production web server: Next.js behind Node's cluster module, one worker per core
// (CUTOVER_WEB_WORKERS). A Next server renders on one thread; on a 2-core machine a second
// worker nearly doubles the pages it can serve. Workers share the port; a crashed worker
// is replaced.
import cluster from 'node:cluster';
import http from 'node:http';
import os from 'node:os';
import next from 'next';

const port = Number(process.env.PORT ?? 3000);
// Not HOSTNAME: shells and containers set it to the machine's name.
const hostname = process.env.CUTOVER_HOST ?? '0.0.0.0';
const workers = Math.max(1, Number(process.env.CUTOVER_WEB_WORKERS ?? os.availableParallelism()));

if (cluster.isPrimary) {
  let stopping = false;
  // A larger young generation: server rendering allocates many short-lived objects, and
  // fewer scavenges mean fewer pauses in the slowest pages.
  cluster.setupPrimary({ execArgv: [...process.execArgv, '--max-semi-space-size=32'] });
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code, signal) => {
    // A worker told to stop (Ctrl-C and SIGTERM reach the whole process group, often before
    // this process has heard them itself) is not a crash: stop too, quietly.
    if (signal === 'SIGTERM' || signal === 'SIGINT') stopping = true;
    if (stopping) {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
      return;
    }
    console.error(`[cutover] web worker ${worker.process.pid} exited (${signal ?? code}); starting another`);
    cluster.fork();
  });
  const stop = () => {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGTERM');
    setTimeout(() => process.exit(0), 5000).unref();
    cluster.on('exit', () => {
      if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
    });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  console.log(`[cutover] web server on http://${hostname === '0.0.0.0' ? 'localhost' : hostname}:${port} (${workers} worker${workers === 1 ? '' : 's'})`);
} else {
  // Sign-in limits count per client address (lib/auth/client-address.ts). Next's route handlers
  // never see the socket, so this server hands its address on in a header of its own, replacing
  // any a client sent, and says so through the environment of this process (Next runs in it).
  process.env.CUTOVER_SOCKET_ADDRESS_HEADER = '1';
  const app = next({ dev: false, hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();
  http
    .createServer((req, res) => {
      req.headers['x-cutover-client-address'] = req.socket.remoteAddress ?? '';
      return handle(req, res);
    })
    .listen(port, hostname);
  process.on('SIGTERM', () => process.exit(0));
}
