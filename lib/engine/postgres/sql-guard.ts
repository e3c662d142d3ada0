import { loadModule, parsePlPgSQLSync, parseSync, scanSync } from 'libpg-query';
import { DEFAULT_ALLOWED_EXTENSIONS, FENCE_KIND_LABELS, type FenceKindId } from '../../domain/fence';
import { lineLocator, parseFile } from './sql-plan';

/**
 * The second fence (issue 6): statements that reach beyond the one database a migration is for
 * are refused, from PostgreSQL's own parse tree, when a revision is saved, when a folder is
 * imported, and again by the runner before anything runs. PL/pgSQL can build SQL at run time
 * (EXECUTE of a computed string), so this fence never replaces the sandbox's least privilege:
 * it catches what can be seen, early, with the line and the reason.
 */

export interface FenceAllowances {
  /** Kind ids (FENCE_KINDS) an admin allowed for one target. */
  allowedKinds: readonly string[];
  /** Extensions CREATE EXTENSION may create (the app-wide allow list). */
  allowedExtensions: readonly string[];
}

export interface FenceViolation {
  kind: string;
  line: number;
  column: number;
  /** The first line of the statement, as written. */
  statement: string;
  reason: string;
}

export { DEFAULT_ALLOWED_EXTENSIONS };

/** Languages whose bodies the fence can read (and that PostgreSQL trusts). */
const CHECKED_LANGUAGES: readonly string[] = ['sql', 'plpgsql'];

/** Why the fence refuses each kind (said after what was refused). An admin may allow any kind for one target. */
const REASONS = {
  database:
    'acts on a whole database, not on the objects inside one; Cutover only runs migrations that stay inside their database',
  role:
    'manages roles, which belong to the whole server (their passwords and rights hold in every database); Cutover only runs migrations that stay inside their database',
  role_membership:
    'changes who is a member of a role, and a role carries its rights into every database of the server; Cutover only runs migrations that stay inside their database',
  alter_system:
    'changes the whole server\'s configuration; Cutover only runs migrations that stay inside their database',
  copy_file:
    'reads or writes a file on the database server, or runs a program there; only COPY FROM STDIN and COPY TO STDOUT stay inside their database',
  load:
    'loads a shared library into the server process; Cutover only runs migrations that stay inside their database',
  set_role:
    'changes the role the session runs as, so what follows runs with rights the migration was not given; Cutover only runs migrations that stay inside their database',
  extension:
    'creates an extension that is not on the allow list; untrusted extensions can read files, open connections or run code on the server (an admin keeps the list under Settings)',
  untrusted_language:
    'defines code in a language other than SQL or PL/pgSQL; untrusted languages run with the server\'s own access to files and the network, and the fence cannot read what other languages do',
  server_files:
    'reads, lists or writes files on the database server; Cutover only runs migrations that stay inside their database',
  dblink:
    'opens a connection to another database or server; Cutover only runs migrations that stay inside their database',
  tablespace:
    'manages a tablespace, a directory on the server shared by every database; Cutover only runs migrations that stay inside their database',
  foreign_server:
    'sets up a connection to another server or database; Cutover only runs migrations that stay inside their database',
  server_control:
    'acts on the whole server (other sessions, its configuration or replication); Cutover only runs migrations that stay inside their database',
  catalog:
    'touches PostgreSQL\'s own system catalogs, where roles, rights and databases are kept for the whole server (with a superuser this bypasses every check); Cutover only runs migrations that stay inside their database',
  event_trigger:
    'manages an event trigger, which runs its function on DDL by any role of the database, superusers included; Cutover only runs migrations that stay inside their database',
  dynamic_sql:
    'runs a string as SQL, out of the fence\'s sight; Cutover only runs SQL the fence can read',
  unreadable:
    'cannot be read by the fence, so what it would run cannot be checked (PostgreSQL may still store it, with check_function_bodies off, and run it later); the fence refuses what it cannot read',
} as const satisfies Record<FenceKindId, string>;

export type FenceKind = FenceKindId;

export const FENCE_KINDS: readonly { id: string; label: string }[] = Object.entries(FENCE_KIND_LABELS).map(([id, label]) => ({ id, label }));

/** Not allowable: SQL the fence cannot read is never run past it. */
export const SYNTAX_KIND = 'syntax';

const SERVER_FILE_FUNCTIONS = new Set([
  'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file', 'pg_ls_logdir', 'pg_ls_waldir', 'pg_ls_tmpdir',
  'pg_ls_archive_statusdir', 'pg_ls_logicalsnapdir', 'pg_ls_logicalmapdir', 'pg_ls_replslotdir', 'pg_ls_summariesdir',
  'lo_import', 'lo_export',
  // The server's configuration files and log.
  'pg_show_all_file_settings', 'pg_hba_file_rules', 'pg_ident_file_mappings', 'pg_current_logfile',
  // adminpack
  'pg_file_write', 'pg_file_rename', 'pg_file_unlink', 'pg_file_sync', 'pg_file_read', 'pg_file_length', 'pg_logdir_ls',
]);

const SERVER_CONTROL_FUNCTIONS = new Set([
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_signal_backend', 'pg_reload_conf', 'pg_rotate_logfile', 'pg_promote',
  'pg_switch_wal', 'pg_create_restore_point', 'pg_backup_start', 'pg_backup_stop', 'pg_start_backup', 'pg_stop_backup',
  'pg_create_physical_replication_slot', 'pg_create_logical_replication_slot', 'pg_drop_replication_slot',
  'pg_copy_physical_replication_slot', 'pg_copy_logical_replication_slot', 'pg_replication_slot_advance',
  'pg_wal_replay_pause', 'pg_wal_replay_resume', 'pg_log_backend_memory_contexts', 'pg_sync_replication_slots',
  'pg_logical_emit_message', 'pg_stat_reset_shared', 'pg_stat_reset_slru', 'pg_stat_reset_replication_slot',
  'pg_stat_reset_subscription_stats',
]);

/** Prefixes of server control function families (replication origins, logical slot changes). */
const SERVER_CONTROL_PREFIXES = ['pg_replication_origin_', 'pg_logical_slot_'];

/**
 * Functions that run a string (or a cursor, table or schema) as SQL: what they run is out of the
 * fence's sight, e.g. query_to_xml('SELECT set_config(''role'', ...)', ...). crosstab, connectby
 * (tablefunc, on the default allow list) and xpath_table (xml2) run a query string too.
 */
const DYNAMIC_SQL_FUNCTIONS = new Set([
  'query_to_xml', 'query_to_xmlschema', 'query_to_xml_and_xmlschema',
  'cursor_to_xml', 'cursor_to_xmlschema',
  'table_to_xml', 'table_to_xmlschema', 'table_to_xml_and_xmlschema',
  'schema_to_xml', 'schema_to_xmlschema', 'schema_to_xml_and_xmlschema',
  'database_to_xml', 'database_to_xmlschema', 'database_to_xml_and_xmlschema',
  'ts_stat', 'connectby', 'xpath_table',
]);

