import { expect, test } from '@playwright/test';
import { admin } from './support/auth';
import { factory } from './support/factories';

test.describe('signing in and out', () => {
  test('a wrong password is refused with a message and no session', async ({ page }) => {
    const engineer = await factory.createUser({ name: 'Signin Engineer' });
    await page.goto('/signin');
    await page.getByLabel('Email').fill(engineer.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect(page.getByText('Email or password is wrong, or the account is inactive.')).toBeVisible();
    await expect(page).toHaveURL(/\/signin$/);
    await page.goto('/requests');
    await expect(page).toHaveURL(/\/signin/);
  });

  test('the right password lands on /requests, and signing out ends the session', async ({ page }) => {
    const engineer = await factory.createUser({ name: 'Signin Engineer' });
    await page.goto('/signin');
    await page.getByLabel('Email').fill(engineer.email);
    await page.getByLabel('Password').fill(engineer.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect(page).toHaveURL(/\/requests$/);
    await expect(page.getByRole('heading', { name: 'Migration requests' })).toBeVisible();
    await expect(page.getByTestId('viewer-name')).toHaveText(engineer.name);

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/signin/);
    await page.goto('/requests');
    await expect(page).toHaveURL(/\/signin/);
    await expect(page.getByTestId('viewer-name')).toHaveCount(0);
  });

  test('the first admin seeded from CUTOVER_ADMIN_EMAIL/PASSWORD can sign in', async ({ page }) => {
    await page.goto('/signin');
    await page.getByLabel('Email').fill(admin.email);
    await page.getByLabel('Password').fill(admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();

    await expect(page).toHaveURL(/\/requests$/);
    await expect(page.getByTestId('viewer-name')).toHaveText(admin.name);
    await expect(page.getByRole('link', { name: 'Targets' })).toBeVisible();
  });
});
