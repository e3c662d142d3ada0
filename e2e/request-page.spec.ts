import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { PROCEDURE_SUBJECTS, taskCard } from './support/request-page';

/**
 * The request page is built around the step at hand: the stepper is the navigation, one step is
 * open (the current one, or the viewer's own), the others are one line each, the summary says
 * what the request waits for and on whom, and /requests/ID/steps/KEY deep-links to a step.
 */
test('opens the step at hand, says on whom the request waits, and deep-links to every step', async ({ page, context }) => {
  const author = await factory.createUser({ name: 'Page Author' });
  const optimizer = await factory.createUser({ name: 'Page Optimizer', roles: ['engineer'], agentRoles: ['database-optimizer'] });
  const dba = await factory.createUser({ name: 'Page DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  const request = await factory.fileRequest(author, { title: 'Request page spec' });

  // A DBA lands on their own step (Create migration), not on the analysis they cannot work.
  await signIn(context, dba);
  await page.goto(`/requests/${request.id}`);
  const steps = page.getByTestId('timeline-step');
  await expect(steps).toHaveCount(9);
  await expect(steps).toContainText(PROCEDURE_SUBJECTS);
  await expect(page.locator('[data-testid="timeline-step"][data-open="true"]')).toContainText('Create migration');
  await expect(page.getByTestId('task-card')).toHaveCount(1);
  await expect(taskCard(page, 'Create migration')).toBeVisible();
  await expect(page.getByTestId('migration-editor')).toBeVisible();
  // The summary: the analysis has not started, and who could take it.
  const summary = page.getByTestId('request-summary');
  await expect(summary).toContainText('Waits to start: Analyze database change.');
  await expect(summary).toContainText('On database-optimizer or postgres-pro (any of');
  await summary.getByRole('link', { name: 'Go to the step' }).click();
  await expect(page).toHaveURL(new RegExp(`/requests/${request.id}/steps/analysis$`));
  await expect(page).toHaveTitle(/: Analyze database change · Cutover$/);
  await expect(page.getByRole('link', { name: /Analyze database change/, exact: false }).first()).toHaveAttribute('aria-current', 'step');
  await expect(taskCard(page, 'Analyze database change').getByTestId('task-refusal')).toBeVisible();

  // Every step has a deep link; an unknown step is not found.
  await steps.filter({ hasText: 'Create backup' }).getByRole('link').click();
  await expect(page).toHaveURL(new RegExp(`/requests/${request.id}/steps/create-backup$`));
  await expect(page.getByTestId('backup-panel')).toBeVisible();
  expect((await page.goto(`/requests/${request.id}/steps/no-such-step`))?.status()).toBe(404);

  // The optimizer blocks the analysis with a reason: the summary says so, on the optimizer.
  const optimizerContext = await page.context().browser()!.newContext();
  const optimizerPage = await optimizerContext.newPage();
  await signIn(optimizerContext, optimizer);
  await optimizerPage.goto(`/requests/${request.id}`);
  const card = taskCard(optimizerPage, 'Analyze database change');
  await card.getByRole('button', { name: 'Start' }).click();
  await expect(card).toHaveAttribute('data-status', 'in_progress');
  await card.getByRole('button', { name: 'Block…' }).click();
  await card.getByPlaceholder('Why is it blocked?').fill('the orders team has not agreed yet');
  await card.getByRole('button', { name: 'Mark blocked' }).click();
  await expect(card).toHaveAttribute('data-status', 'blocked');
  await expect(optimizerPage.getByTestId('request-summary')).toHaveText(
    `Blocked at Analyze database change: the orders team has not agreed yet. On database-optimizer or postgres-pro (${optimizer.name}).`,
  );
  await optimizerContext.close();

  // The audit log filters by action and pages.
  await page.goto(`/requests/${request.id}`);
  const audit = page.getByTestId('audit-log');
  await expect(audit.getByRole('listitem')).toHaveCount(3);
  await page.getByLabel('Show').selectOption('task.');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/audit=task\./);
  await expect(audit.getByRole('listitem')).toHaveCount(2);
  await expect(audit).not.toContainText('request.filed');

  // "Show all steps" stacks every step, for those who want the long page.
  await page.getByRole('link', { name: 'Show all steps' }).click();
  await expect(page.getByTestId('task-card')).toHaveCount(8);
});