/** Relations that expose the server's configuration files. */
const SERVER_FILE_RELATIONS = new Set(['pg_file_settings', 'pg_hba_file_rules', 'pg_ident_file_mappings']);

/** Catalogs that hold password hashes and connection secrets: refused even to read. */
const SECRET_RELATIONS = new Set(['pg_authid', 'pg_shadow', 'pg_user_mapping']);

/** Schemas of PostgreSQL's own objects. Quoted names that differ in case are other schemas. */
const SYSTEM_SCHEMAS = new Set(['pg_catalog', 'information_schema', 'pg_toast']);

/** Settings that change who the session is. */
const IDENTITY_SETTINGS = new Set(['role', 'session_authorization']);

/** Which kind a call of this function is, if the fence refuses it. Schema and case do not matter. */
function functionKind(name: string, exact = false): FenceKind | undefined {
  const n = name.toLowerCase();
  if (SERVER_FILE_FUNCTIONS.has(n)) return 'server_files';
  // A field named like dblink_id is common; the dblink functions are all dblink or dblink_<verb>.
  if (n.startsWith('dblink') && (!exact || n === 'dblink' || /^dblink_(exec|connect|connect_u|disconnect|open|fetch|close|send_query|get_result|is_busy|cancel_query|error_message|get_connections|get_notify|get_pkey|build_sql_\w+)$/.test(n))) return 'dblink';
  if (SERVER_CONTROL_FUNCTIONS.has(n) || SERVER_CONTROL_PREFIXES.some((p) => n.startsWith(p))) return 'server_control';
  if (DYNAMIC_SQL_FUNCTIONS.has(n) || n.startsWith('crosstab')) return 'dynamic_sql';
  return undefined;
}

/** A qualified name as its parts (String nodes of a List, an ObjectWithArgs or a bare String). */
function nameParts(node: unknown): string[] {
  const n = node as Node | undefined;
  if (!n) return [];
  if (Array.isArray(n)) return (n as Node[]).map((x) => (x.String as Node | undefined)?.sval).filter((x): x is string => typeof x === 'string');
  if (n.ObjectWithArgs) return nameParts((n.ObjectWithArgs as Node).objname);
  if (n.objname) return nameParts(n.objname);
  if (n.List) return nameParts((n.List as Node).items);
  if (n.String) return [String((n.String as Node).sval)];
  return [];
}

/**
 * Whether a name is one of PostgreSQL's own objects: in a system schema, or (`unqualified`) a
 * bare pg_ name, which resolves to pg_catalog first whatever the search_path says. Names being
 * created go where they are qualified, so only the schema counts for them.
 */
function isSystemName(parts: string[], unqualified: boolean): boolean {
  if (parts.length >= 2) return SYSTEM_SCHEMAS.has(parts[parts.length - 2]);
  return unqualified && parts.length === 1 && parts[0].startsWith('pg_');
}

/** A RangeVar (the `relation` of a statement) as name parts. */
const relationParts = (rv: unknown): string[] => {
  const r = ((rv as Node | undefined)?.RangeVar as Node | undefined) ?? (rv as Node | undefined);
  if (!r || typeof r.relname !== 'string') return [];
  return typeof r.schemaname === 'string' ? [r.schemaname, r.relname] : [r.relname];
};

type Node = Record<string, unknown>;

/** Maps a byte offset in the text being checked to a line and column in the file. */
type Locate = (offset: number) => { line: number; column: number };

/** Skips whitespace and comments: a statement's location includes the comments before it. */
function firstWordOffset(text: string): number {
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i])) i++;
    if (text.startsWith('--', i)) {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl + 1;
    } else if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      i = end < 0 ? text.length : end + 2;
    } else return i;
  }
}

const lastName = (names: unknown): string | undefined => {
  if (!Array.isArray(names) || names.length === 0) return undefined;
  const last = names[names.length - 1] as Node;
  return ((last.String as Node | undefined)?.sval as string | undefined) ?? undefined;
};

const stringConst = (node: unknown): string | undefined => {
  const c = (node as Node | undefined)?.A_Const as Node | undefined;
  return (c?.sval as Node | undefined)?.sval as string | undefined;
};

const defElems = (list: unknown): Node[] =>
  Array.isArray(list) ? (list as Node[]).map((d) => d.DefElem as Node | undefined).filter((d): d is Node => !!d) : [];

const defString = (list: unknown, name: string): string | undefined => {
  const d = defElems(list).find((e) => e.defname === name);
  return ((d?.arg as Node | undefined)?.String as Node | undefined)?.sval as string | undefined;
};

/** A function body given as a string (AS '...'): its text and where its DefElem stands. */
function bodyOf(options: unknown): { text: string; location: number } | undefined {
  const d = defElems(options).find((e) => e.defname === 'as');
  const items = ((d?.arg as Node | undefined)?.List as Node | undefined)?.items ?? [(d?.arg as Node | undefined)];
  const first = (items as Node[])[0]?.String as Node | undefined;
  if (!first || typeof first.sval !== 'string') return undefined;
  return { text: first.sval, location: typeof d?.location === 'number' ? d.location : -1 };
}

/** One text being checked: the file itself, or a body or string nested in it. */
interface Scope {
  text: string;
  bytes: Buffer;
  /** Maps an offset in `text` to the file's line and column. */
  locate: Locate;
  depth: number;
}

/**
 * A scope for text nested in `outer` at about `anchor`: exact positions when the text stands
 * verbatim in the outer text (a dollar-quoted body), else lines counted from the anchor.
 */
function nestedScope(outer: Scope, text: string, anchor: number): Scope {
  const bytes = Buffer.from(text, 'utf8');
  const from = Math.max(0, anchor);
  const at = outer.bytes.indexOf(bytes, from);
  if (bytes.length > 0 && at >= 0) return { text, bytes, locate: (o) => outer.locate(at + o), depth: outer.depth + 1 };
  const start = outer.locate(from);
  const inner = lineLocator(bytes);
  return {
    text,
    bytes,
    locate: (o) => {
      const p = inner(o);
      return p.line === 1 ? start : { line: start.line + p.line - 1, column: p.column };
    },
    depth: outer.depth + 1,
  };
}

// Deeply nested EXECUTE strings are not worth following forever.
const MAX_DEPTH = 8;

