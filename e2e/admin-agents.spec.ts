import { expect, test, type Page } from '@playwright/test';
import { admin, signIn } from './support/auth';
import { factory } from './support/factories';

const addForm = (page: Page) => page.locator('section', { has: page.getByRole('heading', { name: 'Add an agent' }) });

async function addAgent(page: Page, name: string, owner: string) {
  // Labels looked up on the whole page: with ids built from the field name alone, "Name" and "Owner"
  // pointed at the first agent card's "Token name" and owner select.
  await page.getByLabel('Name', { exact: true }).fill(name);
  await page.getByLabel('Owner', { exact: true }).last().selectOption({ label: owner });
  await addForm(page).getByRole('checkbox', { name: 'database-optimizer' }).check();
  await addForm(page).getByRole('button', { name: 'Add agent' }).click();
  await expect(page.locator(`[data-testid="agent"][data-name="${name}"]`)).toBeVisible();
}

test('Admin > Agents with two agents: each label names its own form\'s control, and no id repeats', async ({ page, context }) => {
  const owner = await factory.createUser({ name: `Agent Owner ${Date.now()}` });
  const suffix = Date.now().toString(36);
  await signIn(context, admin);
  await page.goto('/admin/agents');

  await addAgent(page, `first-agent-${suffix}`, owner.name);
  await addAgent(page, `second-agent-${suffix}`, owner.name);

  // "Name" on the page is the "Add an agent" form's input, not a card's "Token name".
  const name = page.getByLabel('Name', { exact: true });
  await expect(name).toHaveCount(1);
  await expect(addForm(page).getByLabel('Name', { exact: true })).toHaveCount(1);
  await name.fill('third-agent');
  await expect(addForm(page).locator('input[name="name"]')).toHaveValue('third-agent');
  for (const card of await page.getByTestId('agent').all()) await expect(card.locator('input[name="name"]')).toHaveValue('main');

  const card = page.locator(`[data-testid="agent"][data-name="second-agent-${suffix}"]`);
  await expect(card.getByLabel('Owner', { exact: true })).toHaveValue(owner.id);

  const repeated = await page.evaluate(() => {
    const ids = [...document.querySelectorAll('[id]')].map((e) => e.id);
    return ids.filter((id, i) => ids.indexOf(id) !== i);
  });
  expect(repeated).toEqual([]);
});
