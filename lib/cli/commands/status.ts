import { migrationStatus, readMigrationsDir, summarizePlan, type PlanSummary } from '../../engine';
import { z } from 'zod';
import { EXIT, defineCommand, statements, url, withDb } from '../command';

/** Which migrations of a folder are applied, pending, failed or modified on a database (read-only). */
export default defineCommand({
  name: 'status',
  usage: `  status    --url URL --dir DIR   which migrations of a Prisma migrations folder are applied,
                                  pending, failed or modified (exit 1 unless all are applied)`,
  flags: z.strictObject({ url, dir: z.string().min(1) }),
  async run(input, { json, io }) {
    const migrations = readMigrationsDir(input.dir);
    const entries = await withDb(input.url, (c) => migrationStatus(c, migrations));
    const problems = entries.filter((e) => e.state !== 'applied');
    // Say beforehand how each pending migration will run (planned from its parse tree).
    const plans = new Map<string, PlanSummary | null>();
    for (const e of entries.filter((x) => x.state === 'pending')) {
      plans.set(e.name, await summarizePlan(migrations.find((m) => m.name === e.name)!.sql));
    }
    if (json) io.out(JSON.stringify({ ok: problems.length === 0, migrations: entries.map((e) => ({ ...e, plan: plans.get(e.name) })) }, null, 2));
    else {
      for (const e of entries) {
        const plan = plans.get(e.name);
        const how = plan === undefined ? '' : plan === null ? '  (syntax error: apply will refuse it)'
          : plan.atomic ? `  (${statements(plan.statements)}, one transaction)`
          : plan.ownsTransactions ? `  (${statements(plan.statements)}, its own transactions)`
          : `  (${statements(plan.statements)}; not atomic: ${plan.outside.map((o) => `line ${o.line} runs outside a transaction`).join(', ')})`;
        io.out(`${e.state.padEnd(15)} ${e.name}${how}`);
      }
      for (const e of entries.filter((x) => x.state === 'modified'))
        io.out(`\n${e.name} was modified after it was applied: applied checksum ${e.appliedChecksum}, file checksum ${e.fileChecksum}`);
      for (const e of entries.filter((x) => x.state === 'failed')) io.out(`\n${e.name} failed:\n${e.logs ?? ''}`);
      const count = (s: string) => entries.filter((e) => e.state === s).length;
      io.out(`\n${entries.length} migrations: ${count('applied')} applied, ${count('pending')} pending, ${count('failed')} failed, ${count('modified')} modified` +
        (count('missing_locally') ? `, ${count('missing_locally')} applied but not in the folder` : ''));
    }
    return problems.length === 0 ? EXIT.ok : EXIT.failed;
  },
});
