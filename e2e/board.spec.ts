import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect, test } from '@playwright/test';
import { signIn } from './support/auth';
import { ADMIN_EMAIL, serverEnv } from './support/env';
import { factory } from './support/factories';

const root = path.resolve(__dirname, '..');
const run = promisify(execFile);

/**
 * An agent account owned by `ownerId` (created by the admin through the services) that claims the
 * request's first task, which is then dated `minutesAgo` back, as if claimed then; `paused`: an admin
 * then pauses the agent.
 */
async function agentHolding(name: string, ownerId: string, requestId: string, minutesAgo: number, paused = false): Promise<void> {
  const script = `
    const { getDb } = require('./lib/db/client');
    const { createAgent, setAgentPaused } = require('./lib/services/agent-accounts');
    const { claimTask } = require('./lib/services/agent-tasks');
    (async () => {
    const admin = await getDb().user.findFirstOrThrow({ where: { email: ${JSON.stringify(ADMIN_EMAIL)} } });
    const agent = await createAgent(admin.id, { name: ${JSON.stringify(name)}, agentRoles: ['database-optimizer'], ownerId: ${JSON.stringify(ownerId)} });
    const task = await getDb().task.findFirstOrThrow({ where: { requestId: ${JSON.stringify(requestId)}, position: 1 } });
    await claimTask(agent.id, task.id);
    await getDb().task.update({ where: { id: task.id }, data: { startedAt: new Date(Date.now() - ${minutesAgo} * 60_000) } });
    if (${paused}) await setAgentPaused(admin.id, { agentId: agent.id, paused: true });
    console.log('HELD');
    process.exit(0);
    })().catch((err) => { console.error(err); process.exit(1); });`;
  const { stdout } = await run(path.join(root, 'node_modules/.bin/tsx'), ['-e', script], { cwd: root, env: { ...process.env, ...serverEnv }, timeout: 60_000 });
  expect(stdout).toContain('HELD');
}

test('the lead’s board lists open requests with on whom they wait, draws its charts, and My tasks speaks to a lead', async ({ page, context }) => {
  const author = await factory.createUser({ name: 'Board Author' });
  const lead = await factory.createUser({ name: 'Board Lead', roles: ['lead'] });
  const title = `Board spec ${Date.now()}`;
  const request = await factory.fileRequest(author, { title });

  await signIn(context, lead);
  await page.goto('/overview');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Deployment board');
  await expect(page.getByTestId('needs-me')).toBeVisible();
  // Open requests are on the board (the old overview left them out), with the step and the role they wait on.
  const row = page.getByTestId('open-request').filter({ hasText: title });
  await expect(row).toHaveAttribute('data-status', 'open');
  await expect(row).toContainText('1. Analyze database change');
  await expect(row.getByTestId('waits-on')).toContainText('database-optimizer');
  await expect(row.getByTestId('step-timeline')).toHaveText('not started');
  await row.getByRole('link', { name: new RegExp(title) }).click();
  await expect(page).toHaveURL(new RegExp(`/requests/${request.id}$`));

  // The charts, drawn with recharts, with their figures as tables for screen readers.
  await page.goto('/overview');
  for (const id of ['time-per-step', 'deploys', 'age']) {
    const chart = page.getByTestId(`chart-${id}`);
    await expect(chart.locator('svg.recharts-surface').first()).toBeVisible();
  }
  await expect(page.getByTestId('chart-age').locator('table')).toContainText('< 1 day');
  await expect(page.getByTestId('board-refresh')).toBeVisible();

  // A lead's My tasks lists approvals, not "you lack an agent role".
  await page.goto('/tasks');
  await expect(page.getByText('You hold no agent role yet')).toHaveCount(0);
  await expect(page.getByTestId('tasks-approvals')).toBeVisible();
});