/** The node types visit() looks at: every other node is only walked through (most of a tree). */
const VISITED = new Set([
  'CreatedbStmt', 'DropdbStmt', 'AlterDatabaseStmt', 'AlterDatabaseSetStmt', 'AlterDatabaseRefreshCollStmt',
  'RenameStmt', 'AlterOwnerStmt', 'AlterObjectSchemaStmt', 'AlterFunctionStmt', 'CommentStmt', 'SecLabelStmt',
  'InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt', 'TruncateStmt', 'LockStmt', 'AlterTableStmt', 'IndexStmt',
  'CreateTrigStmt', 'RuleStmt', 'CreatePolicyStmt', 'AlterPolicyStmt', 'CreateStmt', 'CreateTableAsStmt', 'ViewStmt',
  'CreateSeqStmt', 'DefineStmt', 'CreateDomainStmt', 'CreateEnumStmt', 'CompositeTypeStmt', 'Constraint',
  'AlterTableCmd', 'AlterTableMoveAllStmt', 'ReindexStmt', 'DropStmt', 'DropUserMappingStmt', 'DropSubscriptionStmt',
  'CreatePublicationStmt', 'AlterPublicationStmt', 'CreateEventTrigStmt', 'AlterEventTrigStmt', 'DiscardStmt',
  'AlterExtensionStmt', 'AlterDefaultPrivilegesStmt', 'RangeVar', 'A_Indirection', 'ColumnRef', 'CreateRoleStmt',
  'AlterRoleStmt', 'AlterRoleSetStmt', 'DropRoleStmt', 'ReassignOwnedStmt', 'DropOwnedStmt', 'GrantRoleStmt',
  'AlterSystemStmt', 'GrantStmt', 'CopyStmt', 'LoadStmt', 'VariableSetStmt', 'CreateExtensionStmt', 'CreatePLangStmt',
  'CreateTableSpaceStmt', 'DropTableSpaceStmt', 'AlterTableSpaceOptionsStmt', 'CreateFdwStmt', 'AlterFdwStmt',
  'CreateForeignServerStmt', 'AlterForeignServerStmt', 'CreateUserMappingStmt', 'AlterUserMappingStmt',
  'ImportForeignSchemaStmt', 'CreateSubscriptionStmt', 'AlterSubscriptionStmt', 'FuncCall', 'CreateCastStmt',
  'CreateTransformStmt', 'CreateOpClassItem', 'AlterOperatorStmt', 'AlterTypeStmt', 'CreateFunctionStmt', 'DoStmt',
]);

class Checker {
  readonly violations: FenceViolation[] = [];
  private statement = '';

  constructor(private readonly allowances: FenceAllowances) {}

  private allowed(kind: FenceKind) {
    return this.allowances.allowedKinds.includes(kind);
  }

  private report(kind: FenceKind | typeof SYNTAX_KIND, at: { line: number; column: number }, reason: string) {
    if (kind !== SYNTAX_KIND && this.allowed(kind)) return;
    // One report per kind and place: a call nested in two walks of the same tree counts once.
    if (this.violations.some((v) => v.kind === kind && v.line === at.line && v.column === at.column)) return;
    this.violations.push({ kind, line: at.line, column: at.column, statement: this.statement, reason });
  }

  private refuse(kind: FenceKind, at: { line: number; column: number }, what: string) {
    this.report(kind, at, `${what} ${REASONS[kind]}.`);
  }

  /**
   * Checks a whole text of SQL statements (the file, or SQL nested in it). Nested SQL that does
   * not parse is refused as unreadable unless `quiet` (text that may not be SQL at all, such as
   * the strings of a body already refused), and its tokens are looked at either way.
   */
  checkSql(scope: Scope, topLevel: boolean, quiet = false): boolean {
    let tree: { stmts?: { stmt: Node; stmt_location?: number; stmt_len?: number }[] };
    try {
      tree = topLevel ? parseFile(scope.text) : (parseSync(scope.text) as typeof tree);
    } catch (err) {
      if (topLevel) {
        const details = (err as { sqlDetails?: { message: string; cursorPosition: number } }).sqlDetails;
        const prefix = [...scope.text].slice(0, details?.cursorPosition ?? 0).join('');
        this.statement = scope.text.split('\n')[scope.locate(Buffer.byteLength(prefix)).line - 1]?.trim() ?? '';
        this.report(SYNTAX_KIND, scope.locate(Buffer.byteLength(prefix)), `The fence cannot check SQL that does not parse: ${details?.message ?? (err as Error).message}.`);
      } else {
        if (!quiet) this.unreadable(scope, `SQL that does not parse (${(err as Error).message})`);
        this.scanTokens(scope);
      }
      return false;
    }
    for (const s of tree.stmts ?? []) {
      const start = s.stmt_location ?? 0;
      const end = s.stmt_len ? start + s.stmt_len : scope.bytes.length;
      const raw = scope.bytes.subarray(start, end).toString('utf8');
      const lead = Buffer.byteLength(raw.slice(0, firstWordOffset(raw)));
      if (topLevel) this.statement = raw.slice(firstWordOffset(raw)).split('\n')[0].trim();
      this.walk(s.stmt, scope, start + lead, { text: raw, offset: start });
    }
    return true;
  }

  /**
   * Walks a parse tree, checking every node. `at` is the nearest location seen on the way down,
   * so a node without its own location is reported where its statement or expression starts.
   */
  private walk(value: unknown, scope: Scope, at: number, stmt: { text: string; offset: number }): void {
    if (Array.isArray(value)) {
      for (const v of value) this.walk(v, scope, at, stmt);
      return;
    }
    if (!value || typeof value !== 'object') return;
    const obj = value as Node;
    const here = typeof obj.location === 'number' && obj.location >= 0 ? obj.location : at;
    // for...in, not Object.entries: a 10,000-statement file has millions of fields to look at.
    for (const key in obj) {
      const child = obj[key];
      const c0 = key.charCodeAt(0);
      // Node types are capitalised (SelectStmt, FuncCall); fields are not.
      if (c0 >= 65 && c0 <= 90 && child && typeof child === 'object' && !Array.isArray(child)) {
        const node = child as Node;
        const nodeAt = typeof node.location === 'number' && node.location >= 0 ? node.location : here;
        this.visit(key, node, scope, nodeAt, stmt);
        this.walk(node, scope, nodeAt, stmt);
      } else if (child && typeof child === 'object') {
        this.walk(child, scope, here, stmt);
      }
    }
  }

  private checkCall(name: string | undefined, scope: Scope, at: number, how = 'Calling', exact = false) {
    if (!name) return;
    const kind = functionKind(name, exact);
    if (kind) this.refuse(kind, scope.locate(at), `${how} ${name}()`);
  }

