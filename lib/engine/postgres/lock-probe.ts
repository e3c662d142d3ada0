import { Client, type ClientConfig } from 'pg';
import { parseFile, type PlannedStatement } from './sql-plan';

/**
 * Lock impact, measured: while a rehearsal runs a script (up, down) in its scratch database, a
 * few sessions read and write the tables the script touches, in a loop, and a monitor session
 * samples pg_locks and pg_stat_activity. Per statement that gives how long the probes waited and
 * which lock of the migration made them wait, and the longest lock the migration held.
 *
 * The probes change nothing: a read is `SELECT ... LIMIT 1`; a write takes the locks an UPDATE
 * of one row takes (ROW EXCLUSIVE on the table, a row lock on one row) with `LOCK TABLE` and
 * `SELECT ... FOR NO KEY UPDATE`, so no trigger fires and no row version is written (a data-loss
 * check before and after up sees the sample as it was; xmin is unchanged). Every probe wait is
 * shorter than half the server's deadlock_timeout: a probe caught in a cycle with the migration
 * gives up before the deadlock detector could choose the migration as its victim, and retries.
 * A wait the probe gave up on is still a wait: consecutive blocked probes of one session make one
 * episode, as long as an application query would have waited.
 */

export type ProbeKind = 'read' | 'write';

export interface ProbeSample {
  /** Start, ms since the probe began (same clock as the statements' startedMs). */
  tMs: number;
  latencyMs: number;
  kind: ProbeKind;
  /** The probe waited for a heavyweight lock (seen by the monitor) or gave up waiting (lock_timeout). */
  blocked: boolean;
  /** Blocked samples: how long its session had been waiting when it ended (its wait episode so far, retries included). */
  waitedMs?: number;
  table: string;
  error?: string;
}

export interface HeldLock {
  /** pg_locks mode, e.g. ShareLock, AccessExclusiveLock. */
  mode: string;
  relation: string;
  /** From the first to the last time the monitor saw it held, ms since the probe began. */
  fromMs: number;
  untilMs: number;
  heldMs: number;
}

export interface StatementLockImpact {
  phase: 'up' | 'down';
  index: number;
  line: number;
  /** The statement's first 200 characters. */
  sql: string;
  startedMs: number;
  durationMs: number;
  /** Wait episodes of the probes blamed on this statement (its lock, or the wait happened while it ran). */
  probeBlockedMs: { max: number; total: number };
  /** Which probes waited: reads, writes or both. */
  blockedKinds: ProbeKind[];
  /** The migration's lock the probes waited for, when the monitor could tell. */
  blockedBy?: { mode: string; relation: string };
  /** The longest of the locks this statement took (first seen while it ran), however long they were then held. */
  longestLock: HeldLock | null;
  /** Probe samples that started while this statement ran (capped; blocked samples are kept first). */
  samples: ProbeSample[];
}

export interface LockImpact {
  thresholdMs: number;
  statements: StatementLockImpact[];
  /** Statements whose probes waited longer than the threshold in one episode. */
  exceeded: { phase: 'up' | 'down'; index: number; line: number; sql: string; blockedMs: number }[];
  /** Tables the probes read and wrote. */
  tables: string[];
  sessions: { readers: number; writers: number };
  monitorIntervalMs: number;
  /** How long a single probe waited before giving up and retrying (below half of deadlock_timeout). */
  probeLockTimeoutMs: number;
  /** The probe could not run (the rehearsal went on without it). */
  error?: string;
}

export interface LockProbeOptions {
  /** A statement whose probes waited longer than this (one episode) is named in `exceeded`. */
  thresholdMs: number;
  /** Probe sessions, half reading and half writing (default 4). */
  sessions?: number;
}

const MAX_SAMPLES_PER_STATEMENT = 400;
const MONITOR_INTERVAL_MS = 25;
const PROBE_PAUSE_MS = 15;
const SQL_IN_EVIDENCE = 200;

