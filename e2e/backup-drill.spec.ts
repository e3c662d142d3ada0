import { readFileSync } from 'node:fs';
import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { requestPath } from './support/request-page';

test('the Create backup step backs up the target, drills the backup with progress, and offers its restore script', async ({ page, context }) => {
  test.setTimeout(120_000);
  const author = await factory.createUser({ name: 'Backup Author' });
  const dba = await factory.createUser({ name: 'Backup DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  const request = await factory.fileRequest(author);

  await signIn(context, dba);
  await page.goto(requestPath(request));
  const panel = page.getByTestId('backup-panel');
  await expect(panel).toHaveAttribute('data-backup-status', 'none');
  await expect(panel.getByRole('button', { name: 'Drill (back up first)' })).toBeDisabled();

  await panel.getByRole('button', { name: 'Back up', exact: true }).click();
  // Queued, then the in-process worker runs it; the page polls until it is done.
  await expect(panel).toHaveAttribute('data-backup-status', 'succeeded', { timeout: 30_000 });
  const result = panel.getByTestId('backup-result');
  await expect(result.getByTestId('backup-sha256')).toHaveText(/^[0-9a-f]{64}$/);
  await expect(result.getByTestId('backup-versions')).toHaveText(/server PostgreSQL 15\.\d+.* · pg_dump 15\.\d+/);
  await expect(result.getByTestId('backup-size')).toContainText('bytes');
  // The run's progress, as it was reported table by table.
  await panel.getByText(/^Backup log/).click();
  await expect(panel.getByTestId('backup-run')).toContainText(/dumping public\.orders \(\d+ of \d+\)/);
  await expect(panel.getByTestId('backup-run')).toContainText('checksums of');
  const sha256 = (await result.getByTestId('backup-sha256').textContent())!;

  await panel.getByRole('button', { name: 'Drill', exact: true }).click();
  await expect(panel).toHaveAttribute('data-drill-status', 'succeeded', { timeout: 60_000 });
  const drill = panel.getByTestId('drill-run');
  await expect(drill).toHaveAttribute('data-ok', 'true');
  await expect(drill.getByTestId('drill-verdict')).toContainText('Verified: every table of the restored copy equals the backup\'s checksums');
  const tables = drill.getByTestId('drill-table');
  await expect(tables.filter({ hasText: 'public.customers' })).toContainText('2,000');
  expect(await tables.count()).toBeGreaterThan(3);
  await expect(drill.locator('[data-testid="drill-table"][data-equal="false"]')).toHaveCount(0);
  await panel.getByText(/^Drill log/).click();
  await expect(drill).toContainText('checking the size and sha256');
  await expect(drill).toContainText(/restoring into cutover_rehearsal_[0-9a-f]+ in the Cutover sandbox/);

  // The restore script and the procedure, shown and downloadable; no password, and no address for a non-admin.
  const script = panel.getByTestId('restore-script');
  await script.getByText(/^The script \(bash\)/).click();
  const text = script.getByTestId('restore-script-text');
  await expect(text).toContainText(`EXPECTED_SHA256='${sha256}'`);
  await expect(text).toContainText('pg_restore --no-password --exit-on-error --section=pre-data --single-transaction');
  await expect(text).toContainText('PGHOST="${PGHOST:?set PGHOST to the server of');
  await script.getByText(/^The procedure/).click();
  await expect(script.getByTestId('restore-procedure-text')).toContainText('# Restore procedure');
  const [download] = await Promise.all([page.waitForEvent('download'), script.getByTestId('download-restore-script').click()]);
  expect(download.suggestedFilename()).toMatch(/^restore-.*\.sh$/);
  const body = readFileSync((await download.path())!, 'utf8');
  expect(body.startsWith('#!/usr/bin/env bash')).toBe(true);
  expect(body).toContain(sha256);
  expect(body).not.toMatch(/PGPASSWORD=[^'<]/);
  await expect(page.getByTestId('audit-log')).toContainText('run.succeeded');
});

test('people without the Create backup role see the evidence but no buttons, and are told who can', async ({ page, context }) => {
  const author = await factory.createUser({ name: 'Backup Bystander' });
  const request = await factory.fileRequest(author);
  await signIn(context, author);
  await page.goto(requestPath(request));
  const panel = page.getByTestId('backup-panel');
  await expect(panel).toContainText('Only holders of database-administrator (or admins) can take backups and run drills.');
  await expect(panel.getByRole('button', { name: 'Back up', exact: true })).toHaveCount(0);
});
