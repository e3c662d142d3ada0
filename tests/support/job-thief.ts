/**
 * A worker that takes one job from a queue and then hangs, so a test can kill it (SIGKILL)
 * between "job taken" and "run claimed". Run with: node --import tsx tests/support/job-thief.ts <queue>
 * (DATABASE_URL in the environment). Prints "took <job id>" once it holds the job.
 */
import PgBoss from 'pg-boss';

async function main() {
  const queue = process.argv[2];
  const boss = new PgBoss({ connectionString: process.env.DATABASE_URL, schema: 'pgboss', max: 1, supervise: false, schedule: false });
  boss.on('error', () => undefined);
  await boss.start();
  for (let i = 0; i < 100; i++) {
    const [job] = await boss.fetch(queue);
    if (job) {
      console.log(`took ${job.id}`);
      setInterval(() => undefined, 60_000); // hang until killed
      return;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log('no job');
  process.exit(1);
}

void main();
