import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { getBackupPanel, getRestoreScript } from '@/lib/data/backups';
import { loadActor } from '@/lib/auth/actor';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { requestBackup, requestDrill } from '@/lib/services/backups';
import { latestEvidence } from '@/lib/services/evidence';
import { fileRequest } from '@/lib/services/file-request';
import { encryptSecret } from '@/lib/engine';
import { secretKey } from '@/lib/db/settings';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { useTemporaryArtifactsDir, type TemporaryArtifactsDir } from '../support/artifacts-dir';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let artifacts: TemporaryArtifactsDir;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_backup_runs');
  await withClient(shop.url, (c) => c.query(`
    CREATE TABLE customers (id int PRIMARY KEY, email text NOT NULL, since date);
    CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int REFERENCES customers(id), total numeric(10,2), placed_at timestamptz);
    INSERT INTO customers SELECT g, 'c' || g || '@shop.test', date '2024-01-01' + g FROM generate_series(1, 300) g;
    INSERT INTO orders SELECT g, 1 + g % 300, g * 0.25, timestamptz '2024-02-01' + g * interval '1 hour' FROM generate_series(1, 2000) g;`));
  artifacts = useTemporaryArtifactsDir('backup-runs');
}, 60_000);

afterAll(async () => {
  await stopBoss();
  await store?.close();
  await shop?.drop();
  artifacts?.restore();
});

