import { readFileSync, writeFileSync } from 'node:fs';
import { Client } from 'pg';
import { z } from 'zod';
import { describeChange, diffSnapshots } from '../engine/postgres/diff';
import { takeSnapshot, type SchemaSnapshot } from '../engine/postgres/snapshot';
import { MigrationError, applyMigrations, migrationStatus, readMigrationsDir, rollbackMigration } from '../engine/prisma-migrations';
import { readOnlySession, type PgTargetSettings } from '../engine/connection';
import { summarizePlan, type PlanSummary } from '../engine/postgres/sql-plan';
import { rehearseMigration } from '../engine/postgres/rehearsal';
import { reapAbandonedSandboxes, rehearsalServerFromUrl, startSandbox, type RehearsalServer, type Sandbox } from '../engine/postgres/sandbox';
import { DEFAULT_ALLOWED_EXTENSIONS, FENCE_KINDS, FenceError, assertFenceAllows, describeViolation, type FenceAllowances } from '../engine/postgres/sql-guard';
import { applyTimeouts, type ScriptResult } from '../engine/postgres/runner';
import { TargetBusyError, lockTargetOrFail } from '../engine/postgres/target-lock';

/** Exit codes: 0 all is well, 1 the work failed (or there is work left), 2 the command was wrong. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

const USAGE = `Usage: cutover <command> [options]

Commands:
  status    --url URL --dir DIR   which migrations of a Prisma migrations folder are applied,
                                  pending, failed or modified (exit 1 unless all are applied)
  apply     --url URL --dir DIR   apply every pending migration in order, each in its own
                                  transaction, stopping at the first failure
  down      --url URL --dir DIR   roll back the last applied migration with its down.sql
            [--name MIGRATION]    (or the one named) and mark it rolled back
  rehearse  --url URL --dir DIR   rehearse the first pending migration (or --name) on a copy of
            [--name MIGRATION]    the database's schema in a sandbox: up, verify, down, verify the
            [--sample ROWS]       rollback restores the schema, up again; the copy is dropped
            [--sandbox-url URL]   (--sample: also copy up to ROWS rows of each table). The database
                                  is only read; the copy runs in a PostgreSQL started for the
                                  command (embedded), or on --sandbox-url / CUTOVER_SANDBOX_URL
                                  (a role there that may create databases and roles)
  snapshot  --url URL [--out F]   the database's schema: tables, columns, indexes, constraints,
                                  views, sequences, enums (with --out, the snapshot as JSON)
  diff      --from A --to B       what changed between two schemas (A and B: a PostgreSQL URL
                                  or a snapshot file written by "snapshot --out")

Connecting:
  --url URL               a postgresql:// URL; leave the password out of it and set PGPASSWORD
                          instead, so that it does not show in the process list
  --url-env VAR           read the URL from the environment variable VAR instead of --url
  snapshot, status, diff and rehearse only read the database (read-only sessions).

Options:
  --lock-timeout MS       apply/down: give up waiting for a table lock after MS (default 5000)
  --statement-timeout MS  apply/down: stop a statement after MS (default: no limit)
  --allow KIND[,KIND]     apply/down/rehearse: let statements of these kinds past the SQL fence
                          (${FENCE_KINDS.map((k) => k.id).join(', ')})
  --allow-extension E[,E] apply/down/rehearse: extensions CREATE EXTENSION may create, besides
                          PostgreSQL's trusted ones
  --json    machine-readable output
  --help    this text`;

const url = z.string().regex(/^postgres(ql)?:\/\//, 'must be a postgresql:// connection string');
const ms = z.coerce.number().int().min(0).max(86_400_000);
const timeouts = { 'lock-timeout': ms.default(5000), 'statement-timeout': ms.default(0) };
// The SQL fence's allowances: none by default, as for a target nobody has allowed anything on.
const kindIds = FENCE_KINDS.map((k) => k.id);
const fenceFlags = {
  allow: z.string().optional().refine((v) => !v || v.split(',').every((k) => kindIds.includes(k.trim())), `must name fence kinds: ${kindIds.join(', ')}`),
  'allow-extension': z.string().optional(),
};
function fenceFrom(input: Record<string, string | undefined>): FenceAllowances {
  const list = (v: string | undefined) => (v ?? '').split(',').map((x) => x.trim()).filter(Boolean);
  return { allowedKinds: list(input.allow), allowedExtensions: [...DEFAULT_ALLOWED_EXTENSIONS, ...list(input['allow-extension'])] };
}
const schemas = {
  status: z.strictObject({ url, dir: z.string().min(1) }),
  apply: z.strictObject({ url, dir: z.string().min(1), ...timeouts, ...fenceFlags }),
  down: z.strictObject({ url, dir: z.string().min(1), name: z.string().min(1).optional(), ...timeouts, ...fenceFlags }),
  rehearse: z.strictObject({
    url, dir: z.string().min(1), name: z.string().min(1).optional(), sample: z.coerce.number().int().min(0).max(100_000).default(0),
    'sandbox-url': url.optional(), ...fenceFlags,
  }),
  snapshot: z.strictObject({ url, out: z.string().min(1).optional() }),
  diff: z.strictObject({ from: z.string().min(1), to: z.string().min(1) }),
};
type Command = keyof typeof schemas;

export interface Io {
  out(line: string): void;
  err(line: string): void;
}
const consoleIo: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

/** The command line was wrong: exit 2. Only mistakes in the arguments themselves show the whole usage text. */
class UsageError extends Error {
  constructor(message: string, readonly showUsage = false) {
    super(message);
  }
}

