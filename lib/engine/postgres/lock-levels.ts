/**
 * PostgreSQL's table-level lock modes and the mode each statement takes, as the documentation
 * ("Explicit Locking", the Notes of each command) and tablecmds.c AlterTableGetLockLevel say.
 * tests/integration/impact-analysis.test.ts checks the table against pg_locks while each
 * statement runs, so a row that is wrong here fails there.
 */

export const LOCK_MODES = [
  'ACCESS SHARE',
  'ROW SHARE',
  'ROW EXCLUSIVE',
  'SHARE UPDATE EXCLUSIVE',
  'SHARE',
  'SHARE ROW EXCLUSIVE',
  'EXCLUSIVE',
  'ACCESS EXCLUSIVE',
] as const;

export type LockMode = (typeof LOCK_MODES)[number];

/** A statement's lock: a mode, 'none' (no lock on any existing relation), or 'unknown' (not classified). */
export type LockLevel = LockMode | 'none' | 'unknown';

/** The mode as pg_locks names it (AccessExclusiveLock, ...). */
export function pgLocksName(mode: LockMode): string {
  return `${mode
    .toLowerCase()
    .split(' ')
    .map((w) => w[0].toUpperCase() + w.slice(1))
    .join('')}Lock`;
}

export function lockModeFromPgLocks(name: string): LockMode | undefined {
  return LOCK_MODES.find((m) => pgLocksName(m) === name);
}

/** PostgreSQL's own order of strength (the lock mode numbers of lockdefs.h). */
export function lockRank(level: LockLevel): number {
  if (level === 'none') return 0;
  if (level === 'unknown') return LOCK_MODES.length + 1;
  return LOCK_MODES.indexOf(level) + 1;
}

export function strongest<T extends LockLevel>(levels: readonly T[]): T | 'none' {
  let best: T | 'none' = 'none';
  for (const l of levels) if (lockRank(l) > lockRank(best)) best = l;
  return best;
}

