/**
 * CPU accounting from /proc (Linux): the server's process group, the PostgreSQL backends
 * serving the bench database, this process, and the whole machine. Used to explain where
 * a page's time goes; returns nulls where /proc is not available.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on Linux

function procStat(pid: string): { pgrp: number; ticks: number } | null {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' '); // fields from #3 (state) on
    return { pgrp: Number(f[2]), ticks: Number(f[11]) + Number(f[12]) };
  } catch {
    return null;
  }
}

export interface CpuSnapshot {
  serverMs: number | null;
  postgresMs: number | null;
  clientMs: number;
  machineBusyMs: number | null;
  machineTotalMs: number | null;
}

export function snapshot(serverPgid: number | null, database: string): CpuSnapshot {
  const own = process.cpuUsage();
  if (!existsSync('/proc/self/stat')) return { serverMs: null, postgresMs: null, clientMs: (own.user + own.system) / 1000, machineBusyMs: null, machineTotalMs: null };
  let server = 0;
  let postgres = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const st = procStat(pid);
    if (!st) continue;
    if (serverPgid !== null && st.pgrp === serverPgid) server += st.ticks;
    else {
      let cmd = '';
      try { cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8'); } catch { continue; }
      // Backends show as "postgres: <user> <database> <client> <state>".
      if (cmd.startsWith('postgres: ') && cmd.includes(` ${database} `)) postgres += st.ticks;
    }
  }
  const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = cpu[3] + (cpu[4] ?? 0);
  const total = cpu.slice(0, 8).reduce((a, b) => a + b, 0);
  return {
    serverMs: server * TICK_MS,
    postgresMs: postgres * TICK_MS,
    clientMs: (own.user + own.system) / 1000,
    machineBusyMs: (total - idle) * TICK_MS,
    machineTotalMs: total * TICK_MS,
  };
}

/**
 * CPU ms per operation between two snapshots; how busy the machine was (0..1 of all cores);
 * and the share of the machine's CPU used by processes outside the benchmark (other work on
 * a shared machine makes latencies worse than the app alone would).
 */
export function perOp(a: CpuSnapshot, b: CpuSnapshot, ops: number) {
  const d = (x: number | null, y: number | null) => (x === null || y === null ? null : Math.round(((y - x) / ops) * 100) / 100);
  const r2 = (x: number) => Math.round(x * 100) / 100;
  if (a.machineBusyMs === null || b.machineBusyMs === null || a.serverMs === null || b.serverMs === null) {
    return { serverMs: d(a.serverMs, b.serverMs), postgresMs: d(a.postgresMs, b.postgresMs), clientMs: d(a.clientMs, b.clientMs), machineBusy: null, otherProcessesShare: null };
  }
  const total = b.machineTotalMs! - a.machineTotalMs!;
  const busy = b.machineBusyMs - a.machineBusyMs;
  const ours = (b.serverMs - a.serverMs) + (b.postgresMs! - a.postgresMs!) + (b.clientMs - a.clientMs);
  return {
    serverMs: d(a.serverMs, b.serverMs), postgresMs: d(a.postgresMs, b.postgresMs), clientMs: d(a.clientMs, b.clientMs),
    machineBusy: r2(busy / total), otherProcessesShare: r2(Math.max(0, busy - ours) / total),
  };
}