  private visit(type: string, n: Node, scope: Scope, at: number, stmt: { text: string; offset: number }) {
    if (!VISITED.has(type)) return;
    // Located only when something is refused: most nodes are fine, and locating costs a scan.
    let located: { line: number; column: number } | undefined;
    const where = {
      get line() {
        return (located ??= scope.locate(at)).line;
      },
      get column() {
        return (located ??= scope.locate(at)).column;
      },
    };
    const objectKind = (t: unknown): FenceKind | undefined =>
      t === 'OBJECT_DATABASE' ? 'database'
        : t === 'OBJECT_ROLE' ? 'role'
          : t === 'OBJECT_TABLESPACE' ? 'tablespace'
            : t === 'OBJECT_FOREIGN_SERVER' || t === 'OBJECT_FDW' || t === 'OBJECT_SUBSCRIPTION' ? 'foreign_server'
              : t === 'OBJECT_EVENT_TRIGGER' ? 'event_trigger'
                : undefined;
    const catalog = (parts: string[], what: string, unqualified = true) => this.catalogWrite(parts, where, what, unqualified);
    const relations = (list: unknown, what: string) => {
      for (const r of Array.isArray(list) ? list : []) catalog(relationParts(r), what);
    };
    const tablespace = (name: unknown, what: string) => this.tablespaceClause(name, where, what);
    switch (type) {
      case 'CreatedbStmt':
        return this.refuse('database', where, 'CREATE DATABASE');
      case 'DropdbStmt':
        return this.refuse('database', where, 'DROP DATABASE');
      case 'AlterDatabaseStmt':
      case 'AlterDatabaseSetStmt':
      case 'AlterDatabaseRefreshCollStmt':
        return this.refuse('database', where, 'ALTER DATABASE');
      case 'RenameStmt':
      case 'AlterOwnerStmt': {
        const kind = objectKind(type === 'RenameStmt' ? n.renameType : n.objectType);
        const what = type === 'RenameStmt' ? 'Renaming' : 'Changing the owner of';
        if (kind) return this.refuse(kind, where, `${what} this object`);
        catalog(n.relation ? relationParts(n.relation) : nameParts(n.object), what);
        return;
      }
      case 'AlterObjectSchemaStmt':
        catalog(n.relation ? relationParts(n.relation) : nameParts(n.object), 'Moving');
        // Moving an object INTO a system schema plants it where every role finds it first.
        if (typeof n.newschema === 'string' && SYSTEM_SCHEMAS.has(n.newschema)) this.refuse('catalog', where, `Moving an object into ${n.newschema}`);
        return;
      case 'AlterFunctionStmt':
        catalog(nameParts(n.func), 'Altering');
        return this.checkCall(lastName((n.func as Node | undefined)?.objname), scope, at, 'Altering');
      case 'CommentStmt':
      case 'SecLabelStmt': {
        // Comments and labels on databases, roles and tablespaces are kept once for the whole server.
        const kind = objectKind(n.objtype);
        if (kind === 'database' || kind === 'role' || kind === 'tablespace') this.refuse(kind, where, `${type === 'CommentStmt' ? 'COMMENT ON' : 'SECURITY LABEL ON'} this object`);
        return;
      }
      case 'InsertStmt':
        return catalog(relationParts(n.relation), 'INSERT INTO');
      case 'UpdateStmt':
        return catalog(relationParts(n.relation), 'UPDATE of');
      case 'DeleteStmt':
        return catalog(relationParts(n.relation), 'DELETE FROM');
      case 'MergeStmt':
        return catalog(relationParts(n.relation), 'MERGE INTO');
      case 'TruncateStmt':
        return relations(n.relations, 'TRUNCATE of');
      case 'LockStmt':
        return relations(n.relations, 'LOCK of');
      case 'AlterTableStmt':
        return catalog(relationParts(n.relation), 'ALTER of');
      case 'IndexStmt':
        catalog(relationParts(n.relation), 'An index on');
        return tablespace(n.tableSpace, 'An index in tablespace');
      case 'CreateTrigStmt':
        catalog(relationParts(n.relation), 'A trigger on');
        return this.checkCall(lastName(n.funcname), scope, at, 'A trigger running');
      case 'RuleStmt':
        return catalog(relationParts(n.relation), 'A rule on');
      case 'CreatePolicyStmt':
      case 'AlterPolicyStmt':
        return catalog(relationParts(n.table), 'A policy on');
      case 'CreateStmt':
        catalog(relationParts(n.relation), 'Creating', false);
        return tablespace(n.tablespacename, 'A table in tablespace');
      case 'CreateTableAsStmt': {
        const into = n.into as Node | undefined;
        catalog(relationParts(into?.rel), 'Creating', false);
        return tablespace(into?.tableSpaceName, 'A table in tablespace');
      }
      case 'ViewStmt': {
        catalog(relationParts(n.view), 'Creating', false);
        // A view over one system catalog is auto-updatable: UPDATE of the view writes the catalog.
        const from = ((n.query as Node | undefined)?.SelectStmt as Node | undefined)?.fromClause as Node[] | undefined;
        const only = from?.length === 1 ? relationParts(from[0]) : [];
        if (only.length && isSystemName(only, true)) this.refuse('catalog', where, `A view over the system catalog ${only.join('.')} alone (it can be written through)`);
        return;
      }
      case 'CreateSeqStmt':
        return catalog(relationParts(n.sequence), 'Creating', false);
      case 'DefineStmt':
      case 'CreateDomainStmt':
      case 'CreateEnumStmt':
        catalog(nameParts(type === 'DefineStmt' ? n.defnames : type === 'CreateDomainStmt' ? n.domainname : n.typeName), 'Creating', false);
        if (type === 'DefineStmt') this.checkDefinition(n.definition, scope, at);
        return;
      case 'CompositeTypeStmt':
        return catalog(relationParts(n.typevar), 'Creating', false);
      case 'Constraint':
        return tablespace(n.indexspace, 'An index in tablespace');
      case 'AlterTableCmd':
        if (n.subtype === 'AT_SetTableSpace') tablespace(n.name, 'SET TABLESPACE');
        return;
      case 'AlterTableMoveAllStmt':
        return this.refuse('tablespace', where, 'ALTER ... ALL IN TABLESPACE');
      case 'ReindexStmt':
        return tablespace(defString(n.params, 'tablespace'), 'REINDEX into tablespace');
      case 'DropStmt': {
        const kind = objectKind(n.removeType);
        if (kind === 'foreign_server' || kind === 'event_trigger') return this.refuse(kind, where, 'This DROP');
        for (const o of (n.objects as unknown[] | undefined) ?? []) catalog(nameParts(o), 'Dropping', false);
        return;
      }
      case 'DropUserMappingStmt':
      case 'DropSubscriptionStmt':
        return this.refuse('foreign_server', where, 'This DROP');
      case 'CreatePublicationStmt':
      case 'AlterPublicationStmt': {
        // A publication of all tables (or whole schemas) covers tables nobody named, future ones too.
        const wide = n.for_all_tables === true || ((n.pubobjects as Node[] | undefined) ?? []).some((o) => {
          const t = (o.PublicationObjSpec as Node | undefined)?.pubobjtype;
          return t === 'PUBLICATIONOBJ_TABLES_IN_SCHEMA' || t === 'PUBLICATIONOBJ_TABLES_IN_CUR_SCHEMA';
        });
        if (wide) this.refuse('foreign_server', where, 'A publication of all tables or of whole schemas');
        return;
      }
      case 'CreateEventTrigStmt':
        this.refuse('event_trigger', where, 'CREATE EVENT TRIGGER');
        return this.checkCall(lastName(n.funcname), scope, at, 'An event trigger running');
      case 'AlterEventTrigStmt':
        return this.refuse('event_trigger', where, 'ALTER EVENT TRIGGER');
      case 'DiscardStmt':
        // DISCARD ALL includes SET SESSION AUTHORIZATION DEFAULT.
        if (n.target === 'DISCARD_ALL') this.refuse('set_role', where, 'DISCARD ALL');
        return;
      case 'AlterExtensionStmt': {
        // An update runs the extension's scripts with the rights CREATE EXTENSION has: the same list decides.
        const name = String(n.extname ?? '');
        if (!this.allowances.allowedExtensions.some((e) => e.toLowerCase() === name.toLowerCase())) {
          this.refuse('extension', where, `ALTER EXTENSION ${name} UPDATE`);
        }
        return;
      }
      case 'AlterDefaultPrivilegesStmt': {
        const schemas = defElems(n.options).find((d) => d.defname === 'schemas');
        for (const sch of nameParts(((schemas?.arg as Node | undefined)?.List as Node | undefined)?.items ?? schemas?.arg)) {
          if (SYSTEM_SCHEMAS.has(sch)) this.refuse('catalog', where, `ALTER DEFAULT PRIVILEGES IN SCHEMA ${sch}`);
        }
        return;
      }
      case 'RangeVar': {
        // Reads: the configuration file views, and the catalogs holding password hashes.
        const parts = relationParts(n);
        const name = parts[parts.length - 1];
        if (parts.length > 1 && parts[0] !== 'pg_catalog') return;
        if (SERVER_FILE_RELATIONS.has(name)) return this.refuse('server_files', where, `Reading ${name}`);
        if (SECRET_RELATIONS.has(name)) return this.refuse('catalog', where, `Reading ${name}`);
        return;
      }
      case 'A_Indirection':
        // ('/etc/passwd'::text).pg_read_file is pg_read_file('/etc/passwd') in attribute notation.
        for (const f of nameParts(n.indirection)) this.checkCall(f, scope, at, 'Calling (in attribute notation)', true);
        return;
      case 'ColumnRef':
        // t.col.f and t.f are f(t.col) and f(t) when f is a function of that type.
        for (const f of nameParts(n.fields).slice(1)) this.checkCall(f, scope, at, 'Calling (in attribute notation)', true);
        return;
      case 'CreateRoleStmt':
        return this.refuse('role', where, `CREATE ${n.stmt_type === 'ROLESTMT_USER' ? 'USER' : n.stmt_type === 'ROLESTMT_GROUP' ? 'GROUP' : 'ROLE'}`);
      case 'AlterRoleStmt':
        if (defElems(n.options).some((d) => d.defname === 'rolemembers')) return this.refuse('role_membership', where, 'ALTER GROUP ... ADD/DROP USER');
        return this.refuse('role', where, 'ALTER ROLE');
      case 'AlterRoleSetStmt':
        return this.refuse('role', where, 'ALTER ROLE ... SET');
      case 'DropRoleStmt':
        return this.refuse('role', where, 'DROP ROLE');
      case 'ReassignOwnedStmt':
        return this.refuse('role', where, 'REASSIGN OWNED (which also moves databases and tablespaces)');
      case 'DropOwnedStmt':
        return this.refuse('role', where, 'DROP OWNED');
      case 'GrantRoleStmt':
        return this.refuse('role_membership', where, n.is_grant ? 'GRANT <role> TO' : 'REVOKE <role> FROM');
      case 'AlterSystemStmt':
        return this.refuse('alter_system', where, 'ALTER SYSTEM');
      case 'GrantStmt': {
        if (n.objtype === 'OBJECT_PARAMETER_ACL') return this.refuse('alter_system', where, `${n.is_grant ? 'GRANT' : 'REVOKE'} ... ON PARAMETER`);
        const kind = objectKind(n.objtype);
        if (kind && kind !== 'database') return this.refuse(kind, where, `${n.is_grant ? 'GRANT' : 'REVOKE'} on this object`);
        const verb = n.is_grant ? 'GRANT on' : 'REVOKE on';
        if (n.targtype === 'ACL_TARGET_ALL_IN_SCHEMA' || n.objtype === 'OBJECT_SCHEMA') {
          for (const sch of nameParts(n.objects)) if (SYSTEM_SCHEMAS.has(sch)) this.refuse('catalog', where, `${verb} schema ${sch}`);
          return;
        }
        for (const o of (n.objects as Node[] | undefined) ?? []) {
          if (o.RangeVar) catalog(relationParts(o), verb);
          else if (o.ObjectWithArgs) {
            catalog(nameParts(o), verb);
            this.checkCall(lastName((o.ObjectWithArgs as Node).objname), scope, at, 'Granting the use of');
          }
        }
        return;
      }
      case 'CopyStmt': {
        if (n.is_from) catalog(relationParts(n.relation), 'COPY into');
        // The parser gives COPY's relation without a RangeVar wrapper: the read check would not see it.
        const copied = relationParts(n.relation);
        const copiedName = copied[copied.length - 1];
        if (copiedName && (copied.length === 1 || copied[0] === 'pg_catalog') && SECRET_RELATIONS.has(copiedName)) this.refuse('catalog', where, `COPY of ${copiedName}`);
        if (n.is_program) return this.refuse('copy_file', where, `COPY ${n.is_from ? 'FROM' : 'TO'} PROGRAM`);
        if (typeof n.filename === 'string') return this.refuse('copy_file', where, `COPY ${n.is_from ? 'FROM' : 'TO'} a file`);
        return;
      }
      case 'LoadStmt':
        return this.refuse('load', where, 'LOAD');
      case 'VariableSetStmt':
        if (typeof n.name === 'string' && IDENTITY_SETTINGS.has(n.name)) {
          const what = n.name === 'role' ? 'ROLE' : 'SESSION AUTHORIZATION';
          this.refuse('set_role', where, `${n.kind === 'VAR_RESET' ? 'RESET' : 'SET'} ${what}`);
        }
        if (n.name === 'default_tablespace' || n.name === 'temp_tablespaces') {
          for (const a of (n.args as unknown[] | undefined) ?? []) tablespace(stringConst(a), `SET ${n.name} to`);
        }
        return;
      case 'CreateExtensionStmt': {
        const name = String(n.extname ?? '');
        if (!this.allowances.allowedExtensions.some((e) => e.toLowerCase() === name.toLowerCase())) {
          this.refuse('extension', where, `CREATE EXTENSION ${name}`);
        }
        return;
      }
      case 'CreatePLangStmt':
        return this.refuse('untrusted_language', where, `CREATE LANGUAGE ${String(n.plname ?? '')}`);
      case 'CreateTableSpaceStmt':
      case 'DropTableSpaceStmt':
      case 'AlterTableSpaceOptionsStmt':
        return this.refuse('tablespace', where, type === 'CreateTableSpaceStmt' ? 'CREATE TABLESPACE' : type === 'DropTableSpaceStmt' ? 'DROP TABLESPACE' : 'ALTER TABLESPACE');
      case 'CreateFdwStmt':
      case 'AlterFdwStmt':
      case 'CreateForeignServerStmt':
      case 'AlterForeignServerStmt':
      case 'CreateUserMappingStmt':
      case 'AlterUserMappingStmt':
      case 'ImportForeignSchemaStmt':
      case 'CreateSubscriptionStmt':
      case 'AlterSubscriptionStmt':
        return this.refuse('foreign_server', where, 'This statement');
      case 'FuncCall': {
        const name = lastName(n.funcname);
        this.checkCall(name, scope, at);
        // ts_rewrite(query, 'SELECT ...') runs its second argument as SQL; the three-argument form does not.
        if (name?.toLowerCase() === 'ts_rewrite' && (n.args as unknown[] | undefined)?.length === 2) this.refuse('dynamic_sql', where, 'Calling ts_rewrite(tsquery, text)');
        if (name?.toLowerCase() === 'set_config') {
          const setting = stringConst((n.args as unknown[] | undefined)?.[0]);
          if (setting === undefined || IDENTITY_SETTINGS.has(setting.toLowerCase())) {
            this.refuse('set_role', where, setting === undefined ? 'set_config() with a setting named at run time' : `set_config('${setting}', ...)`);
          }
        }
        return;
      }
      case 'CreateCastStmt':
        return this.checkCall(lastName((n.func as Node | undefined)?.objname), scope, at, 'A cast calling');
      case 'CreateTransformStmt':
        this.checkCall(lastName((n.fromsql as Node | undefined)?.objname), scope, at, 'A transform calling');
        return this.checkCall(lastName((n.tosql as Node | undefined)?.objname), scope, at, 'A transform calling');
      case 'CreateOpClassItem':
        return this.checkCall(lastName((n.name as Node | undefined)?.objname), scope, at, 'An operator class calling');
      case 'AlterOperatorStmt':
      case 'AlterTypeStmt':
        return this.checkDefinition(n.options, scope, at);
      case 'CreateFunctionStmt':
        return this.checkRoutine(n, scope, at, stmt);
      case 'DoStmt':
        return this.checkDo(n, scope, at, stmt);
      default:
        return;
    }
  }

