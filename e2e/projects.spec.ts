import { randomBytes } from 'node:crypto';
import { expect, test, type Page, type Response } from '@playwright/test';
import { createAppRepository } from '../tests/support/git-repo';
import { admin, signIn } from './support/auth';
import { DEMO_TARGET } from './support/env';
import { factory } from './support/factories';
import { StoreAgent } from './support/store-agent';
import { targetIdByName } from './support/targets';

/**
 * Issue 8, items 1 and 5 (data side) in the browser: an admin registers a project on a real local
 * git repository with its environments in order (the credential never comes back), a request is
 * filed with the project and its app branch, and a language specialist compares the branch's
 * schema.prisma with the rehearsed schema on step 4 and records why a difference is intended.
 */

function recordResponses(page: Page): () => Promise<string[]> {
  const bodies: Promise<string>[] = [];
  page.on('response', (res: Response) => {
    if (!res.url().includes('/_next/static/')) bodies.push(res.text().catch(() => ''));
  });
  return () => Promise.all(bodies);
}


test('an admin registers a project with environments in order, and a request is filed with it', async ({ page, context }) => {
  test.setTimeout(120_000);
  const repo = createAppRepository({ 'prisma/schema.prisma': 'datasource db {\n  provider = "postgresql"\n}\n' });
  const agent = await StoreAgent.start();
  const tag = randomBytes(3).toString('hex');
  const credential = `tok-${randomBytes(10).toString('hex')}-never-shown`;
  const responses = recordResponses(page);
  try {
    const production = await agent.call<{ id: string; name: string }>({
      op: 'ensureTarget',
      target: { name: `Projects prod ${tag}`, environment: 'production', host: '127.0.0.1', port: '5432', database: `nowhere_${tag}`, username: 'app', sslMode: 'disable' },
    });
    await signIn(context, admin);
    await page.goto('/admin/projects');
    const form = page.getByTestId('project-form');
    await form.getByLabel('Name').fill(`E2E app ${tag}`);
    await form.getByLabel('Repository', { exact: true }).fill('https://me:secret@git.example.com/app.git');
    await form.getByRole('button', { name: 'Register project' }).click();
    await expect(form.getByTestId(`error-project-new-repositoryUrl`)).toContainText('Do not put a password in the URL');
    await form.getByLabel('Repository', { exact: true }).fill(repo.origin);
    await form.getByLabel('Repository user (HTTPS)').fill('ci');
    await form.getByLabel('Password or token').fill(credential);
    await form.getByRole('button', { name: 'Register project' }).click();
    await expect(form.getByText('Project registered.')).toBeVisible();

    const card = page.getByTestId('project').filter({ hasText: `E2E app ${tag}` });
    await expect(card).toContainText(`${repo.origin} · deploys to main · prisma/schema.prisma · credential set`);
    // The add form folds away under its summary; open it when it is closed (it stays open after an add).
    const openAddForm = async () => {
      if ((await card.locator('details').getAttribute('open')) === null) await card.getByText('Add an environment (after the last)').click();
    };
    const add = async (name: string, targetId: string, approval = false) => {
      await openAddForm();
      const envForm = card.getByTestId('environment-form');
      await envForm.getByLabel('Environment', { exact: true }).fill(name);
      await envForm.getByLabel('Target database').selectOption(targetId);
      if (approval) await envForm.getByLabel(/need the quality gate passed/).check();
      await envForm.getByRole('button', { name: 'Add environment' }).click();
      await expect(card.getByTestId('environment').filter({ hasText: name })).toBeVisible();
    };
    const demoId = await targetIdByName(DEMO_TARGET);
    await add('staging', demoId);
    await add('production', production.id, true);
    const order = () => card.getByTestId('environment-name').allTextContents();
    await expect.poll(order).toEqual(['staging', 'production']);
    await expect(card.getByTestId('environment').nth(1)).toContainText('gate + lead approval');
    await card.getByRole('button', { name: 'Move production earlier' }).click();
    await expect.poll(order).toEqual(['production', 'staging']);
    await card.getByRole('button', { name: 'Move production later' }).click();
    await expect.poll(order).toEqual(['staging', 'production']);
    // Each environment has its own database.
    await openAddForm();
    const again = card.getByTestId('environment-form');
    await again.getByLabel('Environment', { exact: true }).fill('qa');
    await again.getByLabel('Target database').selectOption(demoId);
    await again.getByRole('button', { name: 'Add environment' }).click();
    await expect(again.getByTestId(/error-env-new-.*-targetId/)).toContainText('already the database of environment staging');

    // The credential: kept on edit, never on the page or in anything the server sent.
    await card.getByRole('button', { name: 'Edit' }).first().click();
    await expect(card.getByText('A credential is set. Leave empty to keep it.')).toBeVisible();
    await page.reload();
    expect(await page.content()).not.toContain(credential);

    // Filing a request with the project and the app branch.
    await page.goto('/requests/new');
    await page.getByLabel('Title').fill(`Tracking codes ${tag}`);
    await page.getByLabel('Kind of change').selectOption({ index: 1 });
    await page.getByLabel('Target database').selectOption(demoId);
    await page.getByLabel('Application (project)').selectOption({ label: `E2E app ${tag}` });
    await page.getByLabel('App branch').fill('feature/tracking');
    await page.getByLabel('Desired change').fill('Orders get a tracking code for the carrier.');
    await page.getByRole('button', { name: 'File request' }).click();
    await expect(page).toHaveURL(/\/requests\/[0-9a-f-]{36}/);
    const requestUrl = new URL(page.url());
    await page.goto(`${requestUrl.pathname.split('/steps')[0]}/steps/update-app-code`);
    const panel = page.getByTestId('app-code-panel');
    await expect(panel).toContainText(`Project E2E app ${tag}`);
    await expect(panel.getByTestId('app-branch')).toHaveText('feature/tracking');
    await expect(panel).toContainText('staging → production');
    await expect(panel).toContainText('Waiting for a saved migration (Create migration)');

    for (const body of await responses()) expect(body).not.toContain(credential);
  } finally {
    await agent.stop();
    repo.remove();
  }
});

