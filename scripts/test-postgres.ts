/**
 * For `npm test` on a machine without a PostgreSQL server: runs the embedded PostgreSQL 15
 * (the one `npm start` uses) under .data-test/ and prints `READY <url>` until stopped.
 */
import { startEmbeddedPostgres } from '../lib/db/embedded';

const port = Number(process.env.CUTOVER_TEST_PG_PORT ?? 54330);

startEmbeddedPostgres('.data-test', port)
  .then((server) => {
    console.log(`READY ${server.urlFor('postgres')}`);
    const stop = () => server.stop().finally(() => process.exit(0));
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  })
  .catch((err) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
