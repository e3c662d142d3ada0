import { defineConfig, devices } from '@playwright/test';
import { BASE_URL, serverEnv } from './e2e/support/env';

/**
 * End-to-end specs against a production build on port 3100, with its own store
 * (cutover_e2e on the machine's PostgreSQL 15), recreated on every run.
 */
export default defineConfig({
  testDir: './e2e',
  globalSetup: './e2e/global-setup.ts',
  fullyParallel: false,
  workers: 1,
  retries: 0,
  forbidOnly: !!process.env.CI,
  reporter: 'list',
  timeout: 60_000,
  expect: { timeout: 10_000 },
  use: {
    baseURL: BASE_URL,
    trace: 'retain-on-failure',
  },
  projects: [
    {
      name: 'chromium',
      use: {
        ...devices['Desktop Chrome'],
        launchOptions: {
          executablePath: '/usr/bin/chromium',
          args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-dev-shm-usage',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
          ],
        },
      },
    },
  ],
  webServer: {
    // The reset must precede the server: Playwright starts webServer before globalSetup.
    // The script also copies the server's output to .data-e2e/server.log (scanned by the canary spec).
    command: 'bash e2e/support/serve-with-log.sh',
    url: `${BASE_URL}/signin`,
    env: serverEnv,
    timeout: 300_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
