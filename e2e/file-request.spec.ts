import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { PROCEDURE_SUBJECTS, requestCount } from './support/request-page';

test('an engineer files a request against the demo target and gets the nine-step workflow', async ({ page, context }) => {
  const engineer = await factory.createUser({ name: 'Filing Engineer', roles: ['engineer'] });
  await signIn(context, engineer);
  const title = `Add loyalty points ${Date.now()}`;

  await page.goto('/requests/new');
  await page.getByLabel('Title').fill(title);
  await page.getByLabel('Kind of change').selectOption({ label: 'Adding/removing tables or columns' });
  await page.getByLabel('Target database').selectOption({ label: 'Demo shop (local)' });
  await page.getByLabel('Desired change').fill('Add customers.loyalty_points integer NOT NULL DEFAULT 0.');
  await page.getByRole('button', { name: 'File request' }).click();

  await expect(page).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(title);
  await expect(page.locator('dl')).toContainText('Target: Demo shop');

  const steps = page.getByTestId('timeline-step');
  await expect(steps).toHaveCount(9);
  await expect(steps).toContainText(PROCEDURE_SUBJECTS);
  await expect(steps.first()).toHaveAttribute('data-status', 'pending');

  const filed = page.getByTestId('audit-log').getByRole('listitem').filter({ hasText: 'request.filed' });
  await expect(filed).toHaveCount(1);
  await expect(filed).toContainText(`by ${engineer.name}`);
  await expect(filed).toContainText(`title: ${title}`);

  // The list counts it among the engineer's own (the count the validation spec relies on).
  expect(await requestCount(page, { mine: true })).toBe(1);
});
