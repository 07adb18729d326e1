// The back office, against the real server (see web_e2e.rs): an admin registers a customer,
// edits it, sets its backup plan and issues an ingest token; a ping with that token turns the
// customer green on the backup board, a failed run turns it red; the audit shows the customer's
// history and an earlier state. An agent does not get the administration.
import { readFileSync } from 'node:fs';
import { test, expect } from '@playwright/test';
import { env, expectAccessible, login } from './support';

test('an admin onboards a backup customer, its first ping turns it green, the audit shows its past', async ({
  browser,
}) => {
  const baseURL = env('SAVECORP_E2E_URL');
  const phone = env('SAVECORP_E2E_NEW_PHONE');

  const agent = await (await browser.newContext({ baseURL })).newPage();
  await login(agent, env('SAVECORP_E2E_AGENT_EMAIL'));
  await expect(agent.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Backups' })).toBeVisible();
  await expect(agent.getByRole('link', { name: 'Administration' })).toHaveCount(0);
  await agent.goto('/admin');
  await expect(agent.getByRole('alert')).toContainText('Administration is for admins');

  const admin = await (await browser.newContext({ baseURL })).newPage();
  await login(admin, env('SAVECORP_E2E_ADMIN_EMAIL'));
  await admin.getByRole('link', { name: 'Administration' }).click();
  await expect(admin.getByRole('heading', { name: 'Administration', level: 1 })).toBeVisible();
  await expect(admin.getByTestId('workers')).toContainText(env('SAVECORP_E2E_AGENT_EMAIL'));

  // Register, then rename: the audit will show the name before.
  const register = admin.getByRole('form', { name: 'Register a customer' });
  await register.getByLabel('Name', { exact: true }).fill('Birch Bakery');
  await register.getByLabel(/Phone numbers/).fill(phone);
  await register.getByLabel('Email', { exact: true }).fill('it@birch.example');
  await register.getByRole('button', { name: 'Register the customer' }).click();
  const panel = admin.getByTestId('customer-panel');
  await expect(panel.getByRole('heading', { name: 'Customer Birch Bakery' })).toBeVisible();
  const details = panel.getByRole('form', { name: 'Details' });
  await details.getByLabel('Name', { exact: true }).fill('Birch Bakery Ltd');
  await details.getByRole('button', { name: 'Save the details' }).click();
  await expect(panel.getByRole('heading', { name: 'Customer Birch Bakery Ltd' })).toBeVisible();

  const plan = panel.getByRole('form', { name: 'Backup plan' });
  await plan.getByLabel('Period (hours)').fill('24');
  await plan.getByLabel('Grace (minutes)').fill('60');
  await plan.getByRole('button', { name: 'Set the plan' }).click();
  await expect(panel.getByRole('status').filter({ hasText: 'The backup plan is set.' })).toBeVisible();

  await panel.getByRole('button', { name: 'Issue a new token' }).click();
  const token = (await panel.getByTestId('token-value').textContent())?.trim() ?? '';
  expect(token.length).toBeGreaterThan(10);
  await expect(panel.getByTestId('ingest-token')).toContainText(`${baseURL.replace(/\/$/, '')}/ping/${token}`);
  await expect(panel.getByTestId('ingest-token')).toContainText('restic backup');
  await expectAccessible(admin, 'administration with a customer open');

  // The board before the first ping, then the ping (what the backup job's curl sends).
  await admin.getByRole('link', { name: 'Backups' }).click();
  const row = admin.getByTestId('backup-board').getByRole('row', { name: /Birch Bakery Ltd/ });
  await expect(row).toContainText('New');
  const ping = await admin.request.post(`/ping/${token}`);
  expect(ping.status(), await ping.text()).toBe(200);
  await admin.reload();
  await expect(row.locator('.badge')).toHaveText('Up');
  await expect(row.locator('.badge')).toHaveClass(/backup-up/);

  // A failed run (what the job's `|| curl …/fail` sends) turns it red at once.
  const fail = await admin.request.post(`/ping/${token}/fail`, { data: 'restic: disk full' });
  expect(fail.status(), await fail.text()).toBe(200);
  await admin.reload();
  await expect(row.locator('.badge')).toHaveText('Down');
  await expect(row.locator('.badge')).toHaveClass(/backup-down/);
  await expect(row).toContainText('failed');
  await expect(row).toContainText('every 1 d, grace 1 h');
  await expect(row.getByTestId('run-strip').getByRole('listitem')).toHaveCount(2);

  // The customer's page: the runs with the failed one's message, what retention expired.
  await row.getByRole('link', { name: 'Birch Bakery Ltd' }).click();
  await expect(admin).toHaveURL(/\/backups\/[^/]+$/);
  const page = admin.getByTestId('backup-customer');
  await expect(page.getByRole('heading', { name: 'Backups of Birch Bakery Ltd' })).toBeVisible();
  await expect(page.getByTestId('backup-status')).toHaveText('Down');
  const runs = page.getByTestId('backup-runs');
  await expect(runs.getByRole('heading')).toContainText('Runs (2)');
  await expect(runs.getByRole('row', { name: /Failed/ })).toContainText('restic: disk full');
  await expect(runs.getByRole('row', { name: /Succeeded/ })).toBeVisible();
  await expect(page.getByTestId('expired-runs')).toContainText('Retention expired no run.');
  await expectAccessible(admin, 'backup customer page');
  await admin.screenshot({ path: 'test-results/screenshots/backup-customer.png', fullPage: true });

  // The wallboard's alerts feed shows the failure (it reads the recent log on opening).
  await admin.getByRole('link', { name: 'Wallboard' }).click();
  const alerts = admin.getByTestId('alerts');
  await expect(alerts.getByRole('listitem').filter({ hasText: 'Backup failed' }).first()).toContainText(
    'Birch Bakery Ltd',
  );
  await expectAccessible(admin, 'wallboard with alerts');

  // KPI reports: today by hour in UTC, a chart, and the CSV export.
  await admin.getByRole('link', { name: 'Reports' }).click();
  const form = admin.getByRole('form', { name: 'KPI reports' });
  await form.getByLabel(/Time zone/).fill('UTC');
  await form.getByLabel('Bucket').selectOption('HOUR');
  await form.getByRole('button', { name: 'Show the report' }).click();
  const report = admin.getByTestId('kpi-report');
  await expect(report.getByRole('heading')).toContainText('24 buckets (UTC)');
  await expect(report.getByTestId('kpi-chart')).toBeVisible();
  await expectAccessible(admin, 'KPI reports');
  const [download] = await Promise.all([
    admin.waitForEvent('download'),
    form.getByRole('button', { name: 'Export CSV' }).click(),
  ]);
  const csv = readFileSync(await download.path(), 'utf8').split('\r\n');
  expect(csv[0]).toMatch(/^start,end,offered,answered,abandoned,/);
  expect(csv).toHaveLength(26);
  await form.getByLabel(/Time zone/).fill('Mars/Olympus');
  await form.getByRole('button', { name: 'Show the report' }).click();
  await expect(admin.getByRole('alert')).toContainText(/time zone|Mars/i);

  // The audit: the history (who, when, correlation), then the state after the first event.
  await admin.getByRole('link', { name: 'Administration' }).click();
  await admin.getByRole('button', { name: 'Manage Birch Bakery Ltd' }).click();
  await admin.getByTestId('customer-panel').getByRole('link', { name: 'History (audit)' }).click();
  await expect(admin.getByRole('heading', { name: 'Audit', level: 1 })).toBeVisible();
  const history = admin.getByTestId('history');
  await expect(history).toContainText(/Registered/);
  await expect(history).toContainText(/Updated/);
  await expect(history).toContainText(/worker/);
  await history.getByRole('button', { name: 'State after version 1' }).click();
  const state = admin.getByTestId('state-at');
  await expect(state.getByRole('heading')).toContainText('State at version 1');
  await expect(state).toContainText('Birch Bakery');
  await expect(state).not.toContainText('Birch Bakery Ltd');
  await expectAccessible(admin, 'audit');

  // What the admin did: the actor of the registration, over the last day, paged.
  const actor = (await history.getByRole('row', { name: /Registered/ }).first().getByRole('cell').nth(2).textContent())?.trim() ?? '';
  expect(actor).toMatch(/^worker:/);
  const activityForm = admin.getByRole('form', { name: 'What an actor did' });
  await activityForm.getByLabel('Actor', { exact: true }).fill(actor);
  await activityForm.getByRole('button', { name: 'Show the activity' }).click();
  const activity = admin.getByTestId('activity');
  await expect(activity).toContainText(/Registered/);
  await expect(activity.getByRole('link', { name: /customer/ }).first()).toBeVisible();
  await expectAccessible(admin, 'audit with an actor activity');

  // The read models: rebuild the customers' one and watch its progress bar finish.
  const models = admin.getByTestId('read-models');
  await expect(models.getByRole('row', { name: /customers/ })).toBeVisible();
  await models.getByRole('button', { name: 'Rebuild customers' }).click();
  await expect(admin.getByTestId('rebuild-customers')).toContainText(/Rebuilt \(\d+ events\)/);
  await expect(models.getByRole('progressbar', { name: 'Rebuild of customers' })).toHaveAttribute('value', '100');
  await expect(models.getByRole('button', { name: 'Rebuild customers' })).toBeEnabled();
  await expectAccessible(admin, 'audit with read models rebuilt');
  await admin.screenshot({ path: 'test-results/screenshots/audit.png', fullPage: true });
});
