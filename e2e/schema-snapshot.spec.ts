import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { factory } from './support/factories';
import { requestPath } from './support/request-page';

test('an Analysis holder snapshots the demo target through the worker and watches it finish', async ({ browser, page, context }) => {
  const author = await factory.createUser({ name: 'Snapshot Author' });
  const optimizer = await factory.createUser({ name: 'Snapshot Optimizer', roles: ['engineer'], agentRoles: ['database-optimizer'] });
  const request = await factory.fileRequest(author);

  // Someone without the Analysis roles sees the panel but no button.
  const otherContext = await browser.newContext();
  const other = await otherContext.newPage();
  await signIn(otherContext, author);
  await other.goto(requestPath(request));
  await expect(other.getByTestId('snapshot-panel')).toHaveAttribute('data-status', 'none');
  await expect(other.getByRole('button', { name: 'Take schema snapshot' })).toHaveCount(0);
  // ...and is told why, and who can.
  await expect(other.getByTestId('snapshot-who')).toHaveText('Only holders of database-optimizer or postgres-pro (or admins) can take snapshots.');
  await otherContext.close();

  await signIn(context, optimizer);
  await page.goto(requestPath(request));
  const panel = page.getByTestId('snapshot-panel');
  await panel.getByRole('button', { name: 'Take schema snapshot' }).click();
  // Queued, then the in-process worker runs it; the page polls until it is done.
  await expect(panel).toHaveAttribute('data-status', 'succeeded', { timeout: 20_000 });
  const tables = panel.getByTestId('snapshot-table');
  await expect(tables.filter({ hasText: 'public.orders' })).toHaveCount(1);
  await expect(tables.filter({ hasText: 'public.customers' })).toContainText('2,000');
  await expect(panel).toContainText('public.order_status (pending, paid, shipped, cancelled)');
  await expect(panel).toContainText('public.order_totals');
  // What each table holds, counted in agreement ("1 index"), with defaults and check constraints.
  const items = tables.filter({ hasText: 'public.order_items' });
  await expect(items).toContainText('3 columns · 1 index · 1 check constraint · 2 foreign keys');
  const products = tables.filter({ hasText: 'public.products' });
  await expect(products).toContainText('5 columns · 2 indexes · 1 check constraint · 0 foreign keys');
  await products.getByText('5 columns').click();
  await expect(products.getByRole('list', { name: 'Columns of public.products' })).toContainText('active boolean NOT NULL DEFAULT true');
  await expect(products.getByRole('list', { name: 'Constraints of public.products' })).toContainText('products_price_cents_check CHECK (price_cents >= 0)');

  // A second snapshot of an unchanged target lists no changes.
  await panel.getByRole('button', { name: 'Take a new snapshot' }).click();
  await expect(panel.getByTestId('snapshot-changes')).toContainText('None.', { timeout: 20_000 });
  await expect(page.getByTestId('audit-log')).toContainText('run.succeeded');
});
