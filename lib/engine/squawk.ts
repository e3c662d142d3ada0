import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';

/**
 * squawk-cli (https://squawkhq.com), the field's PostgreSQL migration linter, run beside Cutover's
 * own impact analysis. Its findings are shown as squawk words them, each with its rule and a link
 * to the rule's page. The binary comes from the squawk-cli package Cutover depends on (never
 * PATH), runs offline, and reads the SQL from a temporary file.
 *
 * All rules are kept by default; `exclude` drops some. `--assume-in-transaction` is passed when
 * Cutover will run the file in one transaction (SqlPlan.atomic), so squawk does not report the
 * missing BEGIN/COMMIT of prefer-robust-stmts and judges CONCURRENTLY as Cutover will run it.
 *
 * The migration does not get a say in which rules apply: squawk obeys comments in the file it
 * reads (`-- squawk-ignore-file`, `-- squawk-ignore <rules>`, `-- squawk-disable-assume-in-transaction`),
 * so squawk reads a copy in which every "squawk-" is "squawk_" (same length: lines and columns stay
 * put), and each such directive is reported as a finding of Cutover's own instead.
 */

/** The version Cutover was built against (package.json pins it). */
export const SQUAWK_VERSION = '2.66.0';

export interface SquawkFinding {
  rule: string;
  level: 'warning' | 'error';
  message: string;
  help: string | null;
  /** 1-based, like editors and the plan's statements. */
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  docsUrl: string;
}

export interface SquawkOptions {
  /** The target's server version ("15.4"): squawk skips advice that does not apply to it. */
  pgVersion?: string;
  assumeInTransaction?: boolean;
  exclude?: string[];
  signal?: AbortSignal;
  timeoutMs?: number;
}

export class SquawkUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SquawkUnavailableError';
  }
}

// squawk's JSON reporter: 0-based lines and columns.
const SquawkJsonSchema = z.array(
  z.object({
    file: z.string(),
    line: z.number().int(),
    column: z.number().int(),
    line_end: z.number().int().optional(),
    column_end: z.number().int().optional(),
    level: z.string(),
    message: z.string(),
    help: z.string().nullable().optional(),
    rule_name: z.string(),
  }),
);

/** The rule name of Cutover's own finding for a squawk directive in the migration. */
export const SQUAWK_DIRECTIVE_RULE = 'cutover-squawk-directive';

/** squawk's directives: its linter matches these prefixes (case-sensitive) at the start of a comment's text. */
const SQUAWK_DIRECTIVE = /squawk-(ignore-file|ignore|disable-assume-in-transaction|enable-assume-in-transaction)([^\n]*)/g;

/**
 * The directives a migration gives squawk, one finding each (line and column 1-based). Found in
 * the text rather than in comment tokens: a lexer that disagreed with squawk's about where a comment
 * is could otherwise hide one; the copy squawk reads has none left either way.
 */
export function squawkDirectiveFindings(sql: string): SquawkFinding[] {
  const findings: SquawkFinding[] = [];
  sql.split('\n').forEach((text, i) => {
    for (const m of text.matchAll(SQUAWK_DIRECTIVE)) {
      // What squawk would read after the directive: up to the end of the comment or a "--" note.
      const rest = m[2].split('*/')[0].split('--')[0].trim();
      const what =
        m[1] === 'ignore-file' ? `${rest || 'every rule'} in the whole file`
        : m[1] === 'ignore' ? `${rest || 'every rule'} on the next statement`
        : `to assume the file ${m[1].startsWith('disable') ? 'does not run' : 'runs'} in one transaction`;
      const asks = m[1].startsWith('ignore') ? `to ignore ${what}` : what;
      const column = (m.index ?? 0) + 1;
      findings.push({
        rule: SQUAWK_DIRECTIVE_RULE,
        level: 'warning',
        message: `the migration asks squawk ${asks} at line ${i + 1}: ignored by Cutover`,
        help: 'Cutover lints every statement with every rule; squawk directives in the migration are reported, not obeyed.',
        line: i + 1,
        column,
        endLine: i + 1,
        endColumn: column + m[0].length,
        docsUrl: 'https://squawkhq.com/docs/cli',
      });
    }
  });
  return findings;
}

/** The migration as squawk reads it: its directives defused, every byte and line where it was. */
export const withoutSquawkDirectives = (sql: string) => sql.replace(/squawk-/g, 'squawk_');

/** squawk's own links (its terminal reporter prints https://squawkhq.com/docs/<rule>). */
export const squawkDocsUrl = (rule: string) => `https://squawkhq.com/docs/${encodeURIComponent(rule)}`;

let resolved: string | undefined;

