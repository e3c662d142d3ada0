import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { taskCard } from './support/request-page';

const ANALYSIS = 'Analyze database change';

test('the holder hands a started task back with Release; another person with its role is not offered it', async ({ browser, page, context }) => {
  const author = await factory.createUser({ name: 'Release Author' });
  const holder = await factory.createUser({ name: 'Release Holder', roles: ['engineer'], agentRoles: ['database-optimizer'] });
  const colleague = await factory.createUser({ name: 'Release Colleague', roles: ['engineer'], agentRoles: ['postgres-pro'] });
  const request = await factory.fileRequest(author);
  const path = `/requests/${request.id}/steps/analysis`;

  await signIn(context, holder);
  await page.goto(path);
  const card = taskCard(page, ANALYSIS);
  await expect(card.getByRole('button', { name: 'Release' })).toHaveCount(0);
  await card.getByRole('button', { name: 'Start' }).click();
  await expect(card).toHaveAttribute('data-status', 'in_progress');

  const otherContext = await browser.newContext();
  const otherPage = await otherContext.newPage();
  await signIn(otherContext, colleague);
  await otherPage.goto(path);
  await expect(taskCard(otherPage, ANALYSIS)).toHaveAttribute('data-status', 'in_progress');
  await expect(taskCard(otherPage, ANALYSIS).getByRole('button', { name: 'Release' })).toHaveCount(0);
  await otherContext.close();

  await card.getByRole('button', { name: 'Release' }).click();
  await expect(card).toHaveAttribute('data-status', 'pending');
  await expect(card.getByRole('button', { name: 'Start' })).toBeEnabled();
  await expect(card.getByRole('button', { name: 'Release' })).toHaveCount(0);
  const stored = await factory.snapshot(request);
  expect(stored.tasks[0].status).toBe('pending');
});
