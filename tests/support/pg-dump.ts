import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { findPgTool } from '@/lib/engine/postgres/pg-tools';

const execFileAsync = promisify(execFile);

/**
 * `pg_dump --schema-only` of a database, normalised into its entries (split at pg_dump's
 * "-- Name:" headers), sorted: without comment lines, blank lines, SET lines, \restrict tokens and
 * OWNER TO lines (owners are left out of Cutover's snapshot on purpose). pg_dump sets the access
 * method and tablespace only when they change from one entry to the next: each relation's entry
 * gets the ones in force, so that the entries compare as a set. The independent reference the
 * snapshot is checked against.
 */
export async function normalisedSchemaDump(url: string): Promise<string[]> {
  const { stdout } = await execFileAsync(findPgTool('pg_dump'), ['--schema-only', '--dbname', url], { maxBuffer: 64 * 1024 * 1024 });
  const state = { default_table_access_method: 'heap', default_tablespace: "''" };
  return stdout
    .split(/^-- (?:Name|Data for Name): .*$/m)
    .map((entry) => {
      const lines = entry.split('\n').filter((line) => line.trim() !== '' && !line.startsWith('--') && !/^\\(un)?restrict /.test(line));
      for (const line of lines) {
        const set = /^SET (default_table_access_method|default_tablespace) = (.*);$/.exec(line);
        if (set) state[set[1] as keyof typeof state] = set[2];
      }
      const kept = lines
        .filter((line) => !/^SET \w+ = .*;$/.test(line) && !line.startsWith("SELECT pg_catalog.set_config('search_path'"))
        .filter((line) => !/^ALTER .* OWNER TO .*;$/.test(line));
      if (kept.some((line) => /^CREATE (UNLOGGED )?(TABLE|MATERIALIZED VIEW|INDEX|UNIQUE INDEX) /.test(line))) {
        kept.unshift(`(access method ${state.default_table_access_method}, tablespace ${state.default_tablespace})`);
      }
      return kept.join('\n');
    })
    .filter(Boolean)
    .sort();
}

/** What one normalised dump has that the other has not ("+ entry" / "- entry"). */
export function dumpDifference(before: string[], after: string[]): string[] {
  return [...after.filter((e) => !before.includes(e)).map((e) => `+ ${e}`), ...before.filter((e) => !after.includes(e)).map((e) => `- ${e}`)];
}
