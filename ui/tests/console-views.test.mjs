// The console's incident, presence, statistics and drawing tools, in a real browser against the
// real hub, after console-and-citizen.test.mjs has filled it with reports, a team and notices.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HUB, MONTEVERDE, accessibilityProblems, launch, logIn, screenshot } from './harness.mjs';

/** A second place, away from the first test file's reports, so its incident is its own. */
const BORGO = { lat: MONTEVERDE.latitude - 0.02, lon: MONTEVERDE.longitude + 0.02 };

async function citizenReport(clientRef, text, offset) {
  const sent = await fetch(`${HUB}/api/v1/reports`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ client_ref: clientRef, category: 'flooding', text, lat: BORGO.lat + offset, lon: BORGO.lon }),
  });
  assert.equal(sent.status, 201, await sent.text());
}

describe('the console views', () => {
  let browser;
  let olga;

  before(async () => {
    browser = await launch();
    // axe-core is injected as a script: this page lets it in (the CSP is tested elsewhere).
    olga = await browser.page({ bypassCSP: true });
    await logIn(olga, 'olga');
  });

  after(async () => {
    await browser?.close();
    assert.deepEqual(browser.problems, [], 'pages stay on the hub and raise no script errors');
  });

  test('the incidents view lists an incident, shows its reports on the map, sends a team and resolves it', async () => {
    await citizenReport('borgo-1', 'Cantine allagate in via del Borgo', 0);
    await citizenReport('borgo-2', 'Strada del Borgo sommersa', 0.0008);
    await olga.locator('#nav-incidents').click();
    const row = olga.locator('.incident-row', { hasText: 'Incident: 2 reports (2 open)' });
    await row.click();
    await olga.locator('#incident-heading', { hasText: 'Incident · Flooding' }).waitFor();
    assert.equal(await olga.evaluate(() => document.activeElement?.id), 'incident-heading', 'focus lands in the incident');
    const reports = olga.locator('.incident-reports li');
    await reports.filter({ hasText: 'Cantine allagate' }).waitFor();
    assert.equal(await reports.count(), 2);
    await olga.getByLabel('Team', { exact: true }).selectOption('squadra-1');
    await olga.getByLabel('Instructions for the team').fill('Svuotare le cantine del Borgo');
    await olga.getByRole('button', { name: 'Send', exact: true }).click();
    await olga.locator('#flash', { hasText: 'Team sent' }).waitFor();
    await screenshot(olga, '30-console-incident-view');

    await olga.getByLabel('Note for every reporter').fill('Acqua defluita, strada riaperta');
    await olga.locator('#incident-resolve').click();
    await olga.locator('.incident-detail .badge.incident-resolved').waitFor();
    await olga.locator('#incident-filter').selectOption('resolved');
    await olga.locator('.incident-row', { hasText: 'Incident: 2 reports (0 open)' }).first().waitFor();

    await olga.locator('#nav-teams').click();
    await olga.locator('.team-tasks li', { hasText: 'Svuotare le cantine del Borgo' }).waitFor();
    await olga.locator('#nav-incidents').click();
    await olga.locator('#incident-filter').selectOption('open');
  });

  test('two people on one report each see the other, and the mark goes when one leaves', async () => {
    await citizenReport('borgo-3', 'Tombino che rigurgita in piazza del Borgo', 0.05);
    const aldo = await browser.page();
    await logIn(aldo, 'aldo');
    for (const page of [olga, aldo]) {
      await page.locator('#nav-map').click();
      await page.locator('.queue-row', { hasText: 'Tombino che rigurgita' }).click();
      await page.locator('#report-title').waitFor();
    }
    await olga.locator('#report-presence', { hasText: 'Also open by aldo' }).waitFor();
    await aldo.locator('#report-presence', { hasText: 'Also open by olga' }).waitFor();
    await screenshot(aldo, '31-console-presence');
    await aldo.locator('.report-detail .close').click();
    await olga.locator('#report-presence').waitFor({ state: 'hidden' });
    await aldo.locator('.queue-row', { hasText: 'Tombino che rigurgita' }).locator('.open-by', { hasText: 'open by olga' }).waitFor();
    await aldo.context().close();
  });

  test('the statistics show the figures and the timeline, and export the open data as a file', async () => {
    await olga.locator('#nav-stats').click();
    await olga.locator('#stats-timeline .uplot').waitFor();
    assert.ok(Number(await olga.locator('#stats-total strong').textContent()) >= 3);
    await olga.locator('#stats-categories tr', { hasText: 'Flooding' }).waitFor();
    await olga.locator('#stats-times tr', { hasText: 'Acknowledgement' }).waitFor();
    await screenshot(olga, '32-console-statistics');
    const [download] = await Promise.all([olga.waitForEvent('download'), olga.locator('#export-csv').click()]);
    const csv = await (await download.createReadStream()).toArray();
    const text = Buffer.concat(csv).toString('utf8');
    assert.match(text, /^category,status,rejection_reason,lat,lon/);
    assert.doesNotMatch(text, /Cantine allagate/, 'the open data holds no report text');
    assert.deepEqual(await accessibilityProblems(olga), []);
  });

  test('a corner of the area being drawn is dragged where it belongs, and dragging adds none', async () => {
    await olga.locator('#nav-notices').click();
    await olga.locator('#new-notice').click();
    await olga.locator('#draw-polygon').click();
    const box = await olga.locator('#map').boundingBox();
    for (const [x, y] of [[0.3, 0.3], [0.7, 0.3], [0.5, 0.7]]) await olga.mouse.click(box.x + box.width * x, box.y + box.height * y);
    await olga.locator('.area-editor .hint', { hasText: 'Corners: 3.' }).waitFor();
    const corner = olga.locator('.area-vertex').nth(2);
    const before = await corner.boundingBox();
    await olga.mouse.move(before.x + before.width / 2, before.y + before.height / 2);
    await olga.mouse.down();
    await olga.mouse.move(before.x, before.y + 60, { steps: 8 });
    await olga.mouse.up();
    await olga.locator('.area-editor .hint', { hasText: 'Corners: 3.' }).waitFor();
    const moved = await olga.locator('.area-vertex').nth(2).boundingBox();
    assert.ok(moved.y - before.y > 40, `the corner moved down (from ${before.y} to ${moved.y})`);
    await screenshot(olga, '33-console-corner-dragged');
    await olga.locator('#finish-polygon').click();
    await olga.locator('#covered-zones').filter({ hasNotText: 'No area yet' }).waitFor();
  });

  test('a report made in a Telegram chat shows the operator its conversation', async () => {
    await olga.locator('#nav-map').click();
    await olga.locator('.queue-row', { hasText: 'Acqua alta in via Roma' }).click();
    const conversation = olga.locator('#report-conversation');
    await conversation.locator('.chat-in', { hasText: 'Acqua alta in via Roma' }).waitFor();
    await conversation.locator('.chat-out', { hasText: 'Segnalazione ricevuta' }).waitFor();
    assert.match(await olga.locator('.report-detail').innerText(), /telegram/);
    await screenshot(olga, 'chat-conversation');
    assert.deepEqual(await accessibilityProblems(olga), []);
    await olga.locator('.report-detail .close').click();
  });

  test('an alert a source marked for fast review raises the alarm, and its review says so and what its signature is', async () => {
    const counter = olga.locator('#count-fast-review');
    await counter.waitFor();
    assert.match(await counter.innerText(), /^1 relay to review now/);
    await olga.locator('#nav-notices').click();
    await olga.locator('#notice-filter').selectOption('fast');
    const marked = olga.locator('.notice-row', { hasText: 'Allerta arancione per temporali' });
    await marked.locator('.badge.fast-review', { hasText: 'Review now' }).waitFor();
    await marked.click();
    await olga.locator('#fast-review-banner').waitFor();
    assert.match(await olga.locator('#sender-signature').innerText(), /not signed/);
    assert.equal(await olga.locator('#edit-notice').count(), 0, 'a relay is not edited');
    await olga.locator('.language-block h3', { hasText: 'it-IT' }).waitFor();
    await olga.locator('#cap-sources li[data-source="arpae"] .badge', { hasText: 'answering' }).waitFor();
    await olga.locator('#import-warnings summary').click();
    await olga.locator('#import-warnings li', { hasText: 'marked for fast review' }).waitFor();
    await screenshot(olga, 'fast-review-relay');
    assert.deepEqual(await accessibilityProblems(olga), []);
  });

  test('the incidents view passes axe-core without a serious or critical finding', async () => {
    await olga.locator('#nav-incidents').click();
    await olga.locator('.incident-row').first().click();
    await olga.locator('#incident-heading').waitFor();
    assert.deepEqual(await accessibilityProblems(olga), []);
  });
});
