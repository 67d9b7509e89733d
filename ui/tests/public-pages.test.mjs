// The public pages, read with no login in a real browser against the hub the console tests
// filled: the archive of notices, one notice's page with its area, and the response figures.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HUB, accessibilityProblems, launch, mapDrawn, screenshot } from './harness.mjs';

describe('the public pages', () => {
  let browser;
  let reader;

  before(async () => {
    browser = await launch();
    reader = await browser.page({ bypassCSP: true, viewport: { width: 414, height: 860 } });
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(browser.problems, [], 'pages stay on the hub and raise no script errors');
  });

  test('the archive lists every published chain with its marks and nothing of the workflow', async () => {
    await reader.goto(`${HUB}/archivio`);
    const chains = reader.locator('#archive-list > li.chain');
    await chains.first().waitFor();
    const text = await reader.locator('#archive-list').innerText();
    assert.match(text, /Cancellation/, 'a cancelled chain shows its cancellation');
    assert.match(text, /TEST/, 'a test notice is marked as one');
    assert.doesNotMatch(text, /olga|aldo/, 'nothing of who drafted or approved');
    const signed = await reader.locator('#archive-list a', { hasText: 'Signed CAP document' }).first().getAttribute('href');
    assert.equal((await fetch(signed)).status, 200, 'each entry links its CAP document');
    await screenshot(reader, '60-public-archive');
    assert.deepEqual(await accessibilityProblems(reader), []);
  });

  test('the archive filters by severity through the address, and Atom follows the same filters', async () => {
    await reader.goto(`${HUB}/archivio`);
    await reader.getByLabel('Severity').selectOption('Extreme');
    await reader.getByRole('button', { name: 'Search' }).click();
    await reader.waitForURL(/severity=Extreme/);
    await reader.locator('#archive-status', { hasText: /No notice matches|notice chains shown/ }).waitFor();
    const badges = await reader.locator('#archive-list .badge').allInnerTexts();
    assert.ok(badges.every((badge) => badge === 'Extreme'), badges.join());
    const feed = await reader.locator('a', { hasText: 'Atom feed of the archive' }).getAttribute('href');
    assert.match(feed, /^\/feeds\/archivio\.atom\?.*severity=Extreme/);
    const atom = await fetch(`${HUB}${feed}`);
    assert.equal(atom.status, 200, await atom.text());
  });

  test('a notice has its own page with its whole chain and its area on the map', async () => {
    await reader.goto(`${HUB}/archivio`);
    await reader.locator('#archive-list a', { hasText: 'Open the notice' }).first().click();
    await reader.waitForURL(/\/archivio\/[^/?]+$/);
    await reader.locator('.chain h1').waitFor();
    await mapDrawn(reader, '.chain-map');
    assert.ok(await reader.locator('.chain > ol > li').count() >= 1);
    await screenshot(reader, '61-public-notice-page');
    assert.deepEqual(await accessibilityProblems(reader), []);
    await reader.goto(`${HUB}/archivio/%ZZ`);
    await reader.locator('[role=alert]', { hasText: 'does not exist or was never published' }).waitFor();
    await reader.goto(`${HUB}/archivio/no-such-notice`);
    await reader.locator('[role=alert]', { hasText: 'does not exist or was never published' }).waitFor();
  });

  test('the figures show the months against the targets, small counts hidden, in both languages', async () => {
    await reader.goto(`${HUB}/statistiche`);
    const byMonth = reader.locator('table.figures', { has: reader.locator('caption', { hasText: 'Month by month' }) });
    await byMonth.waitFor();
    assert.equal(await byMonth.locator('tbody tr').count(), 12, 'the last twelve months');
    await reader.locator('table.figures caption', { hasText: 'Published targets' }).waitFor();
    const cells = await reader.locator('table.figures td').allInnerTexts();
    assert.ok(cells.some((cell) => /^< 5$/.test(cell) || /^\d+$/.test(cell)), cells.join('|'));
    await screenshot(reader, '62-public-figures');
    assert.deepEqual(await accessibilityProblems(reader), []);
    await reader.locator('#language').selectOption('it');
    await reader.locator('table.figures caption', { hasText: 'Mese per mese' }).waitFor();
    await reader.locator('#language').selectOption('en');
  });
});
