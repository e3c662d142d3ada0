import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { DomainError } from '@/lib/domain/errors';
import { tarGz } from '@/lib/engine/archive';
import { rehearseMigration } from '@/lib/engine/postgres/rehearsal';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { FenceError, describeRefusal, findFenceViolations } from '@/lib/engine/postgres/sql-guard';
import { applyMigrations, migrationChecksum, rollbackMigration } from '@/lib/engine/prisma-migrations';
import { listTargets } from '@/lib/data/admin';
import { stopBoss } from '@/lib/jobs/queue';
import { startWorker } from '@/lib/jobs/worker';
import { fenceAllowancesFor, getAllowedExtensions, updateFenceSettings } from '@/lib/services/app-settings';
import { fileRequest } from '@/lib/services/file-request';
import { targetRehearsalServerUrl, updateTarget } from '@/lib/services/manage-targets';
import { requestApply, saveMigrationRevision } from '@/lib/services/migration-revisions';
import { importMigrationFolder } from '@/lib/services/migration-status';
import { FenceSettingsSchema, UpdateTargetSchema } from '@/lib/validation/admin';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeLiveTarget, makeUser, openTestAppStore, waitForRun } from '../support/app-store';
import { cutover } from '../support/cli';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';
import { recordPassingRehearsal } from '../support/step-evidence';

/**
 * Escape attempts (issue 6): each statement that reaches beyond its database is refused when it
 * is saved, when it is smuggled into an imported folder, and again by every runner (apply, down,
 * rehearse, the CLI) before anything runs; the database is left exactly as it was.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let other: Awaited<ReturnType<typeof createScratchDatabase>>;
let admin: Awaited<ReturnType<typeof makeUser>>;
let dba: Awaited<ReturnType<typeof makeUser>>;
let shopTargetId: string;
let otherTargetId: string;
let shopRequestId: string;
let otherRequestId: string;

/** [kind, statement]: each escape named in the issue, and a few more. */
const ESCAPES: [string, string][] = [
  ['database', 'DROP DATABASE cutover_fence_victim WITH (FORCE);'],
  ['database', 'CREATE DATABASE cutover_fence_owned;'],
  ['database', "ALTER DATABASE postgres SET search_path = 'owned';"],
  ['role', "ALTER ROLE CURRENT_USER PASSWORD 'owned';"],
  ['role', 'CREATE ROLE cutover_fence_owned LOGIN SUPERUSER;'],
  ['role_membership', 'GRANT pg_read_server_files TO CURRENT_USER;'],
  ['alter_system', "ALTER SYSTEM SET log_statement = 'none';"],
  ['copy_file', "COPY (SELECT 1) TO PROGRAM 'touch /tmp/cutover-fence-owned';"],
  ['copy_file', "COPY orders FROM '/etc/passwd';"],
  ['load', "LOAD 'auto_explain';"],
  ['set_role', 'SET ROLE postgres;'],
  ['set_role', 'SET SESSION AUTHORIZATION postgres;'],
  ['extension', 'CREATE EXTENSION IF NOT EXISTS dblink;'],
  ['untrusted_language', 'DO LANGUAGE plperlu $$ system("touch /tmp/cutover-fence-owned") $$;'],
  ['server_files', "SELECT pg_read_file('/etc/passwd');"],
  ['server_files', `CREATE TABLE leak AS SELECT "pg_catalog"."pg_ls_dir"('.') AS f;`],
  ['server_files', "SELECT lo_import('/etc/passwd');"],
  ['server_files', "CREATE FUNCTION leak() RETURNS text LANGUAGE sql AS $$ SELECT pg_read_binary_file('global/pg_control')::text $$;"],
  ['server_files', "DO $$ BEGIN PERFORM lo_export(1, '/tmp/cutover-fence-owned'); END $$;"],
  ['dblink', "SELECT dblink_exec('dbname=postgres', 'CREATE DATABASE cutover_fence_owned');"],
  // Found in review: a %TYPE in the signature once hid the whole PL/pgSQL body from the fence,
  ['role', 'CREATE FUNCTION f(x orders.id%TYPE) RETURNS void LANGUAGE plpgsql AS $$ BEGIN CREATE ROLE cutover_fence_owned; END $$;'],
  // a call written in attribute notation, a string run as SQL, and a write to the catalogs.
  ['server_files', "CREATE VIEW cutover_fence_leak AS SELECT ('/etc/passwd'::text).pg_read_file AS f;"],
  ['dynamic_sql', "SELECT query_to_xml('SELECT set_config(''role'', ''postgres'', false)', true, true, '');"],
  ['catalog', 'UPDATE pg_authid SET rolsuper = true WHERE rolname = current_user;'],
  // Found by the re-review: SQL built at run time, and a catalog written through a view.
  ['dynamic_sql', "DO $$ BEGIN EXECUTE format('ALTER ROLE %I SUPERUSER', current_user); END $$;"],
  ['catalog', 'CREATE VIEW cutover_fence_dbs AS SELECT * FROM pg_catalog.pg_database;'],
];

