import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryArtifactStore } from '@/lib/artifacts/store';
import { READ_ONLY_OPTIONS, readOnlySession } from '@/lib/engine/connection';
import { backupDatabase } from '@/lib/engine/postgres/backup';
import { tableChecksums } from '@/lib/engine/postgres/checksum';
import { analyzeImpact } from '@/lib/engine/postgres/impact';
import { libpqEnv } from '@/lib/engine/postgres/pg-tools';
import { rehearseMigration } from '@/lib/engine/postgres/rehearsal';
import { drillRestore } from '@/lib/engine/postgres/restore-drill';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { FENCE_OFF } from '@/lib/engine/postgres/sql-guard';
import { sandboxForFile, settingsOf } from '../support/sandbox';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';

/**
 * A target whose schema owner (no superuser) plants code for Cutover's sessions to run: casts of
 * its own types to text and json, row-level security policies, and public operators that shadow
 * pg_catalog's where the catalog queries compare values of two types. Cutover connects as a
 * superuser here (as the security review did): every trap raises or warns when it runs, and the
 * tests show each is armed (a plain session sets it off) and that Cutover's sessions never do.
 */

const run = randomBytes(4).toString('hex');
const owner = { name: `cutover_hostile_owner_${run}`, password: `pw_${run}` };

/** Rows of user-defined types: an enum, a domain over it, an array of it, a composite holding it (one with every field NULL). */
const SCHEMA = `
  CREATE TYPE public.mood AS ENUM ('happy', 'sad');
  CREATE DOMAIN public.mood_d AS public.mood;
  CREATE TYPE public.pair AS (n int, m public.mood);
  CREATE TABLE public.moods (id int PRIMARY KEY, m public.mood, md public.mood_d, ms public.mood[], p public.pair, note text);
  INSERT INTO public.moods
    SELECT g, CASE WHEN g % 3 = 0 THEN NULL WHEN g % 2 = 0 THEN 'sad' ELSE 'happy' END::public.mood, 'sad', '{happy,sad}',
           CASE WHEN g = 5 THEN ROW(NULL, NULL)::public.pair ELSE ROW(g, 'happy')::public.pair END, 'n' || g
    FROM generate_series(1, 50) g;
`;

/** Casts to text and json of each user-defined type, each raising: a checksum, a dump or a sample that used one would fail. */
const HOSTILE_CASTS = [['public.mood', 'text'], ['public.mood', 'json'], ['public.mood[]', 'text'], ['public.pair', 'text'], ['public.pair', 'json']]
  .map(([from, to], i) => `
    CREATE FUNCTION public.hostile_cast_${i}(${from}) RETURNS ${to} LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'hostile cast ran as %', current_user; END $$;
    CREATE CAST (${from} AS ${to}) WITH FUNCTION public.hostile_cast_${i}(${from});`)
  .join('\n');

/** A table whose policy applies to its owner too (FORCE); the policy function warns when it runs. Statistics are stale, so the analysis wants an exact count. */
const GUARDED = `
  CREATE FUNCTION public.policy_ran() RETURNS boolean LANGUAGE plpgsql AS $$
    BEGIN RAISE WARNING 'hostile policy ran as %', current_user; RETURN true; END $$;
  CREATE TABLE public.guarded (id int);
  INSERT INTO public.guarded SELECT generate_series(1, 1000);
  ANALYZE public.guarded;
  INSERT INTO public.guarded SELECT generate_series(1001, 1100);
  ALTER TABLE public.guarded ENABLE ROW LEVEL SECURITY;
  ALTER TABLE public.guarded FORCE ROW LEVEL SECURITY;
  CREATE POLICY everyone ON public.guarded USING (public.policy_ran());
`;

const asOwner = (url: string) => {
  const u = new URL(url);
  u.username = owner.name;
  u.password = owner.password;
  return u.toString();
};

