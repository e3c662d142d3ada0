import { expect, test } from '@playwright/test';
import { tarGz } from '../lib/engine/archive';
import { admin, signIn } from './support/auth';

test('an admin imports a Prisma migrations folder, checks every target and turns a pending migration into a request', async ({ page, context }) => {
  await signIn(context, admin);
  await page.goto('/migrations');
  const archive = tarGz([
    { path: 'prisma/migrations/migration_lock.toml', content: 'provider = "postgresql"\n' },
    { path: 'prisma/migrations/20250301000000_wishlists/migration.sql', content: 'CREATE TABLE "wishlists" ("id" SERIAL PRIMARY KEY, "customer_id" BIGINT NOT NULL);\n' },
    { path: 'prisma/migrations/20250301000000_wishlists/down.sql', content: 'DROP TABLE "wishlists";\n' },
  ]);
  // An archive without migrations is refused on the field.
  await page.getByLabel('Prisma migrations folder (.tar.gz or .zip)').setInputFiles({ name: 'empty.tar.gz', mimeType: 'application/gzip', buffer: tarGz([{ path: 'README', content: 'x' }]) });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page.getByTestId('error-archive')).toContainText('No Prisma migrations in this archive');

  await page.getByLabel('Prisma migrations folder (.tar.gz or .zip)').setInputFiles({ name: 'shop-migrations.tar.gz', mimeType: 'application/gzip', buffer: archive });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/migrations\?folder=/);
  const board = page.getByTestId('status-board');
  await expect(board).toContainText('shop-migrations.tar.gz');

  await board.getByRole('button', { name: 'Check all targets' }).click();
  const cell = board.locator('[data-testid="status-cell"][data-target="Demo shop"][data-migration="20250301000000_wishlists"]');
  await expect(cell).toHaveAttribute('data-state', 'pending', { timeout: 20_000 });

  await cell.getByRole('button', { name: 'request' }).click();
  await expect(page).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
  await page.goto(`${page.url()}?view=all`); // the editor is step 2; the page opens step 1
  await expect(page.getByRole('heading', { level: 1 })).toContainText('Apply 20250301000000_wishlists to Demo shop');
  await expect(page.getByTestId('revisions')).toContainText('#1 20250301000000_wishlists');
});
