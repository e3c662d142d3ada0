import { defineHandler } from '../handler';
import { QUEUES } from '../queue';

/** Placeholder until the deploy run lands (issue 8). */
export const deployHandler = defineHandler({
  kinds: ['deploy'],
  queue: QUEUES.deploy,
  async run() {
    throw new Error('deploy runs are not built yet.');
  },
});
