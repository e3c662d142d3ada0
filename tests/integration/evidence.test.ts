import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { stopBoss } from '@/lib/jobs/queue';
import { recordEvidence, evidenceFor, latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { updateTarget } from '@/lib/services/manage-targets';
import { saveMigrationRevision } from '@/lib/services/migration-revisions';
import { queueRun, targetSettingsVersion } from '@/lib/services/runs';
import { SaveRevisionSchema } from '@/lib/validation/migration';
import { makeTarget, makeUser, openTestAppStore } from '../support/app-store';

/** An analysis evidence detail as lib/domain/analysis.ts AnalysisEvidenceSchema has it (the analysis handler writes these). */
const LOW_RISK_ANALYSIS = {
  revision: 1, risk: { level: 'low' as const, reasons: [] }, destructive: [], tables: [], statements: 1, unknownStatements: 0, strategies: 0,
  strongestLock: 'ACCESS EXCLUSIVE', rewrites: 0, scans: 0, catalogRead: true, serverVersion: '15', squawk: { version: '2.66.0', error: null, findings: 0, rules: {} },
};

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let admin: Awaited<ReturnType<typeof makeUser>>;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin'] });
});
afterAll(async () => {
  await stopBoss();
  await store.close();
});

let seq = 0;
async function newRequest(environment: 'staging' | 'production' = 'staging') {
  seq += 1;
  const target = await makeTarget(`Evidence target ${seq}`);
  if (environment !== 'staging') await getDb().targetDatabase.update({ where: { id: target.id }, data: { environment } });
  const requestId = (await fileRequest(admin.id, { title: `Evidence ${seq}`, kind: 'schema_change', targetId: target.id, description: 'Evidence records.', priority: 'HIGH' })).id;
  return { requestId, target };
}
const saveRevision = (requestId: string, upSql: string) =>
  saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'add_note', upSql, downSql: 'ALTER TABLE orders DROP COLUMN note;' }));