  /** A write to a system catalog; `unqualified` for targets that exist already (see isSystemName). */
  private catalogWrite(parts: string[], where: { line: number; column: number }, what: string, unqualified: boolean) {
    if (isSystemName(parts, unqualified)) this.refuse('catalog', where, `${what} ${parts.join('.')}`);
  }

  /** A TABLESPACE clause: pg_default is the cluster's own default place, '' the database's default. */
  private tablespaceClause(name: unknown, where: { line: number; column: number }, what: string) {
    if (typeof name === 'string' && name !== '' && name !== 'pg_default') this.refuse('tablespace', where, `${what} ${name}`);
  }

  /** CREATE OPERATOR (function = f), CREATE AGGREGATE (sfunc = f), ...: a call made later by an operator or aggregate. */
  private checkDefinition(definition: unknown, scope: Scope, at: number) {
    for (const d of defElems(definition)) {
      const arg = d.arg as Node | undefined;
      const names = (arg?.TypeName as Node | undefined)?.names ?? ((arg?.List as Node | undefined)?.items as unknown);
      this.checkCall(lastName(names), scope, at, `An operator or aggregate (${String(d.defname)}) calling`);
    }
  }

  private checkLanguage(language: string, where: { line: number; column: number }, what: string): boolean {
    // Compared exactly: PostgreSQL folds only unquoted names, so LANGUAGE "PLPGSQL" is another (unknown) language.
    if (CHECKED_LANGUAGES.includes(language)) return true;
    this.refuse('untrusted_language', where, `${what} in LANGUAGE ${language}`);
    return false;
  }

