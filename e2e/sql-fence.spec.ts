import { expect, test, type Page } from '@playwright/test';
import { admin, signIn } from './support/auth';
import { openRequestAsDba, saveTypedMigration } from './support/request-page';

const target = (page: Page, name: string) => page.getByTestId('target').filter({ has: page.getByText(name, { exact: true }) });

test.describe('the SQL fence', () => {
  test('a DBA saving a migration that reaches beyond its database sees the line and the reason, and nothing is saved', async ({ page, context }) => {
    const { editor } = await openRequestAsDba(page, context, 'Fence');
    await saveTypedMigration(editor, { name: 'tune_server', up: "ALTER TABLE orders ADD COLUMN note text;\nALTER SYSTEM SET work_mem = '1GB';", down: 'ALTER TABLE orders DROP COLUMN note;' });
    await expect(editor).toContainText(
      "line 2 [alter_system]: ALTER SYSTEM changes the whole server's configuration; Cutover only runs migrations that stay inside their database.",
    );
    await expect(editor).toContainText('an admin can allow the kind for this one target');
    // No revision list at all: nothing was saved.
    await expect(editor.getByTestId('revisions')).toHaveCount(0);
  });

  test('an admin keeps the extension allow list and lets a kind through for one target, and takes both back', async ({ page, context }) => {
    await signIn(context, admin);
    await page.goto('/admin/settings');
    const list = page.getByLabel('Extensions migrations may create');
    await expect(list).toHaveValue(/(^|\n)pgcrypto(\n|$)/);
    await list.fill(`${await list.inputValue()}\npostgis`);
    await page.getByRole('button', { name: 'Save the allow list' }).click();
    await expect(page.getByText('Extension allow list saved.')).toBeVisible();
    await page.reload();
    await expect(page.getByLabel('Extensions migrations may create')).toHaveValue(/(^|\n)postgis(\n|$)/);
    await page.getByLabel('Put the defaults back').check();
    await page.getByRole('button', { name: 'Save the allow list' }).click();
    await expect(page.getByText('Extension allow list saved.')).toBeVisible();
    await page.reload();
    await expect(page.getByLabel('Extensions migrations may create')).not.toHaveValue(/postgis/);

    await page.goto('/admin/targets');
    const demo = target(page, 'Demo shop');
    await demo.getByRole('button', { name: 'Edit' }).click();
    await expect(demo.getByText('Every change is recorded in the audit log.')).toBeVisible();
    await demo.getByTestId('fence-kind-role').check();
    await demo.getByRole('button', { name: 'Save' }).click();
    await expect(demo.getByText('Target saved.')).toBeVisible();
    await page.reload();
    await expect(target(page, 'Demo shop').getByTestId('fence-allowances')).toHaveText('SQL fence lets through here: role');
    const again = target(page, 'Demo shop');
    await again.getByRole('button', { name: 'Edit' }).click();
    await again.getByTestId('fence-kind-role').uncheck();
    await again.getByRole('button', { name: 'Save' }).click();
    await expect(again.getByText('Target saved.')).toBeVisible();
    await page.reload();
    await expect(target(page, 'Demo shop').getByTestId('fence-allowances')).toHaveCount(0);
  });
});