describe('evidence records', () => {
  it('are written with the revision sha256 and the target settings version, and read back parsed', async () => {
    const { requestId, target } = await newRequest();
    await saveRevision(requestId, 'ALTER TABLE orders ADD COLUMN note text;');
    const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId } });
    const written = await getDb().$transaction((tx) =>
      recordEvidence(tx, {
        kind: 'analysis', targetId: target.id, requestId, revision: { id: revision.id, checksum: revision.checksum },
        passed: true, summary: 'risk low', detail: LOW_RISK_ANALYSIS, hashes: { revision: revision.checksum },
      }));
    expect(written.targetSettingsVersion).toMatch(/^[0-9a-f]{64}$/);
    expect(written.targetSettingsVersion).toBe(targetSettingsVersion(await getDb().targetDatabase.findUniqueOrThrow({ where: { id: target.id } })));

    const read = await latestEvidence(requestId, 'analysis');
    expect(read).toMatchObject({
      id: written.id, kind: 'analysis', passed: true, summary: 'risk low', detail: LOW_RISK_ANALYSIS,
      revisionId: revision.id, revisionSha256: revision.checksum, hashes: { revision: revision.checksum }, staleBecause: null,
    });
    // The stored row, read by SQL rather than through the service.
    const rows = await getDb().$queryRaw<{ revision_sha256: string; target_settings_version: string }[]>`
      SELECT revision_sha256, target_settings_version FROM evidence WHERE id = ${written.id}::uuid`;
    expect(rows[0]).toEqual({ revision_sha256: revision.checksum, target_settings_version: written.targetSettingsVersion });
    expect(await latestEvidence(requestId, 'backup')).toBeNull();
    // Saving the revision recorded its own evidence (the Create migration step's) before the analysis.
    expect((await evidenceFor(requestId)).map((e) => e.kind)).toEqual(['analysis', 'revision']);
    expect((await evidenceFor(requestId))[0].id).toBe(written.id);

    // A new revision voids it: the gate reads staleBecause.
    await saveRevision(requestId, 'ALTER TABLE orders ADD COLUMN note varchar(200);');
    expect((await latestEvidence(requestId, 'analysis'))?.staleBecause).toBe(
      'The migration changed after this evidence was produced: it rests on revision 1, and the latest is revision 2.',
    );
  });

  it('count for their own revision only: a new revision with the same migration.sql but another down.sql, data SQL or declared changes voids them', async () => {
    const { requestId, target } = await newRequest();
    const upSql = 'ALTER TABLE orders ADD COLUMN note text;';
    await saveRevision(requestId, upSql);
    const record = async () => {
      const revision = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
      await getDb().$transaction((tx) => recordEvidence(tx, {
        kind: 'analysis', targetId: target.id, requestId, revision: { id: revision.id, checksum: revision.checksum },
        passed: true, summary: 'risk low', detail: LOW_RISK_ANALYSIS,
      }));
      return revision;
    };
    const first = await record();
    expect((await latestEvidence(requestId, 'analysis'))?.staleBecause).toBeNull();
    const stale = /^The migration changed after this evidence was produced: it rests on revision \d+, and the latest is revision \d+\.$/;
    // The first two keep migration.sql (and its checksum) as it was; a data transformation is part of it.
    const changes = [
      { downSql: 'ALTER TABLE orders DROP COLUMN note CASCADE;' },
      { declaredChanges: 'public.orders rows where id > 0' },
      { dataSql: 'UPDATE orders SET note = NULL;' },
    ];
    for (const change of changes) {
      await saveMigrationRevision(admin.id, SaveRevisionSchema.parse({ requestId, name: 'add_note', upSql, downSql: 'ALTER TABLE orders DROP COLUMN note;', ...change }));
      const latest = await getDb().migrationRevision.findFirstOrThrow({ where: { requestId }, orderBy: { revision: 'desc' } });
      if (!change.dataSql) expect(latest.checksum, 'migration.sql is the same').toBe(first.checksum);
      expect((await latestEvidence(requestId, 'analysis'))?.staleBecause, JSON.stringify(change)).toMatch(stale);
      // Evidence produced on the new revision holds again.
      await record();
      expect((await latestEvidence(requestId, 'analysis'))?.staleBecause).toBeNull();
    }
  });

  it('refuse a detail its kind\'s schema refuses, and hashes that are not strings', async () => {
    const { requestId, target } = await newRequest();
    const attempt = (detail: unknown, hashes?: Record<string, unknown>) =>
      getDb().$transaction((tx) => recordEvidence(tx, { kind: 'drift', targetId: target.id, requestId, passed: false, summary: 'x', detail: detail as never, hashes: hashes as never }));
    await expect(attempt('drifted')).rejects.toThrow(/The drift evidence does not match its schema/);
    await expect(attempt(['a'])).rejects.toThrow(/does not match its schema/);
    await expect(attempt({ ok: true }, { dump: 42 })).rejects.toThrow(/hashes must be names to hex strings/);
    expect(await evidenceFor(requestId)).toEqual([]);
  });

  it('rest on a settings version that changes with any target setting, the password included, and never holds it', async () => {
    const { requestId, target } = await newRequest();
    const before = targetSettingsVersion(target);
    expect(targetSettingsVersion({ ...target })).toBe(before);
    await getDb().$transaction((tx) => recordEvidence(tx, { kind: 'backup', targetId: target.id, requestId, passed: true, summary: 'ok', detail: {} }));

    const input = {
      id: target.id, name: target.name, engine: 'postgresql' as const, environment: 'staging' as const, host: target.host!, port: target.port!,
      database: target.database, username: target.username!, sslMode: 'disable' as const, connectTimeoutMs: target.connectTimeoutMs,
      lockTimeoutMs: target.lockTimeoutMs, statementTimeoutMs: target.statementTimeoutMs,
    };
    await updateTarget(admin.id, { ...input, lockTimeoutMs: target.lockTimeoutMs + 1000 });
    const afterTimeout = targetSettingsVersion(await getDb().targetDatabase.findUniqueOrThrow({ where: { id: target.id } }));
    expect(afterTimeout).not.toBe(before);
    expect((await latestEvidence(requestId, 'backup'))?.staleBecause).toBe("The target's settings changed after this evidence was produced.");

    await updateTarget(admin.id, { ...input, lockTimeoutMs: target.lockTimeoutMs + 1000, password: 'a new secret' });
    const afterPassword = await getDb().targetDatabase.findUniqueOrThrow({ where: { id: target.id } });
    expect(targetSettingsVersion(afterPassword)).not.toBe(afterTimeout);
    // Unchanged settings give the same version again (it is a function of the settings, not of time).
    expect(targetSettingsVersion(afterPassword)).toBe(targetSettingsVersion({ ...afterPassword, updatedAt: new Date(0) }));
  });
});