/** A read-only session (as Cutover opens one on a target) that collects the notices and warnings the target's code raises. */
async function readOnlyClient(url: string) {
  const client = new Client(readOnlySession({ connectionString: url }));
  const notices: string[] = [];
  client.on('notice', (n) => notices.push(n.message ?? ''));
  await client.connect();
  return { client, notices };
}

/** What a plain session gets for `sql` (the error's message if it fails, and the notices it raised). */
async function plainSession(url: string, sql: string) {
  const c = new Client({ connectionString: url });
  const notices: string[] = [];
  c.on('notice', (n) => notices.push(n.message ?? ''));
  await c.connect();
  try {
    await c.query(sql);
    return { error: undefined as string | undefined, notices };
  } catch (err) {
    return { error: (err as Error).message, notices };
  } finally {
    await c.end();
  }
}

describe('a hostile target: its casts and policies never run in Cutover\'s sessions', () => {
  const sandbox = sandboxForFile();
  let target: Awaited<ReturnType<typeof createScratchDatabase>>;
  let reference: Awaited<ReturnType<typeof createScratchDatabase>>;
  /** The policy's table lives apart: a drill of a backup holding a FORCEd policy fails its verification by design. */
  let guarded: Awaited<ReturnType<typeof createScratchDatabase>>;
  let storeDir: string;

  beforeAll(async () => {
    await withClient(TEST_SERVER_URL, (c) => c.query(`CREATE ROLE ${owner.name} LOGIN PASSWORD '${owner.password}'`));
    target = await createScratchDatabase('cutover_hostile');
    reference = await createScratchDatabase('cutover_hostile_ref');
    guarded = await createScratchDatabase('cutover_hostile_rls');
    for (const db of [target, reference, guarded]) await withClient(TEST_SERVER_URL, (c) => c.query(`ALTER DATABASE ${db.name} OWNER TO ${owner.name}`));
    await withClient(asOwner(target.url), (c) => c.query(`${SCHEMA}\n${HOSTILE_CASTS}`));
    await withClient(asOwner(reference.url), (c) => c.query(SCHEMA));
    await withClient(asOwner(guarded.url), (c) => c.query(`${SCHEMA}\n${GUARDED}`));
    storeDir = mkdtempSync(path.join(os.tmpdir(), 'cutover-hostile-store-'));
  }, 60_000);

  afterAll(async () => {
    await target?.drop();
    await reference?.drop();
    await guarded?.drop();
    await withClient(TEST_SERVER_URL, (c) => c.query(`DROP ROLE IF EXISTS ${owner.name}`));
    if (storeDir) rmSync(storeDir, { recursive: true, force: true });
  });

  it('the traps are armed: a plain session runs the casts and the policy', async () => {
    for (const sql of ['SELECT m::text FROM public.moods', 'SELECT ms::text FROM public.moods', 'SELECT p::text FROM public.moods', 'SELECT pg_catalog.json_agg(t) FROM public.moods t']) {
      expect((await plainSession(target.url, sql)).error, sql).toMatch(/hostile cast ran as postgres/);
    }
    const policy = await plainSession(asOwner(guarded.url), 'SELECT count(*) FROM public.guarded');
    expect(policy.notices).toContain(`hostile policy ran as ${owner.name}`);
  });

  it('checksums print user-defined types through their output functions: the casts do not run, and the checksums equal those of the same rows without the casts', async () => {
    const checksums = async (url: string) => {
      const { client, notices } = await readOnlyClient(url);
      try {
        await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
        const out = await tableChecksums(client, { tables: ['public.moods'] });
        await client.query('COMMIT');
        return { out, notices };
      } finally {
        await client.end();
      }
    };
    const hostile = await checksums(target.url);
    expect(hostile.notices).toEqual([]);
    expect(hostile.out).toEqual((await checksums(reference.url)).out);
    expect(hostile.out[0].rows).toBe(50);
  });

  it('a backup (pg_dump and checksums) and its restore drill run none of the casts', async () => {
    const store = new DirectoryArtifactStore(storeDir);
    const backup = await backupDatabase(settingsOf(target.url), store, `hostile-${run}.dump`);
    const moods = backup.checksums.find((c) => c.table === 'public.moods');
    expect(moods).toMatchObject({ rows: 50 });
    const drill = await drillRestore(store, backup, sandbox());
    expect(drill.error).toBeUndefined();
    expect(drill).toMatchObject({ ok: true, differing: [] });
    // pg_dump's session has the read-only session's options: read-only, pg_catalog only, no policies.
    expect(libpqEnv(settingsOf(target.url), { readOnly: true }).PGOPTIONS).toBe(READ_ONLY_OPTIONS);
    expect(READ_ONLY_OPTIONS).toContain('-c row_security=off');
  }, 60_000);

  it('a rehearsal\'s data sample carries user-defined types as text (no cast to json runs), and the copy holds the same values', async () => {
    const show = `SELECT pg_catalog.string_agg(pg_catalog.format('%s|%s|%s|%s|%s|%s', id, m, md, ms, p, note), ';' ORDER BY id) FROM public.moods`;
    const upSql = `DO $$ BEGIN RAISE NOTICE '%', (${show}); END $$;\n`;
    const result = await rehearseMigration(settingsOf(target.url), { name: 'look', upSql, downSql: 'SELECT 1;\n' }, { sandbox: sandbox(), sampleRows: 100, fence: FENCE_OFF });
    expect(result.error).toBeUndefined();
    expect(result.phases.find((p) => p.phase === 'sample')).toMatchObject({ status: 'ok' });
    const copied = result.phases.find((p) => p.phase === 'up')!.script!.statements[0].notices[0];
    // The reference: psql prints the same rows of the database without the casts.
    expect(copied).toBe(execFileSync('psql', ['-X', '-Atc', show, reference.url], { encoding: 'utf8' }).trim());
  }, 60_000);

  it('impact analysis never runs a policy: the table refuses the exact count, which falls back to the estimate with a note', async () => {
    const { client, notices } = await readOnlyClient(asOwner(guarded.url));
    try {
      expect((await client.query('SHOW row_security')).rows[0].row_security).toBe('off');
      const analysis = await analyzeImpact('ALTER TABLE public.guarded ADD COLUMN note text;\nALTER TABLE public.moods ADD COLUMN x int;\n', { client });
      expect(notices).toEqual([]);
      const guarded = analysis.tables.find((t) => t.name === 'public.guarded')!;
      expect(guarded).toMatchObject({ rowsExact: false, rowsNote: expect.stringMatching(/estimate.*row-level security/) });
      expect(guarded.rows).toBeGreaterThan(0);
      // Other tables are still counted exactly in the same transaction.
      expect(analysis.tables.find((t) => t.name === 'public.moods')).toMatchObject({ rows: 50, rowsExact: true });
      expect(analysis.catalogRead).toBe(true);
    } finally {
      await client.end();
    }
  });
});

