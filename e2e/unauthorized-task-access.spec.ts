import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { gatePanel, requestPath, taskCard } from './support/request-page';
import { recordServerAction, replayServerAction } from './support/server-actions';

const ANALYSIS = 'Analyze database change';
const ANALYSIS_REFUSAL = 'Only holders of database-optimizer or postgres-pro (or admins) can work';

test('an engineer without agent roles can read a workflow but not work it, in the UI or by replaying the action', async ({
  browser,
  page,
  context,
}) => {
  const author = await factory.createUser({ name: 'Author Engineer' });
  const outsider = await factory.createUser({ name: 'Outsider Engineer', roles: ['engineer'], agentRoles: [] });
  const optimizer = await factory.createUser({ name: 'Optimizer', agentRoles: ['database-optimizer'] });
  const first = await factory.fileRequest(author, { title: 'Index orders by created_at' });
  const second = await factory.fileRequest(author, { title: 'Drop legacy_notes column' });

  await signIn(context, outsider);
  await page.goto(requestPath(first));
  const cards = page.getByTestId('task-card');
  await expect(cards).toHaveCount(8);
  for (const card of await cards.all()) {
    await expect(card.getByTestId('task-refusal')).toHaveText(/^Only holders of .+ \(or admins\) can work this task\.$/);
    await expect(card.getByRole('button', { name: /^(Start|Complete|Resume|Block…)$/ })).toHaveCount(0);
  }
  await expect(taskCard(page, ANALYSIS).getByTestId('task-refusal')).toHaveText(`${ANALYSIS_REFUSAL} this task.`);
  await expect(gatePanel(page).getByTestId('gate-refusal')).toHaveText('Only reviewers can sign quality gate items.');
  await expect(gatePanel(page).getByRole('button', { name: 'Sign' })).toHaveCount(0);

  // The optimizer's real click gives us a genuine server-action request to replay.
  const optimizerContext = await browser.newContext();
  const optimizerPage = await optimizerContext.newPage();
  await signIn(optimizerContext, optimizer);
  await optimizerPage.goto(requestPath(first));
  const firstTaskId = first.tasks[0].id;
  const start = await recordServerAction(optimizerPage, () => taskCard(optimizerPage, ANALYSIS).getByRole('button', { name: 'Start' }).click());
  await expect(taskCard(optimizerPage, ANALYSIS)).toHaveAttribute('data-status', 'in_progress');
  expect(start.body).toContain(firstTaskId);
  expect(start.body).toContain('"start"');

  // Replayed with the outsider's cookies: start the other request's first step...
  const otherTaskId = second.tasks[0].id;
  const startOther = await replayServerAction(page, start, start.body.replace(firstTaskId, otherTaskId));
  expect(startOther.text).toContain('Only holders of');
  expect(startOther.result).toMatchObject({ ok: false, message: `${ANALYSIS_REFUSAL} "${ANALYSIS}".` });
  // ...and complete the step the optimizer just started (refused for the role, not for the open checklist).
  const completeFirst = await replayServerAction(page, start, start.body.replace('"start"', '"complete"'));
  expect(completeFirst.text).toContain('Only holders of');
  expect(completeFirst.result).toMatchObject({ ok: false, message: `${ANALYSIS_REFUSAL} "${ANALYSIS}".` });

  await page.goto(requestPath(second));
  await expect(taskCard(page, ANALYSIS)).toHaveAttribute('data-status', 'pending');
  await page.goto(requestPath(first));
  await expect(taskCard(page, ANALYSIS)).toHaveAttribute('data-status', 'in_progress');
  await expect(page.getByTestId('audit-log')).not.toContainText(`by ${outsider.name}`);
  expect((await factory.snapshot(second)).tasks[0].status).toBe('pending');
  expect((await factory.snapshot(first)).tasks[0].status).toBe('in_progress');

  // The same crafted request from someone who holds the role goes through: the replay itself is sound.
  const byHolder = await replayServerAction(optimizerPage, start, start.body.replace(firstTaskId, otherTaskId));
  expect(byHolder.result).toMatchObject({ ok: true });
  expect((await factory.snapshot(second)).tasks[0].status).toBe('in_progress');
  await optimizerContext.close();
});
