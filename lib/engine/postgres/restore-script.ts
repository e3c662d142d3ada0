import { escapeIdentifier as id, escapeLiteral } from 'pg';
import { formatBytes } from '../../domain/format-bytes';
import type { TableLayout } from './backup';
import { CANONICAL_SETTINGS, tableChecksumSql, type TableChecksum } from './checksum';

/** What a restore script needs to know of a backup (all of it recorded when the backup was taken). */
export interface RestoreScriptBackup {
  /** The artifact's key (for the record). */
  key: string;
  /** The file's name as Download backup saves it (backupFileName): the script's default BACKUP_FILE. */
  fileName: string;
  sha256: string;
  sizeBytes: number;
  database: string;
  serverVersion: string;
  pgDumpVersion: string;
  startedAt: string;
  checksums: TableChecksum[];
  layouts: ScriptLayout[];
}

/** A table's layout as the row hash reads it (recorded at backup time: TableLayout). */
export type ScriptLayout = Pick<TableLayout, 'table' | 'sqlName'> & { columns: Parameters<typeof tableChecksumSql>[0]['columns'] };

/**
 * Where the backup is restored to. No password: the script reads PGPASSWORD or ~/.pgpass. A null
 * host or port (people who may not see the target's address) makes the script ask for PGHOST/PGPORT.
 */
export interface RestoreScriptTarget {
  name?: string;
  host: string | null;
  port: number | null;
  database: string;
  username: string;
  sslMode: string;
}

/** Text for a comment line: a comment ends only at a newline, so only line breaks and control characters go. */
const comment = (s: string) => s.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');

/** Text safe inside a double-quoted shell word: letters, digits, spaces and a little punctuation. */
const plain = (s: string) => s.replace(/[^A-Za-z0-9 ._,()-]/g, '_');

/**
 * The backup file's name, the same wherever it appears: the Download backup link's
 * Content-Disposition, the restore script's default BACKUP_FILE and the procedure.
 * The target's name and the backup's time, e.g. shop-20240601-052933.dump.
 */
export function backupFileName(targetName: string, createdAt: Date): string {
  const base = targetName.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'backup';
  return `${base}-${createdAt.toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-')}.dump`;
}

/** "268 kB (274,788 bytes)": a size for people, with the exact count the checks compare. */
const sizeInWords = (n: number) => (n < 1024 ? `${n.toLocaleString('en-US')} bytes` : `${formatBytes(n)} (${n.toLocaleString('en-US')} bytes)`);

/** Where to get the file: the same words in the script's header and the procedure. */
const whereToGetIt = (backup: RestoreScriptBackup) =>
  `Download it with "Download backup" on the request's Create backup step (it saves ${backup.fileName}), or copy the artifact store's object ${backup.key}.`;

/** A POSIX shell word holding exactly `s`. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** libpq's sslmode for a target's setting (as libpqEnv maps it). */
const sslModeOf = (mode: string) => (mode === 'verify-full' ? 'verify-full' : mode === 'require' ? 'require' : 'disable');

/** The server major a version string names ("15.20 (Debian ...)" → 15; "9.6.24" → 9). */
const majorOfVersion = (v: string) => Number(/^(\d+)/.exec(v)?.[1] ?? 0);

/**
 * SQL that recomputes the backup's checksums in a restored copy, one line per table:
 * `schema.table|rows|checksum` (psql -At): tableChecksums' own query (tableChecksumSql) over the
 * columns recorded at backup time, all tables in one REPEATABLE READ snapshot, under the canonical settings.
 */
export function verifySql(layouts: ScriptLayout[]): string {
  const settings = Object.entries(CANONICAL_SETTINGS).map(([name, value]) => `SET LOCAL ${name} = ${escapeLiteral(value)};`);
  // The restored copy holds the target's code: names resolve in pg_catalog only (no operator of its
  // schemas can stand in), and a policy that would filter rows makes the read fail instead of running.
  settings.push(`SET LOCAL search_path = pg_catalog;`, `SET LOCAL row_security = off;`);
  const perTable = layouts.map((t) => `SELECT ${escapeLiteral(label(t.table))} AS "table", c.rows, c.checksum FROM (\n${tableChecksumSql(t)}\n) c;`);
  return ['BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;', ...settings, ...perTable, 'COMMIT;', ''].join('\n');
}

/** A table's label in the verification's output: one line, whatever the name holds. */
const label = (table: string) => table.replace(/[\r\n]/g, '?');

/** The backup's expected lines, as verifySql prints them. */
export function expectedLines(checksums: TableChecksum[]): string {
  return checksums.map((c) => `${label(c.table)}|${c.rows}|${c.checksum}`).join('\n');
}

