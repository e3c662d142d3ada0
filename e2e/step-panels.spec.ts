// What a new user tripped over on the request page, in Chromium: the stepper's labels at a laptop's
// width, "Compare again" on Update app code, and Deploy buttons after a deploy.
import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { DEMO_TARGET } from './support/env';
import { factory } from './support/factories';
import { StoreAgent } from './support/store-agent';
import { targetIdByName } from './support/targets';


test('stepper at 1366 px: no label runs past its step', async ({ page, context }) => {
  await page.setViewportSize({ width: 1366, height: 900 });
  const author = await factory.createUser({ name: 'Shot Author' });
  const request = await factory.fileRequest(author, { title: 'Stepper at 1366' });
  await signIn(context, author);
  await page.goto(`/requests/${request.id}`);
  const steps = page.getByTestId('timeline-step');
  await expect(steps).toHaveCount(9);
  const overflow = await steps.evaluateAll((lis) => lis.flatMap((li) => {
    const box = li.getBoundingClientRect();
    return [...li.querySelectorAll('span')].filter((s) => {
      const r = s.getBoundingClientRect();
      return r.width > 0 && (r.left < box.left - 0.5 || r.right > box.right + 0.5);
    }).map((s) => `${li.getAttribute('data-step')}: ${s.textContent}`);
  }));
  expect(overflow).toEqual([]);
});

test('compare again: pending, form disabled; a refusal keeps ticks and text', async ({ page, context }) => {
  test.setTimeout(120_000);
  const agent = await StoreAgent.start();
  try {
    const author = await factory.createUser({ name: 'Shot author' });
    const specialist = await factory.createUser({ name: 'Shot specialist', roles: ['engineer'], agentRoles: ['language-specialist'] });
    const { requestId } = await agent.call<{ requestId: string }>({ op: 'appCodeRequest', authorId: author.id, targetId: await targetIdByName(DEMO_TARGET), compare: true });
    await signIn(context, specialist);
    await page.goto(`/requests/${requestId}/steps/update-app-code`);
    const panel = page.getByTestId('app-code-panel');
    const comparison = panel.getByTestId('app-schema-comparison');
    const intend = comparison.getByTestId('intend-form');
    await intend.getByRole('checkbox').check();
    await intend.getByLabel('Why').fill('Hi');
    await intend.getByRole('button', { name: 'Record as intended' }).click();
    await expect(intend.getByText(/at least 5 characters/)).toBeVisible();
    await expect(intend.getByRole('checkbox')).toBeChecked();
    await expect(intend.getByLabel('Why')).toHaveValue('Hi');
    await panel.getByTestId('compare-app-schema').click();
    await expect(panel.getByTestId('app-schema-comparing')).toBeVisible();
    await expect(intend.getByTestId('intend-submit')).toBeDisabled();
    await expect(panel.getByTestId('app-schema-comparing')).toBeHidden({ timeout: 30_000 });
    await expect(intend.getByTestId('intend-submit')).toBeEnabled();
    await intend.getByLabel('Why').fill('The table is for the proof only.');
    await intend.getByRole('checkbox').check();
    await intend.getByRole('button', { name: 'Record as intended' }).click();
    await expect(comparison.getByTestId('app-schema-summary')).toContainText('all recorded as intended');
  } finally {
    await agent.stop();
  }
});

test('deploy panel: an environment deployed with the current revision says so', async ({ page, context }) => {
  const agent = await StoreAgent.start();
  try {
    const author = await factory.createUser({ name: 'Deploy author' });
    const dba = await factory.createUser({ name: 'Deploy dba', roles: ['engineer'], agentRoles: ['database-administrator'] });
    const { requestId } = await agent.call<{ requestId: string }>({ op: 'deployableRequest', authorId: author.id, targetId: await targetIdByName(DEMO_TARGET) });
    await agent.call({ op: 'succeededDeployment', requestId });
    await signIn(context, dba);
    await page.goto(`/requests/${requestId}/steps/deploy`);
    const panel = page.getByTestId('deploy-panel');
    await expect(panel.getByTestId('deployed-with')).toHaveText('✓ Deployed with revision 1');
    await expect(panel.getByRole('button', { name: 'Deploy again' })).toBeVisible();
    await expect(panel.getByRole('button', { name: /^Deploy to / })).toHaveCount(0);
  } finally {
    await agent.stop();
  }
});
