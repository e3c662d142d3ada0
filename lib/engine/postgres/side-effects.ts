import { loadModule, parseSync } from 'libpg-query';

/**
 * Functions that act even inside a READ ONLY transaction (notify, take locks, change settings or
 * sequences, sleep, reach other servers or the server's files, signal backends, assign a
 * transaction id). A verification query is a read: a call to any of these is refused before it runs.
 */
const SIDE_EFFECT_FUNCTIONS = new Set([
  'pg_notify', 'set_config', 'nextval', 'setval', 'pg_read_file', 'pg_read_binary_file', 'pg_ls_dir', 'pg_stat_file',
  'pg_terminate_backend', 'pg_cancel_backend', 'pg_reload_conf', 'txid_current', 'pg_current_xact_id', 'loread', 'lowrite',
]);
/** Families: every advisory lock function, pg_sleep_for/_until, dblink_*, the large-object functions. */
const SIDE_EFFECT_PREFIXES = ['pg_advisory', 'pg_try_advisory', 'pg_sleep', 'dblink', 'lo_'];

function isSideEffectFunction(name: string): boolean {
  const n = name.toLowerCase();
  return SIDE_EFFECT_FUNCTIONS.has(n) || SIDE_EFFECT_PREFIXES.some((p) => n.startsWith(p));
}

type Node = Record<string, unknown>;

/** The function's own name (the last part of a qualified name such as pg_catalog.pg_notify). */
function functionName(funcname: unknown): string | undefined {
  if (!Array.isArray(funcname) || funcname.length === 0) return undefined;
  const last = (funcname[funcname.length - 1] as Node).String as Node | undefined;
  return typeof last?.sval === 'string' ? last.sval : undefined;
}

function collectCalls(value: unknown, found: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectCalls(v, found);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const node = value as Node;
  for (const key in node) {
    const child = node[key];
    if (key === 'FuncCall' && child && typeof child === 'object') {
      const name = functionName((child as Node).funcname);
      if (name && isSideEffectFunction(name)) found.add(name.toLowerCase());
    }
    if (child && typeof child === 'object') collectCalls(child, found);
  }
}

let loaded: Promise<void> | undefined;

/**
 * The side-effect functions (see SIDE_EFFECT_FUNCTIONS) `sql` calls anywhere in its parse tree,
 * lower-cased, in order of first appearance. Throws the parser's error when `sql` does not parse.
 */
export async function findSideEffectCalls(sql: string): Promise<string[]> {
  if (!sql.trim()) return [];
  loaded ??= loadModule();
  await loaded;
  const found = new Set<string>();
  collectCalls(parseSync(sql), found);
  return [...found];
}
