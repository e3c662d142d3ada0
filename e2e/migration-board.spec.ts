import { expect, test, type Page } from '@playwright/test';
import { tarGz } from '../lib/engine/archive';
import { admin, signIn } from './support/auth';
import { cleanDemoDatabase } from './support/demo-db';
import { factory } from './support/factories';

// A real project's folder is long: 163 migrations, no down.sql anywhere, some written on Windows.
const FIRST = '20230404095503_initial_migration';
const FIRST_SQL = 'CREATE TABLE "board_user" (\n  "id" SERIAL PRIMARY KEY,\n  "email" TEXT NOT NULL\n);\n';
const names = [FIRST, ...Array.from({ length: 162 }, (_, i) => `20230405${String(i + 1).padStart(6, '0')}_step_${i + 1}`)];

// Later specs count the demo shop's tables: leave it as seeded.
test.afterAll(() => cleanDemoDatabase('board_', [FIRST]));

function folder(firstSql: string) {
  return tarGz([
    { path: 'prisma/migrations/migration_lock.toml', content: 'provider = "postgresql"\n' },
    ...names.map((name, i) => ({
      path: `prisma/migrations/${name}/migration.sql`,
      content: i === 0 ? firstSql : `CREATE TABLE "board_step_${i}" ("id" SERIAL PRIMARY KEY);${i % 3 === 0 ? '\r\n' : i % 3 === 1 ? '\n' : ''}`,
    })),
  ]);
}

async function importAndCheck(page: Page, fileName: string, archive: Buffer) {
  await page.goto('/migrations');
  await page.getByLabel('Prisma migrations folder (.tar.gz or .zip)').setInputFiles({ name: fileName, mimeType: 'application/gzip', buffer: archive });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/migrations\?folder=/);
  const board = page.getByTestId('status-board');
  await expect(board.locator('h2')).toHaveText(fileName);
  await board.getByRole('button', { name: 'Check all targets' }).click();
  await expect(board.getByTestId('check-Demo shop')).toHaveText('succeeded', { timeout: 30_000 });
  return board;
}

const demoCounts = (page: Page) => page.getByTestId('summary-row').filter({ has: page.getByRole('rowheader', { name: /^Demo shop/ }) });

