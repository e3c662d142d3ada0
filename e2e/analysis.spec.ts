import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { requestPath, saveTypedMigration } from './support/request-page';

test('the Analysis step shows risk, locks and squawk findings; a destructive operation is acknowledged; the written fields save', async ({ page, context }) => {
  test.setTimeout(120_000);
  const author = await factory.createUser({ name: 'Analysis Author' });
  // One person on both desks: the Analysis step (database-optimizer) and the migration (database-administrator).
  const dba = await factory.createUser({ name: 'Analysis DBA', roles: ['engineer'], agentRoles: ['database-administrator', 'database-optimizer'] });
  const reviewer = await factory.createUser({ name: 'Analysis Reviewer', roles: ['reviewer'] });
  const request = await factory.fileRequest(author);
  await signIn(context, dba);
  await page.goto(requestPath(request));

  const panel = page.getByTestId('analysis-panel');
  await expect(panel).toHaveAttribute('data-status', 'none');
  await expect(panel).toContainText('No migration saved yet');

  // The migration drops a column of the demo shop and indexes another without CONCURRENTLY. Nothing of it runs here.
  await saveTypedMigration(page.getByTestId('migration-editor'), {
    name: 'drop_country',
    up: 'ALTER TABLE customers DROP COLUMN country;\nCREATE INDEX customers_full_name_idx ON customers (full_name);\n',
    down: "DROP INDEX customers_full_name_idx;\nALTER TABLE customers ADD COLUMN country char(2) NOT NULL DEFAULT 'NL';\n",
  });
  await expect(page.getByTestId('migration-editor').getByTestId('revisions')).toContainText('#1 drop_country');

  await panel.getByRole('button', { name: 'Analyse the migration' }).click();
  await expect(panel).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(panel).toHaveAttribute('data-risk', 'high');
  await expect(panel.getByTestId('analysis-risk')).toHaveText('risk high');
  await expect(panel.getByTestId('analysis-risk-reasons')).toContainText('drops column public.customers.country');

  // Each statement with the lock it takes and what it does to the table.
  const statements = panel.getByTestId('analysis-statement');
  await expect(statements).toHaveCount(2);
  await expect(statements.nth(0)).toHaveAttribute('data-lock', 'ACCESS EXCLUSIVE');
  await expect(statements.nth(0)).toContainText('drop column country of public.customers');
  await expect(statements.nth(1)).toHaveAttribute('data-lock', 'SHARE');
  await expect(statements.nth(1)).toContainText('blocks writes');
  await expect(statements.nth(1)).toContainText('scan');
  await expect(panel.getByTestId('analysis-tables')).toContainText('public.customers');
  await expect(panel.getByTestId('analysis-strategies')).toContainText('Build public.customers_full_name_idx concurrently');

  // squawk's findings, each with its rule and a link to the rule's page.
  const drop = panel.locator('[data-testid="squawk-finding"][data-rule="ban-drop-column"]');
  await expect(drop).toHaveCount(1);
  await expect(drop.getByRole('link', { name: 'ban-drop-column' })).toHaveAttribute('href', 'https://squawkhq.com/docs/ban-drop-column');
  await expect(panel.locator('[data-testid="squawk-finding"][data-rule="require-concurrent-index-creation"]')).toHaveCount(1);

  // The destructive operation waits for an explicit acknowledgement, with a note, by someone other
  // than the revision's author: the DBA who wrote it sees no Acknowledge button; a reviewer does.
  const dbaOp = panel.locator('[data-testid="destructive-op"][data-key="drop_column:public.customers.country"]');
  await expect(dbaOp).toHaveAttribute('data-acknowledged', 'no');
  await expect(dbaOp.getByRole('button', { name: 'Acknowledge' })).toHaveCount(0);
  await context.clearCookies();
  await signIn(context, reviewer);
  await page.reload();
  const op = page.getByTestId('analysis-panel').locator('[data-testid="destructive-op"][data-key="drop_column:public.customers.country"]');
  await expect(op).toHaveAttribute('data-acknowledged', 'no');
  await expect(op.getByRole('button', { name: 'Acknowledge' })).toBeDisabled();
  await op.getByLabel('Why this is acceptable').fill('Country moved to the addresses table in #41.');
  await op.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(op).toHaveAttribute('data-acknowledged', 'yes');
  await expect(op.getByTestId('destructive-ack')).toContainText('Acknowledged by Analysis Reviewer');
  await expect(op.getByTestId('destructive-ack')).toContainText('Country moved to the addresses table in #41.');
  await expect(page.getByTestId('audit-log')).toContainText('analysis.destructive_acknowledged');

  // "Document desired changes" and "Plan migration strategy", prefilled from the analysis, edited and saved
  // by the Analysis step's holder.
  await context.clearCookies();
  await signIn(context, dba);
  await page.reload();
  const desired = panel.getByLabel('Desired changes');
  await expect(desired).toHaveValue(/- drop column country of public\.customers \(line 1\)/);
  await expect(panel.getByLabel('Migration strategy')).toHaveValue(/CREATE INDEX CONCURRENTLY customers_full_name_idx/);
  await desired.fill('- customers lose country (moved to addresses)\n- customers get an index on full_name');
  await panel.getByRole('button', { name: 'Save analysis' }).click();
  await expect(panel.getByTestId('analysis-fields-saved')).toHaveText('Saved.');
  await page.reload();
  await expect(page.getByTestId('analysis-panel').getByLabel('Desired changes')).toHaveValue('- customers lose country (moved to addresses)\n- customers get an index on full_name');
  await expect(page.getByTestId('analysis-panel')).not.toContainText('Prefilled from the analysis; edit and save');
});
