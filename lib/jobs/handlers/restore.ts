import { defineHandler } from '../handler';
import { QUEUES } from '../queue';

/** Placeholder until the restore run lands (issue 8). */
export const restoreHandler = defineHandler({
  kinds: ['restore'],
  queue: QUEUES.restore,
  async run() {
    throw new Error('restore runs are not built yet.');
  },
});