test('the board shows the tasks agents hold, for how long, flags a long-held one, and the task card says so too', async ({ page, context }) => {
  const owner = await factory.createUser({ name: 'Agent Owner' });
  const lead = await factory.createUser({ name: 'Agents Lead', roles: ['lead'] });
  const agentName = `board-agent-${Date.now().toString(36)}`;
  const title = `Agent board spec ${Date.now()}`;
  const request = await factory.fileRequest(owner, { title });
  await agentHolding(agentName, owner.id, request.id, 45);
  const pausedName = `${agentName}-paused`;
  const pausedTitle = `${title} (paused holder)`;
  await agentHolding(pausedName, owner.id, (await factory.fileRequest(owner, { title: pausedTitle })).id, 5, true);

  await page.setViewportSize({ width: 1366, height: 900 });
  await signIn(context, lead);
  const panel = page.getByTestId('agents-at-work');
  const row = panel.locator(`[data-testid="agent-task"][data-agent="${agentName}"]`);
  // The board's shared part may be a second old (lib/data/shared-read.ts): look again until it shows the claim.
  await expect(async () => {
    await page.goto('/overview');
    await expect(row).toBeVisible({ timeout: 1_000 });
  }).toPass({ timeout: 15_000 });
  await expect(panel.getByRole('heading', { name: 'Agents at work' })).toBeVisible();
  await expect(row).toHaveAttribute('data-stuck', 'true');
  await expect(row).toContainText(agentName);
  await expect(row.getByRole('link')).toHaveText(`#${request.number} ${title}`);
  await expect(row).toContainText(`agent of ${owner.name}`);
  await expect(row).toContainText('1. Analyze database change');
  await expect(row.getByTestId('agent-task-elapsed')).toHaveText(/^4[5-9]m$/);
  await expect(row).toContainText('possibly stuck');
  await expect(panel.locator(`[data-testid="agent-count"][data-agent="${agentName}"]`)).toContainText(`${agentName} 1`);
  // A paused agent still holding a task: its row is not flagged yet (5 minutes), but it is named as paused.
  const pausedRow = panel.locator(`[data-testid="agent-task"][data-agent="${pausedName}"]`);
  await expect(pausedRow).toContainText(pausedTitle);
  await expect(pausedRow).toHaveAttribute('data-stuck', 'false');
  await expect(pausedRow.getByTestId('agent-paused')).toHaveText('paused');
  await expect(row.getByTestId('agent-paused')).toHaveCount(0);
  await expect(pausedRow.getByTestId('agent-task-elapsed')).toHaveText(/^[5-9]m$/);
  await expect(panel.getByTestId('paused-agents-holding')).toContainText(`${pausedName} (1)`);
  // Readable at 1366 px: the panel does not scroll sideways.
  const table = panel.getByTestId('agent-tasks');
  expect(await table.evaluate((t) => t.scrollWidth <= (t.parentElement as HTMLElement).clientWidth)).toBe(true);
  if (process.env.CUTOVER_SHOTS_DIR) await panel.screenshot({ path: path.join(process.env.CUTOVER_SHOTS_DIR, 'board-agents-at-work.png') });

  // The title links to the step, whose card names the agent with its owner and how long it has held it.
  await row.getByRole('link', { name: new RegExp(title) }).click();
  await expect(page).toHaveURL(new RegExp(`/requests/${request.id}/steps/analysis$`));
  const card = page.getByTestId('task-card').filter({ hasText: 'Analyze database change' }).first();
  await expect(card).toContainText(`${agentName} (agent of ${owner.name})`);
  await expect(card.getByTestId('task-elapsed')).toHaveText(/in progress for 4[5-9]m/);
});

test('the board is for leads and admins', async ({ page, context }) => {
  const engineer = await factory.createUser({ name: 'Board Engineer' });
  await signIn(context, engineer);
  await page.goto('/overview');
  await expect(page.getByText('The overview is for leads and admins.')).toBeVisible();
  await expect(page.getByTestId('needs-me')).toHaveCount(0);
});
