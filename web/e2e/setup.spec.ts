// First run (web_e2e.rs, `a_newcomer_creates_the_first_admin_from_the_setup_link_in_chromium`):
// a server with no admin logged a one-time setup link; the setup page creates the first admin
// and lands on the desk; the link is then spent. Skipped in the other runs (no link given).
import { test, expect } from '@playwright/test';
import { env, expectAccessible } from './support';

test('the setup link creates the first admin and opens the desk', async ({ browser }) => {
  const link = process.env.SAVECORP_E2E_SETUP_LINK;
  test.skip(!link, 'run by web_e2e with a fresh server (SAVECORP_E2E_SETUP_LINK)');
  if (!link) return;
  const baseURL = env('SAVECORP_E2E_URL');
  const page = await (await browser.newContext({ baseURL })).newPage();
  await page.goto(link);
  await expect(page.getByRole('heading', { name: 'Create the first admin' })).toBeVisible();
  await expectAccessible(page, 'setup page');
  await page.getByLabel('Name').fill('Ada Admin');
  await page.getByLabel('Email').fill(env('SAVECORP_E2E_ADMIN_EMAIL'));
  await page.getByLabel('Password').fill(env('SAVECORP_E2E_PASSWORD'));
  await page.getByRole('button', { name: 'Create the admin' }).click();
  await expect(page.getByRole('status', { name: 'Connection' })).toHaveText(/Live/);
  await expect(page).toHaveURL(/\/desk$/);
  await expect(page.getByTestId('presence')).toContainText('Offline');
  await expect(page.getByRole('link', { name: 'Administration' })).toBeVisible();

  // The link is spent: a second browser gets the page's message, not a second admin.
  const other = await (await browser.newContext({ baseURL })).newPage();
  await other.goto(link);
  await other.getByLabel('Name').fill('Eve');
  await other.getByLabel('Email').fill('eve@example.com');
  await other.getByLabel('Password').fill(env('SAVECORP_E2E_PASSWORD'));
  await other.getByRole('button', { name: 'Create the admin' }).click();
  await expect(other.getByRole('alert')).toContainText('already used');
});
