import { expect, test, type Page } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { requestCount } from './support/request-page';

const FIELD_ERRORS = {
  'error-title': 'The title needs at least 3 characters.',
  'error-kind': 'Choose what kind of change this is.',
  'error-targetId': 'Choose a target database.',
  'error-description': 'Describe the desired change in at least 10 characters.',
};

async function expectFieldErrors(page: Page) {
  for (const [testId, message] of Object.entries(FIELD_ERRORS)) await expect(page.getByTestId(testId)).toHaveText(message);
  await expect(page.getByLabel('Title')).toHaveAttribute('aria-invalid', 'true');
  // The id is unique per form (useId): what matters is that it names the element holding the error.
  const describedBy = await page.getByLabel('Title').getAttribute('aria-describedby');
  expect(describedBy).toMatch(/^field-title-.+-error$/);
  await expect(page.locator(`[id="${describedBy}"]`)).toHaveText(FIELD_ERRORS['error-title']);
}

test.describe('filing a request with bad input', () => {
  test('the empty form shows an error per field and files nothing', async ({ page, context }) => {
    const engineer = await factory.createUser({ name: 'Careless Engineer' });
    await signIn(context, engineer);
    const before = await requestCount(page, { mine: true });

    await page.goto('/requests/new');
    await page.getByRole('button', { name: 'File request' }).click();

    await expectFieldErrors(page);
    await expect(page.getByText('Some fields need attention.')).toBeVisible();
    await expect(page).toHaveURL(/\/requests\/new$/);
    expect(await requestCount(page, { mine: true })).toBe(before);
    expect(before).toBe(0);
  });

  test('without JavaScript the server validates: field errors, nothing filed', async ({ browser, page, context }) => {
    const engineer = await factory.createUser({ name: 'No-JS Engineer' });
    await signIn(context, engineer);
    const before = await requestCount(page, { mine: true });

    const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await context.storageState() });
    try {
      const plain = await noJs.newPage();
      await plain.goto('/requests/new');
      // A description that passes the length check, so the server is seen judging each field on its own.
      await plain.getByLabel('Title').fill('ab');
      await plain.getByLabel('Desired change').fill('Drop the unused legacy_notes column.');
      await plain.getByRole('button', { name: 'File request' }).click();
      await plain.waitForLoadState();

      await expect(plain.getByTestId('error-title')).toHaveText(FIELD_ERRORS['error-title']);
      await expect(plain.getByTestId('error-kind')).toHaveText(FIELD_ERRORS['error-kind']);
      await expect(plain.getByTestId('error-targetId')).toHaveText(FIELD_ERRORS['error-targetId']);
      await expect(plain.getByTestId('error-description')).toHaveCount(0);
      // What was typed comes back, so nothing is lost.
      await expect(plain.getByLabel('Desired change')).toHaveValue('Drop the unused legacy_notes column.');

      await plain.getByLabel('Title').fill('');
      await plain.getByLabel('Desired change').fill('');
      await plain.getByRole('button', { name: 'File request' }).click();
      await plain.waitForLoadState();
      await expectFieldErrors(plain);
    } finally {
      await noJs.close();
    }
    expect(await requestCount(page, { mine: true })).toBe(before);
    expect(before).toBe(0);
  });
});