/** Every type the snapshot's catalog queries compare, and the operators they (or NULLIF, IN, CASE, ANY) could use. */
const GRID_TYPES = [
  'oid', 'regclass', 'regproc', 'regprocedure', 'regtype', 'regnamespace', 'regoperator', 'regrole', 'regcollation', 'name', 'text', '"char"',
  'int2', 'int4', 'int8', 'bool', 'oid[]', 'int2[]', 'text[]', 'name[]', '"char"[]', 'aclitem[]', 'xid', 'pg_node_tree', 'int2vector', 'oidvector',
  'float4', 'float8', 'jsonb',
];
const GRID_OPERATORS = ['=', '<>', '<', '>', '<=', '>=', '~~', '!~~', '~~*', '~', '!~', '||', '@>', '<@', '&&'];

/** Public operators for every pair of GRID_TYPES and every GRID_OPERATORS name, each warning when it runs. */
function shadowGrid(): string {
  const out: string[] = [];
  GRID_TYPES.forEach((left, i) =>
    GRID_TYPES.forEach((right, j) => {
      for (const [fn, result] of [[`shadow_bool_${i}_${j}`, 'bool'], [`shadow_text_${i}_${j}`, 'text']]) {
        out.push(`CREATE FUNCTION public.${fn}(${left}, ${right}) RETURNS ${result} LANGUAGE plpgsql AS $$
          BEGIN RAISE WARNING 'shadow operator ran on (%, %)', pg_catalog.pg_typeof($1), pg_catalog.pg_typeof($2); RETURN NULL; END $$`);
      }
      for (const op of GRID_OPERATORS) {
        out.push(`CREATE OPERATOR public.${op} (LEFTARG = ${left}, RIGHTARG = ${right}, FUNCTION = public.${op === '||' ? 'shadow_text' : 'shadow_bool'}_${i}_${j})`);
      }
    }),
  );
  return out.join(';\n');
}