test('a language specialist compares the app branch with the rehearsed schema and explains the difference', async ({ page, context }) => {
  test.setTimeout(120_000);
  const agent = await StoreAgent.start();
  try {
    const author = await factory.createUser({ name: 'App code author' });
    const specialist = await factory.createUser({ name: 'App code specialist', roles: ['engineer'], agentRoles: ['language-specialist'] });
    const { requestId } = await agent.call<{ requestId: string }>({ op: 'appCodeRequest', authorId: author.id, targetId: await targetIdByName(DEMO_TARGET) });

    await signIn(context, specialist);
    await page.goto(`/requests/${requestId}/steps/update-app-code`);
    const panel = page.getByTestId('app-code-panel');
    await expect(panel.getByTestId('app-branch')).toHaveText('feature/proof');
    await panel.getByTestId('compare-app-schema').click();
    const comparison = panel.getByTestId('app-schema-comparison');
    await expect(comparison.getByTestId('app-schema-summary')).toContainText('1 of 1 difference not explained');
    await expect(comparison.getByTestId('app-schema-difference')).toHaveText(/schema.prisma has the primary key \(id\); the table has none/);

    const intend = comparison.getByTestId('intend-form');
    await intend.getByRole('button', { name: 'Record as intended' }).click();
    await expect(intend.getByText('Choose at least one difference.')).toBeVisible();
    await intend.getByRole('checkbox').check();
    await intend.getByLabel('Why').fill('The primary key comes with the next migration; the app does not rely on it yet.');
    await intend.getByRole('button', { name: 'Record as intended' }).click();
    await expect(comparison.getByTestId('app-schema-summary')).toContainText('all recorded as intended');
    await expect(comparison.getByTestId('app-schema-difference')).toContainText(/Intended, says App code specialist\b.*: The primary key comes with the next migration/);
  } finally {
    await agent.stop();
  }
});
