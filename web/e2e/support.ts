// Shared by the browser scenarios: the run's settings, logging in, the accessibility scan.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, type Page } from '@playwright/test';
import AxeBuilder from '@axe-core/playwright';

export function env(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set (run through web_e2e)`);
  return value;
}

export async function login(page: Page, email: string) {
  await page.goto('/desk');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(env('SAVECORP_E2E_PASSWORD'));
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('status', { name: 'Connection' })).toHaveText(/Live/);
}

export async function expectAccessible(page: Page, what: string) {
  const results = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'])
    .analyze();
  const bad = results.violations.filter(
    (violation) => violation.impact === 'serious' || violation.impact === 'critical',
  );
  expect(
    bad.map(
      (violation) =>
        `${violation.id}: ${violation.help} (${violation.nodes
          .slice(0, 3)
          .map((node) => node.target.join(' '))
          .join(', ')})`,
    ),
    what,
  ).toEqual([]);
}

/** Tells the test driver (web_e2e.rs) that the browser reached a step: it waits for this file. */
export function signal(step: string) {
  writeFileSync(join(env('SAVECORP_E2E_SIGNALS'), step), '');
}
