/**
 * `npm run worker`: a job worker on its own, for teams that run several app instances
 * (start them with CUTOVER_WORKER=0 so only dedicated workers take jobs). Needs DATABASE_URL
 * and the same CUTOVER_SECRET_KEY as the web instances (it decrypts target passwords).
 */
import { disconnectDb } from '../lib/db/client';
import { stopBoss } from '../lib/jobs/queue';
import { stopWarmSandbox } from '../lib/engine';
import { startWorker } from '../lib/jobs/worker';
import { startWebhookDispatcher } from '../lib/agents/webhooks';
import { lowerWorkerPriority } from '../lib/jobs/priority';

async function main() {
  if (!process.env.DATABASE_URL) throw new Error('Set DATABASE_URL to the app store the web instances use.');
  if (!process.env.CUTOVER_SECRET_KEY) throw new Error('Set CUTOVER_SECRET_KEY to the key the web instances use.');
  lowerWorkerPriority((m) => console.log(`[cutover] ${m}`));
  const { interrupted } = await startWorker();
  // Agents' webhooks are delivered where the jobs run (lib/agents/webhooks.ts).
  startWebhookDispatcher();
  console.log(`[cutover] worker started${interrupted.length ? `; marked ${interrupted.length} orphaned run(s) interrupted` : ''}`);
  const stop = async () => {
    await stopBoss();
    // The warm rehearsal sandbox goes with this process (a killed one is reaped at the next start).
    await stopWarmSandbox().catch(() => undefined);
    await disconnectDb();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
}

main().catch((err) => {
  console.error('[cutover] worker failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
