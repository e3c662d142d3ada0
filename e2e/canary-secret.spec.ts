import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { expect, test } from '@playwright/test';
import { Client } from 'pg';
import { ENTRY_POINTS, type CallInput } from '../tests/support/entry-points';
import { outcomeOf, type CallResult } from './support/action-client';
import { PG_ADMIN_URL } from './support/env';
import { openProofWorld, type ProofWorld, type SignedPersona } from './support/proof-fixtures';

// A target registered with a unique canary password goes through everything that touches its
// connection: test connection, snapshot, rehearsal, apply and down, a failing connection, a
// status check and an export, and the CLI. Then every place a secret could leak is scanned:
// HTML and RSC payloads of every page, every JS bundle, the server's log, every row of the app
// store (audit entries, run records, jobs), every API and action response, and CLI output.

const run = promisify(execFile);
const root = path.resolve(__dirname, '..');
const SERVER_LOG = path.join(root, '.data-e2e/server.log');
const tag = randomBytes(4).toString('hex');
const CANARY = `canary${randomBytes(12).toString('hex')}`;
const ROLE = `cutover_canary_${tag}`;
const DATABASE = `cutover_e2e_canary_${tag}`;
/** Base64 of the canary at each of the three byte alignments it can have inside a longer text. */
const base64Needles = (s: string) =>
  [0, 1, 2].map((k) => {
    const b = Buffer.concat([Buffer.alloc(k), Buffer.from(s)]).toString('base64');
    return b.slice([0, 2, 3][k], b.length - 4);
  });
/** The canary as it could appear: raw (alphanumeric, so URL-encoding is the same), base64, hex. */
const NEEDLES = [CANARY, ...base64Needles(CANARY), Buffer.from(CANARY).toString('hex')];

test.describe.configure({ mode: 'serial' });

let world: ProofWorld;
let admin: SignedPersona;
const scanned = { pages: 0, bundles: 0, logBytes: 0, rows: 0, responses: 0, cliRuns: 0, bytes: 0 };
const responses: { what: string; text: string }[] = [];

function leaks(text: string): string[] {
  return NEEDLES.filter((n) => text.includes(n));
}

function scan(what: string, text: string) {
  scanned.bytes += Buffer.byteLength(text);
  expect(leaks(text), `the canary password appears in ${what}`).toEqual([]);
}

async function serverSql(sql: string, database = 'postgres') {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${database}`;
  const c = new Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await c.query(sql);
  } finally {
    await c.end();
  }
}

const entry = (id: string) => ENTRY_POINTS.find((e) => e.id === id)!;

/** Calls an entry point as the admin and keeps the response for the scan. */
async function call(id: string, input: CallInput): Promise<CallResult> {
  const result = await world.invoke(entry(id), admin, input);
  responses.push({ what: `${id} response`, text: `${JSON.stringify(result.headers)}\n${result.text}` });
  return result;
}

async function expectOk(id: string, input: CallInput) {
  const r = await call(id, input);
  expect(outcomeOf(r), `${id}: ${r.text.slice(0, 300)}`).toMatchObject({ ok: true });
  return r;
}

async function runsOf(requestId: string) {
  const { rows } = await world.store.db.query<{ kind: string; status: string; error: string | null }>(
    'SELECT kind, status, error FROM runs WHERE request_id = $1 ORDER BY queued_at',
    [requestId],
  );
  return rows;
}

test.beforeAll(async ({ playwright }) => {
  test.setTimeout(180_000);
  await serverSql(`CREATE ROLE ${ROLE} LOGIN PASSWORD '${CANARY}'`);
  await serverSql(`CREATE DATABASE ${DATABASE} OWNER ${ROLE}`);
  const owner = new URL(PG_ADMIN_URL);
  owner.username = ROLE;
  owner.password = '';
  owner.pathname = `/${DATABASE}`;
  const c = new Client({ connectionString: owner.toString() });
  await c.connect();
  await c.query(`CREATE TABLE items (id serial PRIMARY KEY, name text NOT NULL); INSERT INTO items (name) SELECT 'item ' || g FROM generate_series(1, 50) g`);
  await c.end();
  world = await openProofWorld(playwright, { personas: ['admin'] });
  admin = world.personas.get('admin')!;
});

test.afterAll(async () => {
  console.log(
    `[canary] scanned ${scanned.pages} page payloads, ${scanned.bundles} JS bundle files, ${scanned.logBytes} bytes of server log, ` +
      `${scanned.rows} app-store rows, ${scanned.responses} API/action responses, ${scanned.cliRuns} CLI runs: ${(scanned.bytes / 1e6).toFixed(2)} MB in all; the canary appeared nowhere`,
  );
  await world?.close({ databases: [DATABASE] });
  await serverSql(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`).catch(() => undefined);
  await serverSql(`DROP ROLE IF EXISTS ${ROLE}`).catch(() => undefined);
});

