import { readFileSync, readdirSync } from 'node:fs';
import { afterAll, beforeAll } from 'vitest';
import { Client } from 'pg';
import { startSandbox, type Sandbox } from '@/lib/engine/postgres/sandbox';
import { TEST_SERVER_URL, withClient } from './scratch-db';

/** A sandbox of its own for one test file: started before its tests, stopped and removed after. */
export function sandboxForFile(): () => Sandbox {
  let sandbox: Sandbox | undefined;
  beforeAll(async () => {
    sandbox = await startSandbox();
  }, 60_000);
  afterAll(async () => {
    await sandbox?.stop();
  });
  return () => {
    if (!sandbox) throw new Error('the sandbox has not started yet');
    return sandbox;
  };
}

/** A URL for the sandbox's superuser (the test's view into it). */
export function sandboxUrl(sandbox: Sandbox, database = 'postgres', user = sandbox.admin.username, password = sandbox.admin.password ?? ''): string {
  return `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${sandbox.port}/${encodeURIComponent(database)}`;
}

export const withSandbox = <T>(sandbox: Sandbox, fn: (c: Client) => Promise<T>, database = 'postgres') => withClient(sandboxUrl(sandbox, database), fn);

/** Databases and roles of a server (names), to prove that a rehearsal added or changed none. */
export async function serverInventory(url = TEST_SERVER_URL) {
  return withClient(url, async (c) => ({
    databases: (await c.query<{ d: string }>(`SELECT datname || ' ' || datdba::regrole::text || ' ' || coalesce(datacl::text, '') AS d FROM pg_database ORDER BY 1`)).rows.map((r) => r.d),
    roles: (await c.query<{ r: string }>(
      `SELECT concat_ws(' ', rolname, rolsuper, rolcreatedb, rolcreaterole, rolcanlogin, rolpassword, rolvaliduntil) AS r FROM pg_authid ORDER BY 1`,
    )).rows.map((r) => r.r),
    settings: (await c.query<{ s: string }>(`SELECT setdatabase || ' ' || setrole || ' ' || setconfig::text AS s FROM pg_db_role_setting ORDER BY 1`)).rows.map((r) => r.s),
  }));
}

/** Rehearsal databases or roles on a server: there must never be any on a target's server. */
export async function rehearsalLeftovers(url = TEST_SERVER_URL) {
  return withClient(url, async (c) => [
    ...(await c.query<{ n: string }>(`SELECT datname AS n FROM pg_database WHERE datname LIKE 'cutover\\_rehearsal\\_%'`)).rows.map((r) => r.n),
    ...(await c.query<{ n: string }>(`SELECT rolname AS n FROM pg_roles WHERE rolname LIKE 'cutover\\_rehearsal\\_%'`)).rows.map((r) => r.n),
  ]);
}

/** The server processes (postmaster children) serving a database, found by their process title. */
export function backendsOf(database: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.startsWith('postgres: ') && cmdline.includes(` ${database} `)) pids.push(Number(entry));
    } catch {
      // ended meanwhile
    }
  }
  return pids;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Engine settings for a postgresql:// URL (as the CLI reads one). */
export function settingsOf(url: string) {
  const u = new URL(url);
  return {
    host: u.hostname, port: Number(u.port || 5432), database: decodeURIComponent(u.pathname.slice(1)), username: decodeURIComponent(u.username) || 'postgres',
    password: u.password ? decodeURIComponent(u.password) : null, sslMode: 'disable', connectTimeoutMs: 5000,
  };
}
