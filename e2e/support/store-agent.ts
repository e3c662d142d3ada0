import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { Client } from 'pg';
import type { StoreOp } from './store-agent-cli';
import { DATABASE_URL } from './env';

const root = path.resolve(__dirname, '../..');

/** The client side of store-agent-cli.ts: one tsx process, many calls. */
export class StoreAgent {
  private seq = 0;
  private pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; op: string }>();
  private stderr = '';

  private constructor(private readonly child: ChildProcessWithoutNullStreams) {
    child.stderr.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-4000)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (!line.startsWith('{')) return;
      const msg = JSON.parse(line) as { id: number; result?: unknown; error?: string };
      const waiter = this.pending.get(msg.id);
      if (!waiter) return;
      this.pending.delete(msg.id);
      if (msg.error) waiter.reject(new Error(`store agent ${waiter.op}: ${msg.error}`));
      else waiter.resolve(msg.result);
    });
    child.on('exit', (code) => {
      for (const w of this.pending.values()) w.reject(new Error(`store agent exited (${code}): ${this.stderr}`));
      this.pending.clear();
    });
  }

  static async start(): Promise<StoreAgent> {
    const child = spawn(path.join(root, 'node_modules/.bin/tsx'), [path.join(__dirname, 'store-agent-cli.ts')], { cwd: root });
    const agent = new StoreAgent(child);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`store agent did not start: ${agent.stderr}`)), 60_000);
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('STORE_AGENT_READY')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.on('exit', (code) => reject(new Error(`store agent exited (${code}): ${agent.stderr}`)));
    });
    return agent;
  }

  call<T>(cmd: StoreOp): Promise<T> {
    const id = ++this.seq;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, op: cmd.op });
      this.child.stdin.write(`${JSON.stringify({ id, cmd })}\n`);
    });
  }

  async waitIdle(timeoutMs = 90_000): Promise<void> {
    const r = await this.call<{ idle: boolean; busy?: number }>({ op: 'waitIdle', timeoutMs });
    if (!r.idle) throw new Error(`${r.busy} runs still queued or running after ${timeoutMs} ms`);
  }

  async stop(): Promise<void> {
    this.child.stdin.end();
    await new Promise((r) => {
      this.child.once('exit', r);
      setTimeout(r, 5000);
    });
  }
}

/**
 * Tables whose rows change without anyone calling an entry point, left out of the digest:
 * sign-in rate-limit counters (per address and account), and webhook_deliveries, the webhook
 * dispatcher's queue, which the worker updates in the background (retries to a receiver an
 * earlier spec set) whatever the call under test did.
 */
const VOLATILE_TABLE = /rate|limit|attempt|throttle|^webhook_deliveries$/i;

/** A digest of the app store's rows: one md5 per table of public (except volatile ones), plus pg-boss job counts. */
export class StoreDigest {
  private constructor(private readonly client: Client) {}

  static async open(): Promise<StoreDigest> {
    const client = new Client({ connectionString: DATABASE_URL });
    await client.connect();
    return new StoreDigest(client);
  }

  get db(): Client {
    return this.client;
  }

  async digest(): Promise<Record<string, string>> {
    const { rows: tables } = await this.client.query<{ name: string }>(
      `SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY 1`,
    );
    const parts = tables
      .filter((t) => !VOLATILE_TABLE.test(t.name))
      // An order-free sum of 64-bit row hashes: as sensitive as a sorted md5, without the sort.
      .map((t) => `SELECT '${t.name}' AS name, count(*)::text || ':' || coalesce(sum(hashtextextended(x::text, 0)::numeric), 0)::text AS d FROM public."${t.name}" x`);
    const { rows } = await this.client.query<{ name: string; d: string }>(parts.join(' UNION ALL '));
    const out = Object.fromEntries(rows.map((r) => [r.name, r.d]));
    const jobs = await this.client
      .query<{ n: string }>(`SELECT (SELECT count(*) FROM pgboss.job) + (SELECT count(*) FROM pgboss.archive) AS n`)
      .catch(() => ({ rows: [{ n: 'n/a' }] }));
    out['pgboss.jobs'] = String(jobs.rows[0].n);
    return out;
  }

  /** Names of tables whose digest differs. */
  static changed(a: Record<string, string>, b: Record<string, string>): string[] {
    return [...new Set([...Object.keys(a), ...Object.keys(b)])].filter((k) => a[k] !== b[k]);
  }

  async close(): Promise<void> {
    await this.client.end();
  }
}
