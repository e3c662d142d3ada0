import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { ADMIN_EMAIL } from './support/env';
import { requestPath } from './support/request-page';

const EXPLANATION = 'Your account has no role yet; ask an admin to give you one on the People page.';

test('an account with no role sees the explanation page, never the requests, in the app or the API', async ({ context, page }) => {
  const author = await factory.createUser({ name: 'Roles Author' });
  const newcomer = await factory.createUser({ name: 'Newcomer', roles: [], agentRoles: [] });
  const request = await factory.fileRequest(author, { title: 'Secret roadmap column for no-role spec' });

  await signIn(context, newcomer);
  for (const path of ['/requests', requestPath(request), '/tasks', '/migrations', '/']) {
    await page.goto(path);
    await expect(page, `visiting ${path}`).toHaveURL(/\/no-role$/);
    await expect(page.getByRole('heading', { name: 'Your account has no role yet' })).toBeVisible();
    await expect(page.getByTestId('admin-names')).toContainText('Administrator');
    // Whom to ask, and how to reach them.
    await expect(page.getByTestId('admin-names').getByRole('link', { name: ADMIN_EMAIL })).toHaveAttribute('href', `mailto:${ADMIN_EMAIL}`);
    // The navigation offers nothing this account cannot open.
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const label of ['Requests', 'My tasks', 'Migrations']) await expect(nav.getByRole('link', { name: label, exact: true })).toHaveCount(0);
    expect(await page.content()).not.toContain('Secret roadmap column');
  }

  const api = context.request;
  for (const path of ['/api/v1/requests', `/api/v1/requests/${request.id}`, `/api/v1/requests/${request.id}/migration`]) {
    const res = await api.get(path);
    expect(res.status(), path).toBe(403);
    const text = await res.text();
    expect(JSON.parse(text).error).toEqual({ code: 'forbidden', message: EXPLANATION });
    expect(text).not.toContain('Secret roadmap column');
  }

  // A role given by an admin applies at once.
  await context.clearCookies();
  const engineer = await factory.createUser({ name: 'Has a role', roles: ['engineer'] });
  await signIn(context, engineer);
  await page.goto('/no-role');
  await expect(page).toHaveURL(/\/requests$/);
  await expect(page.getByText('Secret roadmap column for no-role spec')).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'My tasks', exact: true })).toBeVisible();
});
