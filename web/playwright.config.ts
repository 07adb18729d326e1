import { defineConfig } from '@playwright/test';

// Run by the integration test `web_e2e` (tests/tests/integration/web_e2e.rs), which starts the
// real server with PostgreSQL and the simulated Asterisk and passes its address in
// SAVECORP_E2E_URL. Debian's Chromium: no browser download.
export default defineConfig({
  testDir: 'e2e',
  workers: 1,
  retries: 0,
  timeout: 180_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  outputDir: 'test-results',
  use: {
    baseURL: process.env.SAVECORP_E2E_URL,
    browserName: 'chromium',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox'],
    },
    locale: 'en-US',
    trace: 'retain-on-failure',
  },
});
