import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDb } from '@/lib/db/client';
import { getMigrationStatusBoard } from '@/lib/data/migration-status';
import { getRequestDetail, listRequests } from '@/lib/data/requests';
import { getMigrationPanel, getSnapshotPanel } from '@/lib/data/runs';
import { listMyTasks } from '@/lib/data/tasks';
import { NO_ROLE_MESSAGE } from '@/lib/domain/permissions';
import { tarGz } from '@/lib/engine/archive';
import { fileRequest } from '@/lib/services/file-request';
import { importMigrationFolder } from '@/lib/services/migration-status';
import { exportMigrationFolder } from '@/lib/services/migration-revisions';
import { ListRequestsSchema } from '@/lib/validation/request';
import { makeUser, openTestAppStore } from '../support/app-store';

let store: Awaited<ReturnType<typeof openTestAppStore>>;
type U = Awaited<ReturnType<typeof makeUser>>;
let admin: U, engineer: U, agentOnly: U, nobody: U;
let requestId: string;
let folderId: string;
const HOST = 'pg-17.corp.example.net';
const ERROR = `connection to server at "${HOST}" (10.20.30.40), port 6432 failed: Connection refused`;

beforeAll(async () => {
  store = await openTestAppStore();
  admin = await makeUser({ roles: ['admin', 'engineer'], name: 'Ada Admin' });
  engineer = await makeUser({ roles: ['engineer'] });
  agentOnly = await makeUser({ roles: [], agentRoles: ['test-automator'] });
  nobody = await makeUser({ roles: [], agentRoles: [] });
  const target = await getDb().targetDatabase.create({
    data: { name: 'Billing staging', environment: 'staging', host: HOST, port: 6432, database: 'billing', username: 'cutover' },
  });
  requestId = (await fileRequest(engineer.id, { title: 'Gated title', kind: 'schema_change', targetId: target.id, description: 'Readable by role holders only.', priority: 'HIGH' })).id;
  await getDb().migrationRevision.create({
    data: { requestId, revision: 1, name: 'gated', upSql: 'SELECT 1;\n', downSql: 'SELECT 2;\n', checksum: 'x', createdById: engineer.id },
  });
  const run = (kind: 'snapshot' | 'rehearsal' | 'apply', result: object = {}) =>
    getDb().run.create({ data: { kind, status: 'failed', targetId: target.id, requestId, requestedById: engineer.id, error: ERROR, result } });
  await run('snapshot');
  await run('rehearsal', { log: [`connecting to ${HOST}:6432`], phases: [{ phase: 'copy', label: 'Copy', status: 'failed', durationMs: 1, detail: `pg_dump: error: ${ERROR}` }] });
  const apply = await run('apply');
  await getDb().auditLog.create({ data: { requestId, action: 'run.failed', entityType: 'Run', entityId: apply.id, after: { kind: 'apply', error: ERROR } } });
  folderId = (await importMigrationFolder(admin.id, {
    fileName: 'm.tar.gz', bytes: tarGz([{ path: 'prisma/migrations/20240101000000_init/migration.sql', content: 'SELECT 1;\n' }]),
  })).id;
  await getDb().run.create({ data: { kind: 'status', status: 'failed', targetId: target.id, folderId, requestedById: admin.id, error: ERROR } });
});
afterAll(() => store.close());

const reads = (who: U) => ({
  listRequests: () => listRequests(who, ListRequestsSchema.parse({})),
  getRequestDetail: () => getRequestDetail(who, requestId),
  getSnapshotPanel: () => getSnapshotPanel(who, requestId),
  getMigrationPanel: () => getMigrationPanel(who, requestId),
  getMigrationStatusBoard: () => getMigrationStatusBoard(who, folderId),
  listMyTasks: () => listMyTasks(who),
  exportMigrationFolder: () => exportMigrationFolder(who.id, { requestId }),
});

describe('reads need a role', () => {
  it.each(Object.keys(reads(null as unknown as U)))('%s refuses an account with no role, with the explanation', async (name) => {
    const read = reads(nobody)[name as keyof ReturnType<typeof reads>];
    await expect(read()).rejects.toMatchObject({ code: 'forbidden', message: NO_ROLE_MESSAGE });
  });

  it('a person role or an agent role is enough', async () => {
    for (const who of [engineer, agentOnly]) {
      expect((await reads(who).listRequests()).rows.map((r) => r.title)).toContain('Gated title');
      expect((await reads(who).getRequestDetail()).audit.length).toBeGreaterThan(0);
      expect((await reads(who).getMigrationPanel()).latest?.upSql).toBe('SELECT 1;\n');
      expect((await reads(who).exportMigrationFolder()).files.length).toBeGreaterThan(0);
    }
  });
});

describe('stored run errors and the target address', () => {
  it('people who may not manage targets see the target name instead of host, IP and port', async () => {
    const snapshot = await getSnapshotPanel(engineer, requestId);
    const panel = await getMigrationPanel(engineer, requestId);
    const board = await getMigrationStatusBoard(engineer, folderId);
    const expected = 'connection to server at "Billing staging" (Billing staging) failed: Connection refused';
    expect(snapshot?.error).toBe(expected);
    expect(panel.rehearsal?.error).toBe(expected);
    expect(panel.lastChange?.error).toBe(expected);
    expect(panel.rehearsal?.log).toEqual(['connecting to Billing staging']);
    expect(panel.rehearsal?.phases[0].detail).toBe(`pg_dump: error: ${expected}`);
    expect(board.targets?.find((t) => t.name === 'Billing staging')?.check?.error).toBe(expected);
    const detail = await getRequestDetail(engineer, requestId);
    expect(detail.audit.find((a) => a.action === 'run.failed')?.after).toEqual({ kind: 'apply', error: expected });
    const everything = JSON.stringify([snapshot, panel, board, detail]);
    for (const secret of [HOST, '10.20.30.40', '6432']) expect(everything).not.toContain(secret);
  });

  it('admins, who manage targets, see the error as recorded', async () => {
    expect((await getSnapshotPanel(admin, requestId))?.error).toBe(ERROR);
    expect((await getMigrationPanel(admin, requestId)).rehearsal?.log).toEqual([`connecting to ${HOST}:6432`]);
    expect((await getRequestDetail(admin, requestId)).audit.find((a) => a.action === 'run.failed')?.after).toEqual({ kind: 'apply', error: ERROR });
  });
});