function parseArgs(argv: string[]): { command: string | undefined; flags: Record<string, string | true> } {
  const [command, ...rest] = argv;
  const flags: Record<string, string | true> = {};
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (!arg.startsWith('--')) throw new UsageError(`Unexpected argument "${arg}".`, true);
    const [key, inline] = arg.slice(2).split(/=(.*)/s, 2);
    if (inline !== undefined) flags[key] = inline;
    else if (key === 'json' || key === 'help') flags[key] = true;
    else if (i + 1 < rest.length && !rest[i + 1].startsWith('--')) flags[key] = rest[++i];
    else throw new UsageError(`--${key} needs a value.`, true);
  }
  return { command, flags };
}

async function connect(connectionString: string, label: string, readOnly: boolean): Promise<Client> {
  // The label names this run to anyone who finds its lock taken.
  const config = { connectionString, connectionTimeoutMillis: 10_000, application_name: `cutover-cli ${label} (pid ${process.pid})` };
  const client = new Client(readOnly ? readOnlySession(config) : config);
  await client.connect();
  return client;
}

/** A session for `fn`; label 'read' (the default) and 'diff' sessions are read-only. */
async function withDb<T>(connectionString: string, fn: (c: Client) => Promise<T>, label = 'read'): Promise<T> {
  const client = await connect(connectionString, label, label === 'read' || label === 'diff');
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function loadSchema(source: string): Promise<SchemaSnapshot> {
  if (/^postgres(ql)?:\/\//.test(source)) return withDb(source, takeSnapshot, 'diff');
  const parsed = JSON.parse(readFileSync(source, 'utf8')) as SchemaSnapshot;
  if (!parsed?.shape?.tables) throw new UsageError(`${source} is not a snapshot written by "cutover snapshot --out".`);
  return parsed;
}

const statements = (n: number) => `${n} statement${n === 1 ? '' : 's'}`;

function describeRun(r: ScriptResult): string {
  const outside = r.statements.filter((x) => !x.transactional).length;
  return `(${statements(r.statements.length)}, ${r.durationMs} ms${outside ? `, ${outside} outside a transaction` : ''})`;
}

const lastApplied = (entries: { name: string; finishedAt: Date | null }[]) =>
  [...entries].sort((a, b) => (b.finishedAt?.getTime() ?? 0) - (a.finishedAt?.getTime() ?? 0) || b.name.localeCompare(a.name))[0]?.name;

/** Work that changes a database: exit 0, or 1 with the migration and the reason. */
async function reportWork(json: boolean, io: Io, work: () => Promise<void>): Promise<number> {
  try {
    await work();
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof MigrationError) && !(err instanceof TargetBusyError)) throw err;
    const migration = err instanceof MigrationError ? err.migrationName : undefined;
    if (json) io.out(JSON.stringify({ ok: false, migration, error: err.message, evidence: err instanceof MigrationError ? err.evidence : undefined }, null, 2));
    else io.err(`error: ${err.message}`);
    return EXIT.failed;
  }
}

function settingsFromUrl(connectionString: string): PgTargetSettings {
  const u = new URL(connectionString);
  return {
    host: u.hostname || 'localhost', port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    username: decodeURIComponent(u.username) || 'postgres', password: u.password ? decodeURIComponent(u.password) : (process.env.PGPASSWORD ?? null),
    sslMode: u.searchParams.get('sslmode') ?? 'disable', connectTimeoutMs: 10_000,
  };
}