test('a target with a canary password goes through connection test, snapshot, rehearsal, apply, down, a failing connection, a status check and an export', async () => {
  test.setTimeout(240_000);
  const server = new URL(PG_ADMIN_URL);
  const fields = {
    engine: 'postgresql', environment: 'staging', host: server.hostname, port: server.port || '5432', database: DATABASE, username: ROLE,
    password: CANARY, sslMode: 'disable', connectTimeoutMs: '3000', lockTimeoutMs: '5000', statementTimeoutMs: '60000',
  };
  await expectOk('createTargetAction', { input: { ...fields, name: `Canary ${tag}` } });
  await expectOk('createTargetAction', { input: { ...fields, name: `Canary unreachable ${tag}`, port: '1' } });
  const { rows: targets } = await world.store.db.query<{ id: string; name: string }>('SELECT id, name FROM target_databases WHERE name LIKE $1', [`Canary%${tag}`]);
  const good = targets.find((t) => !t.name.includes('unreachable'))!;
  const bad = targets.find((t) => t.name.includes('unreachable'))!;
  // An edit that keeps the stored password (empty field) must keep it working.
  await expectOk('updateTargetAction', { input: { ...fields, id: good.id, name: good.name, password: '' } });

  const ok = await expectOk('testTargetConnectionAction', { input: { targetId: good.id } });
  expect((ok.body as { data: { ok: boolean } }).data.ok, ok.text.slice(0, 300)).toBe(true);
  const refused = await expectOk('testTargetConnectionAction', { input: { targetId: bad.id } });
  expect((refused.body as { data: { ok: boolean } }).data.ok).toBe(false);

  // A request on the canary target, worked by the admin: snapshot, save, rehearse, apply, down.
  const filed = await expectOk('POST /api/v1/requests', {
    body: { title: 'Canary: add items.price', kind: 'table_column_change', targetId: good.id, description: 'Add a price column to items.' },
  });
  const requestId = (filed.body as { data: { id: string } }).data.id;
  await expectOk('requestSnapshotAction', { input: { requestId } });
  await world.agent.waitIdle();
  await expectOk('saveRevisionAction', {
    input: { requestId, name: 'add_items_price', upSql: 'ALTER TABLE items ADD COLUMN price numeric(10,2);\n', downSql: 'ALTER TABLE items DROP COLUMN price;\n' },
  });
  await expectOk('requestRehearsalAction', { input: { requestId, sampleRows: 10 } });
  await world.agent.waitIdle(120_000);
  await expectOk('requestApplyAction', { input: { requestId, direction: 'up' } });
  await world.agent.waitIdle();
  await expectOk('requestApplyAction', { input: { requestId, direction: 'down' } });
  await world.agent.waitIdle();
  const runs = await runsOf(requestId);
  expect(runs.map((r) => `${r.kind}:${r.status}`), JSON.stringify(runs)).toEqual(['snapshot:succeeded', 'rehearsal:succeeded', 'apply:succeeded', 'down:succeeded']);

  // The same password on an unreachable port: the run fails, and says why without the secret.
  const failing = await expectOk('POST /api/v1/requests', {
    body: { title: 'Canary: unreachable target', kind: 'schema_change', targetId: bad.id, description: 'A snapshot that cannot connect.' },
  });
  const failingId = (failing.body as { data: { id: string } }).data.id;
  await expectOk('requestSnapshotAction', { input: { requestId: failingId } });
  await world.agent.waitIdle();
  expect((await runsOf(failingId)).map((r) => r.status)).toEqual(['failed']);

  // Status check of an imported folder against every target (the canary ones included).
  const folder = await world.fx.folder();
  await expectOk('requestStatusCheckAction', { input: { folderId: folder.id } });
  await world.agent.waitIdle();

  // Export: the revision download, scanned unpacked as well.
  const exported = await call('GET /api/v1/requests/:id/migration', { id: requestId });
  expect(exported.status).toBe(200);
  const tgz = await admin.api.get(`/api/v1/requests/${requestId}/migration`);
  responses.push({ what: 'export (unpacked)', text: gunzipSync(await tgz.body()).toString('utf8') });
  await call('GET /api/v1/requests/:id', { id: requestId });
  await call('GET /api/v1/requests/:id', { id: failingId });
  await call('GET /api/v1/requests', { query: { targetId: good.id } });
});

