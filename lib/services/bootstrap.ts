import { randomBytes } from 'node:crypto';
import { Client } from 'pg';
import { getDb, type Tx } from '../db/client';
import { secretKey } from '../db/settings';
import { CURRENT_TEMPLATE, type WorkflowTemplateDefinition } from '../domain/procedure';
import { createDemoShop, ensureDemoOwner, decryptSecret, encryptSecret } from '../engine';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { recordAudit } from './audit';
import { hashPassword } from './manage-users';

/**
 * Start-up steps take this transaction-scoped advisory lock ("CU", 2), so several instances
 * starting together on one empty store seed it once: the second waits, then finds it done.
 */
async function lockBootstrap(tx: Tx) {
  await tx.$executeRaw`SELECT pg_advisory_xact_lock(21845::int, 2::int)`;
}

/** Stores the template version this build ships; earlier versions stay for the workflows made from them. */
export async function ensureTemplate(template: WorkflowTemplateDefinition = CURRENT_TEMPLATE) {
  await getDb().$transaction(async (tx) => {
    await lockBootstrap(tx);
    const found = await tx.workflowTemplate.findUnique({ where: { key_version: { key: template.key, version: template.version } }, select: { id: true } });
    if (found) return;
    await tx.workflowTemplate.create({
      data: { key: template.key, version: template.version, name: template.name, definition: template as unknown as InputJsonValue },
    });
  });
}

export interface FirstAdmin {
  email: string;
  password: string;
}

/** Creates the first admin when the store has no users; returns the credentials only when it did. */
export async function ensureFirstAdmin(preset: Partial<FirstAdmin>): Promise<FirstAdmin | null> {
  const db = getDb();
  if ((await db.user.count()) > 0) return null;
  const email = (preset.email ?? 'admin@cutover.local').toLowerCase();
  const password = preset.password ?? randomBytes(12).toString('base64url');
  const passwordHash = await hashPassword(password); // outside the transaction: ~200 ms of CPU
  return db.$transaction(async (tx) => {
    await lockBootstrap(tx);
    // Another instance may have created it while we hashed: then it printed the password, not us.
    if ((await tx.user.count()) > 0) return null;
    const user = await tx.user.create({
      data: { email, name: 'Administrator', passwordHash, roles: ['admin', 'engineer', 'lead'], agentRoles: [] },
    });
    await recordAudit(tx, {
      actorId: null, action: 'user.created', entityType: 'User', entityId: user.id,
      after: { email, roles: user.roles, by: 'first start' },
    });
    return { email, password };
  });
}

export const DEMO_TARGET_NAME = 'Demo shop';

/**
 * The demo target, safe when instances start together: its database gets its own login role
 * (no superuser, owner of the demo database only; a random password kept encrypted in the
 * target), the shop is built as that role, and the target is registered once. The app store's
 * credentials are used here only to create the role, never by the target.
 * `demoAdminUrl`: the demo database, as a role that may create roles.
 */
export async function ensureDemo(demoAdminUrl: string): Promise<{ registered: boolean }> {
  const url = new URL(demoAdminUrl);
  const database = decodeURIComponent(url.pathname.slice(1));
  const role = `${database}_owner`.slice(0, 63);
  const ownerUrl = (password: string) => {
    const u = new URL(demoAdminUrl);
    u.username = encodeURIComponent(role);
    u.password = encodeURIComponent(password);
    return u.toString();
  };
  const canSignIn = async (password: string) => {
    const c = new Client({ connectionString: ownerUrl(password), connectionTimeoutMillis: 5000 });
    c.on('error', () => undefined);
    try {
      await c.connect();
      return true;
    } catch {
      return false;
    } finally {
      await c.end().catch(() => undefined);
    }
  };

  const admin = new Client({ connectionString: demoAdminUrl, application_name: 'cutover-start' });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query('SELECT pg_advisory_lock(21845, 3)'); // released with the session
    const db = getDb();
    const existing = await db.targetDatabase.findUnique({ where: { name: DEMO_TARGET_NAME } });
    const sameDatabase = !existing || (existing.host === url.hostname && existing.port === Number(url.port || 5432) && existing.database === database);
    if (!sameDatabase) return { registered: false }; // an admin pointed "Demo shop" elsewhere: theirs now
    const known = existing?.username === role && existing.passwordEncrypted ? decryptSecret(existing.passwordEncrypted, secretKey()) : null;
    const { password, changed } = await ensureDemoOwner(admin, { role, knownPassword: known, canSignIn });

    const owner = new Client({ connectionString: ownerUrl(password), application_name: 'cutover-start' });
    owner.on('error', () => undefined);
    await owner.connect();
    await createDemoShop(owner).finally(() => owner.end().catch(() => undefined));

    if (existing && !changed && existing.username === role) return { registered: false };
    await db.$transaction(async (tx) => {
      const data = {
        engine: 'postgresql' as const, environment: 'local' as const, host: url.hostname, port: Number(url.port || 5432), database,
        username: role, sslMode: 'disable', connectTimeoutMs: 5000, passwordEncrypted: encryptSecret(password, secretKey()),
      };
      const target = existing
        ? await tx.targetDatabase.update({ where: { id: existing.id }, data })
        : await tx.targetDatabase.create({ data: { name: DEMO_TARGET_NAME, ...data } });
      await recordAudit(tx, {
        actorId: null, action: existing ? 'target.updated' : 'target.created', entityType: 'TargetDatabase', entityId: target.id,
        before: existing ? { username: existing.username, hasPassword: existing.passwordEncrypted !== null } : null,
        after: { name: target.name, environment: target.environment, database: target.database, username: role, hasPassword: true, by: 'start-up' },
      });
    });
    return { registered: !existing };
  } finally {
    await admin.end().catch(() => undefined);
  }
}