const HARMLESS = 'ALTER TABLE orders ADD COLUMN note text;\n';
/** The escape on line 2, after a harmless statement that must not run either. */
const smuggled = (escape: string) => `${HARMLESS}${escape}\n`;

const save = (requestId: string, fields: Partial<{ upSql: string; downSql: string; dataSql: string }>) =>
  saveMigrationRevision(dba.id, SaveRevisionSchema.parse({ requestId, name: 'fenced', upSql: HARMLESS, downSql: 'ALTER TABLE orders DROP COLUMN note;\n', ...fields }));

/** What must not change: the target's schema and history, and the server's databases and roles. */
async function serverState(url: string) {
  return withClient(url, async (c) => ({
    schema: (await takeSnapshot(c)).hash,
    history: (await c.query(`SELECT to_regclass('"_prisma_migrations"')::text AS t`)).rows[0].t as string | null,
    owned: (await c.query(`SELECT (SELECT count(*) FROM pg_database WHERE datname LIKE 'cutover_fence_owned%')::int AS dbs,
                                  (SELECT count(*) FROM pg_roles WHERE rolname LIKE 'cutover_fence_owned%')::int AS roles`)).rows[0],
  }));
}

async function targetInput(id: string, changes: Record<string, unknown>) {
  const t = await getDb().targetDatabase.findUniqueOrThrow({ where: { id } });
  return UpdateTargetSchema.parse({
    id, name: t.name, engine: t.engine, environment: t.environment, host: t.host, port: t.port, database: t.database,
    username: t.username, sslMode: t.sslMode, connectTimeoutMs: t.connectTimeoutMs, lockTimeoutMs: t.lockTimeoutMs,
    statementTimeoutMs: t.statementTimeoutMs, runDeadlineMs: t.runDeadlineMs, allowedStatementKinds: t.allowedStatementKinds, ...changes,
  });
}

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_fence_shop');
  other = await createScratchDatabase('cutover_fence_other');
  for (const db of [shop, other]) await withClient(db.url, (c) => c.query('CREATE TABLE orders (id serial PRIMARY KEY, placed_at timestamptz NOT NULL DEFAULT now())'));
  admin = await makeUser({ roles: ['admin', 'engineer'] });
  dba = await makeUser({ agentRoles: ['database-administrator'] });
  shopTargetId = (await makeLiveTarget(admin.id, shop.name, 'Fence shop')).id;
  otherTargetId = (await makeLiveTarget(admin.id, other.name, 'Fence other')).id;
  const file = (targetId: string) =>
    fileRequest(admin.id, { title: 'Fenced change', kind: 'table_column_change', targetId, description: 'Escape attempts.', priority: 'HIGH' });
  shopRequestId = (await file(shopTargetId)).id;
  otherRequestId = (await file(otherTargetId)).id;
  await startWorker({ pollingIntervalSeconds: 0.5 });
});
afterAll(async () => {
  await stopBoss();
  await store.close();
  await shop.drop();
  await other.drop();
});

