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

  test('after sign-in, callbackUrl leads only to paths on this site', async ({ page, baseURL }) => {
    const engineer = await factory.createUser({ name: 'Callback Engineer' });
    const origin = new URL(baseURL!).origin;
    for (const [callbackUrl, landing] of [
      ['/\\evil.example', '/requests'],
      ['//evil.example', '/requests'],
      ['https://evil.example', '/requests'],
      ['/%5Cevil.example', '/requests'],
      ['javascript:alert(1)', '/requests'],
      ['/tasks', '/tasks'],
    ]) {
      await page.context().clearCookies();
      await page.goto(`/signin?callbackUrl=${encodeURIComponent(callbackUrl)}`);
      await page.getByLabel('Email').fill(engineer.email);
      await page.getByLabel('Password').fill(engineer.password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page, `callbackUrl ${callbackUrl}`).toHaveURL(`${origin}${landing}`);
    }
  });

  test('after 10 failures an account is refused for 15 minutes, with a message that says so', async ({ page }) => {
    const engineer = await factory.createUser({ name: 'Limited Engineer' });
    const { csrfToken } = (await (await page.request.get('/api/auth/csrf')).json()) as { csrfToken: string };
    for (let i = 0; i < 10; i++) {
      await page.request.post('/api/auth/callback/credentials', { form: { csrfToken, email: engineer.email, password: `wrong-${i}`, json: 'true' } });
    }
    await page.goto('/signin');
    await page.getByLabel('Email').fill(engineer.email);
    await page.getByLabel('Password').fill(engineer.password); // even the right one, until the window passes
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByText('Too many attempts; try again in 15 minutes.')).toBeVisible();
    await page.goto('/requests');
    await expect(page).toHaveURL(/\/signin/);
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
