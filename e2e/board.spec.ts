import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';

test('the lead’s board lists open requests with on whom they wait, draws its charts, and My tasks speaks to a lead', async ({ page, context }) => {
  const author = await factory.createUser({ name: 'Board Author' });
  const lead = await factory.createUser({ name: 'Board Lead', roles: ['lead'] });
  const title = `Board spec ${Date.now()}`;
  const request = await factory.fileRequest(author, { title });

  await signIn(context, lead);
  await page.goto('/overview');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Deployment board');
  await expect(page.getByTestId('needs-me')).toBeVisible();
  // Open requests are on the board (the old overview left them out), with the step and the role they wait on.
  const row = page.getByTestId('open-request').filter({ hasText: title });
  await expect(row).toHaveAttribute('data-status', 'open');
  await expect(row).toContainText('1. Analyze database change');
  await expect(row.getByTestId('waits-on')).toContainText('database-optimizer');
  await expect(row.getByTestId('step-timeline')).toHaveText('not started');
  await row.getByRole('link', { name: new RegExp(title) }).click();
  await expect(page).toHaveURL(new RegExp(`/requests/${request.id}$`));

  // The charts, drawn with recharts, with their figures as tables for screen readers.
  await page.goto('/overview');
  for (const id of ['time-per-step', 'deploys', 'age']) {
    const chart = page.getByTestId(`chart-${id}`);
    await expect(chart.locator('svg.recharts-surface').first()).toBeVisible();
  }
  await expect(page.getByTestId('chart-age').locator('table')).toContainText('< 1 day');
  await expect(page.getByTestId('board-refresh')).toBeVisible();

  // A lead's My tasks lists approvals, not "you lack an agent role".
  await page.goto('/tasks');
  await expect(page.getByText('You hold no agent role yet')).toHaveCount(0);
  await expect(page.getByTestId('tasks-approvals')).toBeVisible();
});

test('the board is for leads and admins', async ({ page, context }) => {
  const engineer = await factory.createUser({ name: 'Board Engineer' });
  await signIn(context, engineer);
  await page.goto('/overview');
  await expect(page.getByText('The overview is for leads and admins.')).toBeVisible();
  await expect(page.getByTestId('needs-me')).toHaveCount(0);
});
