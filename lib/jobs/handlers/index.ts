import type { RunHandler } from '../handler';
import { analysisHandler } from './analysis';
import { deployHandler } from './deploy';
import { restoreHandler } from './restore';
import { verifyHandler } from './verify';
import { applyHandler } from './apply';
import { backupHandler } from './backup';
import { drillHandler } from './drill';
import { driftHandler } from './drift';
import { rehearsalHandler } from './rehearsal';
import { snapshotHandler } from './snapshot';
import { statusHandler } from './status';

/**
 * Every kind of run the worker takes, one handler a queue. A new kind is its handler module
 * (lib/jobs/handlers/<kind>.ts) and one line here; its queue in QUEUES and RUN_QUEUE.
 */
export const RUN_HANDLERS: readonly RunHandler[] = [
  snapshotHandler,
  statusHandler,
  applyHandler,
  rehearsalHandler,
  backupHandler,
  drillHandler,
  driftHandler,
  analysisHandler,
  deployHandler,
  verifyHandler,
  restoreHandler,
];
