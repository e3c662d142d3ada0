import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrationChecksum, applyMigrations, type MigrationFile } from '@/lib/engine/prisma-migrations';
import { checkDrift, rolesNamedBy } from '@/lib/engine/postgres/drift';
import { takeSnapshot } from '@/lib/engine/postgres/snapshot';
import { DEFAULT_FENCE_ALLOWANCES, FENCE_OFF } from '@/lib/engine/postgres/sql-guard';
import { dumpDifference, normalisedSchemaDump } from '../support/pg-dump';
import { cutover } from '../support/cli';
import { rehearsalLeftovers, sandboxForFile, sandboxUrl, settingsOf, withSandbox } from '../support/sandbox';
import { TEST_SERVER_URL, createScratchDatabase, withClient } from '../support/scratch-db';

const reader = `cutover_drift_reader_${randomBytes(3).toString('hex')}`;
const migration = (name: string, sql: string): MigrationFile => ({ name, sql, checksum: migrationChecksum(sql) });
const FOLDER = [
  migration('20260101000000_init', `CREATE TYPE status AS ENUM ('open', 'paid');
CREATE TABLE orders (id bigserial PRIMARY KEY, status status NOT NULL DEFAULT 'open', total integer NOT NULL CHECK (total >= 0));
CREATE INDEX orders_status_idx ON orders (status);
`),
  migration('20260102000000_audit', `CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.total := abs(NEW.total); RETURN NEW; END $$;
CREATE TRIGGER orders_touch BEFORE INSERT ON orders FOR EACH ROW EXECUTE FUNCTION touch();
ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
CREATE POLICY readers ON orders FOR SELECT TO ${reader} USING (status = 'paid');
GRANT SELECT ON orders TO ${reader};
COMMENT ON TABLE orders IS 'what was bought';
`),
];
const PENDING = migration('20260103000000_notes', `ALTER TABLE orders ADD COLUMN notes text;\n`);

const sandbox = sandboxForFile();
let target: Awaited<ReturnType<typeof createScratchDatabase>>;
/** The same migrations applied straight to another database: pg_dump's independent view of "no drift". */
let reference: Awaited<ReturnType<typeof createScratchDatabase>>;
const drift = (migrations = [...FOLDER, PENDING]) => checkDrift(settingsOf(target.url), migrations, { sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES });
const onTarget = (sql: string) => withClient(target.url, (c) => c.query(sql));

beforeAll(async () => {
  await withClient(TEST_SERVER_URL, (c) => c.query(`CREATE ROLE ${reader} NOLOGIN`));
  target = await createScratchDatabase('cutover_drift');
  reference = await createScratchDatabase('cutover_drift_ref');
  for (const db of [target, reference]) await withClient(db.url, (c) => applyMigrations(c, FOLDER, { fence: DEFAULT_FENCE_ALLOWANCES }));
});
afterAll(async () => {
  await target?.drop();
  await reference?.drop();
  await withClient(TEST_SERVER_URL, (c) => c.query(`DROP ROLE IF EXISTS ${reader}`));
});