test('the Migrations page at 163 rows: summary, filters, a header in view, named buttons, one request per migration, modified explained', async ({ page, context }) => {
  test.setTimeout(180_000);
  await signIn(context, admin);
  const board = await importAndCheck(page, 'team-163.tar.gz', folder(FIRST_SQL));
  await expect(page).toHaveTitle('Migration status · Cutover');
  await expect(board).toContainText('163 migrations');

  // A summary per target, counted from the check.
  const demo = demoCounts(page);
  await expect(demo.locator('[data-count="pending"]')).toHaveText('163');
  await expect(demo.locator('[data-count="applied"]')).toHaveText('0');
  await expect(demo.locator('[data-count="modified"]')).toHaveText('0');

  // The header stays in view when the 163 rows scroll under it.
  const head = board.getByTestId('status-head');
  const scroller = board.getByTestId('status-scroll');
  await scroller.evaluate((el) => { el.scrollIntoView({ block: 'end' }); el.scrollTop = el.scrollHeight; });
  await expect(board.getByRole('rowheader', { name: names[162] })).toBeInViewport();
  await expect(head).toBeInViewport();
  const [headBox, scrollBox] = [await head.boundingBox(), await scroller.boundingBox()];
  expect(Math.abs(headBox!.y - scrollBox!.y)).toBeLessThan(3);

  // Buttons are named after their migration; a pending one becomes a request with its SQL.
  await scroller.evaluate((el) => { el.scrollTop = 0; });
  const boardUrl = page.url();
  await board.getByRole('button', { name: `Create a request for ${FIRST} on Demo shop` }).click();
  await expect(page).toHaveURL(/\/requests\/[0-9a-f-]{36}$/);
  const requestUrl = page.url();
  // The request page opens one step; this spec works the editor and the apply panel together.
  await page.goto(`${requestUrl}?view=all`);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(`Apply ${FIRST} to Demo shop`);
  await expect(page).toHaveTitle(new RegExp(`^#\\d+ Apply ${FIRST} to Demo shop · Cutover$`));
  const editor = page.getByTestId('migration-editor');
  await expect(editor.getByTestId('revisions')).toContainText(`#1 ${FIRST}`);
  await expect(editor.getByTestId('down-to-write')).toHaveText('down.sql still to write');
  await expect(editor.getByTestId('migration-plan')).toContainText('down.sql: still to write.');
  await expect(editor.getByLabel('Up: migration.sql')).toHaveValue(FIRST_SQL);
  const panel = page.getByTestId('apply-panel');
  await expect(panel.getByRole('button', { name: 'Roll back' })).toBeDisabled();

  // Asking again opens the same request instead of making a second one.
  await page.goto(boardUrl);
  const open = board.getByRole('link', { name: new RegExp(`^Open request #\\d+ for ${FIRST} on Demo shop$`) });
  await expect(open).toBeVisible();
  await open.click();
  await expect(page).toHaveURL(requestUrl);
  await page.goto(`${requestUrl}?view=all`);

  // Applied after confirming (the dialog names the target, its environment and the statements).
  await panel.getByRole('button', { name: 'Apply revision 1' }).click();
  const dialog = page.getByRole('dialog', { name: `Apply revision 1 of ${FIRST} to Demo shop (local)?` });
  await expect(dialog).toContainText('migration.sql: 1 statement, all in one transaction');
  await expect(dialog).toContainText('CREATE TABLE "board_user"');
  await dialog.getByRole('button', { name: 'Apply to Demo shop' }).click();
  await expect(panel).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });

  // Someone edits the applied file afterwards (line endings only): the page says "modified" and explains it.
  const edited = await importAndCheck(page, 'team-163-edited.tar.gz', folder(FIRST_SQL.replace(/\n/g, '\r\n')));
  const cell = edited.locator(`[data-testid="status-cell"][data-target="Demo shop"][data-migration="${FIRST}"]`);
  await expect(cell).toHaveAttribute('data-state', 'modified');
  await expect(cell.getByTestId('checksums')).toContainText(/applied [0-9a-f]{64}\s*file [0-9a-f]{64}/);
  await expect(edited.getByTestId('modified-explained')).toContainText('the checksum recorded when it was applied');
  await expect(edited.getByTestId('modified-explained')).toContainText('line endings');
  await expect(demo.locator('[data-count="modified"]')).toHaveText('1');
  await expect(demo.locator('[data-count="pending"]')).toHaveText('162');

  // Filters: pending rows only, then problem rows only.
  const rows = edited.getByTestId('status-row');
  await edited.getByRole('radio', { name: /^Pending/ }).check();
  await expect(rows.filter({ hasText: 'step_' })).toHaveCount(162);
  await expect(rows.filter({ hasText: FIRST })).toHaveCount(0);
  await edited.getByRole('radio', { name: /^Problems/ }).check();
  await expect(rows.filter({ hasText: FIRST })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'step_' })).toHaveCount(0);
  await edited.getByRole('radio', { name: /^All/ }).check();
  await expect(rows.filter({ hasText: 'step_' })).toHaveCount(162);

  // Someone who may not file requests sees the board without buttons, and is told who can.
  const editedUrl = page.url();
  await context.clearCookies();
  await signIn(context, await factory.createUser({ name: 'Board Reviewer', roles: ['reviewer'] }));
  await page.goto(editedUrl);
  await expect(rows.filter({ hasText: 'step_' })).toHaveCount(162);
  await expect(edited.getByRole('button')).toHaveCount(0);
  await expect(edited.getByTestId('request-who')).toHaveText('Only engineers and leads (or admins) can create a request from a pending migration.');
  await expect(page.getByTestId('migrations-who')).toContainText('can import a folder and check targets');
});