/** A here-document's body may not hold its end marker on a line of its own (names can hold newlines). */
function hereDoc(marker: string, body: string): string {
  if (body.split('\n').some((line) => line.trim() === marker)) throw new Error(`A table name holds the line ${marker}: no restore script can be generated for it.`);
  return body;
}

const jobsDefault = 2;

/**
 * A bash script that restores this backup into `target` and proves it: the file's size and
 * sha256 first, pg_restore's version and the archive's table of contents, the database created
 * when missing (refused when it already holds tables), pg_restore by section (pre-data in one
 * transaction; data and post-data with parallel jobs; every step stops at the first error),
 * ANALYZE, then the row counts and checksums of every table compared with those recorded at
 * backup time. No secret inside: the password comes from PGPASSWORD or ~/.pgpass.
 */
export function restoreScript(backup: RestoreScriptBackup, target: RestoreScriptTarget, options: { jobs?: number } = {}): string {
  const jobs = options.jobs ?? jobsDefault;
  const major = majorOfVersion(backup.pgDumpVersion);
  const sql = verifySql(backup.layouts);
  const expected = expectedLines(backup.checksums);
  const total = backup.checksums.reduce((n, c) => n + c.rows, 0);
  return `#!/usr/bin/env bash
# Restore script generated by Cutover for backup ${comment(backup.key)}
#   database ${comment(backup.database)} (PostgreSQL ${comment(backup.serverVersion)}), taken ${comment(backup.startedAt)} with pg_dump ${comment(backup.pgDumpVersion)}
#   ${comment(backup.fileName)}: ${sizeInWords(Number(backup.sizeBytes))}, sha256 ${comment(backup.sha256)}
#   ${backup.checksums.length} tables, ${total} rows
#
# Usage: bash restore.sh [BACKUP_FILE]   (default: ${comment(backup.fileName)} in the current directory)
# ${comment(whereToGetIt(backup))}
# The target and the options come from the environment, with the values below as defaults:
#   PGHOST PGPORT PGUSER PGSSLMODE  where to connect (libpq's own variables)
#   TARGET_DB                       the database to restore into (created when missing; must hold no tables)
#   JOBS                            parallel jobs for the data and the indexes
#   RESTORE_OPTIONS                 extra pg_restore options, e.g. "--no-owner --no-privileges" when the
#                                   backup's roles do not exist on this server
# The password is never written here: export PGPASSWORD='<password of the user>' or use ~/.pgpass.
set -euo pipefail

BACKUP_FILE="\${1:-${backup.fileName.replace(/[^A-Za-z0-9._/-]/g, '_')}}"
EXPECTED_SHA256=${shellQuote(backup.sha256)}
EXPECTED_SIZE=${Number(backup.sizeBytes)}
export PGHOST="\${PGHOST${target.host ? `:-${target.host.replace(/[^A-Za-z0-9._:-]/g, '')}` : `:?set PGHOST to the server of ${plain(target.name ?? target.database)}`}}"
export PGPORT="\${PGPORT${target.port ? `:-${Number(target.port)}` : `:?set PGPORT to the port of ${plain(target.name ?? target.database)}`}}"
export PGUSER="\${PGUSER:-$(printf '%s' ${shellQuote(target.username)})}"
export PGSSLMODE="\${PGSSLMODE:-${sslModeOf(target.sslMode)}}"
export PGAPPNAME=cutover-restore
TARGET_DB="\${TARGET_DB:-$(printf '%s' ${shellQuote(target.database)})}"
MAINTENANCE_DB="\${MAINTENANCE_DB:-postgres}"
JOBS="\${JOBS:-${jobs}}"
RESTORE_OPTIONS="\${RESTORE_OPTIONS:-}"

step() { printf '\\n== %s\\n' "$*"; }
fail() { printf 'FAILED: %s\\n' "$*" >&2; exit 1; }
sql_in() { local db="$1"; shift; psql -X -q -v ON_ERROR_STOP=1 --no-password -At -d "$db" "$@"; }

step "1. Verify the backup file: size and sha256"
[ -f "$BACKUP_FILE" ] || fail "$BACKUP_FILE does not exist. "${shellQuote(whereToGetIt(backup))}
size=$(wc -c < "$BACKUP_FILE" | tr -d ' ')
[ "$size" = "$EXPECTED_SIZE" ] || fail "$BACKUP_FILE is $size bytes, the backup recorded $EXPECTED_SIZE: truncated or another file. Do not restore it."
if command -v sha256sum > /dev/null; then actual_sha=$(sha256sum "$BACKUP_FILE" | cut -d' ' -f1); else actual_sha=$(shasum -a 256 "$BACKUP_FILE" | cut -d' ' -f1); fi
[ "$actual_sha" = "$EXPECTED_SHA256" ] || fail "$BACKUP_FILE has sha256 $actual_sha, the backup recorded $EXPECTED_SHA256: corrupted. Do not restore it."
echo "ok: $size bytes, sha256 $actual_sha"

step "2. Check pg_restore (PostgreSQL ${major} or newer) and the archive"
have=$(pg_restore --version | sed -E 's/^[^0-9]*([0-9]+).*/\\1/')
[ "$have" -ge ${major} ] || fail "pg_restore $have cannot read an archive of pg_dump ${plain(backup.pgDumpVersion)}: install postgresql-client-${major} or newer."
pg_restore --list "$BACKUP_FILE" > /dev/null || fail "$BACKUP_FILE is not a readable pg_dump archive."
echo "ok: pg_restore $have"

step "3. Create the database $TARGET_DB if it does not exist"
exists=$(sql_in "$MAINTENANCE_DB" -v db="$TARGET_DB" <<'CUTOVER_SQL'
SELECT count(*) FROM pg_catalog.pg_database WHERE datname = :'db';
CUTOVER_SQL
)
if [ "$exists" = "0" ]; then
  sql_in "$MAINTENANCE_DB" -v db="$TARGET_DB" <<'CUTOVER_SQL'
CREATE DATABASE :"db" TEMPLATE template0;
CUTOVER_SQL
  echo "created $TARGET_DB"
else
  tables=$(sql_in "$TARGET_DB" <<'CUTOVER_SQL'
SELECT count(*) FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%';
CUTOVER_SQL
)
  [ "$tables" = "0" ] || fail "$TARGET_DB already holds $tables tables. Restore into a new database (TARGET_DB=<name>) or drop it first."
  echo "$TARGET_DB exists and holds no tables"
fi

step "4. Restore: pre-data (one transaction), data and post-data ($JOBS jobs)"
# shellcheck disable=SC2086 # RESTORE_OPTIONS holds several options on purpose
pg_restore --no-password --exit-on-error --section=pre-data --single-transaction $RESTORE_OPTIONS --dbname "$TARGET_DB" "$BACKUP_FILE"
# shellcheck disable=SC2086
pg_restore --no-password --exit-on-error --section=data --jobs="$JOBS" $RESTORE_OPTIONS --dbname "$TARGET_DB" "$BACKUP_FILE"
# shellcheck disable=SC2086
pg_restore --no-password --exit-on-error --section=post-data --jobs="$JOBS" $RESTORE_OPTIONS --dbname "$TARGET_DB" "$BACKUP_FILE"
echo "ok: restored"

step "5. ANALYZE (pg_restore does not restore planner statistics)"
sql_in "$TARGET_DB" -c 'ANALYZE'

step "6. Verify: row counts and checksums of ${backup.checksums.length} tables against the backup's"
expected=$(cat <<'CUTOVER_EXPECTED'
${hereDoc('CUTOVER_EXPECTED', expected)}
CUTOVER_EXPECTED
)
actual=$(PGOPTIONS='-c default_transaction_read_only=on' sql_in "$TARGET_DB" -F '|' <<'CUTOVER_VERIFY_SQL'
${hereDoc('CUTOVER_VERIFY_SQL', sql)}CUTOVER_VERIFY_SQL
)
if ! differences=$(diff <(printf '%s\\n' "$expected" | LC_ALL=C sort) <(printf '%s\\n' "$actual" | LC_ALL=C sort)); then
  printf '%s\\n' "$differences" >&2
  fail "the restored database differs from the backup (< recorded at backup time, > found now)."
fi
echo "ok: ${backup.checksums.length} tables, ${total} rows, every checksum equal to the backup's"
`;
}