describe('saving a revision', () => {
  it.each(ESCAPES)('refuses %s (%s) on its field with the line and the reason, saving nothing', async (kind, escape) => {
    const err = await save(shopRequestId, { upSql: smuggled(escape) }).catch((e) => e);
    expect(err).toBeInstanceOf(DomainError);
    expect(err).toMatchObject({ code: 'invalid', field: 'upSql' });
    // The message is the fence's own finding for that line, with its reason in words.
    const [finding] = await findFenceViolations(smuggled(escape), await fenceAllowancesFor({ allowedStatementKinds: [] }));
    expect(finding).toMatchObject({ kind, line: 2 });
    expect(err.message).toBe(describeRefusal('migration.sql', [finding]));
    expect(err.message.split('\n').slice(0, 2)).toEqual(['migration.sql was refused:', `line 2 [${kind}]: ${finding.reason} (${finding.statement})`]);
    expect(await getDb().migrationRevision.count({ where: { requestId: shopRequestId } })).toBe(0);
  });

  it('refuses on down.sql and on the data transformation too, naming the field', async () => {
    expect(await save(shopRequestId, { downSql: "ALTER TABLE orders DROP COLUMN note;\nSELECT pg_read_file('/etc/passwd');\n" }).catch((e) => e))
      .toMatchObject({ code: 'invalid', field: 'downSql', message: expect.stringMatching(/^down\.sql was refused:\nline 2 \[server_files\]: Calling pg_read_file\(\) reads/) });
    expect(await save(shopRequestId, { dataSql: "UPDATE orders SET placed_at = now();\nALTER SYSTEM SET work_mem = '1GB';" }).catch((e) => e))
      .toMatchObject({ code: 'invalid', field: 'dataSql', message: expect.stringContaining("line 2 [alter_system]: ALTER SYSTEM changes the whole server's configuration") });
    expect(await getDb().migrationRevision.count({ where: { requestId: shopRequestId } })).toBe(0);
    expect(await getDb().auditLog.count({ where: { requestId: shopRequestId, action: 'migration.revision_saved' } })).toBe(0);
  });

  it('saves real migrations: DO blocks, trusted extensions, table grants, COPY FROM STDIN', async () => {
    const upSql = [
      'CREATE EXTENSION IF NOT EXISTS pgcrypto;',
      'CREATE EXTENSION IF NOT EXISTS pg_trgm;',
      "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_type WHERE typname = 'order_state') THEN CREATE TYPE order_state AS ENUM ('new', 'paid'); END IF; END $$;",
      'ALTER TABLE orders ADD COLUMN ref uuid DEFAULT gen_random_uuid();',
      'GRANT SELECT ON TABLE orders TO PUBLIC;',
    ].join('\n');
    const saved = await save(shopRequestId, { upSql });
    expect(saved.revision).toBe(1);
  });
});

