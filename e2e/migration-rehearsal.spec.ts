import { expect, test } from '@playwright/test';
import { Client } from 'pg';
import { DATABASE_URL } from './support/env';
import { openRequestAsDba } from './support/request-page';

test('a DBA writes up and down SQL, fixes a syntax error, rehearses it and sees the diff and a verified rollback', async ({ page, context }) => {
  const { request, editor } = await openRequestAsDba(page, context, 'Rehearsal');
  await editor.getByLabel('Name (Prisma folder: <timestamp>_<name>)').fill('add_shipped_at');
  // The up path is uploaded from a file, the down path typed.
  await editor.getByLabel('Load migration.sql from a file').setInputFiles({
    name: 'migration.sql', mimeType: 'text/plain',
    buffer: Buffer.from('ALTER TABLE orders ADD COLUMN shipped_at timestamptz;\nCREATE INDEX orders_shipped_at_idx ON orders (shipped_at);'),
  });
  await expect(editor.getByLabel('Up: migration.sql')).toHaveValue(/ADD COLUMN shipped_at timestamptz/);
  // A typo in down.sql: refused by the PostgreSQL parser with its line and column, nothing saved.
  await editor.getByLabel('Down: down.sql').fill('DROP INDEX orders_shipped_at_idx;\nALTER TABLE orders DROP COLUM shipped_at;');
  await editor.getByRole('button', { name: 'Save revision' }).click();
  await expect(editor.getByTestId('error-downSql')).toHaveText('down.sql: syntax error at or near "shipped_at" (line 2, column 31)');
  await expect(editor.getByTestId('revisions')).toHaveCount(0);

  await editor.getByLabel('Down: down.sql').fill('DROP INDEX orders_shipped_at_idx;\nALTER TABLE orders DROP COLUMN shipped_at;');
  await editor.getByRole('button', { name: 'Save revision' }).click();
  await expect(editor.getByTestId('revisions')).toContainText('#1 add_shipped_at');
  // The revision downloads as a Prisma migrations folder.
  const download = await page.request.get(`/api/v1/requests/${request.id}/migration?revision=1`);
  expect(download.status()).toBe(200);
  expect(download.headers()['content-type']).toBe('application/gzip');
  expect(download.headers()['content-disposition']).toMatch(/attachment; filename="request-\d+-add_shipped_at-r1\.tar\.gz"/);
  expect((await download.body()).subarray(0, 2)).toEqual(Buffer.from([0x1f, 0x8b]));

  const rehearsal = page.getByTestId('rehearsal-panel');
  await rehearsal.getByLabel('Data sample (rows a table, 0 = schema only)').fill('100');
  await rehearsal.getByRole('button', { name: 'Rehearse revision 1' }).click();
  // Live progress: phases appear as the worker finishes them, then the run ends green.
  await expect(rehearsal.locator('[data-phase="clone"][data-status="ok"]')).toBeVisible({ timeout: 20_000 });
  await expect(rehearsal).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  // The panel follows the run: it shows the end within a few seconds of the worker recording it
  // (it polls every 750 ms while the run is queued or running), not whenever something else reloads the page.
  const shownAt = Date.now();
  const store = new Client({ connectionString: DATABASE_URL });
  await store.connect();
  const { rows: [finished] } = await store.query<{ finished_at: Date }>(
    "SELECT finished_at FROM runs WHERE request_id = $1 AND kind = 'rehearsal' ORDER BY queued_at DESC LIMIT 1", [request.id],
  ).finally(() => store.end());
  expect(shownAt - finished.finished_at.getTime()).toBeLessThan(5_000);
  await expect(rehearsal.getByTestId('rehearsal-phases').locator('[data-status="ok"]')).toHaveCount(9);
  await expect(rehearsal.locator('[data-phase="sample"]')).toContainText('400 rows from 4 tables (at most 100 each)');
  const diff = rehearsal.getByTestId('rehearsal-diff');
  await expect(diff).toContainText('+ column public.orders.shipped_at timestamp with time zone');
  await expect(diff).toContainText('+ index public.orders.orders_shipped_at_idx');
  await expect(rehearsal.getByTestId('rehearsal-log')).toContainText('ok: Verify rollback works');
  const evidence = rehearsal.getByTestId('rollback-evidence');
  await expect(evidence).toHaveAttribute('data-status', 'ok');
  await expect(evidence).toContainText('Rollback verified');
  await expect(evidence).toContainText('the schema after down equals the original');
});