/** The written procedure for people: what the script does, step by step, with the commands and the SQL. */
export function restoreProcedure(backup: RestoreScriptBackup, target: RestoreScriptTarget, options: { jobs?: number } = {}): string {
  const jobs = options.jobs ?? jobsDefault;
  const major = majorOfVersion(backup.pgDumpVersion);
  const total = backup.checksums.reduce((n, c) => n + c.rows, 0);
  const where = target.host ? `${target.host}:${target.port ?? 5432}` : `the server of ${target.name ?? target.database}`;
  // Names go into table cells and text: only what would break a table row is escaped.
  const md = (s: string) => s.replace(/\|/g, '\\|').replace(/[\r\n]+/g, ' ');
  return `# Restore procedure: ${md(backup.database)}${target.name ? ` (${md(target.name)})` : ''}

Generated by Cutover for backup \`${backup.key}\`. The script \`restore.sh\` beside this procedure does every step below and stops at the first problem.

| | |
|---|---|
| Database | ${md(backup.database)} on ${md(where)} |
| Taken | ${backup.startedAt} |
| Server | PostgreSQL ${md(backup.serverVersion)} |
| pg_dump | ${md(backup.pgDumpVersion)} (custom format, \`pg_dump -Fc\`) |
| File | ${md(backup.fileName)}, ${sizeInWords(backup.sizeBytes)} |
| Stored as | \`${md(backup.key)}\` in the artifact store |
| sha256 | \`${backup.sha256}\` |
| Tables | ${backup.checksums.length}, ${total} rows |

The row counts and checksums were computed inside the database in the same snapshot that pg_dump dumped, so they describe exactly what the file holds, even though the application kept writing during the backup.

## Before you start

1. Get the backup file: ${md(whereToGetIt(backup))} In the commands below, \`BACKUP_FILE\` stands for its path (\`${md(backup.fileName)}\` when it is in the current directory).
2. Decide where to restore. Restoring into a **new** database (\`TARGET_DB=${md(backup.database)}_restored\`) and switching the application over afterwards is safer than replacing the old one. The script refuses a database that already holds tables.
3. You need \`pg_restore\` and \`psql\` of PostgreSQL ${major} or newer (\`apt-get install postgresql-client-${major}\`), \`sha256sum\` (or \`shasum\`), and a user that may create the database and its objects (the owners of the original objects, or add \`RESTORE_OPTIONS="--no-owner --no-privileges"\`).
4. Give the password through \`PGPASSWORD\` or \`~/.pgpass\`; it is never written into the script.
5. Stop the application's writes to the database you restore into.

## Steps

1. **Check the file.** Its size must be ${backup.sizeBytes.toLocaleString('en-US')} bytes and its sha256 \`${backup.sha256}\`:
   \`\`\`sh
   wc -c < BACKUP_FILE
   sha256sum BACKUP_FILE
   \`\`\`
   A different size means a truncated copy, a different sha256 a corrupted one: do not restore it; fetch the file again.
2. **Check the tools.** \`pg_restore --version\` must say ${major} or newer; \`pg_restore --list BACKUP_FILE\` must print the archive's table of contents.
3. **Create the database** if it does not exist: \`CREATE DATABASE ${md(id(target.database))} TEMPLATE template0;\`
4. **Restore in three sections**, each stopping at the first error:
   \`\`\`sh
   pg_restore --exit-on-error --section=pre-data --single-transaction --dbname "$TARGET_DB" BACKUP_FILE
   pg_restore --exit-on-error --section=data --jobs=${jobs} --dbname "$TARGET_DB" BACKUP_FILE
   pg_restore --exit-on-error --section=post-data --jobs=${jobs} --dbname "$TARGET_DB" BACKUP_FILE
   \`\`\`
   Pre-data creates the tables, types and functions; data loads the rows and sets the sequences; post-data builds indexes, constraints and triggers (after the rows, which is faster and does not fire triggers on restored rows).
5. **ANALYZE** the database: pg_restore does not restore planner statistics.
6. **Verify.** Run the verification command below (under "Verification query") in the restored database. Every line it prints must equal the expected one: the same row count and the same checksum for every table. The script compares them for you and fails on any difference.
7. Point the application at the restored database and watch it.

## Expected row counts and checksums

| Table | Rows | Checksum |
|---|---:|---|
${backup.checksums.map((c) => `| ${md(c.table)} | ${c.rows} | \`${c.checksum}\` |`).join('\n')}

## Verification query

Paste the whole block into a shell (with \`TARGET_DB\` set): it prints one line per table, \`table|rows|checksum\`, to compare with the table above.

\`\`\`sh
PGOPTIONS='-c default_transaction_read_only=on' psql -X -q -v ON_ERROR_STOP=1 -At -F '|' -d "$TARGET_DB" <<'CUTOVER_VERIFY_SQL'
${hereDoc('CUTOVER_VERIFY_SQL', verifySql(backup.layouts))}CUTOVER_VERIFY_SQL
\`\`\`

## If something fails

- **The file's size or sha256 differ**: the copy is damaged. Take the file again from the artifact store (Cutover checks it before every drill) or take a new backup.
- **pg_restore stops with an error**: nothing after it ran. Fix the cause (a missing role: add \`RESTORE_OPTIONS="--no-owner --no-privileges"\`; a missing extension: install it on the server), drop the half-restored database and run the script again.
- **A table's row count or checksum differs**: the restored data is not what was backed up. Do not switch the application over; keep the old database and report the tables named.
`;
}