/**
 * The squawk binary of the installed squawk-cli package, found as squawk-cli's own launcher finds
 * it (its platform package), from this module or from the working directory.
 */
export function squawkBinaryPath(): string {
  if (resolved) return resolved;
  const bases = [path.join(process.cwd(), 'package.json')];
  try {
    bases.unshift(__filename);
  } catch {
    // ESM without __filename: the working directory is enough.
  }
  const platformPackage = `@squawk-cli/${process.platform}-${process.arch}`;
  const binary = process.platform === 'win32' ? 'squawk.exe' : 'squawk';
  for (const base of bases) {
    try {
      const fromBase = createRequire(base);
      const cliPackage = fromBase.resolve('squawk-cli/package.json');
      const version = (fromBase(cliPackage) as { version?: string }).version;
      if (version !== SQUAWK_VERSION) continue;
      resolved = createRequire(cliPackage).resolve(`${platformPackage}/bin/${binary}`);
      return resolved;
    } catch {
      // try the next base
    }
  }
  throw new SquawkUnavailableError(
    `squawk-cli ${SQUAWK_VERSION} is not installed with its ${platformPackage} binary: run npm install (with optional dependencies) in Cutover's folder.`,
  );
}

/**
 * Runs squawk on `sql` and returns its findings, in file order. squawk is started before this
 * function first awaits (its files are written synchronously), so it runs while the caller goes on
 * with its own work; it writes its report straight into a file, since through a pipe it would
 * wait for this process to read whenever the pipe is full.
 */
export async function runSquawk(sql: string, options: SquawkOptions = {}): Promise<SquawkFinding[]> {
  const binary = squawkBinaryPath();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-squawk-'));
  try {
    const file = path.join(dir, 'migration.sql');
    const config = path.join(dir, '.squawk.toml');
    const report = path.join(dir, 'report.json');
    writeFileSync(file, withoutSquawkDirectives(sql));
    // An empty config of its own: a .squawk.toml lying around must not change the rules.
    writeFileSync(config, '');
    const args = ['--reporter', 'json', '--no-error-on-unmatched-pattern', '--config', config];
    if (options.pgVersion) args.push('--pg-version', options.pgVersion);
    if (options.assumeInTransaction) args.push('--assume-in-transaction');
    if (options.exclude?.length) args.push('--exclude', options.exclude.join(','));
    args.push(file);
    const out = openSync(report, 'w');
    let errOut = '';
    const exited = new Promise<number | null>((resolve, reject) => {
      // The binary is resolved at run time, not a file for the bundler to trace.
      const child = spawn(/*turbopackIgnore: true*/ binary, args, {
        cwd: dir,
        stdio: ['ignore', out, 'pipe'],
        env: { NODE_ENV: process.env.NODE_ENV, PATH: process.env.PATH ?? '' },
        timeout: options.timeoutMs ?? 60_000,
        ...(options.signal ? { signal: options.signal } : {}),
      });
      child.stderr?.on('data', (b) => (errOut += b));
      child.on('error', reject);
      child.on('close', resolve);
    });
    let code: number | null;
    try {
      code = await exited;
    } finally {
      closeSync(out);
    }
    const json = await readFile(report, 'utf8');
    // squawk exits 1 when it has findings: the JSON report is the answer.
    if (code !== 0 && !(code === 1 && json.trim().startsWith('['))) {
      throw new Error(`squawk failed${code === null ? ' (stopped)' : ` (exit ${code})`}: ${errOut.trim().split('\n').slice(-3).join(' ')}`);
    }
    const findings = SquawkJsonSchema.parse(JSON.parse(json.trim() || '[]'));
    const squawks: SquawkFinding[] = findings.map((f) => ({
      rule: f.rule_name,
      level: f.level.toLowerCase() === 'error' ? 'error' : 'warning',
      message: f.message,
      help: f.help ?? null,
      line: f.line + 1,
      column: f.column + 1,
      endLine: (f.line_end ?? f.line) + 1,
      endColumn: (f.column_end ?? f.column) + 1,
      docsUrl: squawkDocsUrl(f.rule_name),
    }));
    // In file order, Cutover's findings about directives among squawk's.
    return [...squawkDirectiveFindings(sql), ...squawks].sort((a, b) => a.line - b.line || a.column - b.column);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** "15.4 (Debian 15.4-1)" -> "15.4", the form squawk's --pg-version takes. */
export function squawkPgVersion(serverVersion: string | null | undefined): string | undefined {
  const m = /^(\d+)(?:\.(\d+))?/.exec(serverVersion ?? '');
  return m ? `${m[1]}.${m[2] ?? '0'}` : undefined;
}