/** pg_locks modes in strength order, and which of them each conflicts with (PostgreSQL's table). */
const MODES = ['AccessShareLock', 'RowShareLock', 'RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'];
const CONFLICTS: Record<string, string[]> = {
  AccessShareLock: ['AccessExclusiveLock'],
  RowShareLock: ['ExclusiveLock', 'AccessExclusiveLock'],
  RowExclusiveLock: ['ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareUpdateExclusiveLock: ['ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareLock: ['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ShareRowExclusiveLock: ['RowExclusiveLock', 'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock', 'AccessExclusiveLock'],
  ExclusiveLock: MODES.slice(1),
  AccessExclusiveLock: MODES,
};
export const locksConflict = (a: string, b: string) => CONFLICTS[a]?.includes(b) ?? false;

/** "ShareRowExclusiveLock" -> "SHARE ROW EXCLUSIVE", as LOCK TABLE and the documentation name it. */
export const lockModeName = (mode: string) => mode.replace(/Lock$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();

type Node = Record<string, unknown>;

/**
 * Relations a statement names, from its parse tree: every RangeVar (FROM, the statement's
 * relation, REFERENCES ...) and the objects of DROP TABLE/INDEX/VIEW. As quoted "schema"."name"
 * text for to_regclass; names that exist nowhere are dropped later, against the catalog.
 */
export function relationsNamed(statementTree: Node): string[] {
  const names = new Set<string>();
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const visit = (v: unknown) => {
    if (Array.isArray(v)) return v.forEach(visit);
    if (!v || typeof v !== 'object') return;
    const n = v as Node;
    if (typeof n.relname === 'string' && 'relpersistence' in n) {
      names.add([n.catalogname, n.schemaname, n.relname].filter((p): p is string => typeof p === 'string' && p !== '').map(quote).join('.'));
    }
    const drop = n.DropStmt as Node | undefined;
    if (drop && ['OBJECT_TABLE', 'OBJECT_INDEX', 'OBJECT_VIEW', 'OBJECT_MATVIEW', 'OBJECT_FOREIGN_TABLE'].includes(String(drop.removeType))) {
      for (const o of (drop.objects as Node[] | undefined) ?? []) {
        const parts = (((o.List as Node | undefined)?.items as Node[] | undefined) ?? []).map((i) => (i.String as Node | undefined)?.sval);
        if (parts.length && parts.every((p) => typeof p === 'string')) names.add((parts as string[]).map(quote).join('.'));
      }
    }
    for (const child of Object.values(n)) visit(child);
  };
  visit(statementTree);
  return [...names];
}

interface ProbeTable {
  oid: number;
  /** Quoted schema.name, as probes write it. */
  name: string;
  writable: boolean;
}

interface RawSample {
  session: number;
  pid: number;
  start: number;
  end: number;
  kind: ProbeKind;
  table: string;
  code?: string;
  error?: string;
  blocked: boolean;
  /** Key of the statement whose lock the monitor saw it wait for, and that lock. */
  blame?: string;
  blameLock?: { mode: string; relation: string };
  /** Start of the wait episode it belongs to (blocked samples). */
  episodeStart?: number;
}

interface Observation {
  sent: number;
  received: number;
  /** Probe pids waiting for a lock, with the relation and mode they asked for (relation null: a row or transaction). */
  waiting: { pid: number; relation: number | null; mode: string }[];
  held: { relation: number; mode: string }[];
}

interface StatementWindow {
  key: string;
  phase: 'up' | 'down';
  statement: PlannedStatement;
  start: number;
  end: number;
}

const sleep = (ms: number, stop: { wake?: () => void }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    stop.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

/** Waits for `p`, at most `ms`. */
const bounded = (p: Promise<unknown>, ms: number) => Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, ms).unref())]);

/**
 * One probe for a rehearsal: sessions opened once (logged in as the rehearsal's role, never a
 * superuser), then `watch` around each script. `close` ends every session it opened.
 */
export class LockProbe {
  private readonly clients: Client[] = [];
  private readers: Client[] = [];
  private writers: Client[] = [];
  private monitor?: Client;
  private readonly origin = performance.now();
  private readonly statements: StatementLockImpact[] = [];
  private readonly tables = new Set<string>();
  private lockTimeoutMs = 500;
  private error?: string;

  constructor(
    private readonly config: ClientConfig,
    private readonly options: LockProbeOptions & { migrationPid: () => number | null; signal?: AbortSignal },
  ) {}

  private now = () => performance.now() - this.origin;

  private async connect(name: string): Promise<Client> {
    const c = new Client({ ...this.config, application_name: name, connectionTimeoutMillis: 10_000 });
    c.on('error', () => undefined);
    this.clients.push(c);
    await c.connect();
    return c;
  }

