import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from 'pg';
import { tableChecksums, type TableChecksum } from '@/lib/engine/postgres/checksum';
import { findPgTool } from '@/lib/engine/postgres/pg-tools';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { cutover } from '../support/cli';
import { sandboxForFile, sandboxUrl, withSandbox } from '../support/sandbox';

/** Every kind of column the row hash treats on its own, plus text-form types (enum, domain, arrays, composite, ...). */
const KITCHEN_SINK = [
  `CREATE TYPE public.mood AS ENUM ('sad', 'ok', 'happy')`,
  `CREATE DOMAIN public.positive AS integer CHECK (VALUE > 0)`,
  `CREATE TYPE public.pair AS (a integer, b text)`,
  `CREATE TABLE public.kitchen (
     id bigint PRIMARY KEY, small smallint, n integer, flag boolean, label text, code varchar(10), fixed char(4), nm name,
     amount numeric, price numeric(12,2), ratio double precision, r real, born date, at timestamp, seen timestamptz,
     u uuid, raw bytea, doc jsonb, js json, mood public.mood, p public.positive, tags text[], moods public.mood[],
     pr public.pair, span interval, addr inet, money_col money, tr tstzrange)`,
  `INSERT INTO public.kitchen
   SELECT g, (g % 100)::smallint, g * 7, g % 3 = 0, 'label ' || g, 'c' || (g % 50), 'ab', 'nm' || g,
          g / 7.0, (g / 3.0)::numeric(12,2), g / 11.0, (g / 13.0)::real, DATE '2024-01-01' + g, TIMESTAMP '2024-01-01' + g * INTERVAL '1 minute',
          TIMESTAMPTZ '2024-01-01 00:00+02' + g * INTERVAL '1 second', md5(g::text)::uuid, decode(md5(g::text), 'hex'), jsonb_build_object('g', g, 'x', 1.50),
          json_build_object('g', g), (ARRAY['sad', 'ok', 'happy'])[g % 3 + 1]::public.mood, g, ARRAY['t' || g, NULL], ARRAY['ok'::public.mood],
          ROW(g, 'p' || g)::public.pair, g * INTERVAL '1 hour', ('10.0.' || (g % 256) || '.1')::inet, g::money, tstzrange(TIMESTAMPTZ '2024-01-01', TIMESTAMPTZ '2024-01-02')
   FROM generate_series(1, 2000) g`,
  // Edge values: NULLs everywhere, NaN, infinities, negative zero, empty strings and arrays.
  `INSERT INTO public.kitchen (id) VALUES (0)`,
  `INSERT INTO public.kitchen (id, amount, ratio, born, at, seen, label, tags, raw, doc)
   VALUES (-1, 'NaN', '-0', 'infinity', '-infinity', 'infinity', '', '{}', '', '{}'),
          (-2, 1.0, 'NaN', '-infinity', 'infinity', '-infinity', ' ', '{""}', '\\x00', '[]')`,
  `CREATE TABLE public.plain (v text)`,
  `INSERT INTO public.plain SELECT 'row ' || (g % 10) FROM generate_series(1, 100) g`,
];

let db: Awaited<ReturnType<typeof createScratchDatabase>>;
let restored: Awaited<ReturnType<typeof createScratchDatabase>>;
const getSandbox = sandboxForFile();

beforeAll(async () => {
  db = await createScratchDatabase('cutover_checksum');
  restored = await createScratchDatabase('cutover_checksum_restored');
  await withClient(db.url, async (c) => {
    for (const s of KITCHEN_SINK) await c.query(s);
  });
}, 60_000);
afterAll(async () => {
  await db?.drop();
  await restored?.drop();
});

const checksumsOf = (url: string, tables?: string[]) => withClient(url, (c) => tableChecksums(c, { tables }));
const byTable = (list: TableChecksum[]) => Object.fromEntries(list.map((t) => [t.table, t]));
const checksumOf = async (url: string, table: string) => (await checksumsOf(url, [table]))[0];

/** Copies `pg_dump` of `from` into `toUrl` through psql (the independent path a person would take). */
function dumpInto(fromUrl: string, toUrl: string) {
  const dump = execFileSync(findPgTool('pg_dump'), ['--no-owner', '--no-privileges', fromUrl], { maxBuffer: 256 * 1024 * 1024 });
  execFileSync('psql', ['-q', '-v', 'ON_ERROR_STOP=1', toUrl], { input: dump, stdio: ['pipe', 'ignore', 'pipe'] });
}

