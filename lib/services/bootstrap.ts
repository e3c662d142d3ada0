import { randomBytes } from 'node:crypto';
import { getDb } from '../db/client';
import { secretKey } from '../db/settings';
import { CURRENT_TEMPLATE, type WorkflowTemplateDefinition } from '../domain/procedure';
import type { PgTargetSettings } from '../engine/connection';
import { encryptSecret } from '../engine/secrets';
import type { InputJsonValue } from '../generated/prisma/internal/prismaNamespace';
import { recordAudit } from './audit';
import { hashPassword } from './manage-users';

/** Stores the template version this build ships; earlier versions stay for the workflows made from them. */
export async function ensureTemplate(template: WorkflowTemplateDefinition = CURRENT_TEMPLATE) {
  const db = getDb();
  await db.workflowTemplate.upsert({
    where: { key_version: { key: template.key, version: template.version } },
    create: { key: template.key, version: template.version, name: template.name, definition: template as unknown as InputJsonValue },
    update: {},
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
  const passwordHash = await hashPassword(password);
  await db.$transaction(async (tx) => {
    const user = await tx.user.create({
      data: { email, name: 'Administrator', passwordHash, roles: ['admin', 'engineer', 'lead'], agentRoles: [] },
    });
    await recordAudit(tx, {
      actorId: null, action: 'user.created', entityType: 'User', entityId: user.id,
      after: { email, roles: user.roles, by: 'first start' },
    });
  });
  return { email, password };
}

export const DEMO_TARGET_NAME = 'Demo shop';

/** Registers the demo shop database as a target (once). */
export async function ensureDemoTarget(settings: PgTargetSettings): Promise<boolean> {
  const db = getDb();
  if (await db.targetDatabase.findUnique({ where: { name: DEMO_TARGET_NAME } })) return false;
  await db.$transaction(async (tx) => {
    const target = await tx.targetDatabase.create({
      data: {
        name: DEMO_TARGET_NAME, engine: 'postgresql', environment: 'local', host: settings.host, port: settings.port,
        database: settings.database, username: settings.username, sslMode: settings.sslMode,
        connectTimeoutMs: settings.connectTimeoutMs,
        passwordEncrypted: settings.password ? encryptSecret(settings.password, secretKey()) : null,
      },
    });
    await recordAudit(tx, {
      actorId: null, action: 'target.created', entityType: 'TargetDatabase', entityId: target.id,
      after: { name: target.name, environment: target.environment, database: target.database, by: 'first start' },
    });
  });
  return true;
}