/** Runs one command; returns the exit code. Never calls process.exit (tests call it directly). */
export async function main(argv: string[], io: Io = consoleIo): Promise<number> {
  let json = false;
  try {
    const { command, flags } = parseArgs(argv);
    json = flags.json === true;
    if (!command || flags.help || command === 'help' || command === '--help') {
      io.out(USAGE);
      return command ? EXIT.ok : EXIT.usage;
    }
    if (!(command in schemas)) throw new UsageError(`Unknown command "${command}".`, true);
    const { json: _json, ...values } = flags;
    // --url-env VAR: the URL (and its password) from the environment, not the command line.
    if (values['url-env'] !== undefined) {
      if (values.url !== undefined) throw new UsageError('Give --url or --url-env, not both.');
      const name = String(values['url-env']);
      if (!process.env[name]) throw new UsageError(`--url-env: the environment variable ${name} is not set.`);
      values.url = process.env[name]!;
      delete values['url-env'];
    }
    const parsed = schemas[command as Command].safeParse(values);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `${command} takes no ${i.keys.map((k) => `--${k}`).join(', ')}.`
          : `--${i.path.join('.')}: ${i.message === 'Invalid input: expected string, received undefined' ? 'is required' : i.message}`,
      );
      throw new UsageError(issues.join('\n'), true);
    }
    return await run(command as Command, parsed.data as never, json, io);
  } catch (err) {
    if (err instanceof UsageError) {
      if (json) io.out(JSON.stringify({ ok: false, error: err.message, usage: true }));
      else io.err(err.showUsage ? `${err.message}\n\n${USAGE}` : `error: ${err.message}\n(cutover --help lists the commands and options)`);
      return EXIT.usage;
    }
    const message = err instanceof Error ? err.message : String(err);
    // Refused by the SQL fence before anything ran: every violation with its line and reason.
    if (err instanceof FenceError) {
      if (json) io.out(JSON.stringify({ ok: false, error: message, file: err.file, violations: err.violations }, null, 2));
      else io.err([`error: ${message}`, ...err.violations.slice(1).map((v) => `  ${err.file}, ${describeViolation(v)}`)].join('\n'));
      return EXIT.failed;
    }
    if (json) io.out(JSON.stringify({ ok: false, error: message }));
    else io.err(`error: ${message}`);
    return EXIT.failed;
  }
}

