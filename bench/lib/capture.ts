/**
 * Captures the SQL the app really runs for one page view: log_statement = 'all' on the bench
 * database (new sessions only), one GET per page between two marker queries, then the
 * statements between the markers are read back from the PostgreSQL server log.
 */
import { existsSync, openSync, readSync, closeSync, statSync } from 'node:fs';
import type { Client } from 'pg';

export const PG_LOG = process.env.BENCH_PG_LOG ?? '/var/log/postgresql/postgresql-15-main.log';

export interface CapturedPage {
  page: string;
  statements: string[];
}

export function logReadable(): boolean {
  try {
    if (!existsSync(PG_LOG)) return false;
    closeSync(openSync(PG_LOG, 'r'));
    return true;
  } catch {
    return false;
  }
}

export const logSize = () => statSync(PG_LOG).size;

function readFrom(offset: number): string {
  const size = statSync(PG_LOG).size;
  const fd = openSync(PG_LOG, 'r');
  try {
    const buf = Buffer.alloc(Math.max(0, size - offset));
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } finally {
    closeSync(fd);
  }
}

// log_line_prefix '%m [%p] %q%u@%d ' (Debian's default): "2026-01-01 10:00:00.000 UTC [123] postgres@db LOG:  execute s1: SELECT ..."
const ENTRY = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d+)? \S+ \[(\d+)\] (?:\S*@(\S+) )?(\w+):  (.*)$/;

/** Statements (with their bind parameters) logged between the markers `bench-capture:<page>:start|end`. */
export function parseCapture(text: string, database: string, pages: string[]): CapturedPage[] {
  const entries: { pid: string; db: string | undefined; level: string; msg: string }[] = [];
  for (const line of text.split('\n')) {
    const m = ENTRY.exec(line);
    if (m) entries.push({ pid: m[1], db: m[2], level: m[3], msg: m[4] });
    else if (entries.length && line.length) entries[entries.length - 1].msg += '\n' + line.replace(/^\t/, '');
  }
  return pages.map((page) => {
    const start = entries.findIndex((e) => e.msg.includes(`bench-capture:${page}:start`));
    const end = entries.findIndex((e, i) => i > start && e.msg.includes(`bench-capture:${page}:end`));
    const statements: string[] = [];
    if (start >= 0 && end > start) {
      for (const e of entries.slice(start + 1, end)) {
        if (e.db !== database) continue;
        if (e.level === 'LOG' && /^(execute [^:]*|statement): /.test(e.msg)) statements.push(e.msg.replace(/^(execute [^:]*|statement): /, ''));
        else if (e.level === 'DETAIL' && e.msg.startsWith('parameters: ') && statements.length) statements[statements.length - 1] += `\n  -- ${e.msg}`;
      }
    }
    return { page, statements };
  });
}

export async function marker(db: Client, page: string, edge: 'start' | 'end') {
  await db.query(`SELECT 'bench-capture:${page}:${edge}'`);
}

export { readFrom as readLogFrom };
