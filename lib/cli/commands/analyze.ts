import { analyzeMigration, migrationStatus, readMigrationsDir, SqlSyntaxError, type MigrationAnalysis } from '../../engine';
import { z } from 'zod';
import { EXIT, UsageError, defineCommand, url, withDb } from '../command';

const RISK_ORDER = ['low', 'medium', 'high'] as const;

/**
 * Impact analysis of migrations against a database's live catalog (only read): locks, rewrites,
 * scans, table sizes, destructive operations, risk with its reasons, safer strategies, and
 * squawk's findings. Exit 1 when a migration's risk reaches --fail-on (high by default; every
 * destructive operation makes the risk high, and the command line has no acknowledgements: those
 * are made on the request's page) or a migration does not parse.
 */
export default defineCommand({
  name: 'analyze',
  usage: `  analyze   --url URL --dir DIR   impact analysis of the pending migrations (or --name NAME) against
            [--name NAME]         the database's catalog (read-only): lock per statement, rewrites,
            [--fail-on LEVEL]     scans, table sizes, destructive operations, risk and why, safer
                                  strategies, squawk's findings with links. Exit 1 when a risk reaches
                                  --fail-on (high, medium or never; default high) or a file does not parse`,
  flags: z.strictObject({
    url,
    dir: z.string().min(1),
    name: z.string().min(1).optional(),
    'fail-on': z.enum(['high', 'medium', 'never']).default('high'),
  }),
  async run(input, { json, io }) {
    const migrations = readMigrationsDir(input.dir);
    const reports = await withDb(input.url, async (client) => {
      let chosen = migrations;
      if (input.name) {
        chosen = migrations.filter((m) => m.name === input.name);
        if (chosen.length === 0) throw new UsageError(`No migration named ${input.name} in ${input.dir}.`);
      } else {
        const pending = new Set((await migrationStatus(client, migrations)).filter((e) => e.state === 'pending').map((e) => e.name));
        chosen = migrations.filter((m) => pending.has(m.name));
      }
      const out: { name: string; analysis?: MigrationAnalysis; error?: string }[] = [];
      for (const m of chosen) {
        try {
          out.push({ name: m.name, analysis: await analyzeMigration(m.sql, { client }) });
        } catch (err) {
          if (!(err instanceof SqlSyntaxError)) throw err;
          out.push({ name: m.name, error: `syntax error: ${err.message}` });
        }
      }
      return out;
    });
    const failOn = input['fail-on'];
    const fails = (r: (typeof reports)[number]) =>
      Boolean(r.error) || (failOn !== 'never' && !!r.analysis && RISK_ORDER.indexOf(r.analysis.impact.risk.level) >= RISK_ORDER.indexOf(failOn));
    const ok = !reports.some(fails);
    if (json) {
      io.out(JSON.stringify({ ok, failOn, migrations: reports.map((r) => ({ name: r.name, ...(r.error ? { error: r.error } : { ...r.analysis }) })) }, null, 2));
      return ok ? EXIT.ok : EXIT.failed;
    }
    if (reports.length === 0) io.out(input.name ? '' : 'No pending migrations: nothing to analyse.');
    for (const r of reports) {
      io.out(`== ${r.name}`);
      if (!r.analysis) {
        io.err(`error: ${r.error}`);
        continue;
      }
      const { impact, squawk } = r.analysis;
      io.out(`risk ${impact.risk.level}${impact.risk.reasons.length ? ':' : ''}`);
      for (const reason of impact.risk.reasons) io.out(`  - ${reason}`);
      io.out(impact.atomic ? 'runs in one transaction (locks are held until it commits)' : 'runs in parts (some statements cannot run in a transaction)');
      io.out('');
      for (const s of impact.statements) {
        const effects = [...s.rewrites.map((x) => `rewrites ${x.table}`), ...s.scans.map((x) => `scans ${x.table}`)];
        io.out(`line ${String(s.line).padEnd(5)} ${s.lock.padEnd(22)} ${s.summary}${effects.length ? `  [${effects.join(', ')}]` : ''}`);
        for (const note of s.notes) io.out(`           ${note}`);
      }
      if (impact.tables.length) {
        io.out('\ntables:');
        for (const t of impact.tables) io.out(`  ${t.name}: ${t.rows === null ? 'rows unknown' : `${t.rowsExact ? '' : '~'}${t.rows} rows`}, ${t.bytes ?? '?'} bytes`);
      }
      if (impact.destructive.length) {
        io.out('\ndestructive (acknowledge each on the request before the gate):');
        for (const d of impact.destructive) io.out(`  line ${d.line}: ${d.description}  [${d.operationKey}]`);
      }
      for (const s of impact.strategies) io.out(`\nsafer, line ${s.line}: ${s.title}\n  ${s.why}\n${s.sql.replace(/^/gm, '    ')}`);
      io.out(`\nsquawk ${squawk.version}: ${squawk.error ? `did not run (${squawk.error})` : `${squawk.findings.length} finding(s)`}`);
      for (const f of squawk.findings) io.out(`  line ${f.line}: ${f.rule}: ${f.message}  ${f.docsUrl}`);
      io.out('');
    }
    // Why the exit code is 1, in one line: a risk at or past --fail-on, or a file that does not parse.
    if (!ok) {
      const why = reports.filter(fails).map((r) => (r.analysis ? `${r.name}: risk ${r.analysis.impact.risk.level} reaches --fail-on ${failOn}` : `${r.name}: the file does not parse`));
      io.err(`failed: ${why.join('; ')}`);
    }
    return ok ? EXIT.ok : EXIT.failed;
  },
});
