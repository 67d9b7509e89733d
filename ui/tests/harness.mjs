// Drives Debian's chromium with playwright-core against a hub the Rust test started. Every page
// is watched: a request that leaves the hub's origin, or a script error, fails the test.
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export const HUB = process.env.VEDETTA_URL;
export const PASSWORD = process.env.VEDETTA_PASSWORD;
const SCREENSHOTS = process.env.VEDETTA_SCREENSHOTS ?? 'screenshots';
/** Every wait ends here at the latest. */
const TIMEOUT = 10_000;
/** Monteverde (demo-001). */
export const MONTEVERDE = { latitude: 44.45, longitude: 11.22 };

if (!HUB) throw new Error('VEDETTA_URL is not set: run these tests through `cargo test`');

export async function launch() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    // This machine reaches no internet: keep chromium from trying (updates, sync, Google).
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const problems = [];
  return {
    problems,
    close: () => browser.close(),
    /** A fresh browser profile (its own storage), watched for outside requests and errors. */
    async page({ locale = 'en-GB', geolocation, viewport = { width: 1280, height: 800 } } = {}) {
      const context = await browser.newContext({
        locale,
        viewport,
        geolocation,
        permissions: geolocation ? ['geolocation'] : [],
      });
      context.setDefaultTimeout(TIMEOUT);
      const page = await context.newPage();
      page.on('request', (request) => {
        const url = request.url();
        if (!url.startsWith(HUB) && !url.startsWith('data:') && !url.startsWith('blob:')) {
          problems.push(`request outside the hub: ${url}`);
        }
      });
      page.on('pageerror', (error) => problems.push(`script error on ${page.url()}: ${error.message}`));
      page.on('console', (message) => {
        // The hub's refusals (401, 409, 422) show up as failed loads: they are expected answers.
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) problems.push(`console error on ${page.url()}: ${message.text()}`);
      });
      return page;
    },
  };
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Logs in and waits for the console to be ready: live for staff who handle reports. */
export async function logIn(page, name, { ready = '#connection.online' } = {}) {
  await page.goto(`${HUB}/console`);
  await page.getByLabel(/User|Utente/).fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: /Log in|Accedi/ }).click();
  await page.locator(ready).waitFor();
}
