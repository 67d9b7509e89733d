// Drives Debian's chromium with playwright-core against a hub the Rust test started. Every page
// is watched: a request that leaves the hub's origin, or a script error, fails the test.
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromium } from 'playwright-core';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

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
    /** `bypassCSP` only for pages that axe checks: its script is injected inline. */
    async page({ locale = 'en-GB', geolocation, viewport = { width: 1280, height: 800 }, bypassCSP = false } = {}) {
      const context = await browser.newContext({
        locale,
        viewport,
        geolocation,
        permissions: geolocation ? ['geolocation'] : [],
        bypassCSP,
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
        // The browser's own word that the network is gone (offline tests) is expected too.
        const expected = message.text().startsWith('Failed to load resource') || message.text().includes('ERR_INTERNET_DISCONNECTED');
        if (message.type() === 'error' && !expected) problems.push(`console error on ${page.url()}: ${message.text()}`);
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

/** What a page receives, as on the wire (compressed), by the browser's own count: every
 * response's encoded length and every WebSocket message. Start it before `goto`. */
export async function watchTransfer(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Network.enable');
  let bytes = 0;
  const urls = [];
  cdp.on('Network.loadingFinished', (event) => (bytes += event.encodedDataLength));
  cdp.on('Network.webSocketFrameReceived', (event) => (bytes += event.response.payloadData.length));
  page.on('request', (request) => urls.push(request.url()));
  return { bytes: () => bytes, urls };
}

/** Waits until the map in `selector` has every zone tile of its view, and something drawn. */
export async function mapDrawn(page, selector = '#map') {
  await page.locator(`${selector}[data-zone-tiles=loaded]`).waitFor({ state: 'attached' });
  await page.waitForFunction((map) => [...document.querySelectorAll(`${map} .leaflet-tile-pane canvas`)].some((canvas) => {
    if (!canvas.width || !canvas.height) return false;
    const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let alpha = 3; alpha < pixels.length; alpha += 4) if (pixels[alpha]) return true;
    return false;
  }), selector);
}

/** Waits until the map in `selector` shows a zoom deeper than `zoom`, its zone tiles drawn. */
export async function mapZoomedIn(page, zoom, selector = '#map') {
  await page.waitForFunction(([map, from]) => {
    const element = document.querySelector(map);
    return Number(element?.dataset.zoom) > from && element.dataset.zoneTiles === 'loaded';
  }, [selector, zoom]);
}

/** axe-core's serious and critical violations on the page as it is, one line each. */
export async function accessibilityProblems(page) {
  await page.addScriptTag({ content: AXE_SOURCE });
  const violations = await page.evaluate(async () => (await window.axe.run()).violations
    .map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 5).map((n) => n.target.join(' ')) })));
  return violations.filter((v) => ['serious', 'critical'].includes(v.impact))
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.join('; ')})`);
}

/** The hub's HTTP API as a logged-in user, for what a test sets up without a page. */
export async function apiAs(name) {
  const login = await fetch(`${HUB}/api/v1/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name, password: PASSWORD }),
  });
  if (!login.ok) throw new Error(`login as ${name}: HTTP ${login.status}`);
  const { token } = await login.json();
  return async (method, apiPath, body) => {
    const response = await fetch(`${HUB}${apiPath}`, {
      method,
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = await response.json();
    if (!response.ok) throw new Error(`${method} ${apiPath}: HTTP ${response.status} ${JSON.stringify(answer)}`);
    return answer;
  };
}
