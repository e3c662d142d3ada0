import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgTargetSettings } from '@/lib/engine/connection';
import { rehearseMigration, type RehearsalOptions } from '@/lib/engine/postgres/rehearsal';
import { DEFAULT_FENCE_ALLOWANCES } from '@/lib/engine/postgres/sql-guard';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { cutover, cutoverWithEnv } from '../support/cli';
import { rehearsalLeftovers, sandboxUrl, sandboxForFile, withSandbox } from '../support/sandbox';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';

let target: Awaited<ReturnType<typeof createScratchDatabase>>;
const server = new URL(TEST_SERVER_URL);
const settings = () => ({
  host: server.hostname, port: Number(server.port || 5432), database: target.name, username: decodeURIComponent(server.username),
  password: server.password ? decodeURIComponent(server.password) : null, sslMode: 'disable', connectTimeoutMs: 5000,
});
const sandbox = sandboxForFile();
const rehearse = (t: PgTargetSettings, m: Parameters<typeof rehearseMigration>[1], options: Partial<RehearsalOptions> = {}) =>
  rehearseMigration(t, m, { sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES, ...options });
/** What a rehearsal may leave: nothing in its sandbox (database or role), nothing at all on the target's server. */
const leftoverScratch = async (result: { scratchDatabase: string }) => [
  ...(await withSandbox(sandbox(), async (c) => (await c.query(
    `SELECT datname AS n FROM pg_database WHERE datname = $1 UNION ALL SELECT rolname FROM pg_roles WHERE rolname = $1`, [result.scratchDatabase],
  )).rows)),
  ...(await rehearsalLeftovers(TEST_SERVER_URL)),
];

beforeAll(async () => {
  target = await createScratchDatabase('cutover_target');
  await withClient(target.url, (c) =>
    c.query(`CREATE TYPE order_status AS ENUM ('pending', 'paid');
             CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE);
             CREATE TABLE orders (id serial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), status order_status NOT NULL DEFAULT 'pending');
             INSERT INTO customers (email) SELECT 'c' || g || '@x.io' FROM generate_series(1, 50) g;`),
  );
});
afterAll(() => target.drop());

const ADD_SHIPPED = {
  name: '20250101000000_shipped_at',
  upSql: 'ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\nCREATE INDEX orders_shipped_at_idx ON orders (shipped_at) WHERE shipped_at IS NOT NULL;\n',
  downSql: 'DROP INDEX orders_shipped_at_idx;\nALTER TABLE orders DROP COLUMN shipped_at;\n',
};

describe('rehearsal on a scratch copy of the target', () => {
  it('clones, applies up, shows the changes, proves the rollback and the redo, and drops the copy', async () => {
    const before = await withClient(target.url, takeSnapshot);
    const seen: string[] = [];
    const result = await rehearse(settings(), ADD_SHIPPED, { onPhase: (p) => seen.push(`${p.phase}:${p.status}`) });
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(seen).toEqual(['clone:ok', 'snapshot:ok', 'up:ok', 'verify-schema:ok', 'down:ok', 'verify-rollback:ok', 'redo:ok', 'drop:ok']);
    // The copy was replayed in the sandbox, never on the target's server.
    expect(result.server).toMatch(/^the Cutover sandbox/);
    const verify = result.phases.find((p) => p.phase === 'verify-schema')!;
    expect(verify.changes!.sort()).toEqual([
      '+ column public.orders.shipped_at timestamp with time zone',
      '+ index public.orders.orders_shipped_at_idx CREATE INDEX orders_shipped_at_idx ON public.orders USING btree (shipped_at) WHERE (shipped_at IS NOT NULL)',
    ]);
    expect(result.hashes.before).toBe(before.hash);
    expect(result.hashes.afterDown).toBe(result.hashes.before);
    expect(result.hashes.afterRedo).toBe(result.hashes.afterUp);
    expect(result.phases.find((p) => p.phase === 'up')!.script!.statements.map((s) => s.status)).toEqual(['ok', 'ok']);
    // The target itself is untouched and no scratch database is left.
    expect((await withClient(target.url, takeSnapshot)).hash).toBe(before.hash);
    expect(await leftoverScratch(result)).toEqual([]);
  });

  it('fails "Verify rollback works" when down.sql forgets something, and lists what', async () => {
    const result = await rehearse(settings(), { ...ADD_SHIPPED, downSql: 'DROP INDEX orders_shipped_at_idx;\n' });
    expect(result.ok).toBe(false);
    const verify = result.phases.find((p) => p.phase === 'verify-rollback')!;
    expect(verify).toMatchObject({ status: 'failed', detail: 'the schema after down differs from the original in 1 place(s)' });
    expect(verify.changes).toEqual(['+ column public.orders.shipped_at timestamp with time zone']);
    expect(result.phases.map((p) => p.phase)).toEqual(['clone', 'snapshot', 'up', 'verify-schema', 'down', 'verify-rollback', 'drop']);
    expect(await leftoverScratch(result)).toEqual([]);
  });

  it('records the failing statement of a broken migration with its position, and still drops the copy', async () => {
    const result = await rehearse(settings(), { name: 'bad', upSql: 'ALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orderz ADD COLUMN x int;\n', downSql: 'SELECT 1;' });
    expect(result.ok).toBe(false);
    const up = result.phases.find((p) => p.phase === 'up')!;
    expect(up.status).toBe('failed');
    expect(up.detail).toBe('migration.sql: relation "orderz" does not exist (statement at line 2)');
    expect(up.script!.statements.map((s) => s.status)).toEqual(['rolled_back', 'failed']);
    expect(result.phases[result.phases.length - 1]).toMatchObject({ phase: 'drop', status: 'ok' });
    expect(await leftoverScratch(result)).toEqual([]);
  });

  it('reports a syntax error in down.sql with line and column', async () => {
    const result = await rehearse(settings(), { ...ADD_SHIPPED, downSql: 'DROP INDEX orders_shipped_at_idx;\nALTER TABLE orders DROP COLUM shipped_at;\n' });
    expect(result.phases.find((p) => p.phase === 'down')).toMatchObject({ status: 'failed', detail: 'down.sql: syntax error at or near "shipped_at" (line 2, column 31)' });
  });

  it('says clearly when the target cannot be reached', async () => {
    const result = await rehearse({ ...settings(), port: 1 }, ADD_SHIPPED);
    expect(result.ok).toBe(false);
    expect(result.error).toMatch(/ECONNREFUSED/);
  });
});