  private checkRoutine(n: Node, scope: Scope, at: number, stmt: { text: string; offset: number }) {
    const parts = nameParts(n.funcname);
    if (isSystemName(parts, false)) this.refuse('catalog', scope.locate(at), `Creating ${parts.join('.')}`);
    // A SQL-standard body (BEGIN ATOMIC / RETURN) is in the tree already and walked as such.
    if (n.sql_body) return;
    const language = defString(n.options, 'language') ?? 'sql';
    const what = n.is_procedure ? 'A procedure' : 'A function';
    if (!this.checkLanguage(language, scope.locate(at), what)) return;
    const body = bodyOf(n.options);
    if (!body) return;
    this.checkBody(language, body, scope, stmt);
  }

  private checkDo(n: Node, scope: Scope, at: number, stmt: { text: string; offset: number }) {
    const language = defString(n.args, 'language') ?? 'plpgsql';
    if (!this.checkLanguage(language, scope.locate(at), 'A DO block')) return;
    const body = bodyOf(n.args);
    if (!body) return;
    this.checkBody(language, body, scope, stmt);
  }

  /** Refuses a body the fence cannot read, where it starts, saying why it could not. */
  private unreadable(scope: Scope, what: string) {
    this.refuse('unreadable', scope.locate(firstWordOffset(scope.text)), what);
  }

  private checkBody(language: string, body: { text: string; location: number }, scope: Scope, stmt: { text: string; offset: number }) {
    const inner = nestedScope(scope, body.text, body.location >= 0 ? body.location : stmt.offset);
    if (inner.depth > MAX_DEPTH) {
      this.unreadable(inner, 'A body nested this deep');
      return this.scanTokens(inner);
    }
    if (language === 'sql') {
      this.checkSql(inner, false);
      return;
    }
    this.checkPlpgsql(stmt.text, inner);
  }

