import { expect, test, type Page, type Response } from '@playwright/test';
import { admin, signIn } from './support/auth';
import { factory } from './support/factories';

const target = (page: Page, name: string) => page.getByTestId('target').filter({ has: page.getByText(name, { exact: true }) });

/** Collects the text of every response the app sends, to check none carries a secret. */
function recordResponses(page: Page): () => Promise<string[]> {
  const bodies: Promise<string>[] = [];
  page.on('response', (res: Response) => {
    if (!res.url().includes('/_next/static/')) bodies.push(res.text().catch(() => ''));
  });
  return () => Promise.all(bodies);
}

test.describe('target databases', () => {
  test('an admin tests the demo target, registers an unreachable one and gets a clear error; passwords never come back', async ({
    page,
    context,
  }) => {
    const password = `pw-${Date.now()}-never-shown`;
    const name = `Unreachable ${Date.now()}`;
    const responses = recordResponses(page);
    await signIn(context, admin);
    await page.goto('/admin/targets');

    const demo = target(page, 'Demo shop');
    await demo.getByRole('button', { name: 'Test connection' }).click();
    await expect(demo.getByTestId('connection-result')).toHaveText(/^Connected: PostgreSQL 15\.\d+.* \(\d+ ms\)$/);

    const form = page.locator('section').filter({ has: page.getByRole('heading', { name: 'Register a target' }) });
    await form.getByLabel('Name').fill(name);
    await form.getByLabel('Environment').selectOption('staging');
    await form.getByLabel('Host').fill('127.0.0.1');
    await form.getByLabel('Port').fill('1');
    await form.getByLabel('Database').fill('nowhere');
    await form.getByLabel('User').fill('app');
    await form.getByLabel('Password').fill(password);
    await form.getByRole('button', { name: 'Register target' }).click();
    await expect(form.getByText('Target registered.')).toBeVisible();

    const unreachable = target(page, name);
    await expect(unreachable).toContainText('app@127.0.0.1:1/nowhere · ssl disable · password set');
    const started = Date.now();
    await unreachable.getByRole('button', { name: 'Test connection' }).click();
    await expect(unreachable.getByTestId('connection-result')).toHaveText(
      'Connection refused by 127.0.0.1:1: no server is listening there.',
      { timeout: 10_000 },
    );
    expect(Date.now() - started).toBeLessThan(10_000);

    // Neither the page, the edit form nor anything the server sent holds the password.
    await unreachable.getByRole('button', { name: 'Edit' }).click();
    await expect(unreachable.getByText('Leave empty to keep the stored password.')).toBeVisible();
    await expect(unreachable.getByLabel('Password')).toHaveValue('');
    await expect(form.getByLabel('Password')).toHaveValue('');
    await page.reload();
    await expect(target(page, name)).toBeVisible();
    expect(await page.content()).not.toContain(password);
    for (const body of await responses()) expect(body).not.toContain(password);
  });

  test('someone who is not an admin is refused the targets page', async ({ page, context }) => {
    const lead = await factory.createUser({ name: 'Lead', roles: ['lead', 'engineer', 'reviewer'] });
    await signIn(context, lead);
    await page.goto('/admin/targets');
    await expect(page.getByRole('alert').filter({ hasText: 'Target databases are managed by admins.' })).toBeVisible();
    await expect(page.getByTestId('target')).toHaveCount(0);
    await expect(page.getByRole('button', { name: 'Test connection' })).toHaveCount(0);
  });
});
