import { FENCE_KINDS, FenceError, describeViolation } from '../engine';
import { EXIT, UsageError, type Io } from './command';
import { COMMANDS } from './commands';

export { EXIT, type Io } from './command';

/** --help: each command's own lines (lib/cli/commands/*), then what they share. */
const USAGE = `Usage: cutover <command> [options]

Commands:
${COMMANDS.map((c) => c.usage).join('\n')}

Connecting:
  --url URL               a postgresql:// URL; leave the password out of it and set PGPASSWORD
                          instead, so that it does not show in the process list
  --url-env VAR           read the URL from the environment variable VAR instead of --url
  snapshot, status, diff, checksum, analyze, drift and rehearse only read the database
  (read-only sessions).

Options:
  --lock-timeout MS       apply/down: give up waiting for a table lock after MS (default 5000)
  --statement-timeout MS  apply/down: stop a statement after MS (default: no limit)
  --allow KIND[,KIND]     apply/down/rehearse: let statements of these kinds past the SQL fence
                          (${FENCE_KINDS.map((k) => k.id).join(', ')})
  --allow-extension E[,E] apply/down/rehearse: extensions CREATE EXTENSION may create, besides
                          PostgreSQL's trusted ones
  --json    machine-readable output
  --help    this text`;

const consoleIo: Io = { out: (l) => console.log(l), err: (l) => console.error(l) };

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
    const cmd = COMMANDS.find((c) => c.name === command);
    if (!cmd) throw new UsageError(`Unknown command "${command}".`, true);
    const { json: _json, ...values } = flags;
    // --url-env VAR: the URL (and its password) from the environment, not the command line.
    if (values['url-env'] !== undefined) {
      if (values.url !== undefined) throw new UsageError('Give --url or --url-env, not both.');
      const name = String(values['url-env']);
      if (!process.env[name]) throw new UsageError(`--url-env: the environment variable ${name} is not set.`);
      values.url = process.env[name]!;
      delete values['url-env'];
    }
    const parsed = cmd.flags.safeParse(values);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) =>
        i.code === 'unrecognized_keys'
          ? `${command} takes no ${i.keys.map((k) => `--${k}`).join(', ')}.`
          : `--${i.path.join('.')}: ${i.message === 'Invalid input: expected string, received undefined' ? 'is required' : i.message}`,
      );
      throw new UsageError(issues.join('\n'), true);
    }
    return await cmd.run(parsed.data, { json, io });
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