describe('drift', () => {
  it('finds none on a freshly migrated target, replaying exactly its applied migrations in the sandbox', async () => {
    const steps: string[] = [];
    const before = await withClient(target.url, takeSnapshot);
    const result = await checkDrift(settingsOf(target.url), [...FOLDER, PENDING], {
      sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES, onStep: (s, d) => steps.push(d ? `${s} ${d}` : s),
    });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ ok: true, drifted: false, differences: [], replayed: FOLDER.map((m) => m.name), pending: [PENDING.name] });
    expect(result.expectedHash).toBe(result.actualHash);
    expect(result.actualHash).toBe(before.hash);
    expect(result.server).toMatch(/^the Cutover sandbox/);
    expect(steps).toEqual(['target', 'sandbox', `replay ${FOLDER[0].name}`, `replay ${FOLDER[1].name}`, 'compare', 'drop']);
    // pg_dump agrees: the target's schema is the migrations' schema.
    expect(dumpDifference(await normalisedSchemaDump(reference.url), await normalisedSchemaDump(target.url))).toEqual([]);
    // The target was only read; the scratch copy, its role and the grantee role made for the replay are gone.
    expect((await withClient(target.url, takeSnapshot)).hash).toBe(before.hash);
    expect(await rehearsalLeftovers(TEST_SERVER_URL)).toEqual([]);
    expect(await withSandbox(sandbox(), async (c) => (await c.query(
      `SELECT datname AS n FROM pg_database WHERE datname LIKE 'cutover\\_rehearsal\\_%' UNION ALL SELECT rolname FROM pg_roles WHERE rolname LIKE 'cutover\\_%'`,
    )).rows)).toEqual([]);
  });

  it('finds a manual ALTER TABLE on the target and names it, as pg_dump sees it too', async () => {
    await onTarget(`ALTER TABLE orders ADD COLUMN discount integer; ALTER TABLE orders DISABLE TRIGGER orders_touch; COMMENT ON TABLE orders IS 'changed by hand'`);
    try {
      const result = await drift();
      expect(result.ok).toBe(true);
      expect(result.drifted).toBe(true);
      expect(result.expectedHash).not.toBe(result.actualHash);
      expect(result.differences.sort()).toEqual([
        '+ column public.orders.discount integer',
        '~ comment on table public.orders: "what was bought" -> "changed by hand"',
        '~ trigger orders_touch on public.orders: disabled',
      ]);
      const pgDump = dumpDifference(await normalisedSchemaDump(reference.url), await normalisedSchemaDump(target.url)).join('\n');
      expect(pgDump).toContain('discount integer');
      expect(pgDump).toContain('DISABLE TRIGGER orders_touch');
      expect(pgDump).toContain("'changed by hand'");
    } finally {
      await onTarget(`ALTER TABLE orders DROP COLUMN discount; ALTER TABLE orders ENABLE TRIGGER orders_touch; COMMENT ON TABLE orders IS 'what was bought'`);
    }
    expect((await drift()).drifted).toBe(false);
  });

  it('finds what the migrations made and someone removed, and a policy changed by hand', async () => {
    await onTarget(`DROP INDEX orders_status_idx; ALTER POLICY readers ON orders USING (true)`);
    try {
      const result = await drift();
      expect(result.drifted).toBe(true);
      expect(result.differences).toContain('- index public.orders.orders_status_idx CREATE INDEX orders_status_idx ON public.orders USING btree (status)');
      expect(result.differences.join('\n')).toMatch(/^~ policy readers on public\.orders: USING: \(status = 'paid'::status\) -> true$/m);
    } finally {
      await onTarget(`CREATE INDEX orders_status_idx ON orders (status); ALTER POLICY readers ON orders USING (status = 'paid')`);
    }
  });

  it('says so when the history cannot be replayed: a migration missing from the folder or changed since', async () => {
    const changed = { ...FOLDER[1], sql: FOLDER[1].sql + '-- edited\n', checksum: migrationChecksum(FOLDER[1].sql + '-- edited\n') };
    const result = await drift([FOLDER[0], changed]);
    expect(result.drifted).toBe(true);
    expect(result.history.modified).toEqual([FOLDER[1].name]);
    expect(result.differences).toContain(`migration ${FOLDER[1].name}: changed in the folder since it was applied`);
    const missing = await drift([FOLDER[0]]);
    expect(missing.differences).toContain(`migration ${FOLDER[1].name}: applied on the target, but not in the migrations folder`);
  });

  it('refuses to replay what the fence refuses, before anything runs', async () => {
    const db = await createScratchDatabase('cutover_drift_fence');
    try {
      const bad = migration('20260101000000_system', `ALTER SYSTEM SET work_mem = '64MB';\n`);
      await withClient(db.url, (c) => c.query(`CREATE TABLE "_prisma_migrations" (id varchar(36) PRIMARY KEY, checksum varchar(64) NOT NULL, finished_at timestamptz, migration_name varchar(255) NOT NULL,
        logs text, rolled_back_at timestamptz, started_at timestamptz NOT NULL DEFAULT now(), applied_steps_count integer NOT NULL DEFAULT 0);
        INSERT INTO "_prisma_migrations" (id, checksum, finished_at, migration_name, applied_steps_count) VALUES ('1', '${bad.checksum}', now(), '${bad.name}', 1)`));
      const result = await checkDrift(settingsOf(db.url), [bad], { sandbox: sandbox(), fence: DEFAULT_FENCE_ALLOWANCES });
      expect(result.ok).toBe(false);
      expect(result.error).toMatch(/ALTER SYSTEM|server's configuration/);
      expect(result.replayed).toEqual([]);
      // With the fence off the sandbox's least privilege still refuses it: the replay fails, it does not pass.
      const unfenced = await checkDrift(settingsOf(db.url), [bad], { sandbox: sandbox(), fence: FENCE_OFF });
      expect(unfenced.ok).toBe(false);
      expect(unfenced.error).toMatch(/Replaying 20260101000000_system .* failed: .*(permission denied|must be superuser)/);
    } finally {
      await db.drop();
    }
  });

  it('names the roles a schema grants to, so the replay can grant to them', () => {
    expect(rolesNamedBy({
      privileges: { 'table public.t': ['(owner): SELECT', 'app: SELECT', 'PUBLIC: SELECT', 'ops: UPDATE GRANTED BY lead'] },
      defaultPrivileges: { 'for role deployer in schema s on tables': ['reader: SELECT'], 'for role CURRENT_USER on functions': [] },
      policies: { 'p on public.t': { table: 'public.t', permissive: true, command: 'all', roles: ['PUBLIC', 'auditor'], using: null, withCheck: null } },
    } as never)).toEqual(['app', 'auditor', 'deployer', 'lead', 'ops', 'reader']);
  });

  it('cutover drift --url --dir: exit 0 without drift, exit 1 naming the difference, --json for CI', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'cutover-drift-'));
    try {
      for (const m of [...FOLDER, PENDING]) {
        mkdirSync(path.join(dir, m.name));
        writeFileSync(path.join(dir, m.name, 'migration.sql'), m.sql);
      }
      const args = ['drift', '--url', target.url, '--dir', dir, '--sandbox-url', sandboxUrl(sandbox())];
      const clean = await cutover(...args);
      expect(clean.stderr).toBe('');
      expect(clean.code).toBe(0);
      expect(clean.stdout).toContain('No drift: the schema is what its 2 applied migrations build');
      expect(clean.stdout).toContain(`not applied yet (not drift): ${PENDING.name}`);
      await onTarget(`ALTER TABLE orders ADD COLUMN coupon text`);
      try {
        const drifted = await cutover(...args, '--json');
        expect(drifted.code).toBe(1);
        const result = JSON.parse(drifted.stdout);
        expect(result).toMatchObject({ ok: true, drifted: true, differences: ['+ column public.orders.coupon text'], replayed: FOLDER.map((m) => m.name) });
        expect(result.expectedHash).not.toBe(result.actualHash);
        const text = await cutover(...args);
        expect(text.code).toBe(1);
        expect(text.stdout).toMatch(/^\+ column public\.orders\.coupon text$/m);
        expect(text.stdout).toContain('Drift: 1 difference from what its 2 applied migrations build.');
        expect(text.stdout).toContain('a migration that records the change');
      } finally {
        await onTarget(`ALTER TABLE orders DROP COLUMN coupon`);
      }
      expect((await cutover('drift', '--url', target.url)).code).toBe(2);
      const missing = await cutover('drift', '--url', target.url, '--dir', path.join(dir, 'nope'));
      expect(missing.code).toBe(2);
      expect(missing.stderr).toContain('no such directory');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
