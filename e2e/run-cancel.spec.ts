import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { openRequestAsDba, saveTypedMigration } from './support/request-page';

test('a DBA cancels a long rehearsal from the page and sees it end as cancelled, with what it was doing', async ({ page, context }) => {
  const { author, dba, editor } = await openRequestAsDba(page, context, 'Cancel');
  await saveTypedMigration(editor, { name: 'slow_one', up: 'ALTER TABLE orders ADD COLUMN slow_note text;\nSELECT pg_sleep(60);', down: 'ALTER TABLE orders DROP COLUMN slow_note;' });
  await expect(editor.getByTestId('revisions')).toContainText('#1 slow_one');

  const rehearsal = page.getByTestId('rehearsal-panel');
  await rehearsal.getByRole('button', { name: 'Rehearse revision 1' }).click();
  // It reaches the sleeping statement of the up path...
  await expect(rehearsal.getByTestId('rehearsal-current')).toContainText('SELECT pg_sleep(60)', { timeout: 30_000 });
  // ...and Cancel ends it within seconds, not a minute.
  const cancel = rehearsal.getByRole('button', { name: 'Cancel rehearsal' });
  await cancel.click();
  await expect(rehearsal).toHaveAttribute('data-status', 'cancelled', { timeout: 15_000 });
  await expect(rehearsal.getByTestId('rehearsal-error')).toHaveText(`Cancelled by ${dba.name} during up: statement 2 of 2 (line 2): SELECT pg_sleep(60).`);
  await expect(rehearsal.getByRole('button', { name: 'Cancel rehearsal' })).toHaveCount(0);
  await expect(page.getByTestId('audit-log')).toContainText('run.cancelled');
  // The request can be rehearsed again at once.
  await expect(rehearsal.getByRole('button', { name: 'Rehearse revision 1' })).toBeEnabled();

  // Someone who may not rehearse sees no Cancel, and cannot cancel through the action either.
  await context.clearCookies();
  await signIn(context, author);
  await page.reload();
  await expect(page.getByTestId('rehearsal-panel').getByRole('button', { name: /Cancel/ })).toHaveCount(0);
});
