import 'server-only';
import { getDb } from '../db/client';
import { DomainError } from '../domain/errors';
import { ALLOWED_EXTENSIONS_SETTING, DEFAULT_ALLOWED_EXTENSIONS, FENCE_KIND_LABELS, allowedExtensionsFrom } from '../domain/fence';
import { isAdmin, type Actor } from '../domain/permissions';

/** The SQL fence's app-wide settings as the admin page shows them. */
export async function getFenceSettings(actor: Actor) {
  if (!isAdmin(actor)) throw new DomainError('forbidden', 'Settings are managed by admins.');
  const row = await getDb().appSetting.findUnique({ where: { key: ALLOWED_EXTENSIONS_SETTING }, select: { value: true, updatedAt: true } });
  return {
    allowedExtensions: allowedExtensionsFrom(row?.value),
    defaults: [...DEFAULT_ALLOWED_EXTENSIONS],
    updatedAt: row?.updatedAt ?? null,
    kinds: Object.entries(FENCE_KIND_LABELS).map(([id, label]) => ({ id, label })),
  };
}
export type FenceSettingsView = Awaited<ReturnType<typeof getFenceSettings>>;