describe('cutover rehearse', () => {
  it('rehearses the first pending migration of a folder and exits 0, or 1 when the rollback is wrong', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'rehearse-'));
    mkdirSync(path.join(dir, ADD_SHIPPED.name));
    writeFileSync(path.join(dir, ADD_SHIPPED.name, 'migration.sql'), ADD_SHIPPED.upSql);
    writeFileSync(path.join(dir, ADD_SHIPPED.name, 'down.sql'), ADD_SHIPPED.downSql);
    // Its own data folder, to see that the sandbox it starts is gone when it exits.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'rehearse-data-'));
    chmodSync(dataDir, 0o755);
    const ok = await cutoverWithEnv({ CUTOVER_DATA_DIR: dataDir }, 'rehearse', '--url', target.url, '--dir', dir);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^sandbox: the Cutover sandbox \(PostgreSQL 15\.\d+\), started in \d+ ms$/m);
    expect(ok.stdout).toContain('ok     Copy the target schema into the sandbox');
    expect(existsSync(path.join(dataDir, 'sandbox')) ? readdirSync(path.join(dataDir, 'sandbox')) : []).toEqual([]);
    rmSync(dataDir, { recursive: true, force: true });
    expect(await rehearsalLeftovers(TEST_SERVER_URL)).toEqual([]);
    expect(ok.stdout).toContain('ok     Verify rollback works');
    expect(ok.stdout).toContain('+ column public.orders.shipped_at timestamp with time zone');
    expect(ok.stdout).toMatch(/Rehearsal of 20250101000000_shipped_at passed in \d+ ms\./);

    writeFileSync(path.join(dir, ADD_SHIPPED.name, 'down.sql'), 'DROP INDEX orders_shipped_at_idx;\n');
    const bad = await cutover('rehearse', '--url', target.url, '--dir', dir, '--json');
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, migration: ADD_SHIPPED.name, error: 'the schema after down differs from the original in 1 place(s)' });

    // A rehearsal server named on the command line instead of a sandbox of its own.
    const named = await cutover('rehearse', '--url', target.url, '--dir', dir, '--json', '--sandbox-url', sandboxUrl(sandbox()));
    expect(JSON.parse(named.stdout)).toMatchObject({ migration: ADD_SHIPPED.name, server: `the rehearsal server 127.0.0.1:${sandbox().port}` });
  });
});

describe('rehearsal with a data sample', () => {
  it('copies up to N rows a table without foreign-key checks, so data transformations run on real rows', async () => {
    await withClient(target.url, (c) =>
      c.query(`INSERT INTO orders (customer_id, status) SELECT 41 + g % 10, 'paid' FROM generate_series(1, 30) g`),
    );
    const migration = {
      name: 'shout',
      upSql: "ALTER TABLE customers ADD COLUMN shout text;\nUPDATE customers SET shout = upper(email);\nALTER TABLE customers ALTER COLUMN shout SET NOT NULL;\nINSERT INTO customers (email, shout) VALUES ('new@x.io', 'NEW');\n",
      downSql: "DELETE FROM customers WHERE email = 'new@x.io';\nALTER TABLE customers DROP COLUMN shout;\n",
    };
    const statements: string[] = [];
    const result = await rehearse(settings(), migration, { sampleRows: 10, onStatement: (phase, s, total) => statements.push(`${phase} ${s.index + 1}/${total}`) });
    expect(result.error).toBeUndefined();
    expect(result.phases.find((p) => p.phase === 'sample')).toMatchObject({ status: 'ok', detail: '20 rows from 2 tables (at most 10 each)' });
    // SET NOT NULL succeeded because the UPDATE filled the sampled rows; the INSERT got a fresh id past them.
    expect(result.phases.find((p) => p.phase === 'up')!.script!.statements.map((s) => s.status)).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(result.ok).toBe(true);
    expect(statements).toEqual(['up 1/4', 'up 2/4', 'up 3/4', 'up 4/4', 'down 1/2', 'down 2/2', 'redo 1/4', 'redo 2/4', 'redo 3/4', 'redo 4/4']);
    expect(await leftoverScratch(result)).toEqual([]);
  });
});
