import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Client, escapeIdentifier as id } from 'pg';
import { keepQuietWhenIdle, pgClientConfig, type PgTargetSettings } from '../connection';
import { restoreArchive } from './pg-tools';
import type { FenceAllowances } from './sql-guard';

/**
 * How a copy is loaded into a scratch database so that everything in it belongs to the scratch
 * role (rehearsals restore a target's schema this way, restore drills a whole backup).
 */

/** Archive entries restored by the server's admin before the rest: schemas (with their comments). */
const SCHEMA_ENTRY = /^\d+; \d+ \d+ (SCHEMA|COMMENT - SCHEMA) /;
/** `pg_restore --list` lines of extensions (the owner column is empty) and of their comments. */
const EXTENSION_ENTRY = /^\d+; \d+ \d+ EXTENSION - (.*) $/;
const EXTENSION_COMMENT = /^\d+; \d+ \d+ COMMENT - EXTENSION (.*) \S*$/;
/** Event triggers need a superuser and would fire on the migration's own DDL: not copied. */
const SKIPPED_ENTRY = /^\d+; \d+ \d+ (EVENT TRIGGER|COMMENT - EVENT TRIGGER) /;

/** The extension a COMMENT ON EXTENSION entry names (pg_dump quotes names that need it). */
const unquote = (name: string) => (name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name);

/**
 * Sorts the archive's entries into what the server's admin restores (schemas, and extensions on
 * the fence's allow list, with their comments: an extension's script comes from the server and
 * may need a superuser), what is not copied, and the rest (restored by the role). An extension
 * outside the allow list is refused: its code (dblink, file_fdw, adminpack, untrusted languages,
 * ...) would be installed by a superuser from a list the target's schema chose.
 */
export function sortArchiveEntries(entries: string[], fence: FenceAllowances, where: string) {
  // As for the migration's own CREATE EXTENSION: the list, or every extension when the kind is let through.
  const anyExtension = fence.allowedKinds.includes('extension');
  const names = new Set(['plpgsql', ...fence.allowedExtensions.map((e) => e.toLowerCase())]);
  const allowed = { has: (name: string) => anyExtension || names.has(name) };
  const first: string[] = [];
  const skipped: string[] = [];
  const rest: string[] = [];
  for (const e of entries) {
    const ext = EXTENSION_ENTRY.exec(e)?.[1] ?? null;
    const comment = ext === null ? EXTENSION_COMMENT.exec(e)?.[1] : undefined;
    if (ext !== null) {
      if (!allowed.has(ext.toLowerCase())) {
        throw new Error(
          `The target's schema uses the extension "${ext}", which is not on the fence's allow list of extensions, so the rehearsal ` +
            `does not create it in ${where} (its admin would install it with superuser rights). An admin may add it to the allow list ` +
            '(Admin > Settings > Extension allow list) if its code is trusted; an allowed extension the Cutover sandbox does not ship needs a rehearsal server ' +
            'for this target (Admin > Targets > Rehearsal server) that has it.',
        );
      }
      first.push(e);
    } else if (comment !== undefined) {
      if (allowed.has(unquote(comment).toLowerCase())) first.push(e);
      else skipped.push(e);
    } else if (SCHEMA_ENTRY.test(e)) first.push(e);
    else if (SKIPPED_ENTRY.test(e)) skipped.push(e);
    else rest.push(e);
  }
  return { first, skipped, rest };
}

export interface RestoreAsRoleOptions {
  /** The server's admin, in the scratch database. */
  asAdmin: PgTargetSettings;
  /** The scratch role's own login to the scratch database: the owner of the copy. */
  asRole: PgTargetSettings;
  fence: FenceAllowances;
  /** Where the copy goes, in words (for the fence's refusal). */
  label: string;
  /** A folder for the two lists of entries. */
  workDir: string;
  appName: string;
  signal?: AbortSignal;
  /** How the role restores the rest from a list file; default: one transaction (restoreArchive). */
  restoreRest?: (useList: string) => Promise<void>;
}

/**
 * Restores an archive's `entries` (`pg_restore --list` lines) into the scratch database: the
 * server's admin restores what needs it (sortArchiveEntries: schemas, allowed extensions) and
 * hands the schemas to the role; then the role, logged in as itself, restores the rest. The
 * admin's session has ended before that: from then on the copy holds the target's code
 * (functions, triggers, defaults), so no superuser session enters it again.
 * Returns the entries not copied.
 */
export async function restoreAsRole(file: string, entries: string[], o: RestoreAsRoleOptions): Promise<{ skipped: string[] }> {
  const role = o.asRole.username;
  const { first, skipped, rest } = sortArchiveEntries(entries, o.fence, o.label);
  if (first.length) {
    const firstList = path.join(o.workDir, 'first.list');
    await writeFile(firstList, first.join('\n') + '\n');
    await restoreArchive(file, o.asAdmin, { useList: firstList, signal: o.signal });
  }
  const admin = keepQuietWhenIdle(new Client({ ...pgClientConfig(o.asAdmin), connectionTimeoutMillis: o.asAdmin.connectTimeoutMs, application_name: o.appName }));
  await admin.connect();
  try {
    // The schemas the admin created belong to the role, like everything else in the copy.
    const { rows: schemas } = await admin.query<{ nspname: string }>(
      `SELECT n.nspname FROM pg_catalog.pg_namespace n
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
         AND pg_catalog.pg_get_userbyid(n.nspowner) NOT IN ($1, 'pg_database_owner')
         AND NOT EXISTS (SELECT 1 FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_namespace'::pg_catalog.regclass AND d.objid = n.oid AND d.deptype = 'e')`,
      [role],
    );
    for (const s of schemas) await admin.query(`ALTER SCHEMA ${id(s.nspname)} OWNER TO ${id(role)}`);
  } finally {
    // Awaited, not raced against a timeout: the role's objects may exist only once this session is gone.
    await admin.end().catch(() => undefined);
  }
  if (rest.length) {
    const restList = path.join(o.workDir, 'rest.list');
    await writeFile(restList, rest.join('\n') + '\n');
    await (o.restoreRest ?? ((useList) => restoreArchive(file, o.asRole, { useList, signal: o.signal })))(restList);
  }
  return { skipped };
}
