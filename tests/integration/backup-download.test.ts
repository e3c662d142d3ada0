import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { getDb } from '@/lib/db/client';
import { loadActor } from '@/lib/auth/actor';
import { handlerFor, runJob } from '@/lib/jobs/worker';
import { stopBoss } from '@/lib/jobs/queue';
import { requestBackup } from '@/lib/services/backups';
import { fileRequest } from '@/lib/services/file-request';
import { getRestoreScript } from '@/lib/data/backups';
import { makeLiveTarget, makeUser, openTestAppStore } from '../support/app-store';
import { createScratchDatabase, withClient } from '../support/scratch-db';
import { useTemporaryArtifactsDir, type TemporaryArtifactsDir } from '../support/artifacts-dir';

// The route's session: whoever the test says is signed in (the rest of the route runs as in production).
const session = vi.hoisted(() => ({ userId: '' }));
vi.mock('@/lib/auth/session', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/lib/auth/session')>()),
  requireUser: async () => loadActor(getDb(), session.userId),
}));
const { GET } = await import('@/app/api/v1/backups/[id]/file/route');

let store: Awaited<ReturnType<typeof openTestAppStore>>;
let shop: Awaited<ReturnType<typeof createScratchDatabase>>;
let artifacts: TemporaryArtifactsDir;

beforeAll(async () => {
  store = await openTestAppStore();
  shop = await createScratchDatabase('cutover_backup_download');
  await withClient(shop.url, (c) => c.query(`CREATE TABLE notes (id int PRIMARY KEY, body text); INSERT INTO notes SELECT g, 'note ' || g FROM generate_series(1, 500) g;`));
  artifacts = useTemporaryArtifactsDir('backup-download');
}, 60_000);

afterAll(async () => {
  await stopBoss();
  await store?.close();
  await shop?.drop();
  artifacts?.restore();
});

const call = (id: string) => GET(new Request(`http://cutover.test/api/v1/backups/${id}/file`), { params: Promise.resolve({ id }) });
const audits = (entityId: string) => getDb().auditLog.count({ where: { action: 'backup.downloaded', entityId } });

describe('GET /api/v1/backups/:id/file', () => {
  it('streams the exact bytes to the Create backup holder, audited; refuses an engineer with nothing streamed', async () => {
    const admin = await makeUser({ roles: ['admin'] });
    const dba = await makeUser({ roles: ['engineer'], agentRoles: ['database-administrator'] });
    const engineer = await makeUser({ roles: ['engineer'] });
    const target = await makeLiveTarget(admin.id, shop.name, 'Notes shop');
    const { id: requestId } = await fileRequest(admin.id, { title: 'Download', kind: 'schema_change', targetId: target.id, description: 'Back up.', priority: 'HIGH' });
    const { runId } = await requestBackup(dba.id, { requestId });
    await runJob(handlerFor('backup'), { runId });
    const artifact = await getDb().artifact.findFirstOrThrow({ where: { runId } });
    const onDisk = readFileSync(path.join(artifacts.dir, ...artifact.storeKey.split('/')));
    expect(createHash('sha256').update(onDisk).digest('hex')).toBe(artifact.sha256);

    session.userId = engineer.id;
    const refused = await call(artifact.id);
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toMatch(/json/);
    expect(refused.headers.get('content-disposition')).toBeNull();
    const refusal = await refused.text();
    expect(refusal).toMatch(/Only holders of database-administrator \(or admins\) can download this backup/);
    expect(refusal).not.toContain(artifact.storeKey);
    expect(refusal).not.toContain(artifact.sha256);
    expect(await audits(artifact.id)).toBe(0);

    session.userId = dba.id;
    const res = await call(artifact.id);
    expect(res.status).toBe(200);
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(createHash('sha256').update(bytes).digest('hex')).toBe(artifact.sha256);
    expect(bytes.length).toBe(Number(artifact.sizeBytes));
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    expect(res.headers.get('content-length')).toBe(String(artifact.sizeBytes));
    // The same name the restore script expects by default.
    const script = await getRestoreScript(await loadActor(getDb(), dba.id), { id: artifact.id, format: 'script' });
    const fileName = /^attachment; filename="([^"]+)"$/.exec(res.headers.get('content-disposition') ?? '')?.[1];
    expect(fileName).toMatch(/^notes-shop-\d{8}-\d{6}\.dump$/);
    expect(script.body).toContain(`BACKUP_FILE="\${1:-${fileName}}"`);
    expect(await audits(artifact.id)).toBe(1);
    const audit = await getDb().auditLog.findFirstOrThrow({ where: { action: 'backup.downloaded', entityId: artifact.id } });
    expect(audit).toMatchObject({ actorId: dba.id, requestId });

    session.userId = admin.id;
    expect((await call(artifact.id)).status).toBe(200);
    expect((await call(runId)).status).toBe(404); // a run's id: no backup
  }, 60_000);
});
