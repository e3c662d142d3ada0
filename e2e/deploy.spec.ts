import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from '@playwright/test';
import { Client } from 'pg';
import { signIn } from './support/auth';
import { DATABASE_URL, PG_ADMIN_URL } from './support/env';
import { requestPath } from './support/request-page';
import { StoreAgent } from './support/store-agent';

/**
 * The Deploy step in Chromium: a DBA deploys a request to staging (a database of its own) from
 * the step's panel, confirms, watches the phases and the live log, and the application's
 * repository (a local bare git repository) receives the commit with the version bump.
 */

const DATABASE = 'cutover_e2e_deploy';
let agent: StoreAgent;
let work: string;
let repo: string;

const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Dev', GIT_AUTHOR_EMAIL: 'dev@app.test', GIT_COMMITTER_NAME: 'Dev', GIT_COMMITTER_EMAIL: 'dev@app.test' } }).trim();

async function admin(sql: string) {
  const client = new Client({ connectionString: PG_ADMIN_URL });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

test.beforeAll(async () => {
  await admin(`DROP DATABASE IF EXISTS "${DATABASE}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${DATABASE}"`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${DATABASE}`;
  const db = new Client({ connectionString: url.toString() });
  await db.connect();
  await db.query('CREATE TABLE orders (id int PRIMARY KEY, total numeric(10,2)); INSERT INTO orders SELECT g, g FROM generate_series(1, 100) g;');
  await db.end();
  work = mkdtempSync(path.join(os.tmpdir(), 'cutover-e2e-deploy-'));
  repo = path.join(work, 'shop.git');
  const dev = path.join(work, 'dev');
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', repo]);
  execFileSync('git', ['init', '-q', '--initial-branch=main', dev]);
  writeFileSync(path.join(dev, 'package.json'), '{\n  "name": "shop",\n  "version": "3.1.4"\n}\n');
  git(dev, 'add', '.');
  git(dev, 'commit', '-q', '-m', 'init');
  git(dev, 'push', '-q', repo, 'main');
  agent = await StoreAgent.start();
});

test.afterAll(async () => {
  await agent?.stop();
  // The target goes with its requests and projects: a target left registered would show this
  // spec's database in specs that check every target (the Migrations page). The database stays
  // (recreated at the next run).
  const store = new Client({ connectionString: DATABASE_URL });
  await store.connect();
  try {
    const target = `(SELECT id FROM target_databases WHERE name = 'Deploy e2e staging')`;
    const projects = `(SELECT project_id FROM project_environments WHERE target_id IN ${target})`;
    await store.query(`DELETE FROM migration_requests WHERE target_id IN ${target} OR project_id IN ${projects}`);
    await store.query(`DELETE FROM projects WHERE id IN ${projects}`);
    await store.query(`DELETE FROM target_databases WHERE id IN ${target}`);
  } finally {
    await store.end();
  }
  rmSync(work, { recursive: true, force: true });
});

/** The target on the spec's own database (registered once; later calls find it by name). */
function stagingTarget() {
  const server = new URL(PG_ADMIN_URL);
  return agent.call<{ id: string; name: string }>({
    op: 'ensureTarget',
    target: {
      name: 'Deploy e2e staging', environment: 'staging', host: server.hostname, port: server.port || '5432', database: DATABASE,
      username: decodeURIComponent(server.username) || 'postgres', password: decodeURIComponent(server.password), sslMode: 'disable',
      connectTimeoutMs: '3000', lockTimeoutMs: '5000', statementTimeoutMs: '60000',
    },
  });
}

test('a DBA deploys to staging from the Deploy step: confirmed, phases and live log, the commit in the repository; production waits', async ({ page, context }) => {
  test.setTimeout(120_000);
  const target = await stagingTarget();
  const author = await agent.call<{ id: string }>({ op: 'createUser', name: 'Deploy Author', roles: ['engineer'] });
  const dba = await agent.call<{ id: string; email: string; password: string }>({ op: 'createUser', name: 'Deploy DBA', roles: ['engineer'], agentRoles: ['database-administrator'] });
  const { requestId } = await agent.call<{ requestId: string }>({ op: 'deployableRequest', authorId: author.id, targetId: target.id, repositoryUrl: repo });

  await signIn(context, dba);
  await page.goto(requestPath({ id: requestId }));
  const panel = page.getByTestId('deploy-panel');
  const env = panel.getByTestId('deploy-env-staging');
  await expect(env).toHaveAttribute('data-status', 'none');
  await env.getByRole('button', { name: 'Deploy to staging' }).click();
  const dialog = page.getByRole('dialog', { name: 'Deploy to staging?' });
  await expect(dialog).toContainText('Commits the migration to main');
  await dialog.getByRole('button', { name: 'Deploy to staging' }).click();

  await expect(env).toHaveAttribute('data-status', 'succeeded', { timeout: 60_000 });
  await expect(env).toContainText('version 3.1.5');
  await expect(env).toContainText('✓ Recorded as applied (_prisma_migrations)');
  await expect(env).toContainText('✓ No-data-loss check');
  await expect(panel.getByTestId('deploy-log')).toContainText(/statement 1 of 1 \(line 1\): CREATE TABLE proof_deploy_/);
  expect(JSON.parse(git(repo, 'show', 'main:package.json')).version).toBe('3.1.5');
  expect(git(repo, 'log', '-1', '--format=%s', 'main')).toMatch(/^Deploy migration \d{14}_proof_deploy_/);
  await expect(page.getByTestId('audit-log')).toContainText('deployment.succeeded');
});

test('people without the Deploy step\'s role see the environments and what they wait for, but no buttons', async ({ page, context }) => {
  const author = await agent.call<{ id: string; email: string; password: string }>({ op: 'createUser', name: 'Deploy Bystander', roles: ['engineer'] });
  const target = await stagingTarget();
  const { requestId } = await agent.call<{ requestId: string }>({ op: 'deployableRequest', authorId: author.id, targetId: target.id, approval: true });
  await signIn(context, author);
  await page.goto(requestPath({ id: requestId }));
  const panel = page.getByTestId('deploy-panel');
  await expect(panel).toContainText('Only holders of database-administrator (or admins) can deploy and recover.');
  await expect(panel.getByRole('button', { name: /^Deploy to/ })).toHaveCount(0);
  await expect(panel.getByTestId('deploy-env-production')).toContainText("Waiting: production needs a lead's approval of revision 1");
});