describe('importing a folder', () => {
  const folder = (escape: string, file: 'migration.sql' | 'down.sql' = 'migration.sql') =>
    tarGz([
      { path: 'prisma/migrations/migration_lock.toml', content: 'provider = "postgresql"\n' },
      { path: 'prisma/migrations/20240101000000_init/migration.sql', content: 'CREATE TABLE "User" (id serial PRIMARY KEY);\n' },
      { path: 'prisma/migrations/20240102000000_sneaky/migration.sql', content: file === 'migration.sql' ? smuggled(escape) : HARMLESS },
      { path: 'prisma/migrations/20240102000000_sneaky/down.sql', content: file === 'down.sql' ? `SELECT 1;\n${escape}\n` : 'SELECT 1;\n' },
    ]);

  it.each(ESCAPES)('refuses an archive smuggling %s (%s), naming the migration, line and reason; nothing stored', async (_kind, escape) => {
    const before = await getDb().migrationFolder.count();
    const err = await importMigrationFolder(dba.id, { fileName: 'sneaky.tar.gz', bytes: folder(escape) }).catch((e) => e);
    expect(err).toMatchObject({ code: 'invalid', field: 'archive', message: expect.stringMatching(/^20240102000000_sneaky\/migration\.sql was refused:\nline 2 \[\w+\]: .{40,}/) });
    expect(await getDb().migrationFolder.count()).toBe(before);
  });

  it('refuses an escape in a down.sql as well, and stores the folder once it is clean', async () => {
    expect(await importMigrationFolder(dba.id, { fileName: 'sneaky.tar.gz', bytes: folder("LOAD 'x';", 'down.sql') }).catch((e) => e))
      .toMatchObject({ code: 'invalid', message: expect.stringMatching(/^20240102000000_sneaky\/down\.sql was refused:\nline 2 \[load\]: LOAD loads a shared library/) });
    expect(await importMigrationFolder(dba.id, { fileName: 'clean.tar.gz', bytes: folder('SELECT 1;') })).toMatchObject({ migrations: 2 });
  });
});

describe('the runner refuses before anything runs (called directly, bypassing save)', () => {
  it.each(ESCAPES)('applyMigrations refuses %s (%s) and leaves the database as it was', async (_kind, escape) => {
    const before = await serverState(shop.url);
    const target = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: shopTargetId } });
    const migrations = [
      { name: '20250101000000_harmless', sql: HARMLESS, checksum: migrationChecksum(HARMLESS) },
      { name: '20250102000000_escape', sql: smuggled(escape), checksum: migrationChecksum(smuggled(escape)) },
    ];
    const fence = await fenceAllowancesFor(target);
    const err = await withClient(shop.url, (c) => applyMigrations(c, migrations, { fence }).catch((e) => e));
    expect(err).toBeInstanceOf(FenceError);
    expect(err.file).toBe('20250102000000_escape/migration.sql');
    expect(err.violations[0]).toMatchObject({ line: 2 });
    // Not even the first, harmless migration ran, and no history table was created.
    expect(await serverState(shop.url)).toEqual(before);
    expect(before.history).toBeNull();
  });

  it('rollbackMigration refuses an escape in down.sql before taking the lock or reading the history', async () => {
    const before = await serverState(shop.url);
    const m = { name: '20250101000000_x', sql: HARMLESS, checksum: migrationChecksum(HARMLESS), downSql: smuggled('ALTER ROLE CURRENT_USER PASSWORD \'owned\';') };
    const fence = await fenceAllowancesFor({ allowedStatementKinds: [] });
    const err = await withClient(shop.url, (c) => rollbackMigration(c, m, { fence }).catch((e) => e));
    expect(err).toBeInstanceOf(FenceError);
    expect(err.message).toMatch(/^20250101000000_x\/down\.sql was refused: line 2, column 1: ALTER ROLE manages roles/);
    expect(await serverState(shop.url)).toEqual(before);
  });

  it.each(ESCAPES.slice(0, 8))('rehearseMigration refuses %s (%s) before any connection', async (_kind, escape) => {
    // An unreachable server: had the rehearsal connected anywhere first, this would be a connection failure instead.
    const server = new URL(TEST_SERVER_URL);
    const unreachable = { host: server.hostname, port: 1, database: shop.name, username: 'postgres', password: null, sslMode: 'disable', connectTimeoutMs: 500 };
    const fence = await fenceAllowancesFor({ allowedStatementKinds: [] });
    const up = await rehearseMigration(unreachable, { name: 'x', upSql: smuggled(escape), downSql: 'SELECT 1;' }, { fence }).catch((e) => e);
    expect(up).toBeInstanceOf(FenceError);
    expect(up.file).toBe('migration.sql');
    const down = await rehearseMigration(unreachable, { name: 'x', upSql: HARMLESS, downSql: smuggled(escape) }, { fence }).catch((e) => e);
    expect(down).toBeInstanceOf(FenceError);
    expect(down.file).toBe('down.sql');
  });

  it('a worker run refuses a revision the target no longer allows, with the reason on the run, and changes nothing', async () => {
    // Allowed when saved, then the admin takes the allowance back: the runner checks again.
    await updateTarget(admin.id, await targetInput(otherTargetId, { allowedStatementKinds: ['server_files'] }));
    await save(otherRequestId, { upSql: smuggled("SELECT length(pg_read_file('PG_VERSION'));") });
    await updateTarget(admin.id, await targetInput(otherTargetId, { allowedStatementKinds: [] }));
    // Queueing the apply needs a passing rehearsal (recorded directly): what is tested is the runner's own check.
    await recordPassingRehearsal(otherRequestId);
    const before = await serverState(other.url);
    const { runId } = await requestApply(dba.id, { requestId: otherRequestId, direction: 'up' });
    const run = await waitForRun(runId);
    expect(run.status).toBe('failed');
    expect(run.error).toMatch(/_fenced\/migration\.sql was refused: line 2, column 15: Calling pg_read_file\(\) reads, lists or writes files on the database server/);
    expect(await serverState(other.url)).toEqual(before);
  });
});

