import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { tarGz } from '../lib/engine/archive';
import { admin, signIn } from './support/auth';
import { cleanDemoDatabase } from './support/demo-db';
import { factory } from './support/factories';
import { requestPath } from './support/request-page';

// Later specs count the demo shop's tables: leave it as seeded.
test.afterAll(() => cleanDemoDatabase('e2e_bytes_'));

// Three migration.sql files as teams have them. A textarea would turn each into CRLF text.
const FILES = [
  { label: 'lf', endings: 'LF line endings', bytes: Buffer.from('CREATE TABLE "e2e_bytes_lf" ("id" SERIAL PRIMARY KEY);\nCREATE INDEX "e2e_bytes_lf_idx" ON "e2e_bytes_lf" ("id");\n') },
  { label: 'crlf', endings: 'CRLF line endings', bytes: Buffer.from('CREATE TABLE "e2e_bytes_crlf" ("id" SERIAL PRIMARY KEY);\r\nCREATE INDEX "e2e_bytes_crlf_idx" ON "e2e_bytes_crlf" ("id");\r\n') },
  { label: 'nofinal', endings: 'LF line endings, no final newline', bytes: Buffer.from('-- the last line has no newline\nCREATE TABLE "e2e_bytes_nofinal" ("id" SERIAL PRIMARY KEY);') },
];
const folderName = (label: string) => `20250102000000_e2e_bytes_${label}`;

test('a migration.sql loaded from a file keeps its bytes: downloaded as it was, applied with its own checksum, shown applied (not modified)', async ({ page, context }) => {
  test.setTimeout(180_000);
  const dba = await factory.createUser({ name: 'Bytes DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  await signIn(context, dba);

  for (const file of FILES) {
    const request = await factory.fileRequest(dba, { title: `Keep the bytes (${file.label})` });
    await page.goto(requestPath(request));
    const editor = page.getByTestId('migration-editor');
    await editor.getByLabel('Name (Prisma folder: <timestamp>_<name>)').fill(folderName(file.label));
    await editor.getByLabel('Load migration.sql from a file').setInputFiles({ name: `${file.label}.sql`, mimeType: 'application/sql', buffer: file.bytes });
    await expect(editor.getByTestId('source-upSql')).toContainText(`From file ${file.label}.sql: ${file.bytes.length} bytes, ${file.endings}. Saved byte for byte`);
    await editor.getByLabel('Down: down.sql').fill(`DROP TABLE "e2e_bytes_${file.label}";`);
    await editor.getByRole('button', { name: 'Save revision' }).click();
    await expect(editor.getByTestId('revisions')).toContainText(`#1 ${folderName(file.label)}`);
    // After saving, the field holds revision 1 as saved, still byte for byte.
    await expect(editor.getByTestId('source-upSql')).toHaveText('As saved in revision 1, kept byte for byte unless you edit it.');

    // The revision's Prisma folder, downloaded through the page, holds the file exactly.
    const [download] = await Promise.all([page.waitForEvent('download'), editor.getByRole('link', { name: 'Prisma folder (.tar.gz)' }).click()]);
    const dir = mkdtempSync(path.join(tmpdir(), 'cutover-e2e-bytes-'));
    await download.saveAs(path.join(dir, 'folder.tar.gz'));
    execFileSync('tar', ['-xzf', 'folder.tar.gz'], { cwd: dir });
    const exported = readFileSync(path.join(dir, 'prisma/migrations', folderName(file.label), 'migration.sql'));
    expect(exported.equals(file.bytes), `${file.label}: the downloaded migration.sql differs from the file`).toBe(true);

    // Applied to the demo target (after confirming), with the checksum of that same file.
    const panel = page.getByTestId('apply-panel');
    await panel.getByRole('button', { name: 'Apply revision 1' }).click();
    await page.getByRole('dialog').getByRole('button', { name: 'Apply to Demo shop' }).click();
    await expect(panel).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
  }

  // The team's own folder, imported: every one of the three is applied, none modified.
  await context.clearCookies();
  await signIn(context, admin);
  await page.goto('/migrations');
  const archive = tarGz(FILES.map((f) => ({ path: `prisma/migrations/${folderName(f.label)}/migration.sql`, content: f.bytes })));
  await page.getByLabel('Prisma migrations folder (.tar.gz or .zip)').setInputFiles({ name: 'e2e-bytes.tar.gz', mimeType: 'application/gzip', buffer: archive });
  await page.getByRole('button', { name: 'Import' }).click();
  await expect(page).toHaveURL(/\/migrations\?folder=/);
  const board = page.getByTestId('status-board');
  await expect(board).toContainText('e2e-bytes.tar.gz');
  await board.getByRole('button', { name: 'Check all targets' }).click();
  for (const file of FILES) {
    const cell = board.locator(`[data-testid="status-cell"][data-target="Demo shop"][data-migration="${folderName(file.label)}"]`);
    await expect(cell).toHaveAttribute('data-state', 'applied', { timeout: 20_000 });
  }
});
