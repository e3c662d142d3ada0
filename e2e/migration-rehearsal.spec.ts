import { expect, test } from '@playwright/test';
import { Client } from 'pg';
import { DATABASE_URL } from './support/env';
import { openRequestAsDba, saveTypedMigration } from './support/request-page';

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
  // clone, sample, snapshot, up, data-loss, verify-schema, down, verify-rollback, redo, drop
  await expect(rehearsal.getByTestId('rehearsal-phases').locator('[data-status="ok"]')).toHaveCount(10);
  await expect(rehearsal.locator('[data-phase="data-loss"]')).toContainText('No undeclared data changes');
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

test('a rehearsal with a data sample shows the lock-impact picture and names the statement that blocked the probes', async ({ page, context }) => {
  const { editor } = await openRequestAsDba(page, context, 'Lock Impact');
  // The ALTER takes ACCESS EXCLUSIVE on orders, and the transaction keeps it while the next statement sleeps:
  // readers and writers wait longer than the target's threshold (1000 ms by default).
  await saveTypedMigration(editor, {
    name: 'add_gift_note',
    up: 'ALTER TABLE orders ADD COLUMN gift_note text;\nSELECT pg_sleep(1.5);',
    down: 'ALTER TABLE orders DROP COLUMN gift_note;',
  });
  await expect(editor.getByTestId('revisions')).toContainText('#1 add_gift_note');

  const rehearsal = page.getByTestId('rehearsal-panel');
  await rehearsal.getByLabel('Data sample (rows a table, 0 = schema only)').fill('50');
  await rehearsal.getByRole('button', { name: 'Rehearse revision 1' }).click();
  await expect(rehearsal).toHaveAttribute('data-status', 'succeeded', { timeout: 45_000 });

  const impact = rehearsal.getByTestId('lock-impact');
  await expect(impact).toHaveAttribute('data-passed', 'false');
  // The risk names the statement, its lock and its table.
  const risk = impact.getByTestId('lock-impact-risk');
  await expect(risk).toContainText('Risk raised: 1 statement blocked the probes longer than 1000 ms');
  await expect(risk).toContainText('statement 1 of up (line 1) kept readers and writers waiting');
  await expect(risk).toContainText('behind its ACCESS EXCLUSIVE lock on public.orders: ALTER TABLE orders ADD COLUMN gift_note text');

  // The picture: one SVG per phase, statement bands along time, the blocking one marked, probe samples with blocked ones.
  const up = impact.locator('[data-testid="lock-timeline-phase"][data-phase="up"]');
  const svg = up.getByRole('img');
  await expect(svg).toHaveAttribute('aria-label', /^Lock-impact timeline of up: 2 statements over .*Over the 1000 ms threshold: statement 1 of up \(line 1\) kept readers and writers waiting \d+ ms behind its ACCESS EXCLUSIVE lock on public\.orders/);
  await expect(svg.getByTestId('lock-band')).toHaveCount(2);
  await expect(svg.locator('[data-testid="lock-band"][data-statement="1"]')).toHaveAttribute('data-exceeded', 'true');
  await expect(svg.locator('[data-testid="lock-band"][data-statement="2"]')).toHaveAttribute('data-exceeded', 'false');
  expect(await svg.locator('[data-testid="lock-sample"][data-blocked="true"]').count()).toBeGreaterThan(0);
  await expect(svg.getByTestId('lock-threshold')).toHaveCount(1);
  // The table beside it says the same in figures.
  await expect(impact.locator('[data-testid="lock-impact-row"][data-exceeded="true"]')).toHaveCount(1);
  await expect(impact.locator('[data-testid="lock-impact-row"][data-exceeded="true"]')).toContainText('ACCESS EXCLUSIVE on public.orders');
  // The README's picture (CUTOVER_SCREENSHOTS=1 refreshes docs/images/lock-impact.png).
  if (process.env.CUTOVER_SCREENSHOTS) await impact.screenshot({ path: 'docs/images/lock-impact.png' });
});