describe('queueing the evidence runs (one function for every kind)', () => {
  it('needs a saved revision for an analysis and allows one at a time per request', async () => {
    const { requestId } = await newRequest();
    await expect(queueRun(admin.id, { kind: 'analysis', requestId })).rejects.toThrow('Save the migration (Create migration) before analysing it.');
    await saveRevision(requestId, 'ALTER TABLE orders ADD COLUMN note text;');
    const { runId } = await queueRun(admin.id, { kind: 'analysis', requestId });
    const run = await getDb().run.findUniqueOrThrow({ where: { id: runId } });
    expect(run).toMatchObject({ kind: 'analysis', status: 'queued', requestId });
    expect(run.revisionId).not.toBeNull();
    await expect(queueRun(admin.id, { kind: 'analysis', requestId })).rejects.toThrow('An analysis of this request is already queued or running.');
    const job = await getDb().$queryRaw<{ name: string }[]>`SELECT name FROM pgboss.job WHERE data->>'runId' = ${runId}`;
    expect(job).toEqual([{ name: 'cutover-analysis' }]);
  });

  it('lets Create backup step holders back up and drill production targets, with the backup of that target only', async () => {
    const { requestId, target } = await newRequest('production');
    const dba = await makeUser({ agentRoles: ['database-administrator'] });
    const optimizer = await makeUser({ agentRoles: ['database-optimizer'] });
    await expect(queueRun(optimizer.id, { kind: 'backup', requestId })).rejects.toThrow('Only holders of database-administrator (or admins) can take backups for "Create backup".');
    const { runId } = await queueRun(dba.id, { kind: 'backup', requestId });
    expect((await getDb().run.findUniqueOrThrow({ where: { id: runId } })).kind).toBe('backup');

    const other = await makeTarget(`Evidence other ${seq}`);
    const artifact = (targetId: string) =>
      getDb().artifact.create({ data: { kind: 'backup', storeKey: `test/${targetId}/${Date.now()}-${Math.random()}`, sha256: '0'.repeat(64), sizeBytes: 1n, mediaType: 'application/octet-stream', targetId } });
    await expect(queueRun(dba.id, { kind: 'drill', requestId, artifactId: '00000000-0000-4000-8000-000000000000' })).rejects.toThrow('Backup was not found.');
    await expect(queueRun(dba.id, { kind: 'drill', requestId, artifactId: (await artifact(other.id)).id })).rejects.toThrow(/is not of Evidence target/);
    const mine = await artifact(target.id);
    const drill = await queueRun(dba.id, { kind: 'drill', requestId, artifactId: mine.id });
    expect(await getDb().run.findUniqueOrThrow({ where: { id: drill.runId } })).toMatchObject({ kind: 'drill', artifactId: mine.id });
  });

  it('lets leads check drift, not test automators', async () => {
    const { requestId } = await newRequest();
    const lead = await makeUser({ roles: ['lead'] });
    const tester = await makeUser({ agentRoles: ['test-automator'] });
    await expect(queueRun(tester.id, { kind: 'drift', requestId })).rejects.toThrow(/^Checking drift needs/);
    expect((await queueRun(lead.id, { kind: 'drift', requestId })).runId).toBeTruthy();
  });
});