async function run(command: Command, input: Record<string, string>, json: boolean, io: Io): Promise<number> {
  switch (command) {
    case 'status': {
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
    }
    case 'apply': {
      const migrations = readMigrationsDir(input.dir);
      return reportWork(json, io, async () => {
        const result = await withDb(input.url, async (c) => {
          await applyTimeouts(c, { lockTimeoutMs: Number(input['lock-timeout']), statementTimeoutMs: Number(input['statement-timeout']) });
          return applyMigrations(c, migrations, { recordFailure: true, lock: lockTargetOrFail, fence: fenceFrom(input) });
        }, 'apply');
        if (json) io.out(JSON.stringify({ ok: true, ...result }, null, 2));
        else {
          for (const name of result.applied) io.out(`applied  ${name}  ${describeRun(result.evidence[name])}`);
          io.out(result.applied.length ? `\n${result.applied.length} migration(s) applied.` : 'Nothing to apply: the database is up to date.');
        }
      });
    }
    case 'down': {
      const migrations = readMigrationsDir(input.dir);
      return reportWork(json, io, async () => {
        const result = await withDb(input.url, async (c) => {
          await applyTimeouts(c, { lockTimeoutMs: Number(input['lock-timeout']), statementTimeoutMs: Number(input['statement-timeout']) });
          const name = input.name ?? lastApplied((await migrationStatus(c, migrations)).filter((e) => e.state === 'applied'));
          if (!name) throw new UsageError('No migration of this folder is applied; there is nothing to roll back.');
          const m = migrations.find((x) => x.name === name);
          if (!m) throw new UsageError(`There is no migration named "${name}" in ${input.dir}.`);
          return { name, run: await rollbackMigration(c, m, { lock: lockTargetOrFail, fence: fenceFrom(input) }) };
        }, 'down');
        if (json) io.out(JSON.stringify({ ok: true, rolledBack: result.name, evidence: result.run }, null, 2));
        else io.out(`rolled back  ${result.name}  ${describeRun(result.run)}`);
      });
    }
    case 'rehearse': {
      const migrations = readMigrationsDir(input.dir);
      const name = input.name ?? (await withDb(input.url, (c) => migrationStatus(c, migrations))).find((e) => e.state === 'pending')?.name;
      if (!name) throw new UsageError('No migration is pending; name the one to rehearse with --name.');
      const m = migrations.find((x) => x.name === name);
      if (!m) throw new UsageError(`There is no migration named "${name}" in ${input.dir}.`);
      if (m.downSql === undefined) throw new UsageError(`${name} has no down.sql: a rehearsal proves the way back, so write one first.`);
      // The fence first: a refused file never costs a sandbox start.
      await assertFenceAllows('migration.sql', m.sql, fenceFrom(input));
      await assertFenceAllows('down.sql', m.downSql, fenceFrom(input));
      // Never on the database's own server: a sandbox started for this command, or the one named.
      const sandboxUrl = input['sandbox-url'] ?? process.env.CUTOVER_SANDBOX_URL;
      let own: Sandbox | undefined;
      let server: RehearsalServer;
      if (sandboxUrl) server = rehearsalServerFromUrl(sandboxUrl);
      else {
        await reapAbandonedSandboxes();
        server = own = await startSandbox();
        if (!json) io.out(`sandbox: ${own.label}, started in ${own.startMs} ms`);
      }
      const result = await rehearseMigration(settingsFromUrl(input.url), { name, upSql: m.sql, downSql: m.downSql }, {
        sandbox: server,
        sampleRows: Number(input.sample),
        fence: fenceFrom(input),
        onPhase: (p) => {
          if (json) return;
          io.out(`${p.status === 'ok' ? 'ok    ' : 'FAILED'} ${p.label} (${p.durationMs} ms)${p.detail ? `: ${p.detail}` : ''}`);
          for (const c of p.changes ?? []) io.out(`         ${c}`);
        },
      }).finally(() => own?.stop());
      if (json) io.out(JSON.stringify({ migration: name, ...result }, null, 2));
      else io.out(result.ok ? `\nRehearsal of ${name} passed in ${result.durationMs} ms.` : `\nRehearsal of ${name} failed: ${result.error}`);
      return result.ok ? EXIT.ok : EXIT.failed;
    }
    case 'snapshot': {
      const snap = await withDb(input.url, takeSnapshot);
      if (input.out) writeFileSync(input.out, JSON.stringify(snap, null, 2) + '\n');
      if (json) io.out(JSON.stringify(snap, null, 2));
      else {
        const { shape, stats } = snap;
        io.out(`PostgreSQL ${snap.serverVersion}, schema hash ${snap.hash}`);
        for (const [name, t] of Object.entries(shape.tables)) {
          io.out(`table ${name} (${stats[name]?.estimatedRows == null ? 'never analyzed' : `~${stats[name].estimatedRows} rows`}, ${Math.round((stats[name]?.totalBytes ?? 0) / 1024)} kB)`);
          for (const c of t.columns) io.out(`  ${c.name} ${c.type}${c.nullable ? '' : ' NOT NULL'}${c.default ? ` DEFAULT ${c.default}` : ''}`);
          for (const i of t.indexes) io.out(`  index ${i.name} (${i.method}${i.unique ? ', unique' : ''}${i.predicate ? `, where ${i.predicate}` : ''})`);
        }
        for (const [name, v] of Object.entries(shape.views)) io.out(`${v.materialized ? 'materialized view' : 'view'} ${name}`);
        for (const [name, labels] of Object.entries(shape.enums)) io.out(`enum ${name} (${labels.join(', ')})`);
        for (const name of Object.keys(shape.sequences)) io.out(`sequence ${name}`);
        if (input.out) io.out(`\nwrote ${input.out}`);
      }
      return EXIT.ok;
    }
    case 'diff': {
      const [from, to] = await Promise.all([loadSchema(input.from), loadSchema(input.to)]);
      const changes = diffSnapshots(from.shape, to.shape);
      if (json) io.out(JSON.stringify({ ok: true, same: changes.length === 0, from: from.hash, to: to.hash, changes }, null, 2));
      else if (changes.length === 0) io.out(`No differences (schema hash ${from.hash}).`);
      else {
        for (const c of changes) io.out(describeChange(c));
        io.out(`\n${changes.length} difference(s).`);
      }
      return EXIT.ok;
    }
  }
}
