import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { expect, test, type Browser, type Page } from '@playwright/test';
import { Client } from 'pg';
import { createAppRepository, git } from '../tests/support/git-repo';
import { signIn } from './support/auth';
import { BASE_URL, DATABASE_URL, PG_ADMIN_URL } from './support/env';
import { gateItem, gatePanel, taskCard } from './support/request-page';
import { StoreAgent } from './support/store-agent';

/**
 * Issue 8 end to end: the whole procedure on the machine's PostgreSQL, two databases as staging
 * and production, a local git repository as the application. Each step is worked in Chromium by
 * the person the procedure names, with the real worker doing the runs; the test automator's CI
 * posts its JUnit report with a token, as curl would. Only accounts, the two databases, the
 * project and the application's repository are set up beforehand.
 */

const STAGING_DB = 'cutover_e2e_whole_staging';
const PRODUCTION_DB = 'cutover_e2e_whole_production';
const APP_SCHEMA = (extra = '') => `datasource db {\n  provider = "postgresql"\n}\n\nmodel Order {\n  id       Int    @id\n  customer String\n${extra}\n  @@map("orders")\n}\n`;
const PASSING_JUNIT = `<?xml version="1.0"?>
<testsuites><testsuite name="orders" tests="3" failures="0" errors="0">
  <testcase classname="orders.spec" name="creates an order"/>
  <testcase classname="orders.spec" name="writes a note on an order"/>
  <testcase classname="orders.spec" name="lists orders without a note"/>
</testsuite></testsuites>`;

const databaseUrl = (name: string) => {
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${name}`;
  return url.toString();
};

async function sql(url: string, text: string, values: unknown[] = []) {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

let agent: StoreAgent;
let health: http.Server;
let healthUrl: string;
let repo: ReturnType<typeof createAppRepository>;
const tag = randomBytes(3).toString('hex');
const projectName = `Whole procedure shop ${tag}`;

test.beforeAll(async () => {
  for (const name of [STAGING_DB, PRODUCTION_DB]) {
    await sql(PG_ADMIN_URL, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    await sql(PG_ADMIN_URL, `CREATE DATABASE "${name}"`);
    await sql(databaseUrl(name), "CREATE TABLE orders (id integer PRIMARY KEY, customer text NOT NULL); INSERT INTO orders SELECT g, 'customer ' || g FROM generate_series(1, 50) g;");
  }
  health = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('ok'));
  await new Promise<void>((resolve) => health.listen(0, '127.0.0.1', resolve));
  healthUrl = `http://127.0.0.1:${(health.address() as AddressInfo).port}/health`;
  repo = createAppRepository({ 'package.json': '{\n  "name": "shop",\n  "version": "2.0.0"\n}\n', 'prisma/schema.prisma': APP_SCHEMA() });
  repo.commit('feature/order-notes', { 'prisma/schema.prisma': APP_SCHEMA('  note     String?\n') }, 'Orders get a note');
  agent = await StoreAgent.start();
});

test.afterAll(async () => {
  await agent?.stop();
  health?.closeAllConnections();
  health?.close();
  // The request and the project go, so that other specs' boards and lists do not see them. The
  // databases stay (recreated at the next run): their targets stay registered.
  await sql(DATABASE_URL, 'DELETE FROM migration_requests WHERE project_id IN (SELECT id FROM projects WHERE name = $1)', [projectName]).catch(() => undefined);
  await sql(DATABASE_URL, 'DELETE FROM projects WHERE name = $1', [projectName]).catch(() => undefined);
  repo?.remove();
});

function target(name: string, database: string, environment: 'staging' | 'production') {
  const server = new URL(PG_ADMIN_URL);
  return agent.call<{ id: string; name: string }>({
    op: 'ensureTarget',
    target: {
      name, environment, host: server.hostname, port: server.port || '5432', database,
      username: decodeURIComponent(server.username) || 'postgres', password: decodeURIComponent(server.password), sslMode: 'disable',
      connectTimeoutMs: '3000', lockTimeoutMs: '5000', statementTimeoutMs: '60000',
    },
  });
}

type Person = { id: string; email: string; password: string; name: string };

/** A page signed in as `who`, in a context of its own (each person keeps their own session). */
async function pageOf(browser: Browser, who: Person): Promise<Page> {
  const context = await browser.newContext();
  await signIn(context, who);
  return context.newPage();
}

async function start(page: Page, subject: string) {
  const card = taskCard(page, subject);
  await card.getByRole('button', { name: 'Start' }).click();
  await expect(card).toHaveAttribute('data-status', 'in_progress');
}