describe('backup and drill runs', () => {
  it('back up, drill, and fail a drill whose file was damaged; permissions, evidence and the restore script', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const engineer = await makeUser({ roles: ['engineer'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Shop for backups');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Backups', kind: 'schema_change', targetId: target.id, description: 'Back up first.', priority: 'HIGH' });

    // Who may: the Create backup step's holders and admins; a drill is refused before its lack of a backup is told.
    await expect(requestBackup(engineer.id, { requestId })).rejects.toThrow(/Only holders of database-administrator \(or admins\) can take backups/);
    await expect(requestDrill(engineer.id, { requestId })).rejects.toThrow(/Only holders of database-administrator \(or admins\) can run restore drills/);
    await expect(requestDrill(dba.id, { requestId })).rejects.toThrow(/no backup of this request to drill yet/);

    const { runId: backupRunId } = await requestBackup(dba.id, { requestId });
    await runJob(handlerFor('backup'), { runId: backupRunId });
    const backupRun = await getDb().run.findUniqueOrThrow({ where: { id: backupRunId } });
    expect(backupRun.error).toBeNull();
    expect(backupRun.status).toBe('succeeded');
    const artifact = await getDb().artifact.findFirstOrThrow({ where: { runId: backupRunId } });
    const file = path.join(artifacts.dir, ...artifact.storeKey.split('/'));
    // The row says what the file is (read here without Cutover's store).
    const bytes = readFileSync(file);
    expect(artifact).toMatchObject({ kind: 'backup', targetId: target.id, sha256: createHash('sha256').update(bytes).digest('hex'), sizeBytes: BigInt(bytes.length) });
    expect(bytes.subarray(0, 5).toString()).toBe('PGDMP');
    const backupEvidence = await latestEvidence(requestId, 'backup');
    expect(backupEvidence).toMatchObject({ passed: true, runId: backupRunId, hashes: { dumpSha256: artifact.sha256 }, staleBecause: null });
    expect(backupEvidence?.detail?.tables).toEqual([
      { table: 'public.customers', rows: 300, checksum: expect.stringMatching(/^[0-9a-f]{16}$/) },
      { table: 'public.orders', rows: 2000, checksum: expect.stringMatching(/^[0-9a-f]{16}$/) },
    ]);

    const { runId: drillRunId } = await requestDrill(dba.id, { requestId });
    expect((await getDb().run.findUniqueOrThrow({ where: { id: drillRunId } })).artifactId).toBe(artifact.id);
    await runJob(handlerFor('drill'), { runId: drillRunId });
    const drillRun = await getDb().run.findUniqueOrThrow({ where: { id: drillRunId } });
    expect(drillRun.error).toBeNull();
    expect(drillRun.status).toBe('succeeded');
    const drillEvidence = await latestEvidence(requestId, 'drill');
    expect(drillEvidence).toMatchObject({ passed: true, runId: drillRunId, detail: { ok: true, artifactId: artifact.id, differing: [] } });
    expect(drillEvidence?.detail?.tables.map((t) => [t.table, t.rows, t.equal])).toEqual([['public.customers', 300, true], ['public.orders', 2000, true]]);

    // The panel and the script: the target's address for admins only, never a password.
    const asAdmin = await getBackupPanel(await loadActor(getDb(), admin.id), requestId);
    const asDba = await getBackupPanel(await loadActor(getDb(), dba.id), requestId);
    expect(asAdmin.backup).toMatchObject({ id: artifact.id, sha256: artifact.sha256, sizeBytes: bytes.length });
    expect(asAdmin.drillRun).toMatchObject({ status: 'succeeded', ok: true, differing: [] });
    expect(asAdmin.backup?.script).toContain('PGHOST="${PGHOST:-127.0.0.1}"');
    expect(asDba.backup?.script).toContain('PGHOST="${PGHOST:?set PGHOST to the server of Shop for backups}"');
    expect(asDba.backup?.script).not.toContain('127.0.0.1');
    expect(asDba.backup?.procedure).not.toContain('127.0.0.1');
    const download = await getRestoreScript(await loadActor(getDb(), engineer.id), { id: artifact.id, format: 'script' });
    expect(download).toMatchObject({ contentType: 'text/x-shellscript; charset=utf-8', fileName: expect.stringMatching(/^restore-shop-for-backups-\d{8}-\d{6}\.sh$/) });
    expect(download.body).toContain(`EXPECTED_SHA256='${artifact.sha256}'`);
    await expect(getRestoreScript(await loadActor(getDb(), engineer.id), { id: drillRunId, format: 'script' })).rejects.toThrow('Backup was not found.');

    // The backup's log says where the file went without the server's directory.
    expect(asDba.backupRun?.log.join("\n")).toContain(`(${bytes.length.toLocaleString('en')} bytes) as ${artifact.storeKey} in the artifact store`);
    expect(JSON.stringify(asDba.backupRun)).not.toContain(artifacts.dir);

    // A drill whose rehearsal server refuses connections: its address is shown to target managers only.
    await getDb().targetDatabase.update({ where: { id: target.id }, data: { rehearsalServerEncrypted: encryptSecret('postgresql://cutover:pw@127.0.0.1:1/postgres', secretKey()) } });
    const { runId: refusedDrillId } = await requestDrill(admin.id, { requestId });
    await runJob(handlerFor('drill'), { runId: refusedDrillId });
    await getDb().targetDatabase.update({ where: { id: target.id }, data: { rehearsalServerEncrypted: null } });
    const refused = await getDb().run.findUniqueOrThrow({ where: { id: refusedDrillId } });
    expect(refused.status).toBe('failed');
    expect(refused.error).toContain('127.0.0.1:1');
    const refusedAsAdmin = await getBackupPanel(await loadActor(getDb(), admin.id), requestId);
    expect(refusedAsAdmin.drillRun?.error).toContain('127.0.0.1:1');
    const refusedAsDba = await getBackupPanel(await loadActor(getDb(), dba.id), requestId);
    expect(refusedAsDba.drillRun?.error).toContain('(address hidden)');
    expect(JSON.stringify(refusedAsDba.drillRun)).not.toMatch(/127\.0\.0\.1|:1\b(?!\d)|port 1\b/);

    // A damaged file: the drill fails at its first step, with that reason, and says so in its evidence.
    const flipped = Buffer.from(bytes);
    flipped[100] ^= 0x01;
    writeFileSync(file, flipped);
    const { runId: badDrillId } = await requestDrill(admin.id, { requestId });
    await runJob(handlerFor('drill'), { runId: badDrillId });
    const badDrill = await getDb().run.findUniqueOrThrow({ where: { id: badDrillId } });
    expect(badDrill.status).toBe('failed');
    expect(badDrill.error).toMatch(/is corrupted: its sha256 is [0-9a-f]{64}, but [0-9a-f]{64} was recorded/);
    expect(await latestEvidence(requestId, 'drill')).toMatchObject({ passed: false, runId: badDrillId, detail: { ok: false, failedStep: 'integrity', restoreMs: 0 } });
  }, 60_000);
});
