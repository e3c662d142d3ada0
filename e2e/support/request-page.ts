import type { Page } from '@playwright/test';

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

export const requestPath = (request: { id: string }) => `/requests/${request.id}`;

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