  /** Opens the sessions; a failure leaves the probe off (recorded in the result) and the rehearsal goes on. */
  async open(): Promise<void> {
    try {
      const sessions = Math.max(2, this.options.sessions ?? 4);
      this.monitor = await this.connect('cutover lock monitor');
      const { rows } = await this.monitor.query<{ ms: string }>(`SELECT setting AS ms FROM pg_catalog.pg_settings WHERE name = 'deadlock_timeout'`);
      this.lockTimeoutMs = Math.max(50, Math.min(500, Math.floor(Number(rows[0]?.ms ?? 1000) / 2)));
      for (let i = 0; i < sessions; i++) {
        const c = await this.connect(`cutover lock probe ${i % 2 === 0 ? 'read' : 'write'}`);
        await c.query(`SELECT pg_catalog.set_config('lock_timeout', $1, false), pg_catalog.set_config('statement_timeout', '5s', false)`, [`${this.lockTimeoutMs}ms`]);
        (i % 2 === 0 ? this.readers : this.writers).push(c);
      }
    } catch (err) {
      this.error = `the lock probe could not start: ${(err as Error).message}`;
      await this.close();
    }
  }

  /**
   * The tables a script names that exist now (indexes stand for their table), as the probes
   * address them, and which statement names which of them (by oid).
   */
  private async resolveTables(sql: string, statements: PlannedStatement[]): Promise<{ tables: ProbeTable[]; namedBy: Map<number, Set<number>> }> {
    const tree = parseFile(sql);
    const named = statements.map((s) => {
      const node = tree.stmts?.[s.index]?.stmt;
      return node ? relationsNamed(node) : [];
    });
    const names = [...new Set(named.flat())];
    const namedBy = new Map<number, Set<number>>();
    if (!names.length || !this.monitor) return { tables: [], namedBy };
    const { rows } = await this.monitor.query<{ named: string; oid: string; name: string; relkind: string }>(
      `WITH named AS (SELECT n AS named, pg_catalog.to_regclass(n) AS oid FROM pg_catalog.unnest($1::text[]) n)
       SELECT named.named, c.oid::int8 AS oid, pg_catalog.quote_ident(ns.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name, c.relkind::text AS relkind
       FROM named JOIN pg_catalog.pg_class r ON r.oid = named.oid
       LEFT JOIN pg_catalog.pg_index i ON i.indexrelid = r.oid
       JOIN pg_catalog.pg_class c ON c.oid = COALESCE(i.indrelid, r.oid) JOIN pg_catalog.pg_namespace ns ON ns.oid = c.relnamespace
       WHERE c.relkind IN ('r', 'p', 'm') AND ns.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 3`,
      [names],
    );
    const tables = new Map<number, ProbeTable>();
    for (const r of rows) tables.set(Number(r.oid), { oid: Number(r.oid), name: r.name, writable: r.relkind !== 'm' });
    statements.forEach((s, i) => namedBy.set(s.index, new Set(rows.filter((r) => named[i].includes(r.named)).map((r) => Number(r.oid)))));
    return { tables: [...tables.values()], namedBy };
  }