describe('the CLI refuses too (exit 1, the line and the reason)', () => {
  const folderWith = (up: string, down = 'SELECT 1;\n') => {
    const dir = mkdtempSync(path.join(tmpdir(), 'fence-cli-'));
    mkdirSync(path.join(dir, '20250101000000_escape'));
    writeFileSync(path.join(dir, '20250101000000_escape', 'migration.sql'), up);
    writeFileSync(path.join(dir, '20250101000000_escape', 'down.sql'), down);
    return dir;
  };

  it('apply, down and rehearse refuse, before anything runs', async () => {
    const before = await serverState(shop.url);
    const dir = folderWith(smuggled("COPY (SELECT 1) TO PROGRAM 'touch /tmp/cutover-fence-owned';"), smuggled("LOAD 'x';"));
    const apply = await cutover('apply', '--url', shop.url, '--dir', dir);
    expect(apply.code).toBe(1);
    expect(apply.stderr).toMatch(/20250101000000_escape\/migration\.sql was refused: line 2, column 1: COPY TO PROGRAM reads or writes a file on the database server, or runs a program there/);
    const rehearse = await cutover('rehearse', '--url', shop.url, '--dir', dir, '--name', '20250101000000_escape', '--json');
    expect(rehearse.code).toBe(1);
    expect(JSON.parse(rehearse.stdout)).toMatchObject({ ok: false, file: 'migration.sql', violations: [{ kind: 'copy_file', line: 2, column: 1 }] });
    // Refused before a sandbox is started for it, and said without the usage text.
    const plain = await cutover('rehearse', '--url', shop.url, '--dir', dir, '--name', '20250101000000_escape');
    expect(plain.code).toBe(1);
    expect(plain.stdout).not.toContain('sandbox:');
    expect(plain.stderr).not.toContain('Usage:');
    const down = await cutover('down', '--url', shop.url, '--dir', dir, '--name', '20250101000000_escape');
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/down\.sql was refused: line 2, column 1: LOAD loads a shared library/);
    expect(await serverState(shop.url)).toEqual(before);
  });

  it('--allow lets a kind through for that command only', async () => {
    const dir = folderWith("SELECT length(pg_read_file('PG_VERSION')) > 0;\n");
    const db = await createScratchDatabase('cutover_fence_cli');
    try {
      expect((await cutover('apply', '--url', db.url, '--dir', dir)).code).toBe(1);
      const allowed = await cutover('apply', '--url', db.url, '--dir', dir, '--allow', 'server_files');
      expect(allowed.stderr).toBe('');
      expect(allowed.code).toBe(0);
      expect((await cutover('apply', '--url', db.url, '--dir', dir, '--allow', 'nonsense')).code).toBe(2);
    } finally {
      await db.drop();
    }
  });
});