describe('table checksums', () => {
  it('lists every table with its row count (checked against count(*) in psql)', async () => {
    const sums = byTable(await checksumsOf(db.url));
    expect(Object.keys(sums).sort()).toEqual(['public.kitchen', 'public.plain']);
    for (const table of ['public.kitchen', 'public.plain']) {
      const count = execFileSync('psql', ['-Atc', `SELECT count(*) FROM ${table}`, db.url], { encoding: 'utf8' }).trim();
      expect(sums[table].rows).toBe(Number(count));
      expect(sums[table].checksum).toMatch(/^[0-9a-f]{16}$/);
    }
  });

  it('is the same for the same rows stored in another physical order', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`CREATE TABLE public.ordered AS SELECT * FROM public.kitchen ORDER BY id`);
      await c.query(`CREATE TABLE public.shuffled AS SELECT * FROM public.kitchen ORDER BY md5(id::text)`);
      // Updating rows in place moves them to the end of the heap.
      await c.query(`UPDATE public.shuffled SET n = n WHERE id % 5 = 0`);
      const order = await c.query(`SELECT (SELECT array_agg(id) FROM (SELECT id FROM public.ordered LIMIT 5) a) = (SELECT array_agg(id) FROM (SELECT id FROM public.shuffled LIMIT 5) b) AS same`);
      expect(order.rows[0].same).toBe(false);
    });
    const [ordered, shuffled] = await checksumsOf(db.url, ['public.ordered', 'public.shuffled']);
    expect(shuffled).toEqual({ ...ordered, table: 'public.shuffled' });
  });

  it('changes with one changed value, and comes back when the value does', async () => {
    const original = await checksumOf(db.url, 'public.shuffled');
    for (const [change, undo] of [
      [`UPDATE public.shuffled SET label = 'label 1001!' WHERE id = 1001`, `UPDATE public.shuffled SET label = 'label 1001' WHERE id = 1001`],
      [`UPDATE public.shuffled SET seen = seen + interval '1 microsecond' WHERE id = 7`, `UPDATE public.shuffled SET seen = seen - interval '1 microsecond' WHERE id = 7`],
      [`UPDATE public.shuffled SET mood = 'happy' WHERE id = 3 AND mood <> 'happy'`, `UPDATE public.shuffled SET mood = 'sad' WHERE id = 3`],
      [`UPDATE public.shuffled SET doc = doc || '{"g": 0}' WHERE id = 12`, `UPDATE public.shuffled SET doc = jsonb_build_object('g', 12, 'x', 1.50) WHERE id = 12`],
    ]) {
      await withClient(db.url, (c) => c.query(change));
      const changed = await checksumOf(db.url, 'public.shuffled');
      expect(changed.rows).toBe(original.rows);
      expect(changed.checksum, change).not.toBe(original.checksum);
      await withClient(db.url, (c) => c.query(undo));
      expect(await checksumOf(db.url, 'public.shuffled')).toEqual(original);
    }
  });

  it('tells NULL from an empty string, 1.0 from 1.00, -0 from 0, and swapped values apart', async () => {
    const pairs: [string, string][] = [
      [`SELECT NULL::text AS a, 'x'::text AS b`, `SELECT ''::text AS a, 'x'::text AS b`],
      [`SELECT NULL::text AS a, ''::text AS b`, `SELECT ''::text AS a, NULL::text AS b`],
      [`SELECT 1.0::numeric AS a`, `SELECT 1.00::numeric AS a`],
      [`SELECT '0'::float8 AS a`, `SELECT '-0'::float8 AS a`],
      [`SELECT '{}'::text[] AS a`, `SELECT NULL::text[] AS a`],
      [`SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(k, s)`, `SELECT * FROM (VALUES (1, 'b'), (2, 'a')) v(k, s)`],
      [`SELECT * FROM (VALUES (1, 'a'), (1, 'a')) v(k, s)`, `SELECT * FROM (VALUES (1, 'a'), (2, 'a')) v(k, s)`],
      [`SELECT * FROM (VALUES (1, 1), (1, 1)) v(k, s)`, `SELECT * FROM (VALUES (1, 1)) v(k, s)`],
    ];
    await withClient(db.url, async (c) => {
      for (const [i, [a, b]] of pairs.entries()) {
        await c.query(`CREATE TABLE public.pa${i} AS ${a}`);
        await c.query(`CREATE TABLE public.pb${i} AS ${b}`);
      }
    });
    for (const [i, [a, b]] of pairs.entries()) {
      const [left, right] = await checksumsOf(db.url, [`public.pa${i}`, `public.pb${i}`]);
      expect(left.checksum, `${a} vs ${b}`).not.toBe(right.checksum);
    }
  });

  it('does not depend on the session: TimeZone, DateStyle, float digits, interval style, search_path', async () => {
    const plain = await checksumOf(db.url, 'public.kitchen');
    await withClient(db.url, async (c) => {
      await c.query(`SET TimeZone = 'Pacific/Chatham'; SET DateStyle = 'SQL, DMY'; SET extra_float_digits = -3; SET IntervalStyle = 'iso_8601'; SET bytea_output = 'escape'; SET search_path = pg_catalog`);
      expect((await tableChecksums(c, { tables: ['public.kitchen'] }))[0]).toEqual(plain);
      // ...and leaves the session's own settings as they were.
      expect((await c.query(`SELECT current_setting('TimeZone') AS tz, current_setting('DateStyle') AS ds`)).rows[0]).toEqual({ tz: 'Pacific/Chatham', ds: 'SQL, DMY' });
    });
  });

  it('in a transaction that imported an exported snapshot, is the checksum of that snapshot while another session writes', async () => {
    const before = await checksumOf(db.url, 'public.kitchen');
    const exporter = new Client({ connectionString: db.url });
    const reader = new Client({ connectionString: db.url });
    const writer = new Client({ connectionString: db.url });
    await Promise.all([exporter.connect(), reader.connect(), writer.connect()]);
    try {
      await exporter.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      const { rows } = await exporter.query<{ s: string }>('SELECT pg_export_snapshot() AS s');
      let writing = true;
      let writes = 0;
      const writes$ = (async () => {
        while (writing) {
          await writer.query(`INSERT INTO public.kitchen (id, label) VALUES (100000 + $1, 'new')`, [writes]);
          await writer.query(`UPDATE public.kitchen SET n = n + 1 WHERE id = $1`, [(writes % 2000) + 1]);
          writes++;
        }
      })();
      while (writes < 20) await new Promise((r) => setTimeout(r, 10));
      await reader.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
      await reader.query(`SET TRANSACTION SNAPSHOT '${rows[0].s}'`);
      const first = writes;
      const inSnapshot = (await tableChecksums(reader, { tables: ['public.kitchen'] }))[0];
      const again = (await tableChecksums(reader))[0];
      writing = false;
      await writes$;
      await reader.query('COMMIT');
      await exporter.query('COMMIT');
      expect(writes).toBeGreaterThan(first);
      expect(inSnapshot).toEqual(before);
      expect(again).toEqual(before);
      const after = await checksumOf(db.url, 'public.kitchen');
      expect(after.rows).toBe(before.rows + writes);
      expect(after.checksum).not.toBe(before.checksum);
      // Back to the original content for the tests that follow.
      await writer.query(`DELETE FROM public.kitchen WHERE id >= 100000`);
      await writer.query(`UPDATE public.kitchen k SET n = k.id * 7 WHERE k.id BETWEEN 1 AND 2000`);
      expect(await checksumOf(db.url, 'public.kitchen')).toEqual(before);
    } finally {
      await Promise.all([exporter.end(), reader.end(), writer.end()]);
    }
  });

  it('equals the checksums of a copy restored by pg_dump | psql, on this server and in the sandbox (a new database, new enum OIDs)', async () => {
    dumpInto(db.url, restored.url);
    const original = await checksumsOf(db.url);
    expect(await checksumsOf(restored.url)).toEqual(original);

    const sandbox = getSandbox();
    await withSandbox(sandbox, (c) => c.query(`CREATE DATABASE checksum_copy`));
    dumpInto(db.url, sandboxUrl(sandbox, 'checksum_copy'));
    const [version, inSandbox] = await withSandbox(sandbox, async (c) => [
      (await c.query<{ v: string }>(`SELECT current_setting('server_version') AS v`)).rows[0].v,
      await tableChecksums(c),
    ] as const, 'checksum_copy');
    expect(version).toMatch(/^\d+\.\d+/);
    expect(inSandbox).toEqual(original);

    // The restored copy is not merely equal to anything: one change there shows.
    await withClient(restored.url, (c) => c.query(`UPDATE public.kitchen SET moods = ARRAY['sad'::public.mood] WHERE id = 5`));
    const changed = byTable(await checksumsOf(restored.url));
    expect(changed['public.kitchen'].checksum).not.toBe(byTable(original)['public.kitchen'].checksum);
    expect(changed['public.plain']).toEqual(byTable(original)['public.plain']);
  }, 60_000);

  it('cutover checksum: the same figures, --json, one table, exit codes', async () => {
    const all = await cutover('checksum', '--url', db.url, '--json');
    expect(all.code).toBe(0);
    const parsed = JSON.parse(all.stdout) as { ok: boolean; tables: TableChecksum[] };
    expect(parsed.ok).toBe(true);
    expect(parsed.tables).toEqual(await checksumsOf(db.url));
    const one = await cutover('checksum', '--url', db.url, '--table', 'public.plain');
    expect(one.code).toBe(0);
    expect(one.stdout).toMatch(new RegExp(`^public\\.plain\\s+100\\s+${(await checksumOf(db.url, 'public.plain')).checksum}\n`));
    // An unqualified name is a table in public, as with the default search_path.
    const unqualified = await cutover('checksum', '--url', db.url, '--table', 'plain');
    expect(unqualified.code).toBe(0);
    expect(unqualified.stdout).toBe(one.stdout);
    const nope = await cutover('checksum', '--url', db.url, '--table', 'nope');
    expect(nope.code).toBe(1);
    expect(nope.stderr).toContain('Table public.nope does not exist. Its tables: ');
    expect(nope.stderr).toContain('public.plain');
    expect((await cutover('checksum', '--url', db.url, '--table', 'public.nope')).code).toBe(1);
    expect((await cutover('checksum', '--url', db.url, '--tables', 'x')).code).toBe(2);
  });

  it('refuses an unknown table or a view by name', async () => {
    await withClient(db.url, (c) => c.query(`CREATE VIEW public.v AS SELECT 1 AS x`));
    await expect(checksumsOf(db.url, ['public.nope'])).rejects.toThrow(/public\.nope does not exist/);
    await expect(checksumsOf(db.url, ['public.v'])).rejects.toThrow(/not an ordinary table/);
  });
});
