import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { requestPath } from './support/request-page';

test('pages name themselves in the tab, and a missing page offers a way back', async ({ page, context }) => {
  const engineer = await factory.createUser({ name: 'Title Engineer' });
  const request = await factory.fileRequest(engineer, { title: 'Add loyalty points' });
  await signIn(context, engineer);

  await page.goto('/requests');
  await expect(page).toHaveTitle('Requests · Cutover');
  await page.goto('/requests/new');
  await expect(page).toHaveTitle('File a request · Cutover');
  await page.goto(requestPath(request));
  await expect(page).toHaveTitle(`#${request.number} Add loyalty points · Cutover`);

  // The title limit is enforced in the input, and long text shows how much is left.
  await page.goto('/requests/new');
  await expect(page.getByLabel('Title')).toHaveAttribute('maxlength', '200');
  await page.getByLabel('Desired change').fill('Twelve chars');
  await expect(page.getByTestId('counter')).toHaveText('12 / 10,000 characters');

  for (const path of ['/requests/00000000-0000-4000-8000-000000000000', '/no-such-page']) {
    await page.goto(path);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('This page does not exist');
    await page.getByRole('link', { name: 'Back to the requests' }).click();
    await expect(page).toHaveURL(/\/requests$/);
  }
});