  /**
   * Probes the tables `sql` touches while `run` runs it; `onStatement` must be called as each
   * statement starts (the runner's hook). Statement durations come from the script's evidence.
   */
  async watch<T extends { statements: { index: number; durationMs: number | null }[] }>(
    phase: 'up' | 'down',
    sql: string,
    statements: PlannedStatement[],
    run: (onStatement: (s: PlannedStatement) => void) => Promise<T>,
  ): Promise<T> {
    if (!this.monitor || this.error) return run(() => undefined);
    let tables: ProbeTable[] = [];
    let namedBy = new Map<number, Set<number>>();
    try {
      ({ tables, namedBy } = await this.resolveTables(sql, statements));
    } catch (err) {
      this.error = `the lock probe could not read the touched tables: ${(err as Error).message}`;
    }
    for (const t of tables) this.tables.add(t.name);
    const starts: { statement: PlannedStatement; at: number }[] = [];
    const samples: RawSample[] = [];
    const observations: Observation[] = [];
    const relationNames = new Map<number, string | null>();
    let stopped = tables.length === 0;
    const pauses: { wake?: () => void }[] = [];
    const watchStart = this.now();

    const loop = async (client: Client, session: number, kind: ProbeKind) => {
      const pid = (client as unknown as { processID: number }).processID;
      const own = tables.filter((t) => kind === 'read' || t.writable);
      const pause: { wake?: () => void } = {};
      pauses.push(pause);
      for (let i = session; !stopped && own.length; i++) {
        const table = own[i % own.length];
        const text =
          kind === 'read'
            ? `SELECT 1 FROM ${table.name} LIMIT 1`
            : `LOCK TABLE ${table.name} IN ROW EXCLUSIVE MODE; SELECT 1 FROM ${table.name} WHERE ctid = (SELECT ctid FROM ${table.name} LIMIT 1) FOR NO KEY UPDATE`;
        const start = this.now();
        let code: string | undefined;
        let error: string | undefined;
        try {
          await client.query(text);
        } catch (err) {
          code = (err as { code?: string }).code;
          error = (err as Error).message;
        }
        const end = this.now();
        // Cancelled at the end (or the rehearsal cancelled): not a sample.
        if (stopped && code === '57014') break;
        samples.push({ session, pid, start, end, kind, table: table.name, code, error, blocked: code === '55P03' });
        if (code === '42P01') {
          // Renamed or dropped by the migration: follow the table by its oid, or stop probing it.
          const r = await client.query<{ name: string }>(
            `SELECT pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = $1::int8::oid`,
            [table.oid],
          ).catch(() => ({ rows: [] as { name: string }[] }));
          if (r.rows[0]) table.name = r.rows[0].name;
          else own.splice(own.indexOf(table), 1);
        } else if (code && ['57P01', '08006', '08003'].includes(code)) break;
        else if (error && !code) break; // the connection is gone
        if (!stopped) await sleep(PROBE_PAUSE_MS, pause);
      }
    };

    const watchMonitor = async () => {
      const monitor = this.monitor!;
      const probePids = [...this.readers, ...this.writers].map((c) => (c as unknown as { processID: number }).processID);
      const pause: { wake?: () => void } = {};
      pauses.push(pause);
      while (!stopped) {
        const migrationPid = this.options.migrationPid();
        const sent = this.now();
        try {
          const { rows } = await monitor.query<{ waiting: { pid: number; relation: number | null; mode: string }[]; held: { relation: number; mode: string }[] }>(
            `SELECT
               (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('pid', a.pid, 'relation', l.relation::int8, 'mode', l.mode)), '[]')
                FROM pg_catalog.pg_stat_activity a LEFT JOIN pg_catalog.pg_locks l ON l.pid = a.pid AND NOT l.granted
                WHERE a.pid = ANY($2::int[]) AND a.wait_event_type = 'Lock') AS waiting,
               (SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object('relation', l.relation::int8, 'mode', l.mode)), '[]')
                FROM pg_catalog.pg_locks l
                WHERE l.pid = $1 AND l.granted AND l.locktype = 'relation'
                  AND l.database = (SELECT oid FROM pg_catalog.pg_database WHERE datname = pg_catalog.current_database())) AS held`,
            [migrationPid ?? 0, probePids],
          );
          const held = rows[0].held.map((h) => ({ relation: Number(h.relation), mode: h.mode }));
          const unknown = [...new Set(held.map((h) => h.relation))].filter((r) => !relationNames.has(r));
          if (unknown.length) {
            // Only tables others can see: a relation the migration created in its transaction blocks nobody.
            const { rows: named } = await monitor.query<{ oid: string; name: string }>(
              `SELECT c.oid::int8 AS oid, pg_catalog.quote_ident(n.nspname) || '.' || pg_catalog.quote_ident(c.relname) AS name
               FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
               WHERE c.oid = ANY($1::int8[]::oid[]) AND c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'`,
              [unknown],
            );
            for (const r of unknown) relationNames.set(r, null);
            for (const r of named) relationNames.set(Number(r.oid), r.name);
          }
          observations.push({
            sent, received: this.now(),
            waiting: rows[0].waiting.map((w) => ({ pid: w.pid, relation: w.relation === null ? null : Number(w.relation), mode: w.mode })),
            held: held.filter((h) => relationNames.get(h.relation)),
          });
        } catch {
          if (stopped || this.options.signal?.aborted) break;
        }
        if (!stopped) await sleep(MONITOR_INTERVAL_MS, pause);
      }
    };

    const loops = stopped
      ? []
      : [
          watchMonitor(),
          ...this.readers.map((c, i) => loop(c, i * 2, 'read')),
          ...this.writers.map((c, i) => loop(c, i * 2 + 1, 'write')),
        ];
    let result: T;
    try {
      result = await run((s) => starts.push({ statement: s, at: this.now() }));
    } finally {
      stopped = true;
      for (const p of pauses) p.wake?.();
      // A probe still waiting ends within its lock_timeout; the rehearsal ends the sessions anyway.
      await bounded(Promise.all(loops), this.lockTimeoutMs + 2000);
    }
    const end = this.now();
    const windows: StatementWindow[] = starts.map((s, i) => ({
      key: `${phase}:${s.statement.index}`, phase, statement: s.statement,
      start: i === 0 ? Math.min(watchStart, s.at) : s.at,
      end: i + 1 < starts.length ? starts[i + 1].at : end,
    }));
    this.statements.push(...summarise(windows, samples, observations, relationNames, result.statements, namedBy));
    return result;
  }

