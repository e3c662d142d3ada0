import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { getBackupPanel } from '@/lib/data/backups';
import { loadActor } from '@/lib/auth/actor';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { requestBackup, requestDrill } from '@/lib/services/backups';
import { fileRequest } from '@/lib/services/file-request';
import { getGateState } from '@/lib/services/gate';
import { queueRunInTransaction } from '@/lib/services/runs';
import { getStepEvidence } from '@/lib/services/step-evidence';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { useTemporaryArtifactsDir, type TemporaryArtifactsDir } from '../support/artifacts-dir';

/**
 * "Backup procedure ready" and Create backup rest on a drill of a backup of the PRODUCTION
 * environment's target: a request filed against staging backs up and drills production's
 * target, with the real backup and drill handlers; a request without a project keeps its own.
 */

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let staging: Awaited<ReturnType<typeof createScratchDatabase>>;
let production: Awaited<ReturnType<typeof createScratchDatabase>>;
let artifacts: TemporaryArtifactsDir;

beforeAll(async () => {
  store = await openTestAppStore();
  staging = await createScratchDatabase('cutover_backup_prod_staging');
  production = await createScratchDatabase('cutover_backup_prod_production');
  await withClient(staging.url, (c) => c.query(`CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 5);`));
  await withClient(production.url, (c) => c.query(`CREATE TABLE orders (id int PRIMARY KEY); INSERT INTO orders SELECT generate_series(1, 700);`));
  artifacts = useTemporaryArtifactsDir('backup-prod');
}, 60_000);

afterAll(async () => {
  await stopBoss();
  await store?.close();
  await staging?.drop();
  await production?.drop();
  artifacts?.restore();
});

async function run(kind: 'backup' | 'drill', runId: string) {
  await runJob(handlerFor(kind), { runId });
  return getDb().run.findUniqueOrThrow({ where: { id: runId } });
}

const drillItem = async (requestId: string) => (await getStepEvidence(getDb(), requestId))['create-backup'].items.find((i) => i.label === 'Test backup/restore')!;

describe('backups and drills of the production environment', () => {
  it('a request on staging backs up and drills production\'s target, and its step and gate item rest on that drill', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const stagingTarget = await makeLiveTarget(admin.id, staging.name, 'Shop staging');
    const productionTarget = await makeLiveTarget(admin.id, production.name, 'Shop production');
    await getDb().targetDatabase.update({ where: { id: productionTarget.id }, data: { environment: 'production' } });
    const project = await getDb().project.create({
      data: {
        name: 'Shop app (backups)', repositoryUrl: '/nonexistent/shop.git', backupMaxAgeHours: 6,
        environments: { create: [
          { position: 1, name: 'staging', targetId: stagingTarget.id },
          { position: 2, name: 'live', targetId: productionTarget.id, requiresApproval: true },
        ] },
      },
    });
    const { id: requestId } = await fileRequest(admin.id, { title: 'Backups of production', kind: 'schema_change', targetId: stagingTarget.id, description: 'Back up production.', priority: 'HIGH' });
    // A backup taken before the request joined the project is of its own (staging) target: it does not count afterwards.
    const before = await run('backup', (await requestBackup(dba.id, { requestId })).runId);
    expect(before).toMatchObject({ status: 'succeeded', targetId: stagingTarget.id });
    await getDb().migrationRequest.update({ where: { id: requestId }, data: { projectId: project.id } });
    expect((await getBackupPanel(await loadActor(getDb(), dba.id), requestId)).backup).toBeNull();
    await expect(requestDrill(dba.id, { requestId })).rejects.toThrow(/no backup of this request to drill yet/);

    const backup = await run('backup', (await requestBackup(dba.id, { requestId })).runId);
    expect(backup).toMatchObject({ status: 'succeeded', error: null, targetId: productionTarget.id });
    const artifact = await getDb().artifact.findFirstOrThrow({ where: { runId: backup.id } });
    expect(artifact.targetId).toBe(productionTarget.id);
    expect((await getDb().evidence.findFirstOrThrow({ where: { runId: backup.id } })).targetId).toBe(productionTarget.id);

    // The panel says what is backed up, and shows production's backup (700 rows, not staging's 5).
    const panel = await getBackupPanel(await loadActor(getDb(), dba.id), requestId);
    expect(panel.backupTarget).toEqual({ name: 'Shop production', environment: 'live', ownTarget: false });
    expect(panel.backup).toMatchObject({ id: artifact.id, tables: [{ table: 'public.orders', rows: 700, checksum: expect.any(String) }] });
    expect((await drillItem(requestId)).satisfied).toBe(false);

    const drill = await run('drill', (await requestDrill(dba.id, { requestId })).runId);
    expect(drill).toMatchObject({ status: 'succeeded', error: null, targetId: productionTarget.id, artifactId: artifact.id });
    expect(await drillItem(requestId)).toMatchObject({ coveredBy: 'drill', satisfied: true });
    const gate = await getGateState(getDb(), requestId);
    expect(gate.items.find((i) => i.key === 'backup-ready')).toMatchObject({ satisfied: true });

    // Only a backup of production's target can be drilled for this request: one of staging is refused.
    const stagingBackup = await getDb().artifact.create({
      data: { kind: 'backup', storeKey: 'backups/staging/fixture.dump', sha256: 'a'.repeat(64), sizeBytes: 1n, mediaType: 'application/octet-stream', targetId: stagingTarget.id },
    });
    await expect(getDb().$transaction(async (tx) => queueRunInTransaction(tx, await loadActor(tx, dba.id), { kind: 'drill', requestId, artifactId: stagingBackup.id })))
      .rejects.toThrow("That backup is not of Shop production; this request's restore drills are of backups of Shop production: back it up and drill that.");

    // Older than the project's limit (6 h): no longer ready, with the age in words.
    await getDb().artifact.update({ where: { id: artifact.id }, data: { createdAt: new Date(Date.now() - 7 * 3_600_000) } });
    expect(await drillItem(requestId)).toMatchObject({ satisfied: false, reason: 'The drilled backup of Shop production is 7 h old; the limit is 6 h. Back up and drill again.' });
    expect((await getGateState(getDb(), requestId)).items.find((i) => i.key === 'backup-ready')).toMatchObject({ satisfied: false });
  }, 90_000);

  it('a request without a project backs up and drills its own target', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const own = await makeLiveTarget(admin.id, staging.name, 'Shop staging (no project)');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Backups, no project', kind: 'schema_change', targetId: own.id, description: 'Own target.', priority: 'LOW' });
    const backup = await run('backup', (await requestBackup(admin.id, { requestId })).runId);
    expect(backup).toMatchObject({ status: 'succeeded', targetId: own.id });
    expect((await getBackupPanel(await loadActor(getDb(), admin.id), requestId)).backupTarget).toEqual({ name: 'Shop staging (no project)', environment: null, ownTarget: true });
    const drill = await run('drill', (await requestDrill(admin.id, { requestId })).runId);
    expect(drill).toMatchObject({ status: 'succeeded', targetId: own.id });
    expect(await drillItem(requestId)).toMatchObject({ satisfied: true });
  }, 90_000);
});
