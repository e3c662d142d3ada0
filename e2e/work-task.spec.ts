import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { requestPath, taskCard } from './support/request-page';

const ANALYSIS = 'Analyze database change';
const CREATE_MIGRATION = 'Create migration';

test('a database-optimizer works "Analyze database change" through its checklist', async ({ browser, page, context }) => {
  const author = await factory.createUser({ name: 'Author Engineer' });
  const optimizer = await factory.createUser({ name: 'Optimizer', roles: ['engineer'], agentRoles: ['database-optimizer'] });
  const dba = await factory.createUser({ name: 'DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  const request = await factory.fileRequest(author);

  // The DBA's step waits for the analysis: Start is disabled and says why (the server refuses
  // it too; tests/integration/services.test.ts calls the service directly).
  const dbaContext = await browser.newContext();
  const dbaPage = await dbaContext.newPage();
  await signIn(dbaContext, dba);
  await dbaPage.goto(requestPath(request));
  await expect(taskCard(dbaPage, ANALYSIS).getByTestId('task-refusal')).toBeVisible();
  await expect(taskCard(dbaPage, CREATE_MIGRATION).getByRole('button', { name: 'Start' })).toBeDisabled();
  await expect(taskCard(dbaPage, CREATE_MIGRATION).getByTestId('task-waiting')).toHaveText(`Waits for “${ANALYSIS}”.`);
  await expect(taskCard(dbaPage, CREATE_MIGRATION)).toHaveAttribute('data-status', 'pending');

  await signIn(context, optimizer);
  await page.goto(requestPath(request));
  const card = taskCard(page, ANALYSIS);
  await expect(card).toHaveAttribute('data-status', 'pending');
  await expect(card.getByTestId('task-refusal')).toHaveCount(0);
  const items = card.getByRole('checkbox');
  await expect(items).toHaveCount(4);
  for (const item of await items.all()) await expect(item).toBeDisabled();

  await card.getByRole('button', { name: 'Start' }).click();
  await expect(card).toHaveAttribute('data-status', 'in_progress');
  await expect(card.getByText('Analyzing database change…')).toBeVisible();
  await expect(card.getByText(`assignee ${optimizer.name}`)).toBeVisible();

  // What Complete still needs is said beside it before it is clicked ...
  await expect(card.getByTestId('task-missing')).toHaveText('4 checklist items left.');
  await expect(card.getByRole('button', { name: 'Complete' })).toHaveAccessibleDescription('4 checklist items left.');
  // ... and Complete with the checklist still open is refused, and the task stays in progress.
  await card.getByRole('button', { name: 'Complete' }).click();
  await expect(card.getByTestId('task-error')).toHaveText(`"${ANALYSIS}" still has 4 unchecked checklist items.`);
  await expect(card).toHaveAttribute('data-status', 'in_progress');

  for (const label of ['Understand current schema', 'Document desired changes', 'Identify data impact']) {
    // A controlled checkbox: it shows checked once the server has stored the tick.
    await card.getByRole('checkbox', { name: label }).click();
    await expect(card.getByRole('checkbox', { name: label })).toBeChecked();
  }
  await expect(card.getByTestId('task-missing')).toHaveText('1 checklist item left.');
  await card.getByRole('button', { name: 'Complete' }).click();
  await expect(card.getByTestId('task-error')).toHaveText(`"${ANALYSIS}" still has 1 unchecked checklist item.`);

  await card.getByRole('checkbox', { name: 'Plan migration strategy' }).click();
  await expect(card.getByRole('checkbox', { name: 'Plan migration strategy' })).toBeChecked();
  await expect(card.getByText(`(${optimizer.name})`)).toHaveCount(4);

  await card.getByRole('button', { name: 'Complete' }).click();
  await expect(card).toHaveAttribute('data-status', 'completed');
  await expect(card.locator('header')).toContainText('completed');
  await expect(card.getByTestId('task-error')).toHaveCount(0);
  await expect(page.getByTestId('timeline-step').first()).toHaveAttribute('data-status', 'completed');
  // The optimizer holds no role for the next step, so it shows the refusal to them.
  await expect(taskCard(page, CREATE_MIGRATION).getByTestId('task-refusal')).toBeVisible();

  const audit = page.getByTestId('audit-log');
  await expect(audit.getByRole('listitem').filter({ hasText: 'checklist.checked' })).toHaveCount(4);
  await expect(audit.getByRole('listitem').filter({ hasText: 'task.complete' })).toContainText(`by ${optimizer.name}`);

  // Now the next step is workable: its holder starts it.
  await dbaPage.reload();
  const next = taskCard(dbaPage, CREATE_MIGRATION);
  await next.getByRole('button', { name: 'Start' }).click();
  await expect(next).toHaveAttribute('data-status', 'in_progress');
  await expect(next.getByTestId('task-error')).toHaveCount(0);
  await dbaContext.close();

  const stored = await factory.snapshot(request);
  expect(stored.tasks.slice(0, 3).map((t) => t.status)).toEqual(['completed', 'in_progress', 'pending']);
  expect(stored.tasks[0].checklist.every((c) => c.done)).toBe(true);
});
