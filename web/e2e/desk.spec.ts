// The agent's day and the supervisor's view, against the real server (see web_e2e.rs, which
// places the simulated calls when the agent is Available and once the first call is connected).
import { test, expect } from '@playwright/test';
import { env, expectAccessible, login, signal } from './support';

test('an agent takes a call from the pop, the supervisor sees it live', async ({ browser }) => {
  const baseURL = env('SAVECORP_E2E_URL');
  const agent = await (await browser.newContext({ baseURL })).newPage();
  await agent.goto('/desk');
  await expectAccessible(agent, 'login page');
  await login(agent, env('SAVECORP_E2E_AGENT_EMAIL'));
  await expect(agent.getByTestId('presence')).toContainText('Offline');

  const supervisor = await (await browser.newContext({ baseURL })).newPage();
  await login(supervisor, env('SAVECORP_E2E_ADMIN_EMAIL'));
  await supervisor.getByRole('link', { name: 'Wallboard' }).click();
  await expect(supervisor.getByRole('heading', { name: 'Supervisor wallboard' })).toBeVisible();

  // Keyboard: Alt+A goes available. Once the desk shows it, the test driver places a call from
  // the customer (the signal: else the call may ring before the desk was seen Available).
  await agent.keyboard.press('Alt+A');
  await expect(agent.getByTestId('presence')).toContainText('Available');
  await expectAccessible(agent, 'agent desk');
  signal('agent-available');

  const pop = agent.getByTestId('screen-pop');
  await expect(pop).toContainText(env('SAVECORP_E2E_CUSTOMER_NAME'));
  await expect(pop).toContainText(env('SAVECORP_E2E_CALLER'));
  await expect(pop.getByText('New', { exact: true })).toBeVisible();
  // The backup health from the offer: a plan, no run yet.
  await expect(pop.getByTestId('backup-health')).toContainText('no success yet');
  await expect(pop.getByRole('heading', { name: 'On the call' })).toBeVisible();
  await expect(pop.getByRole('timer')).toHaveText(/Talk time \d+:\d\d/);
  await expectAccessible(agent, 'agent desk on a call');

  // A second caller waits while the agent talks: the wallboard shows both.
  await expect(supervisor.getByTestId('calls-waiting')).toContainText('1');
  await expect(supervisor.getByTestId('waiting-calls')).toContainText(env('SAVECORP_E2E_CALLER2'));
  await expect(supervisor.getByTestId('agents').getByRole('row', { name: /agent1/ })).toContainText(
    'On a call',
  );
  await expect(supervisor.getByTestId('kpi-answered')).toContainText('1');
  await expectAccessible(supervisor, 'wallboard');
  await supervisor.screenshot({ path: 'test-results/screenshots/wallboard.png', fullPage: true });

  // The backup board: the customer's plan has had no run yet.
  await supervisor.getByRole('link', { name: 'Backups' }).click();
  const board = supervisor.getByTestId('backup-board');
  await expect(board.getByRole('row', { name: /Acme Lumber/ })).toContainText('New');
  await expectAccessible(supervisor, 'backup board');
  await supervisor.screenshot({ path: 'test-results/screenshots/backups.png', fullPage: true });

  // A request opened from the pop, prefilled with the customer and the call.
  await pop.getByRole('button', { name: 'Open a request' }).click();
  await agent.getByLabel('Message').fill('The backup of the accounting server fails nightly.');
  await agent.getByLabel('Priority').selectOption('HIGH');
  await expectAccessible(agent, 'request form');
  await agent.getByRole('button', { name: 'Open the request' }).click();
  const mine = agent.getByRole('region', { name: /^(My requests|Mes demandes)$/ });
  const row = mine.getByRole('row', { name: /accounting server/ });
  await expect(row).toContainText(env('SAVECORP_E2E_CUSTOMER_NAME'));
  await expect(row).toContainText('Open');
  await agent.screenshot({ path: 'test-results/screenshots/desk.png', fullPage: true });

  // Pending (waiting on the customer), then in French, solved from the list.
  await row.getByRole('button', { name: 'Set pending' }).click();
  await expect(row).toContainText('Pending');
  await expect(row.getByRole('button', { name: 'Set pending' })).toHaveCount(0);
  await expectAccessible(agent, 'agent desk with a pending request');
  await agent.getByLabel('Language').selectOption('fr');
  await expect(agent.getByRole('heading', { name: 'Mes demandes' })).toBeVisible();
  await row.getByRole('button', { name: 'Résoudre' }).click();
  await expect(row).toContainText('Résolue');
  await agent.getByLabel('Langue').selectOption('en');

  // Reload: still logged in (refresh-token rotation), still on the call.
  await agent.reload();
  await expect(agent.getByTestId('presence')).toContainText('On a call');
  // The pop is rebuilt from the API (the offer event is not replayed after a reload).
  await expect(pop).toContainText(env('SAVECORP_E2E_CUSTOMER_NAME'));
  await expect(pop.getByTestId('backup-health')).toContainText('no success yet');
  await expect(pop.getByRole('timer')).toHaveText(/Talk time \d+:\d\d/);

  // Hang up: wrap-up, then the waiting caller (unknown) is offered and rings.
  await agent.keyboard.press('Alt+H');
  await expect(agent.getByTestId('presence')).toContainText('Wrap-up');
  await expect(agent.getByTestId('presence')).toContainText('Ringing');
  await expect(pop.getByRole('heading', { name: 'Incoming call' })).toBeVisible();
  await expect(pop).toContainText(env('SAVECORP_E2E_CALLER2'));
  await expect(pop).toContainText('Unknown caller');
  await expect(pop.getByRole('timer')).toHaveText(/Ringing: \d+ s left/);
  await expectAccessible(agent, 'agent desk ringing');

  // The wallboard's KPIs moved with the calls: two offered, answered within the threshold,
  // a handle time once the first call's wrap-up ended (the kpis read model).
  await supervisor.getByRole('link', { name: 'Wallboard' }).click();
  const kpis = supervisor.getByTestId('kpis');
  await expect(kpis.getByTestId('kpi-offered')).toContainText('2');
  await expect(kpis.getByTestId('kpi-service-level')).toContainText('100 %');
  await expect(kpis.getByTestId('kpi-service-level')).toHaveAttribute('data-level', 'ok');
  await expect(kpis.getByTestId('kpi-abandonment-rate')).toContainText('0 %');
  await expect(kpis.getByTestId('kpi-aht')).toContainText(/\d+:\d\d/);
  await expect(kpis.getByTestId('kpi-occupancy')).toContainText(/\d+ %/);
  // The TV mode: no navigation, large tiles, a full-screen button.
  await supervisor.getByRole('link', { name: 'TV mode' }).click();
  await expect(supervisor).toHaveURL(/\/wallboard\?tv=1$/);
  await expect(supervisor.getByRole('button', { name: 'Full screen' })).toBeVisible();
  await expect(supervisor.getByRole('navigation', { name: 'Main' })).toHaveCount(0);
  await expect(supervisor.getByTestId('kpi-answered')).toBeVisible();
  await expectAccessible(supervisor, 'wallboard TV mode');
  await supervisor.screenshot({ path: 'test-results/screenshots/wallboard-tv.png' });

  // The agent's profile: a new name, then the password changed and changed back.
  await agent.getByRole('link', { name: 'Profile' }).click();
  const details = agent.getByRole('form', { name: 'Name and avatar' });
  await expect(details.getByLabel('Name')).toHaveValue(/agent1/);
  await details.getByLabel('Name').fill('agent1 Smith');
  await details.getByRole('button', { name: 'Save the profile' }).click();
  await expect(agent.getByRole('status').filter({ hasText: 'Profile saved.' })).toBeVisible();
  await expectAccessible(agent, 'profile');
  const password = agent.getByRole('form', { name: 'Change the password' });
  const changePassword = async (from: string, to: string) => {
    await password.getByLabel('Current password').fill(from);
    await password.getByLabel('New password', { exact: true }).fill(to);
    await password.getByLabel('New password again').fill(to);
    await password.getByRole('button', { name: 'Change the password' }).click();
    await expect(agent.getByRole('status').filter({ hasText: 'Password changed' })).toBeVisible();
  };
  await changePassword(env('SAVECORP_E2E_PASSWORD'), 'another long passphrase 42');
  await changePassword('another long passphrase 42', env('SAVECORP_E2E_PASSWORD'));
});
