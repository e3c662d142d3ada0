import { defineHandler } from '../handler';
import { QUEUES } from '../queue';

/** Placeholder until the verify run lands (issue 8). */
export const verifyHandler = defineHandler({
  kinds: ['verify'],
  queue: QUEUES.verify,
  async run() {
    throw new Error('verify runs are not built yet.');
  },
});