  /**
   * Reads a PL/pgSQL body with PostgreSQL's PL/pgSQL parser and checks every SQL statement and
   * expression in it, and the SQL of EXECUTE when it is a string constant (or a variable only
   * ever given constants). SQL built at run time cannot be seen here; the sandbox's least
   * privilege is what holds against it. A body the parser cannot read is refused.
   */
  private checkPlpgsql(statementText: string, body: Scope) {
    let parsed: { plpgsql_funcs?: Node[] };
    try {
      parsed = parsePlPgSQLSync(statementText) as typeof parsed;
    } catch {
      // libpg-query cannot resolve %TYPE (it needs the catalog): without it the names still parse as types.
      try {
        parsed = parsePlPgSQLSync(withoutPercentType(statementText)) as typeof parsed;
      } catch (err) {
        this.unreadable(body, `A PL/pgSQL body that does not parse (${(err as Error).message})`);
        return this.scanTokens(body);
      }
    }
    const funcs = (parsed.plpgsql_funcs ?? []).map((f) => f.PLpgSQL_function as Node | undefined);
    if (funcs.length === 0 || funcs.some((f) => !f?.action)) {
      this.unreadable(body, 'A PL/pgSQL body the PL/pgSQL parser returned nothing for');
      return this.scanTokens(body);
    }
    const bodyLines = body.text.split('\n');
    const lineAt = (lineno: number) => {
      // lineno counts from the body's first line; point at its first word.
      const index = Math.max(0, Math.min(lineno - 1, bodyLines.length - 1));
      const offset = Buffer.byteLength(bodyLines.slice(0, index).map((l) => `${l}\n`).join('')) + Buffer.byteLength(bodyLines[index].slice(0, bodyLines[index].length - bodyLines[index].trimStart().length));
      return offset;
    };
    const constants = constantAssignments(funcs as Node[]);
    // The SQL of EXECUTE, FOR ... IN EXECUTE, OPEN ... FOR EXECUTE and RETURN QUERY EXECUTE.
    const dynamic = (stmtType: string, field: string) =>
      field === 'dynquery' || ((stmtType === 'PLpgSQL_stmt_dynexecute' || stmtType === 'PLpgSQL_stmt_dynfors') && field === 'query');
    const visitPl = (value: unknown, lineno: number, stmtType: string, field: string): void => {
      if (Array.isArray(value)) return value.forEach((v) => visitPl(v, lineno, stmtType, field));
      if (!value || typeof value !== 'object') return;
      const obj = value as Node;
      const here = typeof obj.lineno === 'number' && obj.lineno > 0 ? obj.lineno : lineno;
      for (const [key, child] of Object.entries(obj)) {
        if (key === 'PLpgSQL_expr' && child && typeof child === 'object') {
          const expr = child as { query?: string; parseMode?: number };
          if (typeof expr.query === 'string') this.checkPlExpr(expr.query, expr.parseMode ?? 0, body, lineAt(here), dynamic(stmtType, field) ? constants : undefined);
        } else if (key.startsWith('PLpgSQL_')) visitPl(child, here, key, field);
        else visitPl(child, here, stmtType, key);
      }
    };
    visitPl(funcs, 1, '', '');
  }

  /**
   * One PL/pgSQL expression or statement, parsed as PostgreSQL's PL/pgSQL parses it (by mode).
   * `constants` is given for the SQL of EXECUTE: the strings each variable is only ever set to.
   */
  private checkPlExpr(query: string, parseMode: number, body: Scope, lineOffset: number, constants?: Map<string, string[]>) {
    const sql = plExprAsSql(query, parseMode);
    if (sql === undefined) return;
    const at = body.locate(lineOffset);
    const scope: Scope = { text: sql, bytes: Buffer.from(sql, 'utf8'), locate: () => at, depth: body.depth + 1 };
    if (!this.checkSql(scope, false)) return;
    // EXECUTE 'constant SQL' (or 'a' || 'b', 'x'::text, a constant variable): that SQL is as visible as any other.
    if (constants && parseMode === 2 && scope.depth < MAX_DEPTH) {
      const tree = parseSync(sql) as { stmts?: { stmt: Node }[] };
      const target = ((tree.stmts?.[0]?.stmt.SelectStmt as Node | undefined)?.targetList as Node[] | undefined) ?? [];
      const expr = target.length === 1 ? (target[0].ResTarget as Node | undefined)?.val : undefined;
      const direct = foldConstant(expr, new Map());
      const folded = direct ?? foldConstant(expr, constants);
      // SQL built at run time (format(), concat(), a parameter, a query result): unreadable here, so
      // refused; a target whose migrations need it gets dynamic_sql allowed by an admin.
      if (folded === undefined) this.refuse('dynamic_sql', at, 'EXECUTE of SQL built at run time');
      const texts = folded ?? [];
      for (const text of texts) {
        if (!text.trim()) continue;
        // A variable may be set at run time too; only a string written in the EXECUTE is refused for not parsing.
        this.checkSql({ text, bytes: Buffer.from(text, 'utf8'), locate: () => at, depth: scope.depth + 1 }, false, direct === undefined);
      }
    }
  }

  /**
   * For nested text the parser cannot read (a body with an error PostgreSQL would report when it
   * runs, or nesting too deep), already refused as unreadable: look at its tokens for calls the
   * fence refuses too, so the author hears about those as well.
   */
  private scanTokens(scope: Scope) {
    let tokens: { start: number; end: number; text: string; tokenName: string }[];
    try {
      tokens = scanSync(scope.text).tokens;
    } catch {
      return;
    }
    const words = tokens.filter((t) => t.tokenName !== 'SQL_COMMENT' && t.tokenName !== 'C_COMMENT');
    for (const t of words) {
      // A string here may be SQL run by EXECUTE; the body did not parse, so look inside every string.
      const literal = t.tokenName === 'SCONST' ? stringLiteralText(t.text) : undefined;
      if (literal?.trim() && scope.depth < MAX_DEPTH) {
        const at = scope.locate(t.start);
        this.checkSql({ text: literal, bytes: Buffer.from(literal, 'utf8'), locate: () => at, depth: scope.depth + 1 }, false, true);
      }
    }
    words.forEach((t, i) => {
      const next = words[i + 1];
      if (next?.text !== '(') return;
      const name = t.text.startsWith('"') ? t.text.slice(1, -1).replace(/""/g, '"') : t.text.toLowerCase();
      this.checkCall(name, scope, t.start);
    });
  }
}

/** A PL/pgSQL expression or statement as SQL the SQL parser reads, by its PL/pgSQL parse mode. */
function plExprAsSql(query: string, parseMode: number): string | undefined {
  if (parseMode === 0) return query;
  if (parseMode === 2) return `SELECT ${query}`;
  if (parseMode >= 3 && parseMode <= 5) {
    // "target := expression": check the expression.
    const assign = assignment(query);
    return `SELECT ${assign ? assign.value : query}`;
  }
  return undefined;
}

/** "target := value" (or "target = value") split at its operator, by tokens. */
function assignment(query: string): { target: string; value: string } | undefined {
  let tokens: { start: number; end: number; text: string }[] = [];
  try {
    tokens = scanSync(query).tokens;
  } catch {
    return undefined;
  }
  const op = tokens.find((t) => t.text === ':=' || t.text === '=');
  if (!op) return undefined;
  const bytes = Buffer.from(query, 'utf8');
  return { target: bytes.subarray(0, op.start).toString('utf8').trim(), value: bytes.subarray(op.end).toString('utf8') };
}

/** A PL/pgSQL variable name as PostgreSQL compares it (unquoted names fold to lower case). */
const variableName = (name: string) => (name.startsWith('"') && name.endsWith('"') ? name.slice(1, -1).replace(/""/g, '"') : name.toLowerCase());