/** Ticks the step's items that no evidence covers (what the person attests by hand), then completes it. */
async function complete(page: Page, subject: string, byHand: string[] = []) {
  const card = taskCard(page, subject);
  for (const label of byHand) {
    // A controlled box: it shows the tick once the server has recorded it.
    await card.getByRole('checkbox', { name: label }).click();
    await expect(card.getByRole('checkbox', { name: label })).toBeChecked();
  }
  await card.getByRole('button', { name: 'Complete' }).click();
  await expect(card, `"${subject}" completed`).toHaveAttribute('data-status', 'completed').catch(async (err: Error) => {
    throw new Error(`${err.message}\nThe card says: ${await card.getByTestId('task-error').textContent().catch(() => '(no error)')}`);
  });
}

test('the whole procedure: filed, analysed, written, rehearsed, app compared, tested through the API, backed up, signed, approved, deployed to staging then production, verified, and on the board', async ({ browser }) => {
  test.setTimeout(240_000);
  const staging = await target('Whole procedure staging', STAGING_DB, 'staging');
  const production = await target('Whole procedure production', PRODUCTION_DB, 'production');
  // The project as an admin registers it (e2e/projects.spec.ts drives that form): staging, then
  // production behind the gate and a lead's approval, both answering a health check; one
  // post-deployment check right after a deploy and none scheduled later, so the store goes idle.
  await sql(DATABASE_URL, `WITH project AS (
      INSERT INTO projects (id, name, repository_url, verification_window_minutes, updated_at) VALUES (gen_random_uuid(), $1, $2, 0, now()) RETURNING id)
    INSERT INTO project_environments (id, project_id, position, name, target_id, health_check_url, requires_approval)
    SELECT gen_random_uuid(), project.id, e.position, e.name, e.target_id::uuid, $3, e.approval
    FROM project, (VALUES (1, 'staging', $4, false), (2, 'production', $5, true)) AS e(position, name, target_id, approval)`,
  [projectName, repo.origin, healthUrl, staging.id, production.id]);

  const person = (name: string, roles: string[], agentRoles: string[] = []) =>
    agent.call<Person>({ op: 'createUser', name, roles: roles as never, agentRoles: agentRoles as never });
  const engineer = await person('Whole Engineer', ['engineer']);
  const optimizer = await person('Whole Optimizer', ['engineer'], ['database-optimizer']);
  const dba = await person('Whole DBA', ['engineer'], ['database-administrator']);
  const specialist = await person('Whole Specialist', ['engineer'], ['language-specialist']);
  const tester = await person('Whole Tester', ['engineer'], ['test-automator']);
  const reviewers = [await person('Whole Reviewer One', ['reviewer']), await person('Whole Reviewer Two', ['reviewer'])];
  const lead = await person('Whole Lead', ['lead']);
  const token = await agent.call<{ secret: string }>({ op: 'issueApiToken', name: `Whole procedure CI ${tag}`, role: 'test-automator' });

  // 1. The engineer files the request against production, with the project and the app branch.
  const filer = await pageOf(browser, engineer);
  await filer.goto('/requests/new');
  await filer.getByLabel('Title').fill(`Orders get a note ${tag}`);
  await filer.getByLabel('Kind of change').selectOption({ index: 1 });
  await filer.getByLabel('Target database').selectOption(production.id);
  await filer.getByLabel('Application (project)').selectOption({ label: projectName });
  await filer.getByLabel('App branch').fill('feature/order-notes');
  await filer.getByLabel('Desired change').fill('Support writes a free-text note on an order.');
  await filer.getByRole('button', { name: 'File request' }).click();
  await expect(filer).toHaveURL(/\/requests\/[0-9a-f-]{36}/);
  const requestId = /\/requests\/([0-9a-f-]{36})/.exec(filer.url())![1];
  const step = (key: string) => `/requests/${requestId}/steps/${key}`;

  // 2. Analysis: the optimizer snapshots the target; the DBA saves the migration meanwhile; the optimizer analyses it.
  const opt = await pageOf(browser, optimizer);
  await opt.goto(step('analysis'));
  await start(opt, 'Analyze database change');
  await opt.getByTestId('snapshot-panel').getByRole('button', { name: 'Take schema snapshot' }).click();
  await expect(opt.getByTestId('snapshot-panel')).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });

  const admin = await pageOf(browser, dba);
  await admin.goto(step('create-migration'));
  const editor = admin.getByTestId('migration-editor');
  await editor.getByLabel('Name (Prisma folder: <timestamp>_<name>)').fill('order_note');
  await editor.getByLabel('Up: migration.sql').fill('ALTER TABLE orders ADD COLUMN note text;\n');
  await editor.getByLabel('Down: down.sql').fill('ALTER TABLE orders DROP COLUMN note;\n');
  await editor.getByRole('button', { name: 'Save revision' }).click();
  await expect(editor.getByTestId('revisions')).toContainText('#1 order_note');

  await opt.reload();
  const analysis = opt.getByTestId('analysis-panel');
  await analysis.getByRole('button', { name: 'Analyse the migration' }).click();
  await expect(analysis).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await analysis.getByLabel('Desired changes').fill('orders.note: an optional free-text note, written by support.');
  await analysis.getByLabel('Migration strategy').fill('One nullable column without a default: a catalog-only change, no rewrite, no backfill.');
  await analysis.getByRole('button', { name: 'Save analysis' }).click();
  await expect(analysis.getByTestId('analysis-fields-saved')).toHaveText('Saved.');
  await complete(opt, 'Analyze database change');

  // 3. Create migration and Test migration locally: the DBA, with a real rehearsal.
  await admin.reload();
  await start(admin, 'Create migration');
  await complete(admin, 'Create migration', ['Add data transformations if needed', 'Consider rollback scenario']);
  await admin.goto(step('test-locally'));
  await start(admin, 'Test migration locally');
  const rehearsal = admin.getByTestId('rehearsal-panel');
  // With a data sample: "No data loss" on the gate rests on it (a schema-only rehearsal does not count).
  await rehearsal.getByLabel('Data sample (rows a table, 0 = schema only)').fill('50');
  await rehearsal.getByRole('button', { name: 'Rehearse revision 1' }).click();
  await expect(rehearsal).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(rehearsal.getByTestId('rollback-evidence')).toHaveAttribute('data-status', 'ok');
  await complete(admin, 'Test migration locally', ['Test data transformations', 'Check application still works']);

  // 4. Update app code: the language specialist compares the branch's schema.prisma with the rehearsed schema.
  const lang = await pageOf(browser, specialist);
  await lang.goto(step('update-app-code'));
  await start(lang, 'Update app code');
  const appCode = lang.getByTestId('app-code-panel');
  await expect(appCode.getByTestId('app-branch')).toHaveText('feature/order-notes');
  await appCode.getByTestId('compare-app-schema').click();
  const summary = appCode.getByTestId('app-schema-comparison').getByTestId('app-schema-summary');
  await expect(summary).toBeVisible({ timeout: 30_000 });
  await expect(appCode.getByTestId('app-schema-difference')).toHaveCount(0);
  await complete(lang, 'Update app code', ['Modify queries if needed', 'Update types', 'Fix any breaking changes']);

  // 5. Test app with new schema: the test automator starts it; CI posts its JUnit report with the token, as curl would.
  const qa = await pageOf(browser, tester);
  await qa.goto(step('test-app'));
  await start(qa, 'Test app with new schema');
  const posted = await fetch(`${BASE_URL}/api/v1/requests/${requestId}/test-reports`, {
    method: 'POST', headers: { authorization: `Bearer ${token.secret}`, 'content-type': 'application/xml' }, body: PASSING_JUNIT,
  });
  expect(posted.status, await posted.clone().text()).toBe(201);
  await qa.reload();
  await complete(qa, 'Test app with new schema', ['Verify CRUD operations', 'Check API endpoints', 'Test edge cases']);

  // 6. Create backup: the DBA backs up production and drills the backup.
  await admin.goto(step('create-backup'));
  await start(admin, 'Create backup');
  const backup = admin.getByTestId('backup-panel');
  await backup.getByRole('button', { name: 'Back up', exact: true }).click();
  await expect(backup).toHaveAttribute('data-backup-status', 'succeeded', { timeout: 30_000 });
  await backup.getByRole('button', { name: 'Drill', exact: true }).click();
  await expect(backup).toHaveAttribute('data-drill-status', 'succeeded', { timeout: 60_000 });
  await expect(backup.getByTestId('drill-run')).toHaveAttribute('data-ok', 'true');
  await complete(admin, 'Create backup', ['Document backup procedure', 'Create restore script']);

  // 7. Staging first (it needs only the passing rehearsal): its health check is what "Application works" rests on.
  await admin.goto(step('deploy'));
  const deploy = admin.getByTestId('deploy-panel');
  const stagingEnv = deploy.getByTestId('deploy-env-staging');
  await stagingEnv.getByRole('button', { name: 'Deploy to staging' }).click();
  await admin.getByRole('dialog', { name: 'Deploy to staging?' }).getByRole('button', { name: 'Deploy to staging' }).click();
  await expect(stagingEnv).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(stagingEnv).toContainText('version 2.0.1');
  expect(await sql(databaseUrl(STAGING_DB), "SELECT count(*)::int AS n FROM information_schema.columns WHERE table_name = 'orders' AND column_name = 'note'")).toEqual([{ n: 1 }]);
  await expect(deploy.getByTestId('deploy-env-production')).toContainText('Waiting:');

  // 8. The quality gate: two reviewers sign, each item on its evidence.
  const gateItems = ['Migration runs successfully', 'Rollback tested', 'All tests pass', 'No data loss', 'Application works with new schema', 'Backup procedure ready'];
  const signers = [await pageOf(browser, reviewers[0]), await pageOf(browser, reviewers[1])];
  for (const p of signers) await p.goto(step('quality-gate'));
  await expect(gatePanel(signers[0])).toHaveAttribute('data-open', 'true');
  for (const [i, label] of gateItems.entries()) {
    const p = signers[i < 3 ? 0 : 1];
    const item = gateItem(p, label);
    await expect(item).toHaveAttribute('data-satisfied', 'true').catch(async (err: Error) => {
      throw new Error(`${err.message}\n"${label}" says: ${await item.getByTestId('gate-item-reason').textContent({ timeout: 1000 }).catch(() => '(no reason)')}`);
    });
    await item.getByLabel(`Note for ${label}`).fill(`checked on the evidence: ${label.toLowerCase()}`);
    await item.getByRole('button', { name: 'Sign' }).click();
    await expect(item).toHaveAttribute('data-signed', 'true');
  }
  await expect(gatePanel(signers[1])).toHaveAttribute('data-status', 'completed');

  // 9. The lead approves production; the DBA deploys it.
  const leadPage = await pageOf(browser, lead);
  await leadPage.goto(step('deploy'));
  await leadPage.getByTestId('deploy-env-production').getByRole('button', { name: 'Approve for production' }).click();
  await expect(leadPage.getByTestId('deploy-env-production')).toContainText(`Approved by ${lead.name}`);

  await admin.reload();
  await start(admin, 'Deploy migration');
  const productionEnv = deploy.getByTestId('deploy-env-production');
  await productionEnv.getByRole('button', { name: 'Deploy to production' }).click();
  await admin.getByRole('dialog', { name: 'Deploy to production?' }).getByRole('button', { name: 'Deploy to production' }).click();
  await expect(productionEnv).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  // The migration is committed once per revision: production reuses staging's commit and version.
  await expect(productionEnv).toContainText('version 2.0.1');
  await expect(productionEnv).toContainText('✓ Recorded as applied (_prisma_migrations)');
  expect(await sql(databaseUrl(PRODUCTION_DB), 'SELECT count(*)::int AS n FROM orders')).toEqual([{ n: 50 }]);
  expect(git(repo.origin, 'log', '-1', '--format=%s', 'main')).toMatch(/^Deploy migration \d{14}_order_note/);
  await complete(admin, 'Deploy migration');

  // 10. Post-deployment: the DBA's verification queries pass on production; every success criterion is met.
  await admin.goto(step('post-deployment'));
  await start(admin, 'Run post-deployment checks');
  const post = admin.getByTestId('post-deploy-panel');
  const form = post.getByTestId('verification-query-form');
  await form.getByLabel('Name', { exact: true }).fill('Every order kept');
  await form.getByLabel('Comparison', { exact: true }).selectOption('>');
  await form.getByLabel('Expected number', { exact: true }).fill('49');
  await form.getByLabel('SELECT query', { exact: true }).fill('SELECT count(*) FROM orders WHERE note IS NULL');
  await form.getByRole('button', { name: 'Add check' }).click();
  await expect(post.getByTestId('verification-query')).toHaveCount(1);
  await post.getByRole('button', { name: 'Run checks now' }).click();
  const latest = post.getByTestId('post-deploy-check').first();
  await expect(latest).toHaveAttribute('data-status', 'succeeded', { timeout: 30_000 });
  await expect(latest.getByTestId('verification-result')).toHaveAttribute('data-passed', 'true');
  await expect(post.getByTestId('post-deploy-alerts')).toHaveCount(0);
  await admin.reload();
  const criteria = admin.getByTestId('success-criteria');
  for (const c of await criteria.locator('[data-testid^="criterion-"]').all()) {
    await expect(c, (await c.textContent()) ?? '').toHaveAttribute('data-met', 'true');
  }
  await expect(criteria).toHaveAttribute('data-all-met', 'true');
  await complete(admin, 'Run post-deployment checks', ['Monitor for errors', 'Document any issues']);

  // 11. The lead's board: deployed in both environments of the project.
  await leadPage.goto('/overview');
  for (const env of ['staging', 'production']) {
    const lane = leadPage.locator(`[data-testid="environment-lane"][data-project="${projectName}"][data-environment="${env}"]`);
    await expect(lane.getByTestId('lane-deployed')).toContainText(`Orders get a note ${tag}`);
  }
  await agent.waitIdle();
  for (const p of [filer, opt, admin, lang, qa, ...signers, leadPage]) await p.context().close();
});
