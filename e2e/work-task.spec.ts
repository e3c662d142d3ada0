import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { taskCard } from './support/request-page';

const ANALYSIS = 'Analyze database change';
const CREATE_MIGRATION = 'Create migration';
const ITEMS = ['Understand current schema', 'Document desired changes', 'Identify data impact', 'Plan migration strategy'];

test('a database-optimizer works "Analyze database change": its items are ticked by evidence, and it completes once the evidence holds', async ({ browser, page, context }) => {
  const author = await factory.createUser({ name: 'Author Engineer' });
  const optimizer = await factory.createUser({ name: 'Optimizer', roles: ['engineer'], agentRoles: ['database-optimizer'] });
  const dba = await factory.createUser({ name: 'DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  const request = await factory.fileRequest(author);
  const analysisPath = `/requests/${request.id}/steps/analysis`;

  // The DBA's step waits for the analysis: Start is disabled and says why.
  const dbaContext = await browser.newContext();
  const dbaPage = await dbaContext.newPage();
  await signIn(dbaContext, dba);
  await dbaPage.goto(`/requests/${request.id}/steps/create-migration`);
  await expect(taskCard(dbaPage, CREATE_MIGRATION).getByRole('button', { name: 'Start' })).toBeDisabled();
  await expect(taskCard(dbaPage, CREATE_MIGRATION).getByTestId('task-waiting')).toHaveText(`Waits for “${ANALYSIS}”.`);

  await signIn(context, optimizer);
  await page.goto(analysisPath);
  const card = taskCard(page, ANALYSIS);
  const evidence = page.getByTestId('step-evidence');
  await expect(evidence).toHaveAttribute('data-satisfied', 'false');
  for (const label of ITEMS) {
    await expect(evidence.locator(`[data-testid="step-evidence-item"][data-label="${label}"]`)).toHaveAttribute('data-by', 'evidence');
  }
  // ("Understand current schema" may already hold: another spec may have snapshotted the shared demo target.)
  await expect(evidence.getByTestId('step-evidence-waiting')).toContainText('Write the desired changes on the Analysis step.');

  await card.getByRole('button', { name: 'Start' }).click();
  await expect(card).toHaveAttribute('data-status', 'in_progress');

  // What evidence ticks is no box to tick on the card: it waits for evidence (the server refuses a
  // hand tick too), and Complete is refused before the evidence holds.
  await expect(card.getByRole('checkbox')).toHaveCount(0);
  for (const label of ITEMS.slice(1)) {
    await expect(card.locator(`[data-testid="checklist-item"][data-label="${label}"]`)).toContainText('waits for evidence');
  }
  await expect(card.getByTestId('task-missing')).toHaveText(/^[34] items waiting for evidence\.$/);
  await card.getByRole('button', { name: 'Complete' }).click();
  await expect(card.getByTestId('task-error')).toContainText(`"${ANALYSIS}" waits for its evidence:`);
  await expect(card).toHaveAttribute('data-status', 'in_progress');

  // The snapshot, a saved revision, its impact analysis and the two written fields arrive.
  await factory.satisfyStep(request, 'analysis');
  await page.reload();
  await expect(evidence).toHaveAttribute('data-satisfied', 'true');
  for (const label of ITEMS) {
    const item = evidence.locator(`[data-testid="step-evidence-item"][data-label="${label}"]`);
    await expect(item).toHaveAttribute('data-satisfied', 'true');
    await expect(item).toContainText('ticked by evidence');
  }
  await expect(evidence.getByRole('link', { name: 'analysis' })).toHaveAttribute('href', analysisPath);
  for (const label of ITEMS) {
    await expect(card.locator(`[data-testid="checklist-item"][data-label="${label}"]`)).toHaveAttribute('data-satisfied', 'true');
  }
  await expect(card.getByTestId('task-missing')).toHaveCount(0);

  await card.getByRole('button', { name: 'Complete' }).click();
  await expect(card).toHaveAttribute('data-status', 'completed');
  await expect(card.getByTestId('task-error')).toHaveCount(0);

  // Now the next step is workable: its holder starts it.
  await dbaPage.reload();
  const next = taskCard(dbaPage, CREATE_MIGRATION);
  await next.getByRole('button', { name: 'Start' }).click();
  await expect(next).toHaveAttribute('data-status', 'in_progress');
  await dbaContext.close();

  const stored = await factory.snapshot(request);
  expect(stored.tasks.slice(0, 3).map((t) => t.status)).toEqual(['completed', 'in_progress', 'pending']);
  // Nobody ticked anything by hand.
  expect(stored.tasks[0].checklist.every((c) => !c.done)).toBe(true);
});