/** Every string constant each variable of these PL/pgSQL functions is given, by default or by :=. */
function constantAssignments(funcs: Node[]): Map<string, string[]> {
  const found = new Map<string, string[]>();
  const add = (name: string, sql: string | undefined) => {
    if (sql === undefined) return;
    let values: string[] | undefined;
    try {
      const tree = parseSync(sql) as { stmts?: { stmt: Node }[] };
      const target = ((tree.stmts?.[0]?.stmt.SelectStmt as Node | undefined)?.targetList as Node[] | undefined) ?? [];
      values = target.length === 1 ? foldConstant((target[0].ResTarget as Node | undefined)?.val, new Map()) : undefined;
    } catch {
      values = undefined;
    }
    if (values) found.set(name, [...(found.get(name) ?? []), ...values].slice(0, 16));
  };
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object') return;
    const obj = value as Node;
    const v = obj.PLpgSQL_var as Node | undefined;
    const defaultQuery = ((v?.default_val as Node | undefined)?.PLpgSQL_expr as Node | undefined)?.query;
    if (v && typeof v.refname === 'string' && typeof defaultQuery === 'string') add(v.refname, `SELECT ${defaultQuery}`);
    const assign = ((obj.PLpgSQL_stmt_assign as Node | undefined)?.expr as Node | undefined)?.PLpgSQL_expr as Node | undefined;
    if (assign && typeof assign.query === 'string') {
      const a = assignment(assign.query);
      if (a) add(variableName(a.target), `SELECT ${a.value}`);
    }
    for (const child of Object.values(obj)) visit(child);
  };
  visit(funcs);
  return found;
}

/**
 * The strings an expression can only be: a constant, a cast of one, constants joined by ||, or
 * a variable given only constants (`variables`). undefined when anything is computed at run time.
 */
function foldConstant(node: unknown, variables: Map<string, string[]>): string[] | undefined {
  const n = node as Node | undefined;
  if (!n) return undefined;
  const s = stringConst(n);
  if (s !== undefined) return [s];
  if (n.TypeCast) return foldConstant((n.TypeCast as Node).arg, variables);
  const ref = n.ColumnRef as Node | undefined;
  if (ref) {
    const parts = nameParts(ref.fields);
    return parts.length === 1 ? variables.get(parts[0]) : undefined;
  }
  const op = n.A_Expr as Node | undefined;
  if (op && op.kind === 'AEXPR_OP' && lastName(op.name) === '||') {
    const left = foldConstant(op.lexpr, variables);
    const right = foldConstant(op.rexpr, variables);
    if (!left || !right) return undefined;
    return left.flatMap((l) => right.map((r) => l + r)).slice(0, 16);
  }
  return undefined;
}

/**
 * The statement with %TYPE taken out (blanked, so every offset and line stays), outside strings
 * and comments: `x t.a%TYPE` reads as `x t.a`, a type name. Nothing else changes, so a call or
 * name the fence looks for stays as written.
 */
function withoutPercentType(sql: string): string {
  let tokens: { start: number; end: number; text: string }[];
  try {
    tokens = scanSync(sql).tokens;
  } catch {
    return sql;
  }
  const bytes = Buffer.from(sql, 'utf8');
  tokens.forEach((t, i) => {
    const next = tokens[i + 1];
    if (t.text === '%' && next && /^(row)?type$/i.test(next.text)) bytes.fill(0x20, t.start, next.end);
  });
  return bytes.toString('utf8');
}

/** The text of a '...' or $tag$...$tag$ literal as the scanner returns it (other forms: undefined). */
function stringLiteralText(token: string): string | undefined {
  if (token.length >= 2 && token.startsWith("'") && token.endsWith("'")) return token.slice(1, -1).replace(/''/g, "'");
  const tag = /^\$[A-Za-z_0-9]*\$/.exec(token)?.[0];
  if (tag && token.length >= tag.length * 2 && token.endsWith(tag)) return token.slice(tag.length, token.length - tag.length);
  return undefined;
}

let loaded: Promise<void> | undefined;

/**
 * Every statement in `sql` that reaches beyond its database, with its line, column and reason;
 * kinds the allowances name are let through. SQL that does not parse is reported (kind
 * "syntax"): the fence never lets through what it cannot read.
 */
export async function findFenceViolations(sql: string, allowances: FenceAllowances): Promise<FenceViolation[]> {
  // An empty file runs nothing (the parser refuses to read one).
  if (!sql.trim()) return [];
  loaded ??= loadModule();
  await loaded;
  const bytes = Buffer.from(sql, 'utf8');
  const checker = new Checker(allowances);
  checker.checkSql({ text: sql, bytes, locate: lineLocator(bytes), depth: 0 }, true);
  return checker.violations.sort((a, b) => a.line - b.line || a.column - b.column);
}

/** A one-line description of a violation: where, why and which statement. */
export function describeViolation(v: FenceViolation): string {
  return `line ${v.line}, column ${v.column}: ${v.reason} (${v.statement})`;
}

/**
 * A refusal as people read it on the page: each finding on its own line with its kind (what an
 * admin would allow), then where to allow it. At most `max` findings are spelled out.
 */
export function describeRefusal(file: string, violations: FenceViolation[], max = 3): string {
  const lines = violations.slice(0, max).map((v) => `line ${v.line} [${v.kind}]: ${v.reason} (${v.statement.slice(0, 120)})`);
  const more = violations.length > max ? [`... and ${violations.length - max} more.`] : [];
  return [`${file} was refused:`, ...lines, ...more, FENCE_HINT].join('\n');
}

const FENCE_HINT =
  'If this target really needs it, an admin can allow the kind for this one target (Targets › Edit › allowed statement kinds) or an extension for all (Settings).';

export class FenceError extends Error {
  constructor(
    readonly file: string,
    readonly violations: FenceViolation[],
  ) {
    const first = violations[0];
    const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
    super(`${file} was refused: ${first ? describeViolation(first) : 'no reason'}${more}`);
    this.name = 'FenceError';
  }
}

/**
 * Throws FenceError when `sql` holds anything the fence refuses; nothing has run. For the
 * runners: a file that does not parse is left to the planner, which refuses it before it runs,
 * with its own line and column (findFenceViolations reports it as kind "syntax").
 */
export async function assertFenceAllows(file: string, sql: string, allowances: FenceAllowances): Promise<void> {
  const violations = (await findFenceViolations(sql, allowances)).filter((v) => v.kind !== SYNTAX_KIND);
  if (violations.length) throw new FenceError(file, violations);
}

/** The allowances Cutover uses when nobody has allowed anything: the CLI's default. */
export const DEFAULT_FENCE_ALLOWANCES: FenceAllowances = { allowedKinds: [], allowedExtensions: DEFAULT_ALLOWED_EXTENSIONS };

/**
 * Every kind let through: only for proving that the sandbox's least privilege holds on its own
 * (tests). Said out loud at the call, since the allowances are a required option.
 */
export const FENCE_OFF: FenceAllowances = { allowedKinds: FENCE_KINDS.map((k) => k.id), allowedExtensions: [] };