test('the canary appears in no page, bundle, log line, store row, response or CLI output', async () => {
  test.setTimeout(240_000);
  const { rows: reqs } = await world.store.db.query<{ id: string }>('SELECT id FROM migration_requests ORDER BY created_at DESC LIMIT 20');
  const { rows: folders } = await world.store.db.query<{ id: string }>('SELECT id FROM migration_folders ORDER BY imported_at DESC LIMIT 3');

  // Every page of the app (found in app/), as HTML and as the RSC payload a client navigation fetches.
  const pages: string[] = [];
  const walkPages = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walkPages(full);
      else if (name === 'page.tsx') pages.push(`/${path.relative(path.join(root, 'app'), dir).split(path.sep).join('/')}`.replace(/\/$/, '') || '/');
    }
  };
  walkPages(path.join(root, 'app'));
  const urls = new Set<string>();
  for (const p of pages) {
    if (p.includes('[id]')) for (const r of reqs) urls.add(p.replace('[id]', r.id));
    else urls.add(p);
  }
  for (const f of folders) urls.add(`/migrations?folder=${f.id}`);
  urls.add('/requests?mine=true');
  for (const url of urls) {
    for (const headers of [{}, { rsc: '1' }] as Record<string, string>[]) {
      const res = await admin.api.get(url, { headers });
      const text = await res.text();
      scan(`page ${url}${'rsc' in headers ? ' (RSC)' : ''}`, text);
      // The scan reads the real pages: the targets page shows the canary target, user name and all.
      if (url === '/admin/targets') expect(text, url).toContain(ROLE);
      scanned.pages += 1;
    }
  }

  // Every JS bundle and static file the browser can load.
  const walkFiles = (dir: string, out: string[] = []): string[] => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walkFiles(full, out);
      else out.push(full);
    }
    return out;
  };
  for (const file of walkFiles(path.join(root, '.next/static'))) {
    scan(`bundle ${path.relative(root, file)}`, readFileSync(file).toString('latin1'));
    scanned.bundles += 1;
  }

  // Every row of the app store (audit entries, run records with result, error and phase), and the job queue.
  const { rows: tables } = await world.store.db.query<{ schema: string; name: string }>(
    `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables WHERE table_schema IN ('public', 'pgboss') AND table_type = 'BASE TABLE'`,
  );
  for (const t of tables) {
    const { rows } = await world.store.db.query<{ r: string }>(`SELECT row_to_json(x)::text AS r FROM "${t.schema}"."${t.name}" x`);
    for (const row of rows) scan(`${t.schema}.${t.name} row`, row.r);
    scanned.rows += rows.length;
  }
  const { rows: audits } = await world.store.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM audit_log WHERE entity_type = 'TargetDatabase'`);
  expect(audits[0].n).toBeGreaterThanOrEqual(3); // the two registrations and the edit were audited, and scanned above

  // Every API and action response of this spec.
  for (const r of responses) scan(r.what, r.text);
  scanned.responses += responses.length;

  // The CLI, as a user runs it, with the canary URL: status, apply, down, rehearse, snapshot, and a failing connection.
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cutover-canary-'));
  try {
    const mig = path.join(dir, 'migrations', '20260101000000_canary_cli');
    mkdirSync(mig, { recursive: true });
    writeFileSync(path.join(dir, 'migrations', 'migration_lock.toml'), 'provider = "postgresql"\n');
    writeFileSync(path.join(mig, 'migration.sql'), 'CREATE TABLE canary_cli (id integer);\n');
    writeFileSync(path.join(mig, 'down.sql'), 'DROP TABLE canary_cli;\n');
    const server = new URL(PG_ADMIN_URL);
    const urlOf = (port: string) => `postgresql://${ROLE}:${CANARY}@${server.hostname}:${port}/${DATABASE}`;
    const help = (await run('node', ['bin/cutover.cjs', '--help'], { cwd: root })).stdout;
    // Give the secret the way the CLI lets it stay out of the process list, when it can.
    const viaEnv = help.includes('--url-env');
    const cli = async (args: string[], port = server.port || '5432') => {
      const connection = viaEnv ? ['--url-env', 'CANARY_DB_URL'] : ['--url', urlOf(port)];
      const r = await run('node', ['bin/cutover.cjs', ...args, ...connection, '--json'], {
        cwd: root, timeout: 120_000, env: { ...process.env, CANARY_DB_URL: urlOf(port) },
      })
        .then((ok) => ({ stdout: ok.stdout, stderr: ok.stderr, code: 0 as number | undefined }))
        .catch((err: { stdout?: string; stderr?: string; code?: number }) => ({ stdout: err.stdout ?? '', stderr: err.stderr ?? '', code: err.code }));
      scanned.cliRuns += 1;
      scan(`cutover ${args[0]} output`, `${r.stdout}\n${r.stderr}`);
      return r;
    };
    const migrations = path.join(dir, 'migrations');
    const codes: Record<string, unknown> = {};
    codes.status = (await cli(['status', '--dir', migrations])).code; // 1: a pending migration
    codes.rehearse = (await cli(['rehearse', '--dir', migrations])).code;
    codes.apply = (await cli(['apply', '--dir', migrations])).code;
    codes.down = (await cli(['down', '--dir', migrations])).code;
    codes.snapshot = (await cli(['snapshot'])).code;
    // The CLI really worked with the canary URL.
    expect(codes, JSON.stringify(codes)).toMatchObject({ rehearse: 0, apply: 0, down: 0, snapshot: 0 });
    const failed = await cli(['snapshot'], '1');
    expect(`${failed.stdout}${failed.stderr}`).toMatch(/ECONNREFUSED|connect|refused/i);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // Last, the server's log: everything it printed while all of the above happened.
  const log = readFileSync(SERVER_LOG);
  expect(log.length, 'the e2e server log (.data-e2e/server.log) is being written').toBeGreaterThan(0);
  scanned.logBytes = log.length;
  scan('the server log', log.toString('utf8'));
});

test('the scan would have found the canary (the needles are real)', () => {
  expect(leaks(`postgresql://${ROLE}:${CANARY}@127.0.0.1/x`)).toEqual([CANARY]);
  expect(leaks(Buffer.from(`x${CANARY}y`).toString('base64'))).not.toEqual([]);
  expect(scanned.pages).toBeGreaterThan(10);
  expect(scanned.bundles).toBeGreaterThan(5);
  expect(scanned.rows).toBeGreaterThan(100);
  expect(scanned.cliRuns).toBe(6);
});
