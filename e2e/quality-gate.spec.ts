import { expect, test, type Page } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { gateItem, gatePanel, requestPath } from './support/request-page';
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

const gateCount = (page: Page) => page.getByText(/^\d of 6 items signed\.$/);

async function sign(page: Page, label: string, note: string) {
  const item = gateItem(page, label);
  await item.getByLabel(`Note for ${label}`).fill(note);
  await item.getByRole('button', { name: 'Sign' }).click();
}

test('a reviewer signs the quality gate item by item; its author cannot, even by replaying the action', async ({
  browser,
  page,
  context,
}) => {
  const author = await factory.createUser({ name: 'Author Reviewer', roles: ['engineer', 'reviewer'] });
  const reviewer = await factory.createUser({ name: 'Gate Reviewer', roles: ['reviewer'] });
  const filed = await factory.fileRequest(author, { title: 'Split orders.address into columns' });
  const request = await factory.advance(filed, 6);
  expect(request.tasks.slice(0, 6).every((t) => t.status === 'completed')).toBe(true);

  await signIn(context, reviewer);
  await page.goto(requestPath(request));
  await expect(gatePanel(page)).toHaveAttribute('data-status', 'pending');
  await expect(gatePanel(page).getByTestId('gate-refusal')).toHaveCount(0);
  await expect(gateCount(page)).toHaveText('0 of 6 items signed.');

  const [firstLabel, secondLabel] = GATE_ITEMS;
  const signFirst = await recordServerAction(page, () => sign(page, firstLabel, 'rehearsal run #1 applied cleanly'));
  await expect(gateItem(page, firstLabel)).toHaveAttribute('data-signed', 'true');
  await expect(gateItem(page, firstLabel)).toContainText(`signed by ${reviewer.name}`);
  await expect(gateItem(page, firstLabel)).toContainText('rehearsal run #1 applied cleanly');
  await expect(gateCount(page)).toHaveText('1 of 6 items signed.');
  await expect(gatePanel(page)).toHaveAttribute('data-status', 'in_progress');

  // The author holds reviewer too, but not for their own request.
  const authorContext = await browser.newContext();
  const authorPage = await authorContext.newPage();
  await signIn(authorContext, author);
  await authorPage.goto(requestPath(request));
  await expect(gatePanel(authorPage).getByTestId('gate-refusal')).toHaveText(AUTHOR_REFUSAL);
  await expect(gatePanel(authorPage).getByRole('button', { name: 'Sign' })).toHaveCount(0);

  const firstId = request.gateItems[0].id;
  const secondId = request.gateItems[1].id;
  expect(signFirst.body).toContain(firstId);
  const replay = await replayServerAction(authorPage, signFirst, signFirst.body.replace(firstId, secondId));
  expect(replay.text).toContain('You filed this request');
  expect(replay.result).toMatchObject({ ok: false, message: AUTHOR_REFUSAL });
  await authorPage.reload();
  await expect(gateItem(authorPage, secondLabel)).toHaveAttribute('data-signed', 'false');
  await expect(gateCount(authorPage)).toHaveText('1 of 6 items signed.');
  expect((await factory.snapshot(request)).gateItems[1].signedBy).toBeNull();
  await authorContext.close();

  for (const [i, label] of GATE_ITEMS.entries()) {
    if (i === 0) continue;
    await sign(page, label, `checked: ${label.toLowerCase()}`);
    await expect(gateItem(page, label)).toHaveAttribute('data-signed', 'true');
    await expect(gateItem(page, label)).toContainText(`signed by ${reviewer.name}`);
    await expect(gateCount(page)).toHaveText(`${i + 1} of 6 items signed.`);
  }
  await expect(gatePanel(page)).toHaveAttribute('data-status', 'completed');
  await expect(page.getByTestId('timeline-step').nth(6)).toHaveAttribute('data-status', 'completed');

  const stored = await factory.snapshot(request);
  expect(stored.gateItems.map((g) => g.signedBy)).toEqual(GATE_ITEMS.map(() => reviewer.name));
  expect(stored.gateItems[1].note).toBe('checked: rollback tested');
  expect(stored.tasks[6].status).toBe('completed');
});
