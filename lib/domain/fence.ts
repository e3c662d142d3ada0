/**
 * The SQL fence's vocabulary (the fence itself is lib/engine/postgres/sql-guard.ts): the kinds of
 * statement it refuses, which an admin may allow for one target, and the extensions it lets
 * CREATE EXTENSION create by default. Pure data, shared by the engine, validation and the forms.
 */

export const FENCE_KIND_LABELS = {
  database: 'CREATE, ALTER and DROP DATABASE',
  role: 'CREATE, ALTER and DROP ROLE / USER / GROUP; REASSIGN OWNED and DROP OWNED',
  role_membership: 'GRANT and REVOKE of role membership',
  alter_system: 'ALTER SYSTEM and GRANT ... ON PARAMETER',
  copy_file: 'COPY to or from a server file or program',
  load: 'LOAD of a shared library',
  set_role: 'SET ROLE and SET SESSION AUTHORIZATION (and set_config of them)',
  extension: 'CREATE EXTENSION outside the allow list',
  untrusted_language: 'Functions, procedures and DO blocks in languages other than SQL and PL/pgSQL',
  server_files: 'Server file functions (pg_read_file, pg_read_binary_file, pg_ls_dir, pg_stat_file, lo_import, lo_export, ...)',
  dblink: 'dblink calls (dblink, dblink_exec, dblink_connect, ...)',
  tablespace: 'CREATE, ALTER and DROP TABLESPACE',
  foreign_server: 'Foreign data wrappers, servers, user mappings, IMPORT FOREIGN SCHEMA and subscriptions',
  server_control: 'Server control functions (pg_terminate_backend, pg_cancel_backend, pg_reload_conf, replication slots, ...)',
} as const;

export type FenceKindId = keyof typeof FENCE_KIND_LABELS;

export const FENCE_KIND_IDS = Object.keys(FENCE_KIND_LABELS) as [FenceKindId, ...FenceKindId[]];

/**
 * The extensions PostgreSQL itself marks trusted (pg_available_extension_versions.trusted, 13 to
 * 18): a database owner may create them without superuser, and none reaches outside its database.
 * plperl and pltcl are trusted too but left out: the fence cannot read their bodies.
 */
export const DEFAULT_ALLOWED_EXTENSIONS: readonly string[] = [
  'btree_gin', 'btree_gist', 'citext', 'cube', 'dict_int', 'fuzzystrmatch', 'hstore', 'intarray', 'isn', 'lo', 'ltree',
  'pg_trgm', 'pgcrypto', 'plpgsql', 'seg', 'tablefunc', 'tcn', 'tsm_system_rows', 'tsm_system_time', 'unaccent', 'uuid-ossp',
];

/** The app setting that holds the extension allow list. */
export const ALLOWED_EXTENSIONS_SETTING = 'fence.allowedExtensions';

/** The stored allow list (an app setting's JSON value), or the defaults when none is stored or it is malformed. */
export function allowedExtensionsFrom(value: unknown): string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string') ? [...value] : [...DEFAULT_ALLOWED_EXTENSIONS];
}