describe('a snapshot of a target whose public schema shadows pg_catalog\'s operators', () => {
  const roles = { reader: `cutover_shadow_reader_${run}`, writer: `cutover_shadow_writer_${run}` };
  let db: Awaited<ReturnType<typeof createScratchDatabase>>;

  beforeAll(async () => {
    await withClient(TEST_SERVER_URL, (c) => c.query(`CREATE ROLE ${roles.reader} NOLOGIN; CREATE ROLE ${roles.writer} NOLOGIN`));
    db = await createScratchDatabase('cutover_shadow');
    // Every object kind the snapshot reads (so that each of its queries returns rows), then the grid.
    const fixture = readFileSync(path.join(__dirname, '../fixtures/kitchen-sink.sql'), 'utf8').replaceAll('{{reader}}', roles.reader).replaceAll('{{writer}}', roles.writer);
    await withClient(db.url, async (c) => {
      for (const statement of fixture.split(/^;;$/m)) await c.query(statement);
      await c.query(shadowGrid());
    });
  }, 60_000);

  afterAll(async () => {
    await db?.drop();
    await withClient(TEST_SERVER_URL, (c) => c.query(`DROP ROLE IF EXISTS ${roles.reader}; DROP ROLE IF EXISTS ${roles.writer}`));
  });

  it('the grid is armed: with public on the path, a cross-type comparison picks the public operator', async () => {
    const withPublic = (sql: string) => plainSession(db.url, `SET search_path = pg_catalog, public; ${sql}`);
    expect((await withPublic(`SELECT 1::oid = 'pg_catalog.pg_class'::regclass`)).notices).toContain('shadow operator ran on (oid, regclass)');
    expect((await withPublic(`SELECT 'pg_temp_1'::name LIKE 'pg_temp_%'`)).notices).toContain('shadow operator ran on (name, name)');
    // As in "a.attnum || '=' || ...": the literal is read as the other side's type, and int2 || int2 is public's alone.
    expect((await withPublic(`SELECT '7' || 1::int2`)).notices).toContain('shadow operator ran on (smallint, smallint)');
  });

  it('takeSnapshot through a read-only session runs none of them, and still reads every kind', async () => {
    const { client, notices } = await readOnlyClient(db.url);
    try {
      const snapshot = await takeSnapshot(client);
      expect(notices.filter((n) => n.startsWith('shadow operator'))).toEqual([]);
      expect(Object.keys(snapshot.shape.objects.operator ?? {}).length).toBeGreaterThan(GRID_TYPES.length ** 2 * GRID_OPERATORS.length - 1);
      expect(Object.keys(snapshot.shape.functions).length).toBeGreaterThan(GRID_TYPES.length ** 2);
      for (const kind of ['cast', 'operator class', 'operator family', 'collation', 'rule', 'event trigger', 'publication', 'text search configuration']) {
        expect(Object.keys(snapshot.shape.objects[kind] ?? {}).length, kind).toBeGreaterThan(0);
      }
      expect(Object.keys(snapshot.shape.policies).length).toBeGreaterThan(0);
      expect(Object.keys(snapshot.shape.privileges).length).toBeGreaterThan(0);
    } finally {
      await client.end();
    }
  });
});
