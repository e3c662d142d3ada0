import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect, test } from '@playwright/test';
import { Client } from 'pg';
import { signIn } from './support/auth';
import { DATABASE_URL } from './support/env';
import { factory } from './support/factories';

/**
 * Post-deployment in the browser: a request deployed to a one-environment project (written into
 * the store as the Deploy step leaves it; the deploy itself is e2e/deploy*.spec.ts), its queries
 * written through the form, checks run by the in-process worker against the demo shop, a failure
 * raising an alert with the rollback offered, and the issue notes with their history.
 */
test('verification queries run after a deploy, failures raise alerts, issues keep their history', async ({ page, context }) => {
  test.setTimeout(120_000);
  let healthy = true;
  const health = http.createServer((_req, res) => res.writeHead(healthy ? 200 : 503).end());
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  const healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;

  const author = await factory.createUser({ name: 'Post-deploy Author' });
  const dba = await factory.createUser({ name: 'Post-deploy DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  const request = await factory.fileRequest(author);
  const store = new Client({ connectionString: DATABASE_URL });
  await store.connect();
  const tag = randomBytes(4).toString('hex');
  try {
    const upSql = 'ALTER TABLE customers ADD COLUMN loyalty_points integer NOT NULL DEFAULT 0;\n';
    await store.query(
      `WITH rev AS (
         INSERT INTO migration_revisions (id, request_id, revision, name, up_sql, down_sql, checksum, created_by_id)
         VALUES (gen_random_uuid(), $1, 1, 'loyalty_points', $2, 'ALTER TABLE customers DROP COLUMN loyalty_points;', $3, $4) RETURNING id, checksum),
       project AS (
         INSERT INTO projects (id, name, repository_url, updated_at) VALUES (gen_random_uuid(), $5, '/nonexistent/app', now()) RETURNING id),
       env AS (
         INSERT INTO project_environments (id, project_id, position, name, target_id, health_check_url, requires_approval)
         SELECT gen_random_uuid(), project.id, 1, 'production', r.target_id, $6, true FROM project, migration_requests r WHERE r.id = $1 RETURNING id, target_id),
       req AS (UPDATE migration_requests SET project_id = (SELECT id FROM project) WHERE id = $1 RETURNING id)
       INSERT INTO deployments (id, request_id, environment_id, target_id, revision_id, revision_sha256, status, requested_by_id, finished_at)
       SELECT gen_random_uuid(), $1, env.id, env.target_id, rev.id, rev.checksum, 'succeeded', $4, now() FROM env, rev, req`,
      [request.id, upSql, createHash('sha256').update(upSql).digest('hex'), dba.id, `Post-deploy app ${tag}`, healthUrl],
    );

    await signIn(context, dba);
    await page.goto(`/requests/${request.id}/steps/post-deployment`);
    const panel = page.getByTestId('post-deploy-panel');
    await expect(panel.getByTestId('post-deploy-deployments')).toContainText('production');

    // A write is refused when it is saved, next to the SQL field.
    const form = panel.getByTestId('verification-query-form');
    await form.getByLabel('Name', { exact: true }).fill('Customers kept');
    await form.getByLabel('Comparison', { exact: true }).selectOption('>');
    await form.getByRole('button', { name: 'Add check' }).click();
    await expect(form.getByTestId('error-value')).toContainText('whole number');
    await expect(form.getByTestId('error-sql')).toContainText('Write the SELECT query');
    await form.getByLabel('Expected number', { exact: true }).fill('0');
    await form.getByLabel('SELECT query', { exact: true }).fill('DELETE FROM customers');
    await form.getByRole('button', { name: 'Add check' }).click();
    await expect(form.getByTestId('error-sql')).toContainText('Verification queries only read');
    await form.getByLabel('SELECT query', { exact: true }).fill('SELECT count(*) FROM customers');
    await form.getByRole('button', { name: 'Add check' }).click();
    await expect(panel.getByTestId('verification-query')).toHaveCount(1);
    await expect(panel.getByTestId('verification-query')).toContainText('returns a number more than 0');

    await panel.getByRole('button', { name: 'Run checks now' }).click();
    const latest = panel.getByTestId('post-deploy-check').first();
    await expect(latest).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
    await expect(latest.getByTestId('verification-result')).toHaveAttribute('data-passed', 'true');
    await expect(latest).toContainText('health: HTTP 200');
    await expect(panel.getByTestId('post-deploy-alerts')).toHaveCount(0);

    // The application goes down and a second check fails: alerts, with the rollback offered to a Deploy holder.
    healthy = false;
    await form.getByLabel('Name', { exact: true }).fill('No customer without email');
    await form.getByLabel('Passes when the query', { exact: true }).selectOption('no_rows');
    await form.getByLabel('SELECT query', { exact: true }).fill('SELECT id FROM customers');
    await form.getByRole('button', { name: 'Add check' }).click();
    await expect(panel.getByTestId('verification-query')).toHaveCount(2);
    await panel.getByRole('button', { name: 'Run checks now' }).click();
    await expect(panel.getByTestId('post-deploy-check').first()).toHaveAttribute('data-status', 'failed', { timeout: 30_000 });
    const alerts = panel.getByTestId('post-deploy-alert');
    await expect(alerts).toHaveCount(2);
    await expect(alerts.filter({ hasText: 'Health check' })).toContainText('HTTP 503');
    await expect(alerts.filter({ hasText: 'Verification queries' })).toContainText('No customer without email');
    await alerts.first().getByRole('button', { name: 'Roll back (down path)…' }).click();
    await expect(page.getByRole('dialog')).toContainText('runs the revision\'s down.sql');
    await page.getByRole('dialog').getByRole('button', { name: 'Not now' }).click();

    // Success criteria: nothing met that needs a real deploy's evidence, each saying what it waits for.
    const criteria = page.getByTestId('success-criteria');
    await expect(criteria).toHaveAttribute('data-all-met', 'false');
    await expect(criteria.getByTestId('criterion-app-works')).toHaveAttribute('data-met', 'false');

    // Document any issues: two versions, the newest shown, both in the history.
    const issues = panel.getByTestId('issue-notes');
    await issues.getByLabel('Issues', { exact: true }).fill('Health endpoint down after deploy.');
    await issues.getByRole('button', { name: 'Save a new version' }).click();
    await expect(issues.getByText('History (1 version)')).toBeVisible();
    await issues.getByLabel('Issues', { exact: true }).fill('Health endpoint down after deploy; the app pods restarted and it recovered.');
    await issues.getByRole('button', { name: 'Save a new version' }).click();
    await expect(issues.getByText('History (2 versions)')).toBeVisible();
  } finally {
    health.closeAllConnections();
    health.close();
    await store.query('DELETE FROM migration_requests WHERE id = $1', [request.id]).catch(() => undefined);
    await store.query('DELETE FROM projects WHERE name = $1', [`Post-deploy app ${tag}`]).catch(() => undefined);
    await store.end();
  }
});