/** The conflict table of "Explicit Locking": which held modes each mode waits for. */
const CONFLICTS: Record<LockMode, readonly LockMode[]> = {
  'ACCESS SHARE': ['ACCESS EXCLUSIVE'],
  'ROW SHARE': ['EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'ROW EXCLUSIVE': ['SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'SHARE UPDATE EXCLUSIVE': ['SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  SHARE: ['ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'SHARE ROW EXCLUSIVE': ['ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  EXCLUSIVE: ['ROW SHARE', 'ROW EXCLUSIVE', 'SHARE UPDATE EXCLUSIVE', 'SHARE', 'SHARE ROW EXCLUSIVE', 'EXCLUSIVE', 'ACCESS EXCLUSIVE'],
  'ACCESS EXCLUSIVE': LOCK_MODES,
};

export function conflicts(a: LockMode, b: LockMode): boolean {
  return CONFLICTS[a].includes(b);
}

/** Plain SELECTs wait behind it. */
export const blocksReads = (mode: LockLevel) => mode !== 'none' && mode !== 'unknown' && conflicts(mode, 'ACCESS SHARE');
/** INSERT, UPDATE and DELETE wait behind it. */
export const blocksWrites = (mode: LockLevel) => mode !== 'none' && mode !== 'unknown' && conflicts(mode, 'ROW EXCLUSIVE');

/** What a lock stops, in words for the page. */
export function lockEffect(mode: LockLevel): string {
  if (mode === 'none') return 'takes no lock on an existing table';
  if (mode === 'unknown') return 'takes locks Cutover cannot tell';
  if (blocksReads(mode)) return 'blocks reads and writes';
  if (blocksWrites(mode)) return mode === 'EXCLUSIVE' ? 'blocks writes and SELECT ... FOR UPDATE' : 'blocks writes';
  if (mode === 'SHARE UPDATE EXCLUSIVE') return 'blocks other schema changes and VACUUM, not reads or writes';
  return 'blocks only schema changes';
}

/**
 * ALTER TABLE subcommands (libpg-query's AlterTableType names) and the mode each takes on the
 * table (tablecmds.c AlterTableGetLockLevel). The statement takes the strongest of its subcommands.
 * AT_AddConstraint and AT_SetRelOptions/AT_ResetRelOptions depend on what they add or set: see
 * addConstraintLock and relOptionsLock.
 */
export const ALTER_TABLE_LOCKS: Record<string, LockMode> = {
  AT_AddColumn: 'ACCESS EXCLUSIVE',
  AT_AddColumnToView: 'ACCESS EXCLUSIVE',
  AT_ColumnDefault: 'ACCESS EXCLUSIVE',
  AT_CookedColumnDefault: 'ACCESS EXCLUSIVE',
  AT_DropNotNull: 'ACCESS EXCLUSIVE',
  AT_SetNotNull: 'ACCESS EXCLUSIVE',
  AT_SetExpression: 'ACCESS EXCLUSIVE',
  AT_DropExpression: 'ACCESS EXCLUSIVE',
  AT_CheckNotNull: 'ACCESS EXCLUSIVE',
  AT_SetStatistics: 'SHARE UPDATE EXCLUSIVE',
  AT_SetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_ResetOptions: 'SHARE UPDATE EXCLUSIVE',
  AT_SetStorage: 'ACCESS EXCLUSIVE',
  AT_SetCompression: 'ACCESS EXCLUSIVE',
  AT_DropColumn: 'ACCESS EXCLUSIVE',
  AT_AddIndex: 'ACCESS EXCLUSIVE',
  AT_ReAddIndex: 'ACCESS EXCLUSIVE',
  AT_AddIndexConstraint: 'ACCESS EXCLUSIVE',
  AT_AlterConstraint: 'ACCESS EXCLUSIVE',
  AT_ValidateConstraint: 'SHARE UPDATE EXCLUSIVE',
  AT_DropConstraint: 'ACCESS EXCLUSIVE',
  AT_AlterColumnType: 'ACCESS EXCLUSIVE',
  AT_AlterColumnGenericOptions: 'ACCESS EXCLUSIVE',
  AT_ChangeOwner: 'ACCESS EXCLUSIVE',
  AT_ClusterOn: 'SHARE UPDATE EXCLUSIVE',
  AT_DropCluster: 'SHARE UPDATE EXCLUSIVE',
  AT_SetLogged: 'ACCESS EXCLUSIVE',
  AT_SetUnLogged: 'ACCESS EXCLUSIVE',
  AT_DropOids: 'ACCESS EXCLUSIVE',
  AT_SetAccessMethod: 'ACCESS EXCLUSIVE',
  AT_SetTableSpace: 'ACCESS EXCLUSIVE',
  AT_ReplaceRelOptions: 'ACCESS EXCLUSIVE',
  AT_EnableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableAlwaysTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableReplicaTrig: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrig: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigAll: 'SHARE ROW EXCLUSIVE',
  AT_EnableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_DisableTrigUser: 'SHARE ROW EXCLUSIVE',
  AT_EnableRule: 'ACCESS EXCLUSIVE',
  AT_EnableAlwaysRule: 'ACCESS EXCLUSIVE',
  AT_EnableReplicaRule: 'ACCESS EXCLUSIVE',
  AT_DisableRule: 'ACCESS EXCLUSIVE',
  AT_AddInherit: 'ACCESS EXCLUSIVE',
  AT_DropInherit: 'ACCESS EXCLUSIVE',
  AT_AddOf: 'ACCESS EXCLUSIVE',
  AT_DropOf: 'ACCESS EXCLUSIVE',
  AT_ReplicaIdentity: 'ACCESS EXCLUSIVE',
  AT_EnableRowSecurity: 'ACCESS EXCLUSIVE',
  AT_DisableRowSecurity: 'ACCESS EXCLUSIVE',
  AT_ForceRowSecurity: 'ACCESS EXCLUSIVE',
  AT_NoForceRowSecurity: 'ACCESS EXCLUSIVE',
  AT_GenericOptions: 'ACCESS EXCLUSIVE',
  // The partition itself is locked ACCESS EXCLUSIVE (see the statement analysis).
  AT_AttachPartition: 'SHARE UPDATE EXCLUSIVE',
  AT_DetachPartition: 'ACCESS EXCLUSIVE',
  AT_DetachPartitionFinalize: 'SHARE UPDATE EXCLUSIVE',
  AT_AddIdentity: 'ACCESS EXCLUSIVE',
  AT_SetIdentity: 'ACCESS EXCLUSIVE',
  AT_DropIdentity: 'ACCESS EXCLUSIVE',
};

/**
 * ADD CONSTRAINT: a foreign key adds triggers to both tables, so SHARE ROW EXCLUSIVE on each;
 * every other kind (CHECK, UNIQUE, PRIMARY KEY, EXCLUDE) takes ACCESS EXCLUSIVE.
 */
export function addConstraintLock(contype: string): LockMode {
  return contype === 'CONSTR_FOREIGN' ? 'SHARE ROW EXCLUSIVE' : 'ACCESS EXCLUSIVE';
}

/**
 * Storage parameters that only change maintenance or planner strategy take SHARE UPDATE
 * EXCLUSIVE (reloptions.c); the ones that change what queries see take ACCESS EXCLUSIVE.
 */
const ACCESS_EXCLUSIVE_RELOPTIONS = new Set(['user_catalog_table', 'security_barrier', 'security_invoker', 'check_option']);

export function relOptionsLock(names: readonly string[]): LockMode {
  return names.some((n) => ACCESS_EXCLUSIVE_RELOPTIONS.has(n.replace(/^toast\./, ''))) ? 'ACCESS EXCLUSIVE' : 'SHARE UPDATE EXCLUSIVE';
}

/** LOCK TABLE's mode numbers (libpg-query gives the number of lockdefs.h). */
export function lockModeFromNumber(n: number): LockMode | undefined {
  return LOCK_MODES[n - 1];
}
