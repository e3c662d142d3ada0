import type { BrowserContext, Locator, Page } from '@playwright/test';
import { signIn } from './auth';
import { factory } from './factories';

/** The steps of the DATABASE MIGRATION procedure, in order (docs/procedure/database-migration.md). */
export const PROCEDURE_SUBJECTS = [
  'Analyze database change',
  'Create migration',
  'Test migration locally',
  'Update app code',
  'Test app with new schema',
  'Create backup',
  'Pass quality gate',
  'Deploy migration',
  'Run post-deployment checks',
];

/**
 * Every step open at once (`?view=all`): these specs work several steps' panels on one page. The
 * default view opens one step; e2e/request-page.spec.ts covers it and the deep links.
 */
export const requestPath = (request: { id: string }) => `/requests/${request.id}?view=all`;

export const taskCard = (page: Page, subject: string) => page.locator(`[data-testid="task-card"][data-subject="${subject}"]`);

export const gatePanel = (page: Page) => page.getByTestId('gate-panel');

export const gateItem = (page: Page, label: string) => page.getByTestId('gate-item').filter({ hasText: label });

/**
 * "N requests" under the list's title, as a person sees it. `mine` narrows it to what the
 * signed-in person filed or works, which other specs (on other workers) cannot change.
 */
export async function requestCount(page: Page, { mine = false } = {}): Promise<number> {
  await page.goto(mine ? '/requests?mine=true' : '/requests');
  const sub = await page.getByText(/^\d+ requests?$/).textContent();
  return Number(sub!.split(' ')[0]);
}

/**
 * The usual start of a migration spec: a request filed by a fresh author, opened by a fresh
 * database-administrator (`label` names both, e.g. "Apply Author" and "Apply DBA").
 */
export async function openRequestAsDba(page: Page, context: BrowserContext, label: string) {
  const author = await factory.createUser({ name: `${label} Author` });
  const dba = await factory.createUser({ name: `${label} DBA`, roles: ['engineer'], agentRoles: ['database-administrator'] });
  const request = await factory.fileRequest(author);
  await signIn(context, dba);
  await page.goto(requestPath(request));
  return { author, dba, request, editor: page.getByTestId('migration-editor') };
}

/** Types a migration into the editor and saves it (what comes back is the spec's to check). */
export async function saveTypedMigration(editor: Locator, migration: { name: string; up: string; down: string }) {
  await editor.getByLabel('Name (Prisma folder: <timestamp>_<name>)').fill(migration.name);
  await editor.getByLabel('Up: migration.sql').fill(migration.up);
  await editor.getByLabel('Down: down.sql').fill(migration.down);
  await editor.getByRole('button', { name: 'Save revision' }).click();
}
