import { expect, test } from '@playwright/test';
import { admin, signIn } from './support/auth';
import { factory } from './support/factories';
import { StoreAgent } from './support/store-agent';

// Item 11 end to end: an admin issues a token in the browser (shown once), CI uses it with curl's
// headers only (no cookie) to read a request and post a JUnit report, step 5 lists the failures,
// the token list shows when it was last used, and a revoked token is refused.

const FAILING_JUNIT = `<?xml version="1.0"?>
<testsuites><testsuite name="orders" tests="2" failures="1">
  <testcase classname="orders.spec" name="creates an order"/>
  <testcase classname="orders.spec" name="reads the notes column"><failure message="column orders.notes does not exist">stack</failure></testcase>
</testsuite></testsuites>`;

test('an admin issues a token; CI reads status and posts a report with it; step 5 lists the failure; revoked, it is refused', async ({ page, context, playwright }) => {
  test.setTimeout(120_000);
  const agent = await StoreAgent.start();
  try {
    const author = await factory.createUser({ name: 'Token Author' });
    const request = await factory.fileRequest(author, { title: 'Rename orders.note to notes' });
    await agent.call({ op: 'saveRevision', requestId: request.id, name: 'rename_note', upSql: 'ALTER TABLE orders RENAME COLUMN note TO notes;\n', downSql: 'ALTER TABLE orders RENAME COLUMN notes TO note;\n' });

    await signIn(context, admin);
    await page.goto('/admin/tokens');
    const tokenName = `CI e2e ${Date.now()}`;
    await page.getByLabel('Name').fill(tokenName);
    await page.getByLabel('Role').selectOption('test-automator');
    await page.getByLabel('Expires after (days)').fill('30');
    await page.getByRole('button', { name: 'Issue token' }).click();
    const secret = (await page.getByTestId('token-secret').textContent())!.trim();
    expect(secret).toMatch(/^cut_[A-Za-z0-9_-]{43}$/);
    const row = page.locator(`[data-testid="api-token"][data-name="${tokenName}"]`);
    await expect(row).toContainText('test-automator');
    await expect(row.getByTestId('last-used')).toHaveText('—');
    // Shown once: a fresh load of the page has the prefix, never the secret.
    await page.reload();
    expect(await page.content()).not.toContain(secret);
    await expect(row).toContainText(`${secret.slice(0, 12)}…`);

    const ci = await playwright.request.newContext({ baseURL: test.info().project.use.baseURL, extraHTTPHeaders: { authorization: `Bearer ${secret}` } });
    try {
      const status = await ci.get(`/api/v1/requests/${request.id}/status`);
      expect(status.status()).toBe(200);
      expect((await status.json()).data).toMatchObject({ id: request.id, revision: { revision: 1 } });
      const posted = await ci.post(`/api/v1/requests/${request.id}/test-reports`, { headers: { 'content-type': 'application/xml' }, data: FAILING_JUNIT });
      expect(posted.status(), await posted.text()).toBe(201);
      expect((await posted.json()).data).toMatchObject({ passed: false, tests: 2, failures: 1, revision: 1 });

      await page.goto(`/requests/${request.id}/steps/test-app`);
      const panel = page.getByTestId('test-report-panel');
      await expect(panel.getByTestId('test-report-summary')).toHaveText('failed: 2 tests, 1 failure, 0 errors, 0 skipped');
      await expect(panel.getByTestId('test-failures')).toContainText('reads the notes column');
      await expect(panel.getByTestId('test-failures')).toContainText('column orders.notes does not exist');

      // The admin (who may work any step) pastes a clean JSON summary in the step's form.
      await panel.getByLabel('…or paste the report').fill('{"tests": 2, "failures": 0}');
      await panel.getByRole('button', { name: 'Attach report' }).click();
      await expect(panel.getByText('Report attached to revision 1: 2 tests, 0 failures, 0 errors, 0 skipped.')).toBeVisible();
      await expect(panel.getByTestId('test-report-summary')).toHaveText('passed: 2 tests, 0 failures, 0 errors, 0 skipped');

      await page.goto('/admin/tokens');
      await expect(row.getByTestId('last-used')).not.toHaveText('—');
      await row.getByRole('button', { name: 'Revoke' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Revoke token' }).click();
      await expect(row).toContainText('revoked');
      const refused = await ci.get(`/api/v1/requests/${request.id}/status`);
      expect(refused.status()).toBe(401);
      expect((await refused.json()).error.message).toMatch(/revoked/);
    } finally {
      await ci.dispose();
    }
  } finally {
    await agent.stop();
  }
});