describe('admin allowances', () => {
  it('a kind allowed for one target goes through there only, and the change is audited', async () => {
    const role = 'CREATE ROLE cutover_fence_reporting NOLOGIN;\n';
    expect(await save(shopRequestId, { upSql: role }).catch((e) => e)).toMatchObject({ code: 'invalid', field: 'upSql' });
    await updateTarget(admin.id, await targetInput(shopTargetId, { allowedStatementKinds: ['role', 'role_membership'] }));
    expect((await save(shopRequestId, { upSql: role })).revision).toBeGreaterThan(0);
    expect(await save(otherRequestId, { upSql: role }).catch((e) => e)).toMatchObject({ code: 'invalid', field: 'upSql' });
    // Other kinds stay refused on the allowed target.
    expect(await save(shopRequestId, { upSql: "ALTER SYSTEM SET work_mem = '1GB';\n" }).catch((e) => e)).toMatchObject({ code: 'invalid' });

    const audit = await getDb().auditLog.findFirstOrThrow({ where: { entityId: shopTargetId, action: 'target.fence_allowances_changed' }, orderBy: { createdAt: 'desc' } });
    expect(audit).toMatchObject({ actorId: admin.id, before: { allowedStatementKinds: [] }, after: { allowedStatementKinds: ['role', 'role_membership'] } });
    const updated = await getDb().auditLog.findFirstOrThrow({ where: { entityId: shopTargetId, action: 'target.updated' }, orderBy: { createdAt: 'desc' } });
    expect(updated.after).toMatchObject({ allowedStatementKinds: ['role', 'role_membership'] });

    // A folder whose migrations some target allows can be imported (each request is checked against its own target).
    expect(await importMigrationFolder(dba.id, {
      fileName: 'roles.tar.gz', bytes: tarGz([{ path: 'prisma/migrations/20240103000000_roles/migration.sql', content: role }]),
    })).toMatchObject({ migrations: 1 });
    await updateTarget(admin.id, await targetInput(shopTargetId, { allowedStatementKinds: [] }));
  });

  it('people who are not admins cannot change a target\'s allowances or the extension allow list', async () => {
    const lead = await makeUser({ roles: ['lead', 'engineer'], agentRoles: ['database-administrator'] });
    const before = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: shopTargetId } });
    expect(await updateTarget(lead.id, await targetInput(shopTargetId, { allowedStatementKinds: ['database'] })).catch((e) => e)).toMatchObject({ code: 'forbidden' });
    expect(await updateFenceSettings(lead.id, FenceSettingsSchema.parse({ allowedExtensions: 'dblink' })).catch((e) => e)).toMatchObject({ code: 'forbidden' });
    expect(await getDb().targetDatabase.findUniqueOrThrow({ where: { id: shopTargetId } })).toEqual(before);
    expect(await getAllowedExtensions()).not.toContain('dblink');
    expect(await getDb().auditLog.count({ where: { actorId: lead.id } })).toBe(0);
  });

  it('an admin keeps the extension allow list: audited, used by save, and the defaults can be put back', async () => {
    const postgis = 'CREATE EXTENSION IF NOT EXISTS postgis;\n';
    expect(await save(shopRequestId, { upSql: postgis }).catch((e) => e)).toMatchObject({ code: 'invalid', message: expect.stringContaining('not on the allow list') });
    const defaults = await getAllowedExtensions();
    const saved = await updateFenceSettings(admin.id, FenceSettingsSchema.parse({ allowedExtensions: `${defaults.join('\n')}\npostgis` }));
    expect(saved.allowedExtensions).toContain('postgis');
    expect((await save(shopRequestId, { upSql: postgis })).revision).toBeGreaterThan(0);
    const audit = await getDb().auditLog.findFirstOrThrow({ where: { action: 'settings.fence_extensions_changed' }, orderBy: { createdAt: 'desc' } });
    expect(audit).toMatchObject({ actorId: admin.id, entityId: 'fence.allowedExtensions' });
    expect((audit.after as { allowedExtensions: string[] }).allowedExtensions).toContain('postgis');
    expect((audit.before as { allowedExtensions: string[] }).allowedExtensions).not.toContain('postgis');
    await updateFenceSettings(admin.id, FenceSettingsSchema.parse({ allowedExtensions: '', reset: 'on' }));
    expect((await getAllowedExtensions()).sort()).toEqual([...defaults].sort());
    expect(await save(shopRequestId, { upSql: postgis }).catch((e) => e)).toMatchObject({ code: 'invalid' });
  });

  it('keeps the run deadline and a rehearsal server, which never leaves the server and is audited only as set or not', async () => {
    const url = 'postgresql://rehearser:s3cret-rehearsal-pw@rehearsals.internal:5433/postgres';
    await updateTarget(admin.id, await targetInput(otherTargetId, { runDeadlineMs: 600_000, rehearsalServer: url }));
    const stored = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: otherTargetId } });
    expect(stored.runDeadlineMs).toBe(600_000);
    expect(stored.rehearsalServerEncrypted).not.toContain('s3cret');
    expect(targetRehearsalServerUrl(stored)).toBe(url);
    const view = (await listTargets(admin)).find((t) => t.id === otherTargetId)!;
    expect(view).toMatchObject({ hasRehearsalServer: true, runDeadlineMs: 600_000 });
    expect(JSON.stringify(view)).not.toContain('s3cret');
    const audits = await getDb().auditLog.findMany({ where: { entityId: otherTargetId } });
    expect(JSON.stringify(audits)).not.toContain('s3cret');
    expect(audits.at(-1)!.after).toMatchObject({ hasRehearsalServer: true, runDeadlineMs: 600_000 });

    // Empty keeps it; the clear box forgets it.
    await updateTarget(admin.id, await targetInput(otherTargetId, { rehearsalServer: '' }));
    expect(targetRehearsalServerUrl(await getDb().targetDatabase.findUniqueOrThrow({ where: { id: otherTargetId } }))).toBe(url);
    await updateTarget(admin.id, await targetInput(otherTargetId, { rehearsalServer: '', clearRehearsalServer: 'on' }));
    expect((await getDb().targetDatabase.findUniqueOrThrow({ where: { id: otherTargetId } })).rehearsalServerEncrypted).toBeNull();
  });

  it('validates the deadline, the kinds and the rehearsal server URL', () => {
    const base = { name: 'x', environment: 'staging', host: 'h', port: 5432, database: 'd', username: 'u' };
    const errors = (extra: Record<string, unknown>) => {
      const r = UpdateTargetSchema.safeParse({ id: '00000000-0000-4000-8000-000000000000', ...base, ...extra });
      return r.success ? [] : r.error.issues.map((i) => i.path.join('.'));
    };
    expect(errors({})).toEqual([]);
    expect(errors({ runDeadlineMs: 9_999 })).toEqual(['runDeadlineMs']);
    expect(errors({ runDeadlineMs: 86_400_001 })).toEqual(['runDeadlineMs']);
    expect(errors({ allowedStatementKinds: ['role', 'everything'] })).toEqual(['allowedStatementKinds.1']);
    expect(errors({ rehearsalServer: 'mysql://x@y/z' })).toEqual(['rehearsalServer']);
    expect(errors({ rehearsalServer: 'postgresql://u:p@host:5432/db' })).toEqual([]);
    expect(UpdateTargetSchema.parse({ id: '00000000-0000-4000-8000-000000000000', ...base }).runDeadlineMs).toBe(1_800_000);
    expect(FenceSettingsSchema.safeParse({ allowedExtensions: 'pgcrypto; DROP' }).success).toBe(false);
  });
});