  async close(): Promise<void> {
    const all = this.clients.splice(0);
    this.readers = [];
    this.writers = [];
    this.monitor = undefined;
    await Promise.all(all.map((c) => bounded(c.end(), 2000)));
  }

  result(): LockImpact {
    const { thresholdMs } = this.options;
    const statements = this.statements;
    return {
      thresholdMs,
      statements,
      exceeded: statements
        .filter((s) => s.probeBlockedMs.max > thresholdMs)
        .map((s) => ({ phase: s.phase, index: s.index, line: s.line, sql: s.sql, blockedMs: s.probeBlockedMs.max })),
      tables: [...this.tables],
      sessions: { readers: Math.ceil(Math.max(2, this.options.sessions ?? 4) / 2), writers: Math.floor(Math.max(2, this.options.sessions ?? 4) / 2) },
      monitorIntervalMs: MONITOR_INTERVAL_MS,
      probeLockTimeoutMs: this.lockTimeoutMs,
      ...(this.error ? { error: this.error } : {}),
    };
  }
}

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Turns the raw samples and the monitor's observations into per-statement evidence. */
function summarise(
  windows: StatementWindow[],
  samples: RawSample[],
  observations: Observation[],
  relationNames: Map<number, string | null>,
  evidence: { index: number; durationMs: number | null }[],
  namedBy: Map<number, Set<number>>,
): StatementLockImpact[] {
  // Windows are in order and back to back: a binary search finds the one at a time (10,000-statement files).
  const windowAt = (t: number): StatementWindow | undefined => {
    let lo = 0;
    let hi = windows.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (windows[mid].start <= t) lo = mid;
      else hi = mid - 1;
    }
    return windows[lo];
  };

  // Locks the migration held: one entry per (relation, mode) while seen in consecutive observations.
  // A lock was taken between the last observation without it and the first with it; of the
  // statements that ran then, the first that names its table took it (a transaction keeps the
  // locks of its earlier statements: a quick ALTER followed by a long UPDATE is the ALTER's lock).
  const locks: (HeldLock & { key: string; relationOid: number; lastIndex: number; owner: string })[] = [];
  const open = new Map<string, (typeof locks)[number]>();
  observations.forEach((o, i) => {
    const at = (o.sent + o.received) / 2;
    for (const h of o.held) {
      const id = `${h.relation}:${h.mode}`;
      const current = open.get(id);
      if (current && current.lastIndex === i - 1) {
        current.untilMs = at;
        current.lastIndex = i;
      } else {
        const since = i > 0 ? observations[i - 1].sent : -Infinity;
        const candidates = windows.filter((w) => w.end > since && w.start <= o.received);
        const owner = candidates.find((w) => namedBy.get(w.statement.index)?.has(h.relation)) ?? candidates[0] ?? windowAt(at);
        const entry = { key: id, relationOid: h.relation, mode: h.mode, relation: relationNames.get(h.relation)!, fromMs: at, untilMs: at, heldMs: 0, lastIndex: i, owner: owner?.key ?? '' };
        locks.push(entry);
        open.set(id, entry);
      }
    }
  });
  for (const l of locks) l.heldMs = round(l.untilMs - l.fromMs);

  // Each waiting probe seen by the monitor marks the sample it belongs to (the one of that
  // session overlapping the observation most), blamed on the statement whose lock it waited for.
  const bySession = new Map<number, RawSample[]>();
  for (const s of samples) {
    const list = bySession.get(s.pid);
    if (list) list.push(s);
    else bySession.set(s.pid, [s]);
  }
  for (const o of observations) {
    const at = (o.sent + o.received) / 2;
    for (const w of o.waiting) {
      const candidates = (bySession.get(w.pid) ?? []).filter((s) => s.start <= o.received && s.end >= o.sent);
      const overlap = (s: RawSample) => Math.min(s.end, o.received) - Math.max(s.start, o.sent);
      const sample = candidates.sort((a, b) => overlap(b) - overlap(a))[0];
      if (!sample) continue;
      sample.blocked = true;
      if (sample.blame) continue;
      const holder = w.relation === null ? undefined : locks.find((l) => l.relationOid === w.relation && l.fromMs <= at && l.untilMs >= at - MONITOR_INTERVAL_MS * 2 && locksConflict(l.mode, w.mode));
      sample.blame = holder?.owner ?? windowAt(at)?.key;
      if (holder) sample.blameLock = { mode: holder.mode, relation: holder.relation };
    }
  }

  // Episodes: consecutive blocked samples of one session (a probe that gave up retries at once).
  const episodes: { start: number; end: number; blame: string; kind: ProbeKind; lock?: { mode: string; relation: string } }[] = [];
  for (const list of bySession.values()) {
    let current: (typeof episodes)[number] | undefined;
    for (const s of list.sort((a, b) => a.start - b.start)) {
      if (!s.blocked) {
        current = undefined;
        continue;
      }
      if (current) {
        current.end = s.end;
        current.blame ||= s.blame ?? '';
        current.lock ??= s.blameLock;
      } else {
        current = { start: s.start, end: s.end, blame: s.blame ?? '', kind: s.kind, lock: s.blameLock };
        episodes.push(current);
      }
      s.episodeStart = current.start;
    }
  }
  for (const e of episodes) e.blame ||= windowAt(e.start)?.key ?? '';

  const grouped = <T>(items: T[], keyOf: (item: T) => string | undefined) => {
    const map = new Map<string, T[]>();
    for (const item of items) {
      const key = keyOf(item);
      if (key === undefined) continue;
      const list = map.get(key);
      if (list) list.push(item);
      else map.set(key, [item]);
    }
    return map;
  };
  const episodesOf = grouped(episodes, (e) => e.blame);
  const locksOf = grouped(locks, (l) => l.owner);
  const samplesOf = grouped(samples, (s) => windowAt(s.start)?.key);

  return windows.map((w) => {
    const mine = episodesOf.get(w.key) ?? [];
    const taken = (locksOf.get(w.key) ?? []).sort((a, b) => b.heldMs - a.heldMs || MODES.indexOf(b.mode) - MODES.indexOf(a.mode));
    const longest = taken[0];
    // The lock the probes waited for, as the monitor matched it (the longest episode's first).
    const blocking = [...mine].sort((a, b) => b.end - b.start - (a.end - a.start)).find((e) => e.lock)?.lock;
    const inWindow = (samplesOf.get(w.key) ?? []).sort((a, b) => a.start - b.start);
    const kept = inWindow.length > MAX_SAMPLES_PER_STATEMENT
      ? [...inWindow.filter((s) => s.blocked), ...inWindow.filter((s) => !s.blocked)].slice(0, MAX_SAMPLES_PER_STATEMENT).sort((a, b) => a.start - b.start)
      : inWindow;
    const duration = evidence.find((e) => e.index === w.statement.index)?.durationMs ?? null;
    return {
      phase: w.phase,
      index: w.statement.index,
      line: w.statement.line,
      sql: w.statement.sql.slice(0, SQL_IN_EVIDENCE),
      startedMs: round(w.start),
      durationMs: round(duration ?? w.end - w.start),
      probeBlockedMs: { max: round(Math.max(0, ...mine.map((e) => e.end - e.start))), total: round(mine.reduce((n, e) => n + (e.end - e.start), 0)) },
      blockedKinds: (['read', 'write'] as const).filter((k) => mine.some((e) => e.kind === k)),
      ...(blocking ? { blockedBy: blocking } : {}),
      longestLock: longest ? { mode: longest.mode, relation: longest.relation, fromMs: round(longest.fromMs), untilMs: round(longest.untilMs), heldMs: longest.heldMs } : null,
      samples: kept.map((s) => ({
        tMs: round(s.start), latencyMs: round(s.end - s.start), kind: s.kind, blocked: s.blocked, table: s.table,
        ...(s.blocked && s.episodeStart !== undefined ? { waitedMs: round(s.end - s.episodeStart) } : {}),
        ...(s.error && s.code !== '55P03' ? { error: s.error.slice(0, 200) } : {}),
      })),
    };
  });
}
