import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { openRequestAsDba, saveTypedMigration } from './support/request-page';

test('a DBA applies the saved migration to the local demo target and rolls it back, with per-statement evidence', async ({ page, context }) => {
  const { author, editor } = await openRequestAsDba(page, context, 'Apply');
  await saveTypedMigration(editor, { name: 'add_gift_note', up: 'ALTER TABLE orders ADD COLUMN gift_note text;\nCREATE INDEX CONCURRENTLY orders_gift_note_idx ON orders (gift_note);', down: 'DROP INDEX CONCURRENTLY orders_gift_note_idx;\nALTER TABLE orders DROP COLUMN gift_note;' });
  await expect(editor.getByTestId('revisions')).toContainText('#1 add_gift_note');
  // Said before anything runs: the concurrent index makes the migration non-atomic.
  await expect(editor.getByTestId('migration-plan')).toContainText(
    'migration.sql: 2 statements, not atomic: line 2 (CREATE INDEX CONCURRENTLY cannot run inside a transaction) runs outside a transaction',
  );

  const panel = page.getByTestId('apply-panel');
  await expect(panel).toContainText('Apply to Demo shop (local)');
  // Nothing applied yet: nothing to roll back, and the panel says why.
  await expect(panel.getByRole('button', { name: 'Roll back' })).toBeDisabled();
  await expect(panel.getByTestId('rollback-reason')).toHaveText('Roll back: Nothing to roll back: revision 1 has not been applied to Demo shop.');
  // Nothing runs before it is confirmed: the dialog names the target, its environment and what will run.
  await panel.getByRole('button', { name: 'Apply revision 1' }).click();
  const confirm = page.getByRole('dialog', { name: 'Apply revision 1 of add_gift_note to Demo shop (local)?' });
  await expect(confirm).toBeVisible();
  // Centred in the window (Tailwind's preflight zeroes <dialog>'s margin; the dialog puts it back).
  const box = (await confirm.boundingBox())!;
  const viewport = page.viewportSize()!;
  expect(Math.abs(box.x + box.width / 2 - viewport.width / 2)).toBeLessThan(2);
  expect(box.y).toBeGreaterThan(0);
  await expect(confirm).toContainText('Target: Demo shop, environment local.');
  await expect(confirm).toContainText('migration.sql: 2 statements, not atomic');
  await expect(confirm).toContainText('CREATE INDEX CONCURRENTLY orders_gift_note_idx ON orders (gift_note);');
  await confirm.getByRole('button', { name: 'Not now' }).click();
  await expect(confirm).toBeHidden();
  await expect(panel).toHaveAttribute('data-kind', 'none');
  await panel.getByRole('button', { name: 'Apply revision 1' }).click();
  await confirm.getByRole('button', { name: 'Apply to Demo shop' }).click();
  await expect(panel).toHaveAttribute('data-kind', 'apply');
  await expect(panel).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
  await expect(panel).toContainText('IndexStmt (outside the transaction)');
  await expect(panel.locator('tbody tr')).toHaveCount(2);
  await expect(panel.getByTestId('rollback-reason')).toHaveCount(0);

  await panel.getByRole('button', { name: 'Roll back' }).click();
  const rollback = page.getByRole('dialog', { name: 'Roll back add_gift_note on Demo shop (local)?' });
  await expect(rollback).toContainText('ALTER TABLE orders DROP COLUMN gift_note;');
  await expect(rollback).toContainText('down.sql: 2 statements');
  await expect(panel).toHaveAttribute('data-kind', 'apply');
  await rollback.getByRole('button', { name: 'Roll back on Demo shop' }).click();
  await expect(panel).toHaveAttribute('data-kind', 'down');
  await expect(panel).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
  await expect(panel.locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('audit-log')).toContainText('run.succeeded');
  // Rolled back: nothing to roll back until it is applied again.
  await expect(panel.getByRole('button', { name: 'Roll back' })).toBeDisabled();

  // Someone without the role sees no buttons.
  await context.clearCookies();
  await signIn(context, author);
  await page.reload();
  await expect(page.getByTestId('apply-panel').getByRole('button')).toHaveCount(0);
});
