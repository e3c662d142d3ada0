import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { gateItem, gatePanel } from './support/request-page';
import { recordServerAction, replayServerAction } from './support/server-actions';

const GATE_ITEMS = [
  'Migration runs successfully',
  'Rollback tested',
  'All tests pass',
  'No data loss',
  'Application works with new schema',
  'Backup procedure ready',
];
const AUTHOR_REFUSAL = 'You filed this request, so you cannot sign its quality gate.';

const gatePath = (request: { id: string }) => `/requests/${request.id}/steps/quality-gate`;

async function sign(page: import('@playwright/test').Page, label: string, note: string) {
  const item = gateItem(page, label);
  await item.getByLabel(`Note for ${label}`).fill(note);
  await item.getByRole('button', { name: 'Sign' }).click();
}

test('reviewers sign the quality gate on evidence, once it is open; its author cannot, even by replaying the action; one reviewer cannot sign it all', async ({
  browser,
  page,
  context,
}) => {
  const author = await factory.createUser({ name: 'Author Reviewer', roles: ['engineer', 'reviewer'] });
  const reviewer = await factory.createUser({ name: 'Gate Reviewer', roles: ['reviewer'] });
  const second = await factory.createUser({ name: 'Second Reviewer', roles: ['reviewer'] });
  const filed = await factory.fileRequest(author, { title: 'Split orders.address into columns' });

  // Steps 1-5 done (their evidence recorded): the gate is closed, says what it waits for, and shows no Sign button.
  await factory.advance(filed, 5);
  await signIn(context, reviewer);
  await page.goto(gatePath(filed));
  await expect(gatePanel(page)).toHaveAttribute('data-open', 'false');
  await expect(gatePanel(page).getByTestId('gate-waiting')).toContainText('"Create backup" to be completed.');
  await expect(gateItem(page, 'Backup procedure ready').getByTestId('gate-item-reason')).toHaveText(/^Waiting for a verified restore drill of a backup of /);
  await expect(gatePanel(page).getByRole('button', { name: 'Sign' })).toHaveCount(0);

  const request = await factory.advance(filed, 6);
  expect(request.tasks.slice(0, 6).every((t) => t.status === 'completed')).toBe(true);
  await page.reload();
  await expect(gatePanel(page)).toHaveAttribute('data-open', 'true');
  await expect(gatePanel(page)).toHaveAttribute('data-status', 'pending');
  await expect(gatePanel(page).getByTestId('gate-refusal')).toHaveCount(0);
  // Each item shows the evidence it rests on, with a link to the step that shows its run.
  for (const label of GATE_ITEMS) {
    await expect(gateItem(page, label)).toHaveAttribute('data-satisfied', 'true');
    await expect(gateItem(page, label).getByTestId('gate-evidence').first()).toHaveAttribute('data-passed', 'true');
  }
  await expect(gateItem(page, 'Rollback tested').getByTestId('gate-evidence')).toContainText('rehearsal');
  // "Application works" needs the reviewer's note: its Sign button waits for one.
  await expect(gateItem(page, 'Application works with new schema').getByRole('button', { name: 'Sign' })).toBeDisabled();

  const [firstLabel, secondLabel] = GATE_ITEMS;
  const signFirst = await recordServerAction(page, () => sign(page, firstLabel, 'rehearsal run #1 applied cleanly'));
  await expect(gateItem(page, firstLabel)).toHaveAttribute('data-signed', 'true');
  await expect(gateItem(page, firstLabel).getByTestId('gate-signature')).toContainText(`signed by ${reviewer.name}`);
  await expect(gateItem(page, firstLabel).getByTestId('gate-signature')).toContainText('rehearsal run #1 applied cleanly');
  await expect(gateItem(page, firstLabel).getByTestId('gate-signature')).toContainText(/bound [0-9a-f]{12}/);
  await expect(gatePanel(page)).toHaveAttribute('data-status', 'in_progress');

  // The author holds reviewer too, but not for their own request.
  const authorContext = await browser.newContext();
  const authorPage = await authorContext.newPage();
  await signIn(authorContext, author);
  await authorPage.goto(gatePath(request));
  await expect(gatePanel(authorPage).getByTestId('gate-refusal')).toHaveText(AUTHOR_REFUSAL);
  await expect(gatePanel(authorPage).getByRole('button', { name: 'Sign' })).toHaveCount(0);
  const firstId = request.gateItems[0].id;
  const secondId = request.gateItems[1].id;
  expect(signFirst.body).toContain(firstId);
  const replay = await replayServerAction(authorPage, signFirst, signFirst.body.replace(firstId, secondId));
  expect(replay.result).toMatchObject({ ok: false, message: AUTHOR_REFUSAL });
  await authorPage.reload();
  await expect(gateItem(authorPage, secondLabel)).toHaveAttribute('data-signed', 'false');
  expect((await factory.snapshot(request)).gateItems[1].signedBy).toBeNull();
  await authorContext.close();

  for (const label of GATE_ITEMS.slice(1, 5)) {
    await sign(page, label, `checked: ${label.toLowerCase()}`);
    await expect(gateItem(page, label)).toHaveAttribute('data-signed', 'true');
  }
  // A sixth signature by the same reviewer is refused: the gate needs two reviewers.
  await sign(page, 'Backup procedure ready', 'drill looked fine');
  await expect(gatePanel(page).getByTestId('gate-error')).toHaveText(
    'You already signed 5 of the 6 items; one reviewer signs at most 5, so that at least 2 reviewers sign this gate. Ask another reviewer.',
  );
  await expect(gateItem(page, 'Backup procedure ready')).toHaveAttribute('data-signed', 'false');

  const secondContext = await browser.newContext();
  const secondPage = await secondContext.newPage();
  await signIn(secondContext, second);
  await secondPage.goto(gatePath(request));
  await sign(secondPage, 'Backup procedure ready', 'restore drill verified every table');
  await expect(gatePanel(secondPage)).toHaveAttribute('data-status', 'completed');
  await expect(gatePanel(secondPage).getByTestId('gate-passed')).toHaveText('The quality gate is passed.');
  await secondContext.close();

  const stored = await factory.snapshot(request);
  expect(stored.gateItems.map((g) => g.signedBy)).toEqual([...GATE_ITEMS.slice(0, 5).map(() => reviewer.name), second.name]);
  expect(stored.gateItems[1].note).toBe('checked: rollback tested');
  expect(stored.tasks[6].status).toBe('completed');
});
