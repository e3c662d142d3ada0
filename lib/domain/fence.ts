/**
 * The SQL fence's vocabulary (the fence itself is lib/engine/postgres/sql-guard.ts): the kinds of
 * statement it refuses, which an admin may allow for one target, and the extensions it lets
 * CREATE EXTENSION create by default. Pure data, shared by the engine, validation and the forms.
 */

export const FENCE_KIND_LABELS = {
  database: 'CREATE, ALTER and DROP DATABASE; COMMENT ON and SECURITY LABEL ON a database',
  role: 'CREATE, ALTER and DROP ROLE / USER / GROUP; REASSIGN OWNED and DROP OWNED; COMMENT ON and SECURITY LABEL ON a role',
  role_membership: 'GRANT and REVOKE of role membership',
  alter_system: 'ALTER SYSTEM and GRANT ... ON PARAMETER',
  copy_file: 'COPY to or from a server file or program',
  load: 'LOAD of a shared library',
  set_role: 'SET ROLE and SET SESSION AUTHORIZATION (and set_config of them, DISCARD ALL)',
  extension: 'CREATE EXTENSION and ALTER EXTENSION ... UPDATE outside the allow list',
  untrusted_language: 'Functions, procedures and DO blocks in languages other than SQL and PL/pgSQL',
  server_files: 'Server file functions (pg_read_file, pg_ls_dir, lo_import, lo_export, ...) and the configuration file views (pg_file_settings, pg_hba_file_rules, ...)',
  dblink: 'dblink calls (dblink, dblink_exec, dblink_connect, ...)',
  tablespace: 'CREATE, ALTER and DROP TABLESPACE; TABLESPACE clauses, SET TABLESPACE and default_tablespace (other than pg_default)',
  foreign_server: 'Foreign data wrappers, servers, user mappings, IMPORT FOREIGN SCHEMA, subscriptions, and publications of all tables or whole schemas',
  server_control: 'Server control functions (pg_terminate_backend, pg_cancel_backend, pg_reload_conf, replication slots and origins, ...)',
  catalog: 'Writes to the system catalogs (INSERT, UPDATE, DELETE, MERGE, TRUNCATE, LOCK, ALTER, GRANT on pg_catalog and information_schema) and reading pg_authid, pg_shadow or pg_user_mapping',
  event_trigger: 'CREATE, ALTER and DROP EVENT TRIGGER',
  dynamic_sql: 'SQL built at run time: EXECUTE of anything but constants, and functions that run a string as SQL (query_to_xml, ts_stat, crosstab, ...)',
  unreadable: 'Function bodies and DO blocks the fence cannot read (they do not parse)',
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
